// The parts of a trial every JavaScript driver shares: which offset to touch
// next, the measurement window (ramp, then runtime or op count), latency and
// CPU accounting, and read verification against the pattern.

import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram';
import { Pattern } from '../setup/pattern';
import { rwRandom, type TrialMetrics, type TrialSpec } from '../types';

export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

export class ShortIoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShortIoError';
  }
}

/** A small seeded PRNG (sfc32) giving uniform 32-bit integers. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e37_79b9;
    this.b = 0x243f_6a88;
    this.c = 0xb7e1_5162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    if (n <= 0x1_0000_0000) return Math.floor((this.nextU32() / 0x1_0000_0000) * n);
    const x = this.nextU32() * 0x1_0000_0000 + this.nextU32(); // 64 random bits, rounded to a double
    return Math.floor((x / 2 ** 64) * n);
  }
}

export interface Op {
  read: boolean;
  position: number;
}

/** The sequence of operations of a trial, shared by all of its workers. */
export class OpStream {
  readonly blocks: number;
  private readonly bs: number;
  private readonly random: boolean;
  private readonly readFraction: number;
  private readonly prng: Prng;
  private cursor = 0;

  constructor(spec: Pick<TrialSpec, 'rw' | 'bs' | 'region' | 'rwmixread' | 'seed'>) {
    this.bs = spec.bs;
    this.blocks = Math.floor(spec.region / spec.bs);
    if (this.blocks < 1) throw new Error(`region of ${spec.region} bytes is smaller than one block of ${spec.bs}`);
    this.random = rwRandom(spec.rw);
    this.readFraction =
      spec.rw === 'randrw' ? spec.rwmixread / 100 : spec.rw === 'randread' || spec.rw === 'read' ? 1 : 0;
    this.prng = new Prng(spec.seed ^ 0x6d2b_79f5);
  }

  next(): Op {
    let block: number;
    if (this.random) block = this.prng.below(this.blocks);
    else {
      block = this.cursor;
      this.cursor = this.cursor + 1 === this.blocks ? 0 : this.cursor + 1;
    }
    const read =
      this.readFraction === 1 ? true : this.readFraction === 0 ? false : this.prng.nextU32() / 0x1_0000_0000 < this.readFraction;
    return { read, position: block * this.bs };
  }
}

/** Checks every Nth read against the pattern and fails loudly on a mismatch. */
export class Verifier {
  verified = 0;
  private reads = 0;

  constructor(
    private readonly pattern: Pattern,
    private readonly every: number,
    private readonly driver: string,
  ) {}

  afterRead(buf: Buffer, position: number): void {
    if (this.every <= 0) return;
    this.reads++;
    if (this.reads % this.every !== 0) return;
    this.verified++;
    const mismatch = this.pattern.verify(buf, position);
    if (mismatch) {
      throw new VerificationError(
        `${this.driver}: data read at offset ${position} (length ${buf.length}) is wrong: ${mismatch.reason}`,
      );
    }
  }
}

export type Phase = 'ramp' | 'run' | 'done';

