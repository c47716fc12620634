// Named suites: preset runs, each compared side by side with fio and
// fs.promises, and bars on the ratios that say PASS or FAIL. This file is the
// pure part (what to run, how to turn results into ratios and verdicts);
// suite-run.ts runs it and report/suite.ts prints it.
//
// Ratios: each repetition ("round") runs every driver of a run once, in
// alternating order, each trial in its own process. A check's ratio is the
// median of the per-round ratios subject / reference, so the two numbers of
// every ratio were measured next to each other; the ratio of the medians is
// kept alongside for the record.

import { defaultOptions, type BenchOptions } from './args';
import { median, type DriverResult, type PointResult } from './results';
import { ENGINE_NAMES, type EngineName, type RwMode, type TrialMetrics } from './types';

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

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const FIO = 'fio-libaio';

function ratio(what: string, subject: RatioCheck['subject'], reference: string, metric: Metric, op: Bar['op'], value: number): RatioCheck {
  return { kind: 'ratio', what, subject, reference, metric, bar: { op, value } };
}

/**
 * The `targets` suite. Reading runs on the disk file come before writing
 * runs, so fio's writes (which do not carry the verification pattern) never
 * precede a verified read; suite-run.ts restamps the file if an --only
 * selection ever puts them the other way round.
 */
export const TARGETS_SUITE: Suite = {
  name: 'targets',
  description: "aioring's performance targets against fio (libaio) and fs.promises",
  fileSize: 1 * GiB,
  memoryOps: 5_000_000,
  memoryWarmupOps: 200_000,
  runs: [
    { id: 'randread-qd32-disk', storage: 'disk', rw: 'randread', bs: 4 * KiB, qd: 32, perOp: true, batch: false, others: ['fs-promises', 'fs-promises-uv32', FIO] },
    { id: 'randread-qd1-latency', storage: 'disk', rw: 'randread', bs: 4 * KiB, qd: 1, perOp: true, batch: false, others: [FIO] },
    { id: 'randread-qd128', storage: 'disk', rw: 'randread', bs: 4 * KiB, qd: 128, perOp: true, batch: false, others: [FIO] },
    { id: 'seqread-1m-qd8', storage: 'disk', rw: 'read', bs: 1 * MiB, qd: 8, perOp: true, batch: false, others: [FIO] },
    { id: 'randwrite-qd32', storage: 'disk', rw: 'randwrite', bs: 4 * KiB, qd: 32, perOp: true, batch: false, others: [FIO] },
    { id: 'seqwrite-1m-qd8', storage: 'disk', rw: 'write', bs: 1 * MiB, qd: 8, perOp: true, batch: false, others: [FIO] },
    { id: 'randread-qd32-tmpfs', storage: 'tmpfs', rw: 'randread', bs: 4 * KiB, qd: 32, perOp: true, batch: true, others: [FIO] },
    { id: 'memory', storage: 'tmpfs', rw: 'randread', bs: 4 * KiB, qd: 32, perOp: true, batch: false, others: [], memory: true },
  ],
  targets: [
    {
      name: 'randread-qd32-disk',
      run: 'randread-qd32-disk',
      workload: '4 KiB random read, O_DIRECT, QD 32, 1 GiB file on the disk (os.tmpdir())',
      checks: [
        ratio(`IOPS vs ${FIO}`, 'per-op', FIO, 'iops', '>=', 0.95),
        ratio('IOPS vs fs-promises', 'per-op', 'fs-promises', 'iops', '>=', 3.5),
      ],
    },
    {
      name: 'randread-qd1-latency',
      run: 'randread-qd1-latency',
      workload: '4 KiB random read, O_DIRECT, QD 1, disk file',
      checks: [ratio(`p50 latency vs ${FIO}`, 'per-op', FIO, 'p50', '<=', 1.1)],
    },
    {
      name: 'randread-qd128',
      run: 'randread-qd128',
      workload: '4 KiB random read, O_DIRECT, QD 128, disk file',
      checks: [ratio(`IOPS vs ${FIO}`, 'per-op', FIO, 'iops', '>=', 0.95)],
    },
    {
      name: 'randwrite-qd32',
      run: 'randwrite-qd32',
      workload: '4 KiB random write, O_DIRECT, QD 32, disk file',
      checks: [ratio(`IOPS vs ${FIO}`, 'per-op', FIO, 'iops', '>=', 0.95)],
    },
    {
      name: 'seqread-1m-qd8',
      run: 'seqread-1m-qd8',
      workload: '1 MiB sequential read, O_DIRECT, QD 8, disk file',
      checks: [ratio(`MiB/s vs ${FIO}`, 'per-op', FIO, 'mibps', '>=', 0.95)],
    },
    {
      name: 'seqwrite-1m-qd8',
      run: 'seqwrite-1m-qd8',
      workload: '1 MiB sequential write, O_DIRECT, QD 8, disk file',
      checks: [ratio(`MiB/s vs ${FIO}`, 'per-op', FIO, 'mibps', '>=', 0.95)],
    },
    {
      name: 'randread-qd32-tmpfs',
      run: 'randread-qd32-tmpfs',
      workload: '4 KiB random read, O_DIRECT, QD 32, 1 GiB file on tmpfs (/dev/shm: CPU-bound)',
      checks: [
        ratio(`IOPS vs ${FIO} (per-op promises)`, 'per-op', FIO, 'iops', '>=', 0.75),
        ratio(`IOPS vs ${FIO} (batch API)`, 'batch', FIO, 'iops', '>=', 0.9),
      ],
    },
    {
      name: 'cpu-per-io',
      run: 'randread-qd32-disk',
      workload: 'the randread-qd32-disk trials: IOPS per CPU-second (user + system)',
      checks: [ratio(`IOPS/CPU-s vs ${FIO}`, 'per-op', FIO, 'iopsPerCpuS', '>=', 0.8)],
    },
    {
      name: 'memory',
      run: 'memory',
      workload: '5M 4 KiB random reads after a 200k-op warm-up, tmpfs file, QD 32, per-op promises',
      checks: [{ kind: 'memory', what: 'RSS growth, warm-up end -> end', bar: { op: '<=', value: 16 } }],
    },
  ],
};

