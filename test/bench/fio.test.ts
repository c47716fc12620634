import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fioArgs, parseFioOutput, runFioTrial } from '../../bench/src/drivers/fio';
import type { TrialSpec } from '../../bench/src/types';
import { toolSkipReason } from '../helpers/tools';

function spec(over: Partial<TrialSpec> = {}): TrialSpec {
  return {
    driver: 'fio-libaio',
    label: 'fio-libaio',
    path: '/tmp/target.dat',
    region: 64 << 20,
    rw: 'randread',
    bs: 4096,
    qd: 16,
    batch: 8,
    direct: true,
    runtimeS: 2,
    ops: null,
    rampS: 0.5,
    rwmixread: 50,
    seed: 1,
    verifyEvery: 64,
    progress: false,
    fioEngine: 'libaio',
    ...over,
  };
}

// The shape of fio 3.x --output-format=json with unified_rw_reporting=mixed and lat_percentiles=1.
const SAMPLE = {
  'fio version': 'fio-3.33',
  jobs: [
    {
      jobname: 'aioring-bench',
      error: 0,
      job_runtime: 2000,
      usr_cpu: 2.5,
      sys_cpu: 40,
      mixed: {
        io_bytes: 600_000 * 4096,
        bw_bytes: 300_000 * 4096,
        iops: 300_000,
        runtime: 2000,
        total_ios: 600_000,
        lat_ns: {
          min: 20_000,
          max: 9_000_000,
          mean: 53_000.5,
          percentile: { '50.000000': 50_176, '90.000000': 70_144, '99.000000': 120_320, '99.900000': 700_416 },
        },
      },
    },
  ],
};

describe('fio driver: arguments', () => {
  it('maps libaio/io_uring to iodepth = qd and one job', () => {
    const args = fioArgs(spec({ fioEngine: 'io_uring' }));
    expect(args).toEqual(
      expect.arrayContaining([
        '--ioengine=io_uring',
        '--iodepth=16',
        '--direct=1',
        '--rw=randread',
        '--bs=4096',
        `--size=${64 << 20}`,
        '--filename=/tmp/target.dat',
        '--output-format=json',
        '--time_based',
        '--runtime=2',
        '--ramp_time=500ms',
        '--lat_percentiles=1',
        '--unified_rw_reporting=mixed',
      ]),
    );
    expect(args.some((a) => a.startsWith('--numjobs'))).toBe(false);
  });

  it('maps psync to qd threads, with per-thread slices for sequential runs', () => {
    const args = fioArgs(spec({ fioEngine: 'psync', rw: 'read', qd: 4, direct: false }));
    expect(args).toEqual(expect.arrayContaining(['--ioengine=psync', '--numjobs=4', '--thread', '--direct=0', `--size=${16 << 20}`, `--offset_increment=${16 << 20}`]));
  });

  it('bounds by op count when --ops is given, split across psync threads', () => {
    const args = fioArgs(spec({ fioEngine: 'psync', runtimeS: null, ops: 1000, qd: 4, rampS: 0 }));
    expect(args).toContain(`--io_size=${250 * 4096}`);
    expect(args).not.toContain('--time_based');
    expect(args.some((a) => a.startsWith('--ramp_time'))).toBe(false);
  });

  it('passes rwmixread for randrw', () => {
    expect(fioArgs(spec({ rw: 'randrw', rwmixread: 70 }))).toContain('--rwmixread=70');
  });
});

describe('fio driver: output parsing', () => {
  it('turns fio JSON into IOPS, MiB/s, latency percentiles and CPU seconds', () => {
    const m = parseFioOutput('note: some fio chatter\n' + JSON.stringify(SAMPLE), { rw: 'randread', rwmixread: 50 });
    expect(m.iops).toBe(300_000);
    expect(m.mibps).toBeCloseTo((300_000 * 4096) / 2 ** 20, 6);
    expect(m.ops).toBe(600_000);
    expect(m.readOps).toBe(600_000);
    expect(m.elapsedS).toBe(2);
    expect(m.latUs).toEqual({ mean: 53.0005, min: 20, p50: 50.176, p90: 70.144, p99: 120.32, p999: 700.416, max: 9000 });
    expect(m.cpu.userS).toBeCloseTo(0.05, 9);
    expect(m.cpu.systemS).toBeCloseTo(0.8, 9);
    expect(m.iopsPerCpuS).toBeCloseTo(600_000 / 0.85, 3);
  });

  it('says which latency its percentiles are: total (lat_ns), or clat when fio printed no total percentiles', () => {
    const total = parseFioOutput(JSON.stringify(SAMPLE), { rw: 'randread', rwmixread: 50 });
    expect(total.extra.latPercentiles).toBe('lat');
    expect(total.notes).toEqual([]);
    const mixed = SAMPLE.jobs[0].mixed;
    const clatOnly = {
      jobs: [
        {
          ...SAMPLE.jobs[0],
          mixed: {
            ...mixed,
            lat_ns: { min: 20_000, max: 9_000_000, mean: 53_000.5 },
            clat_ns: { min: 18_000, max: 8_000_000, mean: 50_000, percentile: { '50.000000': 40_000, '90.000000': 60_000, '99.000000': 100_000, '99.900000': 600_000 } },
          },
        },
      ],
    };
    const m = parseFioOutput(JSON.stringify(clatOnly), { rw: 'randread', rwmixread: 50 });
    expect(m.extra.latPercentiles).toBe('clat');
    expect(m.latUs.p50).toBe(40);
    expect(m.latUs.mean).toBe(53.0005); // mean, min and max stay total latency
    expect(m.notes.join(' ')).toMatch(/completion latency \(clat\)/);
  });

  it('splits randrw counts by the mix and fails clearly on bad output', () => {
    const m = parseFioOutput(JSON.stringify(SAMPLE), { rw: 'randrw', rwmixread: 25 });
    expect(m.readOps).toBe(150_000);
    expect(m.writeOps).toBe(450_000);
    expect(() => parseFioOutput('fio: bad option', { rw: 'read', rwmixread: 50 })).toThrow(/no JSON/);
    const failed = { jobs: [{ ...SAMPLE.jobs[0], error: 5 }] };
    expect(() => parseFioOutput(JSON.stringify(failed), { rw: 'read', rwmixread: 50 })).toThrow(/error 5/);
  });
});

describe.skipIf(toolSkipReason('the real fio run', ['fio']) !== undefined)('fio driver: a real run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-bench-fio-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs fio on a small file and reports plausible numbers', async () => {
    const file = path.join(dir, 'target.dat');
    fs.writeFileSync(file, Buffer.alloc(4 << 20, 1));
    const phases: string[] = [];
    const m = await runFioTrial(spec({ path: file, region: 4 << 20, runtimeS: null, ops: 2000, rampS: 0, qd: 4 }), (p) => phases.push(p));
    expect(phases).toEqual(['run']);
    expect(m.ops).toBe(2000);
    expect(m.iops).toBeGreaterThan(0);
    expect(m.latUs.p50).toBeGreaterThan(0);
    expect(m.latUs.p999).toBeGreaterThanOrEqual(m.latUs.p50);
    expect(m.maxRssMiB === null || m.maxRssMiB > 0).toBe(true);
    expect(m.extra).toMatchObject({ ioengine: 'libaio', iodepth: 4 });
  });
});
