// aioring drivers: one promise per operation (qd workers), or ring.submit()
// batches refilled as each completes, with buffers from allocAligned or from
// ring.registerBuffers(). Run inside a trial's child process.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadAioring } from '../setup/aioring-lib';
import { rwWrites, type EngineName, type TrialSpec } from '../types';
import { OpStream, ShortIoError, runPerOpWorkers, type WorkerContext } from '../trial/workload';
import type { Driver, DriverRunResult, HostFacts, TrialContext } from './driver';

type Mod = ReturnType<typeof loadAioring>;
type RingT = InstanceType<Mod['Ring']>;
type FileT = Awaited<ReturnType<RingT['open']>>;

export interface AioringStyle {
  /** ring.submit() batches rather than one promise per operation. */
  batch: boolean;
  /** I/O buffers from ring.registerBuffers() rather than allocAligned. */
  fixedBuffers: boolean;
  /** RingOptions.busyPollUs (0: off). */
  busyPollUs: number;
  /** RingOptions.pollBudget; undefined leaves the library's default. */
  pollBudget?: number;
  /** RingOptions.latencyStats: false measures what recording stats().latencyUs costs. */
  latencyStats: boolean;
  /** Opens the target with ring.open's integrity option (--integrity's format, trailer layout). */
  protect: boolean;
  /**
   * How each write is made durable: not at all ('none'), RWF_DSYNC ('dsync'), or
   * as an ordered batch of the write then fdatasync ('ordered'), the pattern
   * ring.submit(ops, { ordered: true }) exists for.
   */
  durable: 'none' | 'dsync' | 'ordered';
}

/** aioring on one engine: per-op promises or ring.submit() batches, optionally registered buffers or busy polling. */
export class AioringDriver implements Driver {
  readonly family;
  readonly measures = 'recorder';
  readonly writesPattern = true;
  readonly buffered = false;
  readonly appends = false;
  readonly batch: boolean;
  readonly fixedBuffers: boolean;
  readonly busyPollUs: number;
  readonly pollBudget: number | undefined;
  readonly latencyStats: boolean;
  readonly protect: boolean;
  readonly durable: AioringStyle['durable'];

  constructor(
    readonly id: string,
    readonly engine: EngineName,
    style: AioringStyle,
    readonly description: string,
    readonly groups: readonly string[],
  ) {
    this.batch = style.batch;
    this.fixedBuffers = style.fixedBuffers;
    this.busyPollUs = style.busyPollUs;
    this.pollBudget = style.pollBudget;
    this.latencyStats = style.latencyStats;
    this.protect = style.protect;
    this.durable = style.durable;
    this.family = style.batch ? ('aioring-batch' as const) : ('aioring' as const);
  }

  label(): string {
    return this.id;
  }

  specFields(): Pick<TrialSpec, 'engine' | 'protect'> {
    return this.protect ? { engine: this.engine, protect: true } : { engine: this.engine };
  }

  unavailableReason({ library, integrity }: HostFacts): string | null {
    if (this.protect && !integrity) return 'needs --integrity t10dif|nvme64 (the target must carry protection trailers)';
    if (!library.probe) return library.error ?? 'aioring library not loadable';
    const p = library.probe[this.engine];
    if (!p) return `probeEngines() says nothing about ${this.engine}`;
    if (!p.available) return `${this.engine} unavailable: ${p.reason}${p.code ? ` (${p.code})` : ''}`;
    return null;
  }

  run(ctx: TrialContext): Promise<DriverRunResult> {
    return runAioringTrial(ctx, {
      batch: this.batch,
      fixedBuffers: this.fixedBuffers,
      busyPollUs: this.busyPollUs,
      pollBudget: this.pollBudget,
      latencyStats: this.latencyStats,
      protect: this.protect,
      durable: this.durable,
    });
  }
}