export const SUITES: Record<string, Suite> = { targets: TARGETS_SUITE };

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
  const references = [...run.others.filter((d) => d === FIO), ...run.others.filter((d) => d !== FIO)];
  return [...held.slice(0, 1), ...references, ...held.slice(1), ...informational];
}

export function metricOf(m: TrialMetrics, metric: Metric): number {
  switch (metric) {
    case 'iops':
      return m.iops;
    case 'mibps':
      return m.mibps;
    case 'p50':
      return m.latUs.p50;
    case 'iopsPerCpuS':
      return m.iopsPerCpuS;
  }
}

export interface Ratio {
  /** Median of the per-round ratios (the ratio of medians when no round has both). */
  value: number | null;
  /** subject / reference per round in which both trials succeeded, in round order. */
  rounds: number[];
  /** median(subject) / median(reference). */
  ofMedians: number | null;
  /** The metric's medians. */
  subject: number | null;
  reference: number | null;
  /** Why there is no value. */
  reason: string | null;
}

function usable(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

function absence(r: DriverResult | undefined, id: string): string | null {
  if (!r) return `${id} was not in the run`;
  if (r.status === 'skipped') return `${id} skipped: ${r.reason ?? 'unavailable'}`;
  if (r.status === 'failed' || !r.metrics) return `${id} failed: ${r.reason ?? 'no result'}`;
  return null;
}

/** subject / reference for one metric at one point: per round, their median, and the ratio of medians. */
export function computeRatio(point: PointResult | null, subject: string, reference: string, metric: Metric): Ratio {
  const none = (reason: string): Ratio => ({ value: null, rounds: [], ofMedians: null, subject: null, reference: null, reason });
  if (!point) return none('the run produced no results');
  const s = point.results.find((r) => r.driver === subject);
  const ref = point.results.find((r) => r.driver === reference);
  const missing = absence(s, subject) ?? absence(ref, reference);
  if (missing) return none(missing);
  const sMedian = metricOf(s!.metrics!, metric);
  const rMedian = metricOf(ref!.metrics!, metric);
  const ofMedians = usable(sMedian) && usable(rMedian) ? sMedian / rMedian : null;

  const rounds: number[] = [];
  const reps = [...new Set(s!.trials.map((t) => t.repetition))].sort((a, b) => a - b);
  for (const rep of reps) {
    const a = s!.trials.find((t) => t.repetition === rep && t.status === 'ok' && t.metrics);
    const b = ref!.trials.find((t) => t.repetition === rep && t.status === 'ok' && t.metrics);
    if (!a || !b) continue;
    const x = metricOf(a.metrics!, metric);
    const y = metricOf(b.metrics!, metric);
    if (usable(x) && usable(y)) rounds.push(x / y);
  }
  const value = rounds.length > 0 ? median(rounds) : ofMedians;
  return {
    value,
    rounds,
    ofMedians,
    subject: usable(sMedian) ? sMedian : null,
    reference: usable(rMedian) ? rMedian : null,
    reason: value === null ? `no usable ${metric} for ${subject} and ${reference}` : null,
  };
}

export type Verdict = 'PASS' | 'FAIL' | 'ERROR';

/** PASS when the value meets the bar, FAIL when not, ERROR when there is no value. */
export function evaluateBar(value: number | null, bar: Bar): Verdict {
  if (value === null || !Number.isFinite(value)) return 'ERROR';
  return (bar.op === '>=' ? value >= bar.value : value <= bar.value) ? 'PASS' : 'FAIL';
}

export interface MemoryGrowth {
  /** Median RSS growth over the trials, MiB. */
  value: number | null;
  /** RSS growth per trial, MiB. */
  rounds: number[];
  /** Medians over the trials, MiB. */
  rssStartMiB: number | null;
  rssEndMiB: number | null;
  rssAnonGrowthMiB: number | null;
  heapTotalGrowthMiB: number | null;
  heapUsedGrowthMiB: number | null;
  externalGrowthMiB: number | null;
  /** Measured operations per trial (median). */
  ops: number | null;
  reason: string | null;
}

/** RSS before/after from the trials' extra (written by the Recorder at window open and close). */
export function memoryGrowth(result: DriverResult | undefined, id: string): MemoryGrowth {
  const missing = absence(result, id);
  const empty: MemoryGrowth = {
    value: null,
    rounds: [],
    rssStartMiB: null,
    rssEndMiB: null,
    rssAnonGrowthMiB: null,
    heapTotalGrowthMiB: null,
    heapUsedGrowthMiB: null,
    externalGrowthMiB: null,
    ops: null,
    reason: missing,
  };
  if (missing) return empty;
  const ok = result!.trials.filter((t) => t.status === 'ok' && t.metrics);
  const pick = (key: string): number[] =>
    ok.map((t) => t.metrics!.extra?.[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const med = (key: string): number | null => {
    const v = pick(key);
    return v.length > 0 ? median(v) : null;
  };
  const rounds = pick('rssGrowthMiB');
  if (rounds.length === 0) return { ...empty, reason: `${id} reported no RSS samples` };
  return {
    value: median(rounds),
    rounds,
    rssStartMiB: med('rssStartMiB'),
    rssEndMiB: med('rssEndMiB'),
    rssAnonGrowthMiB: med('rssAnonGrowthMiB'),
    heapTotalGrowthMiB: med('heapTotalGrowthMiB'),
    heapUsedGrowthMiB: med('heapUsedGrowthMiB'),
    externalGrowthMiB: med('externalGrowthMiB'),
    ops: ok.length > 0 ? median(ok.map((t) => t.metrics!.ops)) : null,
    reason: null,
  };
}

export interface OtherEngine {
  engine: EngineName;
  driver: string;
  value: number | null;
  rounds: number[];
  verdict: Verdict;
  reason: string | null;
}

export interface CheckResult {
  target: string;
  run: string;
  kind: Check['kind'];
  what: string;
  metric: Metric | 'rssGrowthMiB';
  /** The engine `auto` picks; the bar applies to it. */
  engine: EngineName | null;
  /** The driver held to the bar (aioring-<auto>[-batch]). */
  driver: string | null;
  reference: string | null;
  /** The ratio (or MiB of growth for memory) held to the bar. */
  value: number | null;
  rounds: number[];
  ofMedians: number | null;
  subjectValue: number | null;
  referenceValue: number | null;
  bar: Bar;
  verdict: Verdict;
  reason: string | null;
  /** The same check for every other engine that ran, for information. */
  others: OtherEngine[];
  memory: MemoryGrowth | null;
}

/** Evaluates every check of the given targets against the runs' points (keyed by run id). */
export function evaluateTargets(
  targets: SuiteTarget[],
  points: ReadonlyMap<string, PointResult | null>,
  auto: EngineName | null,
): CheckResult[] {
  const out: CheckResult[] = [];
  for (const target of targets) {
    const point = points.get(target.run) ?? null;
    for (const check of target.checks) {
      const base = { target: target.name, run: target.run, kind: check.kind, what: check.what, engine: auto, bar: check.bar };
      if (check.kind === 'memory') {
        const driver = auto ? `aioring-${auto}` : null;
        const mem = driver
          ? memoryGrowth(point?.results.find((r) => r.driver === driver), driver)
          : memoryGrowth(undefined, 'aioring-<auto>');
        if (!point && mem.value === null) mem.reason = 'the run produced no results';
        if (!auto) mem.reason = 'no engine: the aioring library is not loadable';
        out.push({
          ...base,
          metric: 'rssGrowthMiB',
          driver,
          reference: null,
          value: mem.value,
          rounds: mem.rounds,
          ofMedians: null,
          subjectValue: mem.rssEndMiB,
          referenceValue: mem.rssStartMiB,
          verdict: evaluateBar(mem.value, check.bar),
          reason: mem.reason,
          others: [],
          memory: mem,
        });
        continue;
      }
      const others: OtherEngine[] = [];
      for (const engine of ENGINE_NAMES) {
        if (engine === auto) continue;
        const driver = subjectDriver(engine, check.subject);
        const r = point?.results.find((x) => x.driver === driver);
        if (!r || r.status === 'skipped') continue; // not available here: nothing to report
        const ratioOf = computeRatio(point, driver, check.reference, check.metric);
        others.push({ engine, driver, value: ratioOf.value, rounds: ratioOf.rounds, verdict: evaluateBar(ratioOf.value, check.bar), reason: ratioOf.reason });
      }
      const driver = auto ? subjectDriver(auto, check.subject) : null;
      const r = driver
        ? computeRatio(point, driver, check.reference, check.metric)
        : { value: null, rounds: [], ofMedians: null, subject: null, reference: null, reason: 'no engine: the aioring library is not loadable' };
      out.push({
        ...base,
        metric: check.metric,
        driver,
        reference: check.reference,
        value: r.value,
        rounds: r.rounds,
        ofMedians: r.ofMedians,
        subjectValue: r.subject,
        referenceValue: r.reference,
        verdict: evaluateBar(r.value, check.bar),
        reason: r.reason,
        others,
        memory: null,
      });
    }
  }
  return out;
}

/** The suite's overall verdict: ERROR if any check has no value, else FAIL if any missed its bar, else PASS. */
export function overallVerdict(results: CheckResult[]): Verdict {
  if (results.some((r) => r.verdict === 'ERROR')) return 'ERROR';
  if (results.some((r) => r.verdict === 'FAIL')) return 'FAIL';
  return 'PASS';
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
