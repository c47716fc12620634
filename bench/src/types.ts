// Shapes shared by the parent (planning, running, reporting) and the forked
// child that runs one trial. Everything here crosses the IPC channel as JSON.
import type { EngineName } from '../../dist/lib/types';

/** 'append': durable records appended by concurrent appenders (--appenders = qd, --record-size = bs). */
export type RwMode = 'randread' | 'randwrite' | 'read' | 'write' | 'randrw' | 'append';
export const RW_MODES: readonly RwMode[] = ['randread', 'randwrite', 'read', 'write', 'randrw', 'append'];

// The library's own engine names (lib/native-contract.ts, which a test holds to native code's).
export type { EngineName };
export { engineNames as ENGINE_NAMES } from '../../dist/lib/native-contract';

export type FioEngine = 'libaio' | 'io_uring' | 'psync';

/** --integrity: the protection format, and the interval the bench uses for a block size. */
export type IntegrityFormat = 't10dif' | 'nvme64';
export const INTEGRITY_FORMATS: readonly IntegrityFormat[] = ['t10dif', 'nvme64'];
export const INTEGRITY_TUPLE_BYTES: Record<IntegrityFormat, number> = { t10dif: 8, nvme64: 16 };

export interface TrialIntegrity {
  format: IntegrityFormat;
  /** 4096 when the block size allows it, else 512. */
  interval: number;
}

/** The interval a block size allows: 4096 when it is a multiple of it, else 512. */
export function integrityInterval(bs: number): number {
  return bs % 4096 === 0 ? 4096 : 512;
}

export function rwReads(rw: RwMode): boolean {
  return rw === 'randread' || rw === 'read' || rw === 'randrw';
}

export function rwWrites(rw: RwMode): boolean {
  return rw === 'randwrite' || rw === 'write' || rw === 'randrw' || rw === 'append';
}

export function rwRandom(rw: RwMode): boolean {
  return rw.startsWith('rand');
}

/** Everything a child needs to run one trial of one driver. */
export interface TrialSpec {
  /** Canonical driver id, e.g. "aioring-io_uring-batch", "fs-promises-uv", "fio-libaio". */
  driver: string;
  /** Display name, e.g. "fs-promises-uv32". */
  label: string;
  path: string;
  /** Bytes of the target used, from offset 0. */
  region: number;
  rw: RwMode;
  bs: number;
  qd: number;
  /** Ops per ring.submit() call for batch drivers. */
  batch: number;
  direct: boolean;
  /** Measured seconds (time-based) or null when `ops` bounds the trial. */
  runtimeS: number | null;
  /** Measured operations, or null when time-based. */
  ops: number | null;
  /** Unmeasured warm-up seconds before measuring starts. */
  rampS: number;
  /**
   * Unmeasured warm-up of this many operations instead of rampS (JavaScript
   * drivers only; fio ramps by time). Absent or null: the time-based ramp.
   */
  rampOps?: number | null;
  /** Percentage of reads for randrw. */
  rwmixread: number;
  seed: number;
  /** Verify every Nth read against the pattern; 0 disables verification. */
  verifyEvery: number;
  /** Send progress messages to the parent. */
  progress: boolean;
  /** Threads in libuv's pool for fs-promises-uv (set in the child's environment). */
  uvThreads?: number;
  /** Engine used for the aioring drivers. */
  engine?: EngineName;
  fioEngine?: FioEngine;
  /**
   * --stream: one pass over the region through a Node stream (or fio's one
   * pass); the page cache is dropped before the trial and its residency
   * measured after.
   */
  stream?: boolean;
  /**
   * --integrity: the target carries protection trailers in this format (every
   * interval's last bytes), which pattern checks skip. Null or absent: none.
   */
  integrity?: TrialIntegrity | null;
  /** This trial's driver opens the target with ring.open's integrity option (the -pi drivers). */
  protect?: boolean;
}

export interface LatencySummaryUs {
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What one trial measured. */
export interface TrialMetrics {
  ops: number;
  readOps: number;
  writeOps: number;
  bytes: number;
  elapsedS: number;
  iops: number;
  mibps: number;
  latUs: LatencySummaryUs;
  cpu: { userS: number; systemS: number };
  /** IOPS per CPU-second: ops / (user + system seconds). */
  iopsPerCpuS: number;
  maxRssMiB: number | null;
  /**
   * Event-loop delay while the trial ran (perf_hooks.monitorEventLoopDelay,
   * 10 ms resolution), null for fio. A large max means the driver's promises
   * kept the loop from running timers and other callbacks.
   */
  loopDelayMs: { p99: number; max: number } | null;
  /** Reads checked against the pattern. */
  verifiedOps: number;
  /** Driver-specific facts: engine, batch, syscallsPerOp, uvThreads, numjobs, ... */
  extra: Record<string, number | string>;
  /** Remarks a reader should see (cache not dropped, data not verified, ...). */
  notes: string[];
}

export type ChildMessage =
  /** ops is null when the driver cannot count live (fio). elapsedS counts from the start of the phase. */
  | { type: 'progress'; phase: 'ramp' | 'run'; ops: number | null; elapsedS: number }
  | { type: 'result'; metrics: TrialMetrics }
  | { type: 'error'; message: string; verification: boolean };

export type ParentMessage = { type: 'run'; spec: TrialSpec };
