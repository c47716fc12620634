// Synthetic reports for the writer tests: realistic shapes, made-up numbers.

import type { DriverFamily } from '../../bench/src/drivers/registry';
import { applyRatios, type BenchReport, type DriverResult, type PointResult } from '../../bench/src/report/results';
import type { TrialMetrics } from '../../bench/src/types';

export function metrics(iops: number, bs: number, over: Partial<TrialMetrics> = {}): TrialMetrics {
  return {
    ops: iops * 2,
    readOps: iops * 2,
    writeOps: 0,
    bytes: iops * 2 * bs,
    elapsedS: 2,
    iops,
    mibps: (iops * bs) / 2 ** 20,
    latUs: { mean: 1e6 / iops, min: 10, p50: 0.9e6 / iops, p90: 1.5e6 / iops, p99: 3e6 / iops, p999: 6e6 / iops, max: 20e6 / iops },
    cpu: { userS: 0.3, systemS: 0.5 },
    iopsPerCpuS: (iops * 2) / 0.8,
    maxRssMiB: 55,
    loopDelayMs: { p99: 11, max: 14 },
    verifiedOps: Math.floor((iops * 2) / 64),
    extra: {},
    notes: [],
    ...over,
  };
}

const FAMILIES: Record<string, DriverFamily> = {
  'aioring-libaio': 'aioring',
  'aioring-io_uring': 'aioring',
  'aioring-threadpool': 'aioring',
  'aioring-io_uring-batch': 'aioring-batch',
  'fs-promises': 'fs-promises',
  'fs-promises-uv': 'fs-promises',
  'fs-promises-buffered': 'fs-promises',
  'fio-libaio': 'fio',
  'fio-io_uring': 'fio',
};

export function driverResult(driver: string, iops: number | null, bs: number, qd: number): DriverResult {
  const label = driver === 'fs-promises-uv' ? `fs-promises-uv${qd}` : driver;
  const m = iops === null ? null : metrics(iops, bs, driver.startsWith('aioring') ? { extra: { syscallsPerOp: 0.05 } } : {});
  return {
    driver,
    label,
    family: FAMILIES[driver] ?? 'aioring',
    status: iops === null ? 'skipped' : 'ok',
    reason: iops === null ? 'fio is not installed' : null,
    metrics: m,
    trials: m
      ? [
          { repetition: 0, status: 'ok', metrics: { ...m, iops: m.iops * 0.97, mibps: m.mibps * 0.97 }, error: null, verification: false, wallS: 3 },
          { repetition: 1, status: 'ok', metrics: m, error: null, verification: false, wallS: 3 },
          { repetition: 2, status: 'ok', metrics: { ...m, iops: m.iops * 1.04, mibps: m.mibps * 1.04 }, error: null, verification: false, wallS: 3 },
        ]
      : [],
    vsFsPromises: null,
    vsFio: null,
  };
}

const BASE_IOPS: Record<string, number | null> = {
  'aioring-libaio': 60_000,
  'aioring-io_uring': 58_000,
  'aioring-io_uring-batch': 66_000,
  'fs-promises': 30_000,
  'fs-promises-uv': 33_000,
  'fio-libaio': 72_000,
  'fio-io_uring': null,
};

export function makeReport(opts: { sweep?: { param: 'qd' | 'bs'; values: number[] } } = {}): BenchReport {
  const sweep = opts.sweep ?? null;
  const qds = sweep?.param === 'qd' ? sweep.values : [32];
  const bss = sweep?.param === 'bs' ? sweep.values : [4096];
  const points: PointResult[] = [];
  for (const qd of qds) {
    for (const bs of bss) {
      const scale = Math.min(1, Math.sqrt(qd / 32)) * (4096 / bs) ** 0.7;
      const results = Object.entries(BASE_IOPS).map(([d, iops]) => driverResult(d, iops === null ? null : Math.round(iops * scale), bs, qd));
      const point: PointResult = { qd, bs, results, fioReference: null };
      applyRatios(point, { fsPromises: 'fs-promises', fio: ['fio-libaio', 'fio-io_uring'] });
      points.push(point);
    }
  }
  return {
    tool: 'aioring-bench',
    schemaVersion: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    durationS: 60,
    command: [],
    machine: {
      cores: 2,
      cpuModel: 'Test CPU <with> "odd" & chars',
      memoryBytes: 24 * 2 ** 30,
      kernel: '6.18.0',
      os: 'Linux',
      arch: 'x64',
      node: 'v20.20.2',
      aioringVersion: '0.1.0',
      fio: 'fio-3.33',
    },
    target: {
      path: '/tmp/aioring-bench-<1>&.dat',
      kind: 'file',
      temporary: true,
      size: 256 << 20,
      region: 256 << 20,
      logicalBlockSize: 512,
      blockSizeSource: 'test',
      storage: { device: 'vda', filesystem: 'ext4' },
    },
    params: {
      rw: 'randread',
      bs: bss[0],
      qd: qds[0],
      batch: null,
      direct: true,
      runtimeS: 4,
      ops: null,
      rampS: 0.5,
      repeat: 3,
      rwmixread: 50,
      verifyEvery: 64,
      seed: 1,
      region: 256 << 20,
      sweep,
      drivers: Object.keys(BASE_IOPS),
      stream: false,
    },
    engines: { probe: null, auto: 'libaio', error: null },
    references: { fsPromises: 'fs-promises', fio: ['fio-libaio', 'fio-io_uring', 'fio-psync'] },
    points,
    notes: [],
    verificationFailed: false,
  };
}
