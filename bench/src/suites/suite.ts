// Named suites: preset runs, each compared side by side with fio and
// fs.promises, and bars on the ratios that say PASS or FAIL. This file is the
// pure part (what to run, how to turn results into ratios and verdicts);
// run.ts runs it, evaluate.ts turns results into verdicts, summary.ts prints them.
//
// Ratios: each repetition ("round") runs every driver of a run once, in
// alternating order, each trial in its own process. A check's ratio is the
// median of the per-round ratios subject / reference, so the two numbers of
// every ratio were measured next to each other; the ratio of the medians is
// kept alongside for the record.

import { defaultOptions, type BenchOptions } from '../options/args';
import { ENGINE_NAMES, type EngineName, type RwMode } from '../types';

export type Storage = 'disk' | 'tmpfs';

/** One preset comparison: a workload and the drivers that run it. */
export interface SuiteRun {
  id: string;
  storage: Storage;
  rw: RwMode;
  bs: number;
  qd: number;
  /** aioring-<engine> (one promise per op) for every engine. */
  perOp: boolean;
  /** aioring-<engine>-batch for every engine. */
  batch: boolean;
  /** Other drivers, by id (fio-libaio, fs-promises, ...). */
  others: string[];
  /**
   * The memory run: aioring-<auto engine> only, a fixed number of measured
   * operations after an op-count warm-up, RSS sampled at both ends.
   */
  memory?: boolean;
}

export type Metric = 'iops' | 'mibps' | 'p50' | 'iopsPerCpuS';

export interface Bar {
  op: '>=' | '<=';
  value: number;
}

export interface RatioCheck {
  kind: 'ratio';
  /** What is compared, e.g. "IOPS vs fio-libaio". */
  what: string;
  /** aioring-<engine> or aioring-<engine>-batch. */
  subject: 'per-op' | 'batch';
  reference: string;
  metric: Metric;
  bar: Bar;
}

export interface MemoryCheck {
  kind: 'memory';
  what: string;
  /** Largest RSS growth in MiB between the end of the warm-up and the end. */
  bar: Bar;
}

export type Check = RatioCheck | MemoryCheck;

export interface SuiteTarget {
  name: string;
  /** The run whose results the checks look at. */
  run: string;
  workload: string;
  checks: Check[];
}

export interface Suite {
  name: string;
  description: string;
  /** In the order they run. */
  runs: SuiteRun[];
  /** In the order they are reported. */
  targets: SuiteTarget[];
  /** Size of each file the suite creates (disk and tmpfs). */
  fileSize: number;
  memoryOps: number;
  memoryWarmupOps: number;
}

/** The fio driver every suite check compares with. */
export const FIO_REFERENCE = 'fio-libaio';

/** Thrown for an --only name the suite does not have. */
export class SuiteSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuiteSelectionError';
  }
}

/** The targets to run (all, or the --only names in suite order) and the runs they need, in run order. */
export function selectTargets(suite: Suite, only: string[] | null): { targets: SuiteTarget[]; runs: SuiteRun[] } {
  if (only) {
    const unknown = only.filter((n) => !suite.targets.some((t) => t.name === n));
    if (unknown.length > 0) {
      throw new SuiteSelectionError(
        `suite ${suite.name} has no target ${unknown.map((n) => `"${n}"`).join(', ')} (targets: ${suite.targets.map((t) => t.name).join(', ')})`,
      );
    }
  }
  const targets = only ? suite.targets.filter((t) => only.includes(t.name)) : [...suite.targets];
  const needed = new Set(targets.map((t) => t.run));
  return { targets, runs: suite.runs.filter((r) => needed.has(r.id)) };
}

export function subjectDriver(engine: EngineName, subject: RatioCheck['subject']): string {
  return subject === 'batch' ? `aioring-${engine}-batch` : `aioring-${engine}`;
}

/**
 * The drivers of a run, in the order they are listed (and run in even rounds;
 * odd rounds reverse it). The drivers held to a bar come first with fio right
 * after the first of them, so every round compares trials run back to back:
 * the disk's speed drifts over tens of seconds, and trials far apart in a
 * round measured that drift as much as the drivers.
 */
export function runDrivers(run: SuiteRun, auto: EngineName | null): string[] {
  if (run.memory) return auto ? [`aioring-${auto}`] : [];
  const subjects: Array<RatioCheck['subject']> = [];
  if (run.perOp) subjects.push('per-op');
  if (run.batch) subjects.push('batch');
  const held = auto ? subjects.map((subject) => subjectDriver(auto, subject)) : [];
  const informational = ENGINE_NAMES.filter((e) => e !== auto).flatMap((e) => subjects.map((subject) => subjectDriver(e, subject)));
  const references = [...run.others.filter((d) => d === FIO_REFERENCE), ...run.others.filter((d) => d !== FIO_REFERENCE)];
  return [...held.slice(0, 1), ...references, ...held.slice(1), ...informational];
}
/** Where a suite run's file lives and how big it is. */
export interface RunFile {
  path: string;
  size: number;
}

/**
 * The BenchOptions of one run: the workload and drivers from the suite, the
 * file the suite made, and from the command line only the runtime, ramp,
 * repetitions, seed and verification. The memory run counts operations
 * (warm-up by op count, no time ramp) instead of running for a time.
 */
export function runOptions(
  base: BenchOptions,
  run: SuiteRun,
  file: RunFile,
  auto: EngineName | null,
  memory: { ops: number; warmupOps: number },
): BenchOptions {
  const o = defaultOptions();
  return {
    ...o,
    target: file.path,
    size: file.size,
    rw: run.rw,
    bs: run.bs,
    qd: run.qd,
    drivers: runDrivers(run, auto),
    driversGiven: true,
    direct: true,
    allowWrite: true, // the suite's own file: it may restamp it
    runtimeS: run.memory ? null : base.runtimeS,
    ops: run.memory ? memory.ops : null,
    rampS: run.memory ? 0 : base.rampS,
    rampOps: run.memory ? memory.warmupOps : null,
    repeat: base.repeat,
    seed: base.seed,
    verifyEvery: base.verifyEvery,
  };
}
