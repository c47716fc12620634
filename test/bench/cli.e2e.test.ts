// End-to-end: the compiled CLI (bench/dist/cli.js) run as a person would,
// on small targets. Builds it first when it is missing or older than bench/src.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pattern } from '../../bench/src/setup/pattern';
import type { SuiteReport } from '../../bench/src/suites/summary';
import type { BenchReport } from '../../bench/src/report/results';
import { createLoopDevice, type LoopDevice } from '../../lib/testing/index';
import { rootSuiteSkipReason } from '../helpers/root';
import { parseXml } from './xml';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'bench', 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-bench-e2e-'));

function newestSource(folder: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const stale = !fs.existsSync(cli) || fs.statSync(cli).mtimeMs < newestSource(path.join(root, 'bench', 'src'));
  if (stale) execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', path.join('bench', 'tsconfig.json')], { cwd: root, stdio: 'pipe' });
}

function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A file holding the bench pattern, as the bench itself would write it. */
function patternedFile(name: string, size: number, seed?: number): string {
  const file = path.join(dir, name);
  const buf = Buffer.alloc(size);
  new Pattern(seed).fill(buf, 0);
  fs.writeFileSync(file, buf);
  return file;
}

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('aioring-bench end to end', () => {
  it('runs two drivers on a temporary 16 MiB target and writes JSON, SVG and a table', () => {
    const json = path.join(dir, 'run.json');
    const svg = path.join(dir, 'run.svg');
    const r = runCli(['--size', '16m', '--runtime', '1', '--ramp', '0.2', '--drivers', 'fs-promises,aioring-threadpool', '--json', json, '--svg', svg]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as BenchReport;

    expect(report.tool).toBe('aioring-bench');
    expect(report.machine.cores).toBe(os.cpus().length);
    expect(report.machine.kernel).toBe(os.release());
    expect(report.params).toMatchObject({ rw: 'randread', bs: 4096, qd: 32, direct: true, runtimeS: 1, region: 16 << 20 });
    expect(report.target).toMatchObject({ kind: 'file', temporary: true, size: 16 << 20, region: 16 << 20 });
    expect(report.target.logicalBlockSize).toBeGreaterThanOrEqual(512);
    expect(fs.existsSync(report.target.path)).toBe(false); // removed afterwards
    expect(path.dirname(report.target.path)).toBe(os.tmpdir());

    expect(report.points).toHaveLength(1);
    const results = report.points[0].results;
    expect(results.map((x) => x.driver)).toEqual(['fs-promises', 'aioring-threadpool']);
    const ran = results.filter((x) => x.status === 'ok');
    expect(ran.map((x) => x.driver)).toContain('fs-promises');
    for (const res of results) {
      if (res.status === 'skipped') {
        expect(res.reason).toBeTruthy();
        continue;
      }
      expect(res.status, res.reason ?? '').toBe('ok');
      const m = res.metrics!;
      expect(m.iops).toBeGreaterThan(100);
      expect(m.mibps).toBeCloseTo((m.iops * 4096) / 2 ** 20, 3);
      expect(m.elapsedS).toBeGreaterThan(0.9);
      expect(m.elapsedS).toBeLessThan(3);
      expect(m.ops).toBe(m.readOps);
      expect(m.latUs.min).toBeGreaterThan(0);
      expect(m.latUs.p50).toBeGreaterThanOrEqual(m.latUs.min);
      expect(m.latUs.p99).toBeGreaterThanOrEqual(m.latUs.p50);
      expect(m.latUs.p999).toBeGreaterThanOrEqual(m.latUs.p99);
      expect(m.latUs.max).toBeGreaterThanOrEqual(m.latUs.p999);
      expect(m.latUs.mean).toBeGreaterThan(0);
      expect(m.cpu.userS + m.cpu.systemS).toBeGreaterThan(0);
      expect(m.iopsPerCpuS).toBeGreaterThan(0);
      expect(m.maxRssMiB).toBeGreaterThan(10);
      expect(m.maxRssMiB).toBeLessThan(2048);
      expect(m.verifiedOps).toBeGreaterThan(0); // reads were checked against the pattern
      expect(res.trials).toHaveLength(1);
    }
    const fsResult = results.find((x) => x.driver === 'fs-promises')!;
    expect(fsResult.vsFsPromises).toBe(1);
    for (const res of ran) expect(res.vsFsPromises).toBeGreaterThan(0);

    expect(r.stdout).toMatch(/^fs-promises\s+\S+/m);
    expect(r.stdout).toMatch(/vs fs/);
    const doc = parseXml(fs.readFileSync(svg, 'utf8'));
    expect(doc.name).toBe('svg');
  }, 60_000);

  it.each(['read', 'write'])('--rw %s --stream: one pass per driver, CPU s/GiB and page-cache residency, the written file checked', (rw) => {
    const json = path.join(dir, `stream-${rw}.json`);
    const r = runCli(['--rw', rw, '--stream', '--size', '16m', '--verify-every', '1', '--drivers', 'aioring-stream,fs-stream', '--json', json]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as BenchReport;
    expect(report.params).toMatchObject({ rw, stream: true, bs: 2 ** 20, qd: 8, runtimeS: null });
    expect(report.references.fsPromises).toBe('fs-stream');
    const byDriver = Object.fromEntries(report.points[0].results.map((x) => [x.driver, x]));
    for (const id of ['aioring-stream', 'fs-stream']) {
      const m = byDriver[id]!.metrics!;
      expect(byDriver[id]!.status, byDriver[id]!.reason ?? '').toBe('ok');
      expect(m.bytes).toBe(16 << 20);
      expect(m.extra.cpuSPerGiB).toBeGreaterThan(0);
      expect(typeof m.extra.pageCacheMiB).toBe('number');
      if (rw === 'write') expect(m.extra.sha256Match).toBe(1);
      else expect(m.verifiedOps).toBeGreaterThan(0);
    }
    // Direct I/O leaves the file out of the page cache; fs's stream goes through it.
    expect(byDriver['aioring-stream']!.metrics!.extra.pageCacheMiB).toBeLessThan(1);
    expect(r.stdout).toMatch(/CPU s\/GiB/);
  }, 60_000);

  it('fails loudly (exit 3) when a driver reads data that is not the pattern', () => {
    const file = patternedFile('corrupt.dat', 4 << 20);
    // Zero one 4 KiB block that none of the pre-run sample sectors fall in.
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096), 0, 4096, 4096);
    fs.closeSync(fd);
    const r = runCli(['--target', file, '--rw', 'read', '--ops', '1024', '--ramp', '0', '--verify-every', '1', '--qd', '1', '--drivers', 'fs-promises']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/FAILED\s+fs-promises: verification failed: .*offset 4096/);
    expect(r.stderr).toMatch(/VERIFICATION FAILED/);
  }, 30_000);

  it('reads an existing patterned file with --ops and leaves it in place', () => {
    const file = patternedFile('good.dat', 4 << 20);
    const r = runCli(['--target', file, '--ops', '2000', '--ramp', '0', '--qd', '4', '--bs', '8k', '--drivers', 'fs-promises']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/randread, bs=8k, qd=4/);
    expect(fs.existsSync(file)).toBe(true);
  }, 30_000);
});

