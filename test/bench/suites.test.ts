// The targets suite's pure parts: the target list, driver selection, ratios
// over alternating rounds, bars, verdicts, and the summary text. No trials run.

import { describe, expect, it } from 'vitest';
import { defaultOptions, parseArgs, SUITE_DEFAULTS, UsageError } from '../../bench/src/options/args';
import { formatBar, mediansText, renderSuiteSummary } from '../../bench/src/suites/summary';
import type { DriverResult, PointResult, TrialOutcome } from '../../bench/src/report/results';
import { computeRatio, evaluateBar, evaluateTargets, memoryGrowth, overallVerdict } from '../../bench/src/suites/evaluate';
import { runDrivers, runOptions, selectTargets, SuiteSelectionError } from '../../bench/src/suites/suite';
import { SUITES, TARGETS_SUITE } from '../../bench/src/suites/targets';
import type { TrialMetrics } from '../../bench/src/types';
import { metrics } from './fixtures';

const suite = TARGETS_SUITE;

/** A driver result whose rounds have the given IOPS (null = that round failed); metrics = the median round. */
function result(driver: string, iopsPerRound: Array<number | null>, over: (iops: number) => Partial<TrialMetrics> = () => ({})): DriverResult {
  const trials: TrialOutcome[] = iopsPerRound.map((iops, repetition) =>
    iops === null
      ? { repetition, status: 'failed', metrics: null, error: 'boom', verification: false, wallS: 1 }
      : { repetition, status: 'ok', metrics: metrics(iops, 4096, over(iops)), error: null, verification: false, wallS: 1 },
  );
  const ok = iopsPerRound.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const mid = ok.length ? ok[ok.length >> 1] : null;
  return {
    driver,
    label: driver,
    family: driver.startsWith('fio') ? 'fio' : driver.startsWith('fs') ? 'fs-promises' : driver.endsWith('-batch') ? 'aioring-batch' : 'aioring',
    status: mid === null ? 'failed' : 'ok',
    reason: mid === null ? 'boom' : null,
    metrics: mid === null ? null : metrics(mid, 4096, over(mid)),
    trials,
    vsFsPromises: null,
    vsFio: null,
  };
}

function skipped(driver: string): DriverResult {
  return { ...result(driver, []), status: 'skipped', reason: 'io_uring unavailable: disabled (EPERM)' };
}

/** The memory run: one aioring-libaio round per RSS growth (MiB), from 50 MiB. */
function memoryPoint(growthsMiB: number[]): PointResult {
  const trials = growthsMiB.map((g, repetition) => ({
    repetition,
    status: 'ok' as const,
    metrics: metrics(1000, 4096, { extra: { rssStartMiB: 50, rssEndMiB: 50 + g, rssGrowthMiB: g } }),
    error: null,
    verification: false,
    wallS: 20,
  }));
  return point([{ ...result('aioring-libaio', [1000]), trials }]);
}

function point(results: DriverResult[], qd = 32): PointResult {
  return { qd, bs: 4096, results, fioReference: 'fio-libaio' };
}

