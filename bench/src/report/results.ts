// Result shapes shared by the runner and the reports, plus the two
// computations on them: the median over repetitions and the ratios to the
// reference drivers.

import type { DriverFamily } from '../drivers/registry';
import type { RwMode, TrialMetrics } from '../types';

export interface TrialOutcome {
  repetition: number;
  status: 'ok' | 'failed';
  metrics: TrialMetrics | null;
  error: string | null;
  /** True when the failure was a pattern mismatch. */
  verification: boolean;
  /** Wall-clock seconds the child took, start to exit. */
  wallS: number;
}

export interface DriverResult {
  driver: string;
  label: string;
  family: DriverFamily;
  status: 'ok' | 'failed' | 'skipped';
  /** Why skipped or failed. */
  reason: string | null;
  /** Median over the successful repetitions, each metric on its own. */
  metrics: TrialMetrics | null;
  trials: TrialOutcome[];
  /** IOPS divided by fs-promises' IOPS at the same point. */
  vsFsPromises: number | null;
  /** IOPS divided by the reference fio's IOPS at the same point. */
  vsFio: number | null;
}

export interface PointResult {
  qd: number;
  bs: number;
  results: DriverResult[];
  /** The fio driver the vsFio ratios divide by, or null when no fio result exists. */
  fioReference: string | null;
}

export interface BenchParams {
  rw: RwMode;
  bs: number;
  qd: number;
  batch: number | null;
  direct: boolean;
  runtimeS: number | null;
  ops: number | null;
  rampS: number;
  repeat: number;
  rwmixread: number;
  verifyEvery: number;
  seed: number;
  region: number;
  sweep: { param: 'qd' | 'bs'; values: number[] } | null;
  drivers: string[];
  /** --stream: one pass per trial through streams. */
  stream: boolean;
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  os: string;
  arch: string;
  node: string;
  aioringVersion: string | null;
  fio: string | null;
}

export interface BenchReport {
  tool: 'aioring-bench';
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string[];
  machine: MachineInfo;
  target: {
    path: string;
    kind: 'file' | 'block';
    temporary: boolean;
    size: number;
    region: number;
    logicalBlockSize: number;
    blockSizeSource: string;
    storage: Record<string, unknown>;
  };
  params: BenchParams;
  engines: {
    /** probeEngines() output, or null when the library is not loadable. */
    probe: Record<string, { available: boolean; code?: string; reason: string }> | null;
    auto: string | null;
    error: string | null;
  };
  /** fio: preference order; each point uses the first that produced a result (PointResult.fioReference). */
  references: { fsPromises: string; fio: string[] };
  points: PointResult[];
  /** Anything the reader should know (skips, cache drops that failed, ...). */
  notes: string[];
  verificationFailed: boolean;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianOrNull(values: Array<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return present.length === 0 ? null : median(present);
}

/** Per-metric median of several trials' metrics (notes: union, in order). */
export function medianMetrics(list: TrialMetrics[]): TrialMetrics {
  if (list.length === 0) throw new Error('no metrics');
  if (list.length === 1) return list[0];
  const m = (f: (t: TrialMetrics) => number) => median(list.map(f));
  const notes: string[] = [];
  for (const t of list) for (const n of t.notes) if (!notes.includes(n)) notes.push(n);
  return {
    ops: m((t) => t.ops),
    readOps: m((t) => t.readOps),
    writeOps: m((t) => t.writeOps),
    bytes: m((t) => t.bytes),
    elapsedS: m((t) => t.elapsedS),
    iops: m((t) => t.iops),
    mibps: m((t) => t.mibps),
    latUs: {
      mean: m((t) => t.latUs.mean),
      min: m((t) => t.latUs.min),
      p50: m((t) => t.latUs.p50),
      p90: m((t) => t.latUs.p90),
      p99: m((t) => t.latUs.p99),
      p999: m((t) => t.latUs.p999),
      max: m((t) => t.latUs.max),
    },
    cpu: { userS: m((t) => t.cpu.userS), systemS: m((t) => t.cpu.systemS) },
    iopsPerCpuS: m((t) => t.iopsPerCpuS),
    maxRssMiB: medianOrNull(list.map((t) => t.maxRssMiB)),
    loopDelayMs: list.every((t) => t.loopDelayMs)
      ? { p99: m((t) => t.loopDelayMs!.p99), max: m((t) => t.loopDelayMs!.max) }
      : null,
    verifiedOps: list.reduce((s, t) => s + t.verifiedOps, 0),
    extra: medianExtra(list),
    notes,
  };
}

function medianExtra(list: TrialMetrics[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const key of Object.keys(list[0].extra ?? {})) {
    const values = list.map((t) => t.extra?.[key]);
    out[key] = values.every((v) => typeof v === 'number') ? median(values as number[]) : (values[0] ?? '');
  }
  return out;
}

/**
 * Fills vsFsPromises and vsFio of every result at a point. The fio reference
 * is the first of refs.fio (the auto engine's, then libaio, ...) that ran.
 */
export function applyRatios(point: PointResult, refs: { fsPromises: string; fio: string[] }): void {
  const iopsOf = (id: string) => {
    const r = point.results.find((x) => x.driver === id && x.status === 'ok' && x.metrics);
    return r?.metrics && r.metrics.iops > 0 ? r.metrics.iops : null;
  };
  const fsIops = iopsOf(refs.fsPromises);
  point.fioReference = refs.fio.find((id) => iopsOf(id) !== null) ?? null;
  const fioIops = point.fioReference === null ? null : iopsOf(point.fioReference);
  for (const r of point.results) {
    const iops = r.status === 'ok' && r.metrics ? r.metrics.iops : null;
    r.vsFsPromises = iops !== null && fsIops !== null ? iops / fsIops : null;
    r.vsFio = iops !== null && fioIops !== null ? iops / fioIops : null;
  }
}