let tmpfsShm = false;
try {
  tmpfsShm = fs.statfsSync('/dev/shm').type === 0x01021994;
} catch {
  tmpfsShm = false;
}

describe.skipIf(!tmpfsShm)('aioring-bench --suite targets', () => {
  it('runs the memory target on a small tmpfs file, reports PASS/FAIL and JSON, and removes its file', () => {
    const json = path.join(dir, 'suite.json');
    const r = runCli(['--suite', 'targets', '--only', 'memory', '--ops', '20k', '--size', '8m', '--repeat', '1', '--json', json]);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as SuiteReport;
    expect(report).toMatchObject({ tool: 'aioring-bench', kind: 'suite', suite: 'targets', params: { repeat: 1, memoryOps: 20_000, fileSize: 8 << 20 } });
    expect(report.checks).toHaveLength(1);
    const check = report.checks[0];
    expect(report.files.map((f) => f.storage)).toEqual(['tmpfs']);
    for (const f of report.files) expect(fs.existsSync(f.path)).toBe(false);
    if (report.engines.auto === null) {
      expect(check.verdict).toBe('ERROR'); // library not built: nothing to hold to the bar
      return;
    }
    expect(check).toMatchObject({ target: 'memory', kind: 'memory', driver: `aioring-${report.engines.auto}` });
    expect(check.memory!.rssStartMiB).toBeGreaterThan(10);
    expect(check.memory!.ops).toBe(20_000);
    expect(['PASS', 'FAIL']).toContain(check.verdict);
    expect(r.code, r.stderr).toBe(check.verdict === 'PASS' ? 0 : 4);
    expect(r.stdout).toMatch(new RegExp(`^memory\\s+RSS growth.*<= 16 MiB\\s+${check.verdict}`, 'm'));
    expect(r.stdout).toMatch(/suite targets: (PASS|FAIL) \(\d of 1 checks passed\)/);
  }, 60_000);
});