describe('the targets suite: target list', () => {
  it('has the targets of the brief, in order, each on a run the suite has', () => {
    expect(suite.targets.map((t) => t.name)).toEqual([
      'randread-qd32-disk',
      'randread-qd1-latency',
      'randread-qd128',
      'randwrite-qd32',
      'seqread-1m-qd8',
      'seqwrite-1m-qd8',
      'randread-qd32-tmpfs',
      'cpu-per-io',
      'memory',
    ]);
    for (const t of suite.targets) {
      expect(suite.runs.some((r) => r.id === t.run), t.name).toBe(true);
      expect(t.checks.length).toBeGreaterThan(0);
    }
    expect(suite.targets.find((t) => t.name === 'cpu-per-io')!.run).toBe('randread-qd32-disk');
    expect(SUITES.targets).toBe(suite);
    expect(suite.fileSize).toBe(1 << 30);
    expect(suite.memoryOps).toBe(5_000_000);
    expect(suite.memoryWarmupOps).toBe(200_000);
  });

  it('sets the bars of the brief', () => {
    const bars = suite.targets.flatMap((t) =>
      t.checks.map((c) => [t.name, c.kind === 'ratio' ? `${c.subject} ${c.metric} vs ${c.reference}` : 'memory', c.bar.op, c.bar.value]),
    );
    expect(bars).toEqual([
      ['randread-qd32-disk', 'per-op iops vs fio-libaio', '>=', 0.95],
      ['randread-qd32-disk', 'per-op iops vs fs-promises', '>=', 3.5],
      ['randread-qd1-latency', 'per-op p50 vs fio-libaio', '<=', 1.05],
      ['randread-qd128', 'per-op iops vs fio-libaio', '>=', 0.95],
      ['randwrite-qd32', 'per-op iops vs fio-libaio', '>=', 0.95],
      ['seqread-1m-qd8', 'per-op mibps vs fio-libaio', '>=', 0.95],
      ['seqwrite-1m-qd8', 'per-op mibps vs fio-libaio', '>=', 0.95],
      ['randread-qd32-tmpfs', 'per-op iops vs fio-libaio', '>=', 0.75],
      ['randread-qd32-tmpfs', 'batch iops vs fio-libaio', '>=', 0.9],
      ['cpu-per-io', 'per-op iopsPerCpuS vs fio-libaio', '>=', 0.8],
      ['memory', 'memory', '<=', 16],
    ]);
  });

  it('runs the workloads of the brief', () => {
    const w = Object.fromEntries(suite.runs.map((r) => [r.id, `${r.storage} ${r.rw} ${r.bs} qd${r.qd}`]));
    expect(w).toEqual({
      'randread-qd32-disk': 'disk randread 4096 qd32',
      'randread-qd1-latency': 'disk randread 4096 qd1',
      'randread-qd128': 'disk randread 4096 qd128',
      'seqread-1m-qd8': 'disk read 1048576 qd8',
      'randwrite-qd32': 'disk randwrite 4096 qd32',
      'seqwrite-1m-qd8': 'disk write 1048576 qd8',
      'randread-qd32-tmpfs': 'tmpfs randread 4096 qd32',
      memory: 'tmpfs randread 4096 qd32',
    });
  });

  it('reads the disk file in every reading run before any run writes it', () => {
    const disk = suite.runs.filter((r) => r.storage === 'disk');
    const firstWrite = disk.findIndex((r) => r.rw.includes('write'));
    expect(firstWrite).toBeGreaterThan(0);
    expect(disk.slice(firstWrite).every((r) => r.rw.includes('write'))).toBe(true);
  });

  it('runs every engine (plus batch on tmpfs), fio-libaio, and fs-promises where a bar needs it', () => {
    const byId = (id: string) => suite.runs.find((r) => r.id === id)!;
    // The drivers held to a bar next to fio, so each round compares trials run back to back.
    expect(runDrivers(byId('randread-qd32-disk'), 'libaio')).toEqual([
      'aioring-libaio',
      'fio-libaio',
      'fs-promises',
      'fs-promises-uv32',
      'aioring-io_uring',
      'aioring-threadpool',
    ]);
    expect(runDrivers(byId('randread-qd1-latency'), 'io_uring')).toEqual(['aioring-io_uring', 'fio-libaio', 'aioring-libaio', 'aioring-threadpool']);
    expect(runDrivers(byId('randread-qd32-tmpfs'), 'libaio')).toEqual([
      'aioring-libaio',
      'fio-libaio',
      'aioring-libaio-batch',
      'aioring-io_uring',
      'aioring-io_uring-batch',
      'aioring-threadpool',
      'aioring-threadpool-batch',
    ]);
    expect(runDrivers(byId('randread-qd32-disk'), null)).toEqual([
      'fio-libaio',
      'fs-promises',
      'fs-promises-uv32',
      'aioring-libaio',
      'aioring-io_uring',
      'aioring-threadpool',
    ]);
    expect(runDrivers(byId('memory'), 'io_uring')).toEqual(['aioring-io_uring']);
    expect(runDrivers(byId('memory'), null)).toEqual([]);
    // Every check's reference runs where the check looks.
    for (const t of suite.targets) {
      const drivers = runDrivers(byId(t.run), 'libaio');
      for (const c of t.checks) if (c.kind === 'ratio') expect(drivers, `${t.name} ${c.what}`).toContain(c.reference);
    }
  });

  it('selects targets with --only, with the runs they need in run order', () => {
    const all = selectTargets(suite, null);
    expect(all.targets).toHaveLength(9);
    expect(all.runs.map((r) => r.id)).toEqual(suite.runs.map((r) => r.id));
    const some = selectTargets(suite, ['memory', 'cpu-per-io']);
    expect(some.targets.map((t) => t.name)).toEqual(['cpu-per-io', 'memory']);
    expect(some.runs.map((r) => r.id)).toEqual(['randread-qd32-disk', 'memory']);
    expect(() => selectTargets(suite, ['memory', 'warp-speed'])).toThrow(SuiteSelectionError);
    expect(() => selectTargets(suite, ['warp-speed'])).toThrow(/no target "warp-speed" \(targets: randread-qd32-disk,/);
  });
});

describe('runOptions', () => {
  const base = { ...defaultOptions(), runtimeS: 2, rampS: 0.25, repeat: 5, seed: 77, verifyEvery: 8 };
  const file = { path: '/tmp/x.dat', size: 1 << 30 };

  it('builds a timed run on the suite file from the suite and the command line', () => {
    const o = runOptions(base, suite.runs.find((r) => r.id === 'seqwrite-1m-qd8')!, file, 'libaio', { ops: 10, warmupOps: 5 });
    expect(o).toMatchObject({
      target: '/tmp/x.dat',
      size: 1 << 30,
      rw: 'write',
      bs: 1 << 20,
      qd: 8,
      direct: true,
      allowWrite: true,
      runtimeS: 2,
      ops: null,
      rampS: 0.25,
      rampOps: null,
      repeat: 5,
      seed: 77,
      verifyEvery: 8,
      driversGiven: true,
      suite: null,
      sweep: null,
    });
    expect(o.drivers).toEqual(['aioring-libaio', 'fio-libaio', 'aioring-io_uring', 'aioring-threadpool']);
  });

  it('counts operations for the memory run, warming up by op count', () => {
    const o = runOptions(base, suite.runs.find((r) => r.id === 'memory')!, file, 'io_uring', { ops: 5_000_000, warmupOps: 200_000 });
    expect(o).toMatchObject({ runtimeS: null, ops: 5_000_000, rampS: 0, rampOps: 200_000, qd: 32, bs: 4096, rw: 'randread', drivers: ['aioring-io_uring'] });
  });
});

describe('evaluateBar', () => {
  it('compares against >= and <= bars, the bar itself passing', () => {
    expect(evaluateBar(0.95, { op: '>=', value: 0.95 })).toBe('PASS');
    expect(evaluateBar(0.9499, { op: '>=', value: 0.95 })).toBe('FAIL');
    expect(evaluateBar(4, { op: '>=', value: 3.5 })).toBe('PASS');
    expect(evaluateBar(1.1, { op: '<=', value: 1.1 })).toBe('PASS');
    expect(evaluateBar(1.11, { op: '<=', value: 1.1 })).toBe('FAIL');
    expect(evaluateBar(-3, { op: '<=', value: 16 })).toBe('PASS');
    expect(evaluateBar(16.5, { op: '<=', value: 16 })).toBe('FAIL');
  });

  it('is ERROR without a value', () => {
    expect(evaluateBar(null, { op: '>=', value: 1 })).toBe('ERROR');
    expect(evaluateBar(Number.NaN, { op: '<=', value: 1 })).toBe('ERROR');
    expect(evaluateBar(Number.POSITIVE_INFINITY, { op: '>=', value: 1 })).toBe('ERROR');
  });
});

describe('computeRatio', () => {
  it('takes the median of the per-round ratios, not the ratio of medians', () => {
    // Rounds drift (the machine is noisy): 100/100, 200/100, 90/100.
    const p = point([result('aioring-libaio', [100, 200, 90]), result('fio-libaio', [100, 100, 100])]);
    const r = computeRatio(p, 'aioring-libaio', 'fio-libaio', 'iops');
    expect(r.rounds).toEqual([1, 2, 0.9]);
    expect(r.value).toBe(1);
    expect(r.ofMedians).toBe(1);
    expect(r.subject).toBe(100);
    expect(r.reference).toBe(100);
    expect(r.reason).toBeNull();

    const q = point([result('aioring-libaio', [100, 110, 120]), result('fio-libaio', [200, 100, 100])]);
    const s = computeRatio(q, 'aioring-libaio', 'fio-libaio', 'iops');
    expect(s.rounds).toEqual([0.5, 1.1, 1.2]);
    expect(s.value).toBe(1.1);
    expect(s.ofMedians).toBeCloseTo(1.1, 9);
  });

  it('pairs only rounds in which both drivers succeeded', () => {
    const p = point([result('aioring-libaio', [100, null, 300]), result('fio-libaio', [100, 100, null])]);
    const r = computeRatio(p, 'aioring-libaio', 'fio-libaio', 'iops');
    expect(r.rounds).toEqual([1]);
    expect(r.value).toBe(1);
  });

  it('falls back to the ratio of medians when no round has both', () => {
    const p = point([result('aioring-libaio', [null, 300]), result('fio-libaio', [100, null])]);
    const r = computeRatio(p, 'aioring-libaio', 'fio-libaio', 'iops');
    expect(r.rounds).toEqual([]);
    expect(r.value).toBe(3);
  });

  it('works on latency, throughput and CPU efficiency', () => {
    const lat = (iops: number) => ({ latUs: { mean: 1, min: 1, p50: 1e6 / iops, p90: 1, p99: 1, p999: 1, max: 1 } });
    const p = point([result('aioring-libaio', [1000, 1000, 1000], lat), result('fio-libaio', [1250, 1250, 1250], lat)], 1);
    expect(computeRatio(p, 'aioring-libaio', 'fio-libaio', 'p50').value).toBeCloseTo(1.25, 9);
    expect(computeRatio(p, 'aioring-libaio', 'fio-libaio', 'mibps').value).toBeCloseTo(0.8, 9);
    const cpu = (iops: number) => ({ iopsPerCpuS: iops * 10 });
    const c = point([result('aioring-libaio', [700, 700, 700], cpu), result('fio-libaio', [1000, 1000, 1000], cpu)]);
    expect(computeRatio(c, 'aioring-libaio', 'fio-libaio', 'iopsPerCpuS').value).toBeCloseTo(0.7, 9);
  });

  it('says why there is no ratio', () => {
    const p = point([result('aioring-libaio', [100]), skipped('fio-libaio'), result('fs-promises', [null])]);
    expect(computeRatio(p, 'aioring-libaio', 'fio-libaio', 'iops')).toMatchObject({ value: null, reason: expect.stringMatching(/fio-libaio skipped/) });
    expect(computeRatio(p, 'aioring-libaio', 'fs-promises', 'iops').reason).toMatch(/fs-promises failed: boom/);
    expect(computeRatio(p, 'aioring-io_uring', 'fio-libaio', 'iops').reason).toMatch(/aioring-io_uring was not in the run/);
    expect(computeRatio(null, 'aioring-libaio', 'fio-libaio', 'iops').reason).toMatch(/no results/);
  });
});

describe('memoryGrowth', () => {
  it('takes the median growth over the rounds, with the other samples', () => {
    const mem = (growth: number) => () => ({
      extra: { rssStartMiB: 60, rssEndMiB: 60 + growth, rssGrowthMiB: growth, rssAnonGrowthMiB: growth / 2, heapTotalGrowthMiB: 1, heapUsedGrowthMiB: 0.5, externalGrowthMiB: 0 },
    });
    const trials = [2, 9, 4].map((g, repetition) => ({ repetition, status: 'ok' as const, metrics: metrics(1000, 4096, mem(g)()), error: null, verification: false, wallS: 20 }));
    const r: DriverResult = { ...result('aioring-libaio', [1000]), trials };
    const m = memoryGrowth(r, 'aioring-libaio');
    expect(m).toMatchObject({ value: 4, rounds: [2, 9, 4], rssStartMiB: 60, rssEndMiB: 64, rssAnonGrowthMiB: 2, heapTotalGrowthMiB: 1, heapUsedGrowthMiB: 0.5, externalGrowthMiB: 0, reason: null });
    expect(memoryGrowth(result('aioring-libaio', [1000]), 'aioring-libaio').reason).toMatch(/no RSS samples/);
    expect(memoryGrowth(undefined, 'aioring-libaio').reason).toMatch(/not in the run/);
  });
});

describe('evaluateTargets', () => {
  const targets = selectTargets(suite, ['randread-qd32-disk', 'cpu-per-io', 'randread-qd32-tmpfs', 'memory']).targets;
  const cpu = (iops: number) => ({ iopsPerCpuS: iops * 2 });
  const disk = point([
    result('aioring-libaio', [96, 97, 98], cpu),
    result('aioring-io_uring', [90, 91, 92], cpu),
    skipped('aioring-threadpool'),
    result('fs-promises', [25, 26, 27], cpu),
    result('fio-libaio', [100, 100, 100], (i) => ({ iopsPerCpuS: i * 2.5 })),
  ]);
  const tmpfs = point([
    result('aioring-libaio', [70, 70, 70]),
    result('aioring-io_uring', [80, 80, 80]),
    result('aioring-libaio-batch', [95, 95, 95]),
    result('aioring-io_uring-batch', [85, 85, 85]),
    result('fio-libaio', [100, 100, 100]),
  ]);
  const memory = memoryPoint([3, 20, 5]);
  const points = new Map<string, PointResult | null>([
    ['randread-qd32-disk', disk],
    ['randread-qd32-tmpfs', tmpfs],
    ['memory', memory],
  ]);

  it('holds aioring-<auto> to every bar and reports the other engines that ran', () => {
    const results = evaluateTargets(targets, points, 'libaio');
    const row = (target: string, i = 0) => results.filter((r) => r.target === target)[i];

    const vsFio = row('randread-qd32-disk', 0);
    expect(vsFio).toMatchObject({ driver: 'aioring-libaio', reference: 'fio-libaio', verdict: 'PASS', engine: 'libaio' });
    expect(vsFio.value).toBeCloseTo(0.97, 9);
    expect(vsFio.others.map((o) => [o.engine, o.verdict])).toEqual([['io_uring', 'FAIL']]); // threadpool skipped: left out
    expect(vsFio.others[0].value).toBeCloseTo(0.91, 9);

    const vsFs = row('randread-qd32-disk', 1);
    expect(vsFs.reference).toBe('fs-promises');
    expect(vsFs.value).toBeCloseTo(97 / 26, 9);
    expect(vsFs.verdict).toBe('PASS');

    const cpuRow = row('cpu-per-io');
    expect(cpuRow.metric).toBe('iopsPerCpuS');
    expect(cpuRow.value).toBeCloseTo((97 * 2) / 250, 9);
    expect(cpuRow.verdict).toBe('FAIL');

    expect(row('randread-qd32-tmpfs', 0)).toMatchObject({ driver: 'aioring-libaio', verdict: 'FAIL' });
    expect(row('randread-qd32-tmpfs', 0).others[0]).toMatchObject({ engine: 'io_uring', verdict: 'PASS' });
    expect(row('randread-qd32-tmpfs', 1)).toMatchObject({ driver: 'aioring-libaio-batch', verdict: 'PASS' });
    expect(row('randread-qd32-tmpfs', 1).others[0]).toMatchObject({ driver: 'aioring-io_uring-batch', verdict: 'FAIL' });

    const mem = row('memory');
    expect(mem).toMatchObject({ kind: 'memory', driver: 'aioring-libaio', value: 5, rounds: [3, 20, 5], verdict: 'PASS', others: [] });
    expect(mem.subjectValue).toBe(55);
    expect(mem.referenceValue).toBe(50);

    expect(overallVerdict(results)).toBe('FAIL');
  });

  it('switches the held driver with the auto engine', () => {
    const results = evaluateTargets(targets, points, 'io_uring');
    const first = results[0];
    expect(first.driver).toBe('aioring-io_uring');
    expect(first.verdict).toBe('FAIL');
    expect(first.others.map((o) => o.engine)).toEqual(['libaio']);
    // No aioring-io_uring in the memory run: ERROR, not a pass.
    expect(results.find((r) => r.kind === 'memory')!.verdict).toBe('ERROR');
    expect(overallVerdict(results)).toBe('ERROR');
  });

  it('is ERROR for a run that produced nothing, and without an engine', () => {
    const none = evaluateTargets(targets, new Map(), 'libaio');
    expect(none.every((r) => r.verdict === 'ERROR' && r.reason)).toBe(true);
    const noLib = evaluateTargets(targets, points, null);
    expect(noLib.every((r) => r.verdict === 'ERROR')).toBe(true);
    expect(noLib[0].reason).toMatch(/not loadable/);
  });

  it('passes when every check passes', () => {
    const only = selectTargets(suite, ['randread-qd32-disk']).targets;
    expect(overallVerdict(evaluateTargets(only, points, 'libaio'))).toBe('PASS');
    expect(overallVerdict([])).toBe('PASS');
  });
});

describe('the summary', () => {
  it('prints one row per check with the measured value, the bar and the verdict', () => {
    const targets = selectTargets(suite, ['randread-qd32-disk', 'memory']).targets;
    const disk = point([result('aioring-libaio', [96, 97, 98]), result('aioring-io_uring', [50, 50, 50]), result('fs-promises', [10, 10, 10]), result('fio-libaio', [100, 100, 100])]);
    const results = evaluateTargets(
      targets,
      new Map([
        ['randread-qd32-disk', disk],
        ['memory', memoryPoint([1.5])],
      ]),
      'libaio',
    );
    const text = renderSuiteSummary(results, { suite, targets, auto: 'libaio', repeat: 3, runtimeS: 5, durationS: 125, notes: ['a note'] });
    expect(text).toMatch(/^randread-qd32-disk\s+IOPS vs fio-libaio\s+aioring-libaio\s+97 \/ 100 IOPS\s+0\.970x\s+>= 0\.95x\s+PASS\s+0\.96 0\.97 0\.98\s+io_uring 0\.50x$/m);
    expect(text).toMatch(/^randread-qd32-disk\s+IOPS vs fs-promises\s+aioring-libaio\s+.*9\.700x\s+>= 3\.50x\s+PASS/m);
    expect(text).toMatch(/^memory\s+RSS growth.*RSS 50\.0 -> 51\.5 MiB\s+\+1\.50 MiB\s+<= 16 MiB\s+PASS/m);
    expect(text).toMatch(/^ {2}a note$/m);
    expect(text).toMatch(/suite targets: PASS \(3 of 3 checks passed\) in 2 min 5 s/);
  });

  it('formats bars and medians', () => {
    expect(formatBar({ op: '>=', value: 0.95 }, 'x')).toBe('>= 0.95x');
    expect(formatBar({ op: '<=', value: 16 }, 'MiB')).toBe('<= 16 MiB');
    expect(mediansText({ kind: 'ratio', metric: 'p50', subjectValue: 80.5, referenceValue: 84.25 })).toBe('80.5 / 84.3 µs');
    expect(mediansText({ kind: 'ratio', metric: 'mibps', subjectValue: 820.4, referenceValue: 828 })).toBe('820 / 828 MiB/s');
    expect(mediansText({ kind: 'ratio', metric: 'iops', subjectValue: null, referenceValue: 1 })).toBe('-');
  });
});

describe('parseArgs --suite', () => {
  it('brings the suite defaults and takes overrides', () => {
    const o = parseArgs(['--suite', 'targets']);
    expect(o).toMatchObject({ suite: 'targets', runtimeS: SUITE_DEFAULTS.runtimeS, repeat: SUITE_DEFAULTS.repeat, only: null, ops: null });
    expect(SUITE_DEFAULTS).toEqual({ runtimeS: 2, repeat: 7 });
    const q = parseArgs(['--suite=targets', '--runtime', '2', '--repeat', '3', '--json', 'x.json', '--ops', '100k', '--size', '64m', '--only', 'memory, cpu-per-io']);
    expect(q).toMatchObject({ runtimeS: 2, repeat: 3, json: 'x.json', ops: 100_000, size: 64 << 20, only: ['memory', 'cpu-per-io'] });
  });

  it('refuses options the suite sets itself, unknown suites and --only alone', () => {
    expect(() => parseArgs(['--suite', 'targets', '--qd', '4'])).toThrow(/--suite targets sets its own workloads: --qd/);
    expect(() => parseArgs(['--suite', 'targets', '--iodepth', '4'])).toThrow(/--qd cannot/);
    expect(() => parseArgs(['--suite', 'targets', '--drivers', 'fio'])).toThrow(UsageError);
    expect(() => parseArgs(['--suite', 'targets', '--target', '/dev/loop0'])).toThrow(UsageError);
    expect(() => parseArgs(['--suite', 'nope'])).toThrow(/unknown suite "nope" \(known: targets\)/);
    expect(() => parseArgs(['--only', 'memory'])).toThrow(/--only needs --suite/);
  });
});
