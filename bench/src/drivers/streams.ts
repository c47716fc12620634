// Stream drivers (--stream): one pass over the region through a Node stream,
// aioring's file.createReadStream / createWriteStream against fs's. Bytes are
// counted in bs-sized operations, so IOPS and the ratios compare with fio's
// at the same block size. Writes carry the pattern, and after the measured
// window the file's sha256 is checked against the input's.

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { loadAioring } from '../setup/aioring-lib';
import type { Pattern } from '../setup/pattern';
import { ShortIoError, VerificationError, type Recorder, type WorkerContext } from '../trial/workload';
import { rwReads, type TrialSpec } from '../types';
import type { Driver, DriverRunResult, HostFacts, TrialContext } from './driver';

/**
 * aioring's streams on the engine `auto` picks, with their default options.
 * Writes use the default flush ('none'), like the fio reference
 * (--rw=write --direct=1, no fsync): both leave the data written with O_DIRECT
 * and neither asks the disk to flush its cache.
 */
export class AioringStreamDriver implements Driver {
  readonly id = 'aioring-stream';
  readonly family = 'aioring';
  readonly measures = 'recorder';
  readonly writesPattern = true;
  readonly buffered = false;
  readonly groups: readonly string[] = ['stream'];
  readonly appends = false;
  readonly description = "--stream only: file.createReadStream / file.createWriteStream, defaults (no flush, like fio's direct writes)";

  label(): string {
    return this.id;
  }

  specFields(): Pick<TrialSpec, 'engine'> {
    return {};
  }

  unavailableReason({ library }: HostFacts): string | null {
    return library.probe ? null : (library.error ?? 'aioring library not loadable');
  }

  async run(ctx: TrialContext): Promise<DriverRunResult> {
    requireStream(ctx.spec);
    const { Ring } = loadAioring();
    const ring = new Ring();
    try {
      const reads = rwReads(ctx.spec.rw);
      const file = await ring.open(ctx.spec.path, { write: !reads });
      if (reads) await readThrough(ctx, file.createReadStream({ end: ctx.spec.region - 1 }));
      else await writeThrough(ctx, file.createWriteStream(), async () => undefined);
      await file.close();
      const extra: Record<string, string | number> = { engine: ring.engine, ...(reads ? {} : sha256Extra(ctx)) };
      return { notes: reads ? [] : [sha256Note], extra };
    } finally {
      await ring.close();
    }
  }
}

/** fs.createReadStream / fs.createWriteStream plus fsync, through the page cache, with their default options. */
export class FsStreamDriver implements Driver {
  readonly id = 'fs-stream';
  readonly family = 'fs-promises';
  readonly measures = 'recorder';
  readonly writesPattern = true;
  readonly buffered = true;
  readonly groups: readonly string[] = ['stream'];
  readonly appends = false;
  readonly description = '--stream only: fs.createReadStream / fs.createWriteStream then fsync, defaults (page cache)';

  label(): string {
    return this.id;
  }

  specFields(): Pick<TrialSpec, 'engine'> {
    return {};
  }

  unavailableReason(): string | null {
    return null;
  }

  async run(ctx: TrialContext): Promise<DriverRunResult> {
    requireStream(ctx.spec);
    if (rwReads(ctx.spec.rw)) {
      await readThrough(ctx, fs.createReadStream(ctx.spec.path, { start: 0, end: ctx.spec.region - 1 }));
      return { notes: [], extra: {} };
    }
    const fd = fs.openSync(ctx.spec.path, fs.constants.O_WRONLY);
    try {
      const stream = fs.createWriteStream(ctx.spec.path, { fd, autoClose: false });
      await writeThrough(ctx, stream, () => fsync(fd));
    } finally {
      fs.closeSync(fd);
    }
    return { notes: [sha256Note], extra: sha256Extra(ctx) };
  }
}

const fsync = promisify(fs.fsync);

function requireStream(spec: TrialSpec): void {
  if (!spec.stream) throw new Error(`${spec.label} runs only with --stream`);
}

/** Records bytes as they pass in bs-sized operations, each lasting since the previous one ended. */
class ByteMeter {
  private pending = 0;
  private last = performance.now();

  constructor(
    private readonly recorder: Recorder,
    private readonly bs: number,
    private readonly read: boolean,
  ) {}

  add(bytes: number): void {
    this.pending += bytes;
    while (this.pending >= this.bs) {
      const now = performance.now();
      this.recorder.record(this.last, now, this.bs, this.read);
      this.last = now;
      this.pending -= this.bs;
    }
  }

  flush(): void {
    if (this.pending > 0) this.recorder.record(this.last, performance.now(), this.pending, this.read);
    this.pending = 0;
  }
}

async function readThrough(ctx: WorkerContext, stream: Readable): Promise<void> {
  const { spec, recorder, verifier } = ctx;
  const meter = new ByteMeter(recorder, spec.bs, true);
  let position = 0;
  recorder.start();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      meter.add(chunk.length);
      verifier.afterRead(chunk, position);
      position += chunk.length;
    }
    meter.flush();
  } finally {
    recorder.stop();
  }
  if (position !== spec.region) throw new ShortIoError(`${spec.label}: the stream delivered ${position} of ${spec.region} bytes`);
}

/**
 * Writes the pattern over the region through `stream`, honouring its
 * backpressure, then ends it and runs `sync`; the window closes after that.
 * A buffer goes back to the pool once the stream has called back for it.
 */
async function writeThrough(ctx: WorkerContext, stream: Writable, sync: () => Promise<void>): Promise<void> {
  const { spec, recorder, pattern } = ctx;
  const meter = new ByteMeter(recorder, spec.bs, false);
  const template = Buffer.alloc(spec.bs);
  pattern.fill(template, 0);
  const free: Buffer[] = [];
  recorder.start();
  try {
    for (let position = 0; position < spec.region; position += spec.bs) {
      const length = Math.min(spec.bs, spec.region - position);
      const whole = free.pop() ?? Buffer.from(template);
      const chunk = whole.subarray(0, length);
      pattern.stamp(chunk, position);
      const more = stream.write(chunk, (error) => {
        if (error) return;
        free.push(whole);
        meter.add(length);
      });
      if (!more) await once(stream, 'drain');
    }
    stream.end();
    await finished(stream);
    await sync();
    meter.flush();
  } finally {
    recorder.stop();
  }
}

const sha256Note = "the file's sha256 equals the input's";

/** sha256 of what the trial wrote and of the file's region, read back with O_DIRECT so the page cache stays as the trial left it. */
function sha256Extra(ctx: WorkerContext): Record<string, string | number> {
  const { spec, pattern } = ctx;
  const input = patternDigest(pattern, spec.region, spec.bs);
  const file = fileDigest(spec.path, spec.region, ctx.alloc(spec.bs));
  if (input !== file) throw new VerificationError(`${spec.label}: the file's sha256 ${file} is not the input's ${input}`);
  return { sha256: file, sha256Match: 1 };
}

function patternDigest(pattern: Pattern, region: number, bs: number): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(bs);
  pattern.fill(buffer, 0);
  for (let position = 0; position < region; position += bs) {
    const chunk = buffer.subarray(0, Math.min(bs, region - position));
    pattern.stamp(chunk, position);
    hash.update(chunk);
  }
  return hash.digest('hex');
}

function fileDigest(path: string, region: number, buffer: Buffer): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  try {
    for (let position = 0; position < region; ) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      const used = Math.min(n, region - position);
      hash.update(buffer.subarray(0, used));
      position += used;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
