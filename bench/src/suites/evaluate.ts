// From a suite's results to verdicts. Ratios: each repetition ("round") runs
// every driver of a run once, in alternating order, each trial in its own
// process. A check's ratio is the median of the per-round ratios subject /
// reference, so the two numbers of every ratio were measured next to each
// other; the ratio of the medians is kept alongside for the record.

import { median, type DriverResult, type PointResult } from '../report/results';
import { ENGINE_NAMES, type EngineName, type TrialMetrics } from '../types';
import { subjectDriver, type Bar, type Check, type Metric, type SuiteTarget } from './suite';

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