/** Memory of this process at one moment, in bytes. */
export interface MemorySample {
  rss: number;
  /** RssAnon from /proc/self/status: anonymous memory (JS heap, native malloc heap, buffers); null if unreadable. */
  rssAnon: number | null;
  /** V8's heap as reserved (young and old generations), and the part holding live or not yet collected objects. */
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export function sampleMemory(): MemorySample {
  const m = process.memoryUsage();
  let rssAnon: number | null = null;
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = /^RssAnon:\s+(\d+)\s+kB/m.exec(status);
    rssAnon = kb ? Number(kb[1]) * 1024 : null;
  } catch {
    rssAnon = null;
  }
  return { rss: m.rss, rssAnon, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/**
 * The memory samples taken when the measured window opened and closed, as
 * `extra` entries in MiB: rssStartMiB, rssEndMiB, rssGrowthMiB and the same
 * for rssAnon, heapTotal, heapUsed and external (which includes arrayBuffers).
 */
export function memoryExtra(start: MemorySample, end: MemorySample): Record<string, number> {
  const mib = (n: number) => Number((n / 2 ** 20).toFixed(3));
  const out: Record<string, number> = {};
  const add = (name: string, a: number | null, b: number | null) => {
    if (a === null || b === null) return;
    out[`${name}StartMiB`] = mib(a);
    out[`${name}EndMiB`] = mib(b);
    out[`${name}GrowthMiB`] = mib(b - a);
  };
  add('rss', start.rss, end.rss);
  add('rssAnon', start.rssAnon, end.rssAnon);
  add('heapTotal', start.heapTotal, end.heapTotal);
  add('heapUsed', start.heapUsed, end.heapUsed);
  add('external', start.external, end.external);
  return out;
}

/**
 * The measurement window. Operations finishing during the ramp are not
 * counted; the window closes after runtime seconds or `ops` operations,
 * and operations still in flight then are not counted either.
 */
export class Recorder {
  readonly hist = new Histogram();
  phase: Phase = 'ramp';
  ops = 0;
  readOps = 0;
  writeOps = 0;
  bytes = 0;
  private readonly opsLimit: number | null;
  private startMs = 0;
  private endMs = 0;
  private phaseStartMs = performance.now();
  private cpuStart: NodeJS.CpuUsage = process.cpuUsage();
  private cpuUsed: NodeJS.CpuUsage = { user: 0, system: 0 };
  private timers: NodeJS.Timeout[] = [];
  /** When the current phase ends by the clock (ramp end or run end). */
  private deadlineMs = Number.POSITIVE_INFINITY;
  /** Operations still to finish before an op-count ramp ends (0: the ramp is time-based or over). */
  private rampOpsLeft: number;
  /** Memory when the measured window opened and when it closed. */
  private memStart: MemorySample | null = null;
  private memEnd: MemorySample | null = null;
  private started = false;

  constructor(private readonly spec: Pick<TrialSpec, 'rampS' | 'runtimeS' | 'ops' | 'rampOps'>) {
    this.opsLimit = spec.ops;
    this.rampOpsLeft = spec.rampOps ?? 0;
  }

  get stopped(): boolean {
    return this.phase === 'done';
  }

  /** Seconds since the current phase began. */
  get phaseElapsedS(): number {
    return (performance.now() - this.phaseStartMs) / 1000;
  }

  /**
   * Starts the clock: ramp first (if any), then the measured window. Phase
   * changes come from timers and also from the clock read at every finished
   * operation, so a driver that starves the event loop (its promises never
   * yielding to timers) still gets stopped on time. With rampOps the ramp
   * ends when that many operations have finished instead.
   */
  start(): void {
    const now = performance.now();
    this.phaseStartMs = now;
    this.started = true;
    if (this.rampOpsLeft > 0) {
      this.deadlineMs = Number.POSITIVE_INFINITY; // record() ends the ramp
    } else if (this.spec.rampS > 0) {
      this.deadlineMs = now + this.spec.rampS * 1000;
      this.timers.push(setTimeout(() => this.begin(performance.now()), this.spec.rampS * 1000));
    } else {
      this.begin(now);
    }
  }

  private begin(now: number): void {
    if (this.phase !== 'ramp') return;
    this.phase = 'run';
    this.rampOpsLeft = 0;
    this.startMs = now;
    this.phaseStartMs = now;
    this.memStart = sampleMemory();
    this.cpuStart = process.cpuUsage();
    this.deadlineMs = Number.POSITIVE_INFINITY;
    if (this.spec.runtimeS !== null) {
      this.deadlineMs = now + this.spec.runtimeS * 1000;
      this.timers.push(setTimeout(() => this.stop(), this.spec.runtimeS * 1000));
    }
  }

  /** Closes the window (also used to abort on an error). */
  stop(at: number = performance.now()): void {
    if (this.phase === 'done') return;
    if (this.phase === 'run') {
      this.endMs = at;
      this.cpuUsed = process.cpuUsage(this.cpuStart);
      this.memEnd = sampleMemory();
    }
    this.phase = 'done';
    this.deadlineMs = Number.POSITIVE_INFINITY;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /** Records one finished operation (times from performance.now(), in ms). */
  record(startMs: number, endMs: number, bytes: number, read: boolean): void {
    if (this.started && this.rampOpsLeft > 0 && this.phase === 'ramp') {
      if (--this.rampOpsLeft === 0) this.begin(endMs);
      return;
    }
    if (endMs >= this.deadlineMs) {
      if (this.phase === 'ramp') this.begin(endMs);
      else if (this.phase === 'run') this.stop(endMs);
    }
    if (this.phase !== 'run') return;
    this.hist.record((endMs - startMs) * 1e6);
    this.ops++;
    this.bytes += bytes;
    if (read) this.readOps++;
    else this.writeOps++;
    if (this.opsLimit !== null && this.ops >= this.opsLimit) this.stop(endMs);
  }

  metrics(verifiedOps: number, notes: string[], extra: Record<string, number | string> = {}): TrialMetrics {
    const elapsedS = Math.max(1e-9, (this.endMs - this.startMs) / 1000);
    const userS = this.cpuUsed.user / 1e6;
    const systemS = this.cpuUsed.system / 1e6;
    const s = this.hist.summary();
    const us = (ns: number) => ns / 1000;
    const iops = this.ops / elapsedS;
    return {
      ops: this.ops,
      readOps: this.readOps,
      writeOps: this.writeOps,
      bytes: this.bytes,
      elapsedS,
      iops,
      mibps: this.bytes / elapsedS / 2 ** 20,
      latUs: { mean: us(s.mean), min: us(s.min), p50: us(s.p50), p90: us(s.p90), p99: us(s.p99), p999: us(s.p999), max: us(s.max) },
      cpu: { userS, systemS },
      iopsPerCpuS: userS + systemS > 0 ? this.ops / (userS + systemS) : 0,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      loopDelayMs: null,
      verifiedOps,
      extra: this.memStart && this.memEnd ? { ...memoryExtra(this.memStart, this.memEnd), ...extra } : extra,
      notes,
    };
  }
}

/** How a promise-per-operation driver reads and writes one buffer. */
export interface PerOpIo {
  read(buf: Buffer, position: number): Promise<number>;
  write(buf: Buffer, position: number): Promise<number>;
}

export interface WorkerContext {
  spec: TrialSpec;
  recorder: Recorder;
  verifier: Verifier;
  pattern: Pattern;
  alloc(size: number): Buffer;
}

/**
 * Runs spec.qd workers, each issuing one operation, awaiting it, then issuing
 * the next, until the recorder's window closes. The first error stops all
 * workers and is rethrown once every operation in flight has finished.
 */
export async function runPerOpWorkers(ctx: WorkerContext, io: PerOpIo): Promise<void> {
  const { spec, recorder, verifier, pattern } = ctx;
  const stream = new OpStream(spec);
  const bs = spec.bs;
  let firstError: unknown = null;

  const worker = async (): Promise<void> => {
    const readBuf = ctx.alloc(bs);
    const writeBuf = ctx.alloc(bs);
    pattern.fill(writeBuf, 0);
    while (!recorder.stopped) {
      const op = stream.next();
      if (op.read) {
        const t0 = performance.now();
        const n = await io.read(readBuf, op.position);
        const t1 = performance.now();
        if (n !== bs) throw new ShortIoError(`${spec.label}: read at ${op.position} returned ${n} of ${bs} bytes`);
        recorder.record(t0, t1, bs, true);
        verifier.afterRead(readBuf, op.position);
      } else {
        pattern.stamp(writeBuf, op.position);
        const t0 = performance.now();
        const n = await io.write(writeBuf, op.position);
        const t1 = performance.now();
        if (n !== bs) throw new ShortIoError(`${spec.label}: write at ${op.position} wrote ${n} of ${bs} bytes`);
        recorder.record(t0, t1, bs, false);
      }
    }
  };

  recorder.start();
  const workers: Promise<void>[] = [];
  for (let i = 0; i < spec.qd; i++) {
    workers.push(
      worker().catch((e: unknown) => {
        if (firstError === null) firstError = e;
        recorder.stop();
      }),
    );
  }
  await Promise.all(workers);
  recorder.stop();
  if (firstError !== null) throw firstError;
}