async function runAioringTrial(workerContext: WorkerContext, style: AioringStyle): Promise<DriverRunResult> {
  const { spec } = workerContext;
  const { batch } = style;
  const mod = loadAioring();
  if (!spec.engine) throw new Error(`${spec.label}: no engine given`);
  const probe = mod.probeEngines()[spec.engine];
  if (!probe.available) throw new Error(`${spec.label}: engine ${spec.engine} unavailable: ${probe.reason}`);

  const ring = new mod.Ring({
    depth: spec.qd,
    engine: spec.engine,
    busyPollUs: style.busyPollUs,
    latencyStats: style.latencyStats,
    ...(style.pollBudget === undefined ? {} : { pollBudget: style.pollBudget }),
  });
  // How long timers and other callbacks wait behind the ring (polling holds the loop).
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const notes: string[] = [];
  const extra: Record<string, number | string> = { engine: ring.engine };
  let file: FileT | null = null;
  try {
    if (ring.engine !== spec.engine) throw new Error(`${spec.label}: asked for engine ${spec.engine}, got ${ring.engine}`);
    // Registered once, before the clock starts; the workers then take their buffers from the set.
    const ctx = style.fixedBuffers ? { ...workerContext, alloc: registeredAllocator(ring, spec) } : workerContext;
    if (style.fixedBuffers && !ring.usesFixedBuffers) notes.push(`${ring.engine} registers no buffers: they are plain aligned buffers`);
    const integrity = style.protect && spec.integrity ? { format: spec.integrity.format, interval: spec.integrity.interval as 512 | 4096 } : undefined;
    file = await ring.open(spec.path, { write: rwWrites(spec.rw), direct: spec.direct, integrity });
    if (integrity) extra.integrity = `${integrity.format}/${integrity.interval}`;
    if (spec.direct && !file.info.direct) notes.push('file not opened O_DIRECT by the library');
    loopDelay.enable();
    const startedMs = performance.now();
    if (batch) await runBatches(ctx, ring, file);
    else {
      const f = file;
      await runPerOpWorkers(ctx, { read: (buf, position) => f.read(buf, position), write: durableWrite(ring, f, style.durable) });
    }
    if (!spec.direct && ring.bufferedEngine && ring.bufferedEngine !== ring.engine) {
      notes.push(`buffered files run on ${ring.bufferedEngine}, not ${ring.engine} (library policy)`);
      extra.bufferedEngine = ring.bufferedEngine;
    }
    const elapsedUs = (performance.now() - startedMs) * 1000;
    loopDelay.disable();
    const stats = ring.stats();
    extra.loopDelayP99Ms = Number((loopDelay.percentile(99) / 1e6).toFixed(3));
    extra.pollCpuShare = Number((stats.pollCpuUs / elapsedUs).toFixed(4));
    if (stats.adaptivePolls > 0) extra.adaptivePollHitShare = Number((stats.adaptivePollHits / stats.adaptivePolls).toFixed(3));
    if (stats.completed > 0) extra.syscallsPerOp = Number((stats.syscalls / stats.completed).toFixed(3));
    if (style.fixedBuffers && stats.completed > 0) extra.fixedBufferShare = Number((stats.fixedBufferOps / stats.completed).toFixed(3));
    if (stats.busyPolls > 0) extra.busyPollHitShare = Number((stats.busyPollHits / stats.busyPolls).toFixed(3));
    extra.ringDepth = ring.depth;
    if (batch) extra.batch = effectiveBatch(spec);
  } finally {
    if (file) await file.close().catch(() => undefined);
    await ring.close().catch(() => undefined);
  }
  return { notes, extra };
}

function durableWrite(ring: RingT, file: FileT, durable: AioringStyle['durable']): (buf: Buffer, position: number) => Promise<number> {
  if (durable === 'none') return (buf, position) => file.write(buf, position);
  if (durable === 'dsync') return (buf, position) => file.write(buf, position, { dsync: true });
  return async (buf, position) => {
    const [written, synced] = await ring.submit([{ op: 'write', file, buffer: buf, position }, { op: 'fdatasync', file }], { ordered: true });
    if (typeof written !== 'number') throw written;
    if (typeof synced !== 'number') throw synced;
    return written;
  };
}