describe('aioring-bench bad input', () => {
  it.each([
    [['--drivers', 'fs-promises,warp-drive'], /unknown driver "warp-drive"/],
    [['--size', '12parsecs'], /--size: malformed size "12parsecs"/],
    [['--bs', 'huge'], /--bs: malformed size/],
    [['--target', '/nonexistent/aioring-bench/target'], /target \/nonexistent\/aioring-bench\/target does not exist/],
    [['--suite', 'targets', '--only', 'memory,warp-speed'], /suite targets has no target "warp-speed"/],
    [['--suite', 'targets', '--qd', '4'], /--suite targets sets its own workloads: --qd/],
  ])('%j exits 2 with a clear message', (args, message) => {
    const r = runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('refuses a block size that is not a multiple of the logical block size', () => {
    const file = patternedFile('bs.dat', 1 << 20);
    const r = runCli(['--target', file, '--bs', '1000', '--drivers', 'fs-promises']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--bs 1000 \(1000 bytes\) is not a multiple of \d+/);
  });

  it('refuses to read a foreign file unverified without being told', () => {
    const file = path.join(dir, 'foreign.dat');
    fs.writeFileSync(file, Buffer.alloc(1 << 20, 7));
    const r = runCli(['--target', file, '--drivers', 'fs-promises', '--ops', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not carry the bench's verification pattern.*--allow-write.*--no-verify/);
    expect(fs.readFileSync(file).every((b) => b === 7)).toBe(true); // untouched
  });

  it('--help prints usage and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: aioring-bench/);
  });

  it('runs as the workspace package\'s aioring-bench command', () => {
    const command = path.join(root, 'bench', 'bin', 'aioring-bench.js');
    expect(fs.statSync(command).mode & 0o111).not.toBe(0);
    const r = spawnSync(command, ['--drivers', 'nope'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown driver "nope"/);
  });
});

const blockDeviceSkipReason = rootSuiteSkipReason('aioring-bench block-device suite');

describe.skipIf(blockDeviceSkipReason !== undefined)('aioring-bench on a block device', () => {
  let loop: LoopDevice | undefined;
  beforeAll(async () => {
    loop = await createLoopDevice({ sizeMiB: 8, sectorSize: 4096 });
  });
  afterAll(() => loop?.close());

  it('refuses writes without --allow-write, before touching the device', () => {
    const r = runCli(['--target', loop!.path, '--rw', 'randwrite', '--drivers', 'fs-promises', '--ops', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/writes to block device .*--allow-write/);
    expect(fs.readFileSync(loop!.backing).every((b) => b === 0)).toBe(true);
  });

  it('checks --bs against the device logical block size (4096 here)', () => {
    const r = runCli(['--target', loop!.path, '--bs', '512', '--drivers', 'fs-promises', '--ops', '10', '--allow-write']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a multiple of 4096/);
  });

  it('stamps the device with --allow-write, then reads it verified', () => {
    const json = path.join(dir, 'dev.json');
    const r = runCli(['--target', loop!.path, '--allow-write', '--drivers', 'fs-promises', '--ops', '2000', '--ramp', '0', '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as BenchReport;
    expect(report.target).toMatchObject({ kind: 'block', logicalBlockSize: 4096, size: 8 << 20 });
    expect(report.points[0].results[0].metrics!.verifiedOps).toBeGreaterThan(0);
  }, 30_000);
});
