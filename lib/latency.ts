// Request latencies by kind for ring.stats().latencyUs: one fixed-memory
// histogram per kind (read, write, sync), recorded in nanoseconds.
import { Histogram } from './histogram';
import { OpCodes } from './native-contract';
import type { LatencyStats, LatencySummary } from './types';

export type LatencyKind = keyof LatencyStats;
const kinds: readonly LatencyKind[] = ['read', 'write', 'sync'];

export class LatencyRecorder {
  readonly histograms: Record<LatencyKind, Histogram> = { read: new Histogram(), write: new Histogram(), sync: new Histogram() };
  // By op code, so recording is one array lookup.
  private readonly byOp: Histogram[] = [];

  constructor() {
    const { read, write, sync } = this.histograms;
    this.byOp[OpCodes.read] = read;
    this.byOp[OpCodes.readv] = read;
    this.byOp[OpCodes.write] = write;
    this.byOp[OpCodes.writev] = write;
    this.byOp[OpCodes.fsync] = sync;
    this.byOp[OpCodes.fdatasync] = sync;
  }

  record(op: number, nanoseconds: number): void {
    this.byOp[op]!.record(nanoseconds);
  }

  reset(): void {
    for (const kind of kinds) this.histograms[kind].reset();
  }
}

/** The summaries of one or more recorders (a ring's dispatchers) taken together. */
export function summarizeLatency(recorders: LatencyRecorder[]): LatencyStats {
  const summary = (kind: LatencyKind): LatencySummary => {
    const merged = new Histogram();
    for (const recorder of recorders) merged.merge(recorder.histograms[kind]);
    const micro = (nanoseconds: number) => nanoseconds / 1000;
    return {
      count: merged.count,
      mean: micro(merged.mean),
      p50: micro(merged.percentile(50)),
      p99: micro(merged.percentile(99)),
      p999: micro(merged.percentile(99.9)),
      max: micro(merged.max),
    };
  };
  return { read: summary('read'), write: summary('write'), sync: summary('sync') };
}
