// The --rw append workload: its options, its drivers, fio's durable-write
// latency, and a short end-to-end run of the compiled CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APPEND_DRIVERS, findDriver } from '../../bench/src/drivers/registry';
import { parseFioOutput } from '../../bench/src/drivers/fio';
import { parseArgs } from '../../bench/src/options/args';
import type { BenchReport } from '../../bench/src/report/results';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bench', 'dist', 'cli.js');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-bench-append-'));
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', path.join('bench', 'tsconfig.json')], { cwd: root, stdio: 'pipe' });
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('--rw append: options', () => {
  it('takes --appenders and --record-size and runs the append drivers by default', () => {
    const o = parseArgs(['--rw', 'append', '--appenders', '256', '--record-size', '100']);
    expect(o).toMatchObject({ rw: 'append', qd: 256, bs: 100 });
    expect(o.drivers).toEqual([...DEFAULT_APPEND_DRIVERS]);
    expect(DEFAULT_APPEND_DRIVERS).toEqual(['aioring-log', 'fs-promises-append', 'fio-append']);
    expect(parseArgs(['--rw', 'append', '--drivers', 'all']).drivers).toEqual([...DEFAULT_APPEND_DRIVERS]);
    expect(parseArgs(['--drivers', 'all']).drivers).not.toContain('aioring-log');
  });

  it('refuses what does not fit the workload', () => {
    expect(() => parseArgs(['--appenders', '4'])).toThrow(/only applies to --rw append/);
    expect(() => parseArgs(['--rw', 'append', '--qd', '4'])).toThrow(/--appenders and --record-size/);
    expect(() => parseArgs(['--rw', 'append', '--drivers', 'aioring-libaio'])).toThrow(/none of the --drivers runs --rw append/);
    expect(() => parseArgs(['--rw', 'randread', '--drivers', 'aioring-log'])).toThrow(/none of the --drivers runs --rw randread/);
  });

  it('fio-append is fio at 4 KiB, QD 1, psync, whatever the appenders', () => {
    expect(findDriver('fio-append')!.specFields(256)).toEqual({ fioEngine: 'psync' });
    expect(findDriver('aioring-log')!.appends).toBe(true);
    expect(findDriver('fio-psync')!.appends).toBe(false);
  });
});

describe('--rw append: fio with --fdatasync', () => {
  it("adds each sync's latency to its write's, statistic by statistic", () => {
    const percentile = (p50: number) => ({ '50.000000': p50, '90.000000': 2 * p50, '99.000000': 3 * p50, '99.900000': 4 * p50 });
    const json = {
      jobs: [
        {
          error: 0,
          job_runtime: 1000,
          usr_cpu: 1,
          sys_cpu: 2,
          write: { io_bytes: 500 * 4096, bw_bytes: 500 * 4096, iops: 500, runtime: 1000, total_ios: 500, lat_ns: { min: 50_000, max: 900_000, mean: 80_000, percentile: percentile(60_000) } },
          sync: { lat_ns: { N: 500, min: 400_000, max: 9_000_000, mean: 1_900_000, percentile: percentile(1_500_000) } },
        },
      ],
    };
    const m = parseFioOutput(JSON.stringify(json), { rw: 'append', rwmixread: 50 });
    expect(m.iops).toBe(500);
    expect(m.writeOps).toBe(500);
    expect(m.latUs).toEqual({ mean: 1980, min: 450, p50: 1560, p90: 3120, p99: 4680, p999: 6240, max: 9900 });
    expect(m.notes.join(' ')).toMatch(/plus its fdatasync latency/);
  });
});

describe('--rw append: end to end', () => {
  it('runs aioring-log and fs-promises-append and removes the log', () => {
    const json = path.join(dir, 'append.json');
    const r = spawnSync(
      process.execPath,
      [cli, '--rw', 'append', '--appenders', '16', '--record-size', '100', '--size', '16m', '--runtime', '0.5', '--ramp', '0.1', '--drivers', 'aioring-log,fs-promises-append', '--json', json],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as BenchReport;
    const results = report.points[0]!.results;
    expect(results.map((x) => [x.driver, x.status])).toEqual([
      ['aioring-log', 'ok'],
      ['fs-promises-append', 'ok'],
    ]);
    for (const result of results) {
      expect(result.metrics!.writeOps).toBeGreaterThan(16);
      expect(result.metrics!.bytes).toBe(result.metrics!.writeOps * 100);
    }
    expect(Number(results[0]!.metrics!.extra.recordsPerGroup)).toBeGreaterThan(1);
    expect(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('.aioring-bench-log-'))).toEqual([]);
  }, 60_000);
});