/**
 * Both worker shapes take two buffers per slot of the queue depth (one to read
 * into, one to write from), so 2 x qd buffers, registered as one set, each
 * handed out once. Registered buffers are whole pages; a block size below one
 * gets the start of a page, which still lies inside its registered buffer.
 */
function registeredAllocator(ring: RingT, spec: TrialSpec): (size: number) => Buffer {
  const pageSize = 4096;
  const buffers = ring.registerBuffers(2 * spec.qd, Math.ceil(spec.bs / pageSize) * pageSize);
  let next = 0;
  return (size) => {
    const buffer = buffers[next++];
    if (buffer === undefined || size > buffer.length) {
      throw new Error(`${spec.label}: the workload needs more than its ${buffers.length} registered buffers of ${buffers[0]!.length} bytes`);
    }
    return buffer.subarray(0, size);
  };
}

export function effectiveBatch(spec: Pick<TrialSpec, 'batch' | 'qd'>): number {
  return Math.max(1, Math.min(spec.batch, spec.qd));
}

/**
 * ceil(qd / batch) loops, each owning `batch` buffers: fill a batch from the
 * op stream, ring.submit() it, record every op with the batch's latency, repeat.
 * With the default batch of qd/2 two batches overlap, so the device sees up
 * to qd operations while JavaScript handles the other batch's completions.
 */
async function runBatches(ctx: WorkerContext, ring: RingT, file: FileT): Promise<void> {
  const { spec, recorder, verifier, pattern } = ctx;
  const stream = new OpStream(spec);
  const bs = spec.bs;
  const batchSize = effectiveBatch(spec);
  const loops = Math.ceil(spec.qd / batchSize);
  let firstError: unknown = null;

  const loop = async (size: number): Promise<void> => {
    const readBufs = Array.from({ length: size }, () => ctx.alloc(bs));
    const writeBufs = Array.from({ length: size }, () => {
      const b = ctx.alloc(bs);
      pattern.fill(b, 0);
      return b;
    });
    const ops = Array.from({ length: size }, (_, i) => ({
      op: 'read' as 'read' | 'write',
      file,
      buffer: readBufs[i],
      position: 0,
    }));
    while (!recorder.stopped) {
      let reads = 0;
      for (let i = 0; i < size; i++) {
        const next = stream.next();
        const o = ops[i];
        o.position = next.position;
        if (next.read) {
          o.op = 'read';
          o.buffer = readBufs[i];
          reads++;
        } else {
          o.op = 'write';
          o.buffer = writeBufs[i];
          pattern.stamp(writeBufs[i], next.position);
        }
      }
      const t0 = performance.now();
      const results = await ring.submit(ops);
      const t1 = performance.now();
      for (let i = 0; i < size; i++) {
        const r = results[i];
        if (typeof r !== 'number') {
          throw new Error(`${spec.label}: ${ops[i].op} at ${ops[i].position} failed: ${(r as Error).message}`);
        }
        if (r !== bs) throw new ShortIoError(`${spec.label}: ${ops[i].op} at ${ops[i].position} moved ${r} of ${bs} bytes`);
      }
      // Reads and writes of a batch share its latency, so the split only matters for counts.
      for (let i = 0; i < size; i++) {
        recorder.record(t0, t1, bs, ops[i].op === 'read');
      }
      for (let i = 0; i < size; i++) {
        if (ops[i].op === 'read') verifier.afterRead(readBufs[i], ops[i].position);
      }
    }
  };

  recorder.start();
  const running: Promise<void>[] = [];
  for (let i = 0; i < loops; i++) {
    const size = Math.min(batchSize, spec.qd - i * batchSize);
    running.push(
      loop(size).catch((e: unknown) => {
        if (firstError === null) firstError = e;
        recorder.stop();
      }),
    );
  }
  await Promise.all(running);
  recorder.stop();
  if (firstError !== null) throw firstError;
}
