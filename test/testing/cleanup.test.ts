// Every fixture is undone however the test process ends: by the exit handler
// after an uncaught exception, by the watchdog after SIGKILL, and whichever of
// them it takes after a vitest test that fails without undoing anything. Each
// check looks only at this test's own fixtures (backing files, loop number,
// mount point, cgroup path), since other test processes attach, mount and
// throttle at the same time.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isMountPoint, loopDevicesOver, readOnlyFlag } from '../helpers/leftovers';
import { rootSuiteSkipReason } from '../helpers/root';

const skipReason = rootSuiteSkipReason('aioring/testing clean-up suite');
const root = path.join(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures');

/** What test/fixtures/testkit-fixtures.mjs set up. */
interface Made {
  device: string;
  backing: string;
  cgroup: string;
  mountPoint: string;
  fsBacking: string;
}

function reported(output: string): Made {
  const line = /^FIXTURES (.*)$/m.exec(stripVTControlCharacters(output));
  if (!line) throw new Error(`no fixtures reported in: ${output}`);
  return JSON.parse(line[1]!) as Made;
}

function startChild(ending: 'throw' | 'wait') {
  const child = spawn(process.execPath, [path.join(fixtures, 'testkit-fixtures.mjs'), ending], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const made = new Promise<Made>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(reported(out));
    });
    void exited.then(({ code, stderr: text }) => reject(new Error(`child exited (${code}) before reporting its fixtures: ${text}`)));
  });
  return { child, made, exited };
}

function allGone(made: Made): boolean {
  return loopDevicesOver(made.backing).length === 0 && loopDevicesOver(made.fsBacking).length === 0 && !fs.existsSync(made.cgroup) && !fs.existsSync(made.mountPoint);
}

async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check() && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
}

function expectNothingLeft(made: Made): void {
  expect(loopDevicesOver(made.backing), 'loop device still attached').toEqual([]);
  expect(fs.existsSync(path.dirname(made.backing)), 'backing directory still there').toBe(false);
  expect(fs.existsSync(made.cgroup), 'cgroup still there').toBe(false);
  expect(isMountPoint(made.mountPoint), 'file system still mounted').toBe(false);
  expect(fs.existsSync(made.mountPoint), 'mount point still there').toBe(false);
  expect(loopDevicesOver(made.fsBacking), 'file system device still attached').toEqual([]);
  expect(fs.existsSync(path.dirname(made.fsBacking)), 'file system backing directory still there').toBe(false);
  // The loop number may already be someone else's; only a free one must not stay read-only.
  const name = made.device.slice('/dev/'.length);
  if (!fs.existsSync(`/sys/block/${name}/loop/backing_file`)) expect(readOnlyFlag(made.device), 'read-only flag left on').toBe('0');
}

describe.skipIf(skipReason !== undefined)('fixtures are undone however the process ends', () => {
  it('an uncaught exception: the exit handler undoes everything', async () => {
    const { made, exited } = startChild('throw');
    const left = await made;
    const { code, stderr } = await exited;
    expect(code).toBe(1);
    expect(stderr).toContain('the test failed');
    await eventually(() => allGone(left));
    expectNothingLeft(left);
  });

  it('SIGKILL: the watchdog undoes everything', async () => {
    const { child, made, exited } = startChild('wait');
    const left = await made;
    expect(loopDevicesOver(left.backing)).toHaveLength(1);
    expect(isMountPoint(left.mountPoint)).toBe(true);
    expect(readOnlyFlag(left.device)).toBe('1');
    expect(fs.readFileSync(path.join(left.cgroup, 'cgroup.procs'), 'utf8').trim()).toBe(String(child.pid));
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    await eventually(() => allGone(left));
    expectNothingLeft(left);
  });

  it('a failing vitest test that undoes nothing itself', async () => {
    const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const config = path.join(fixtures, 'nested.vitest.config.mjs');
    const run = spawnSync(process.execPath, [vitest, 'run', '--config', config, 'test/fixtures/testkit-fixtures.test.mjs'], { cwd: root, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout + run.stderr).toContain('the test failed');
    const left = reported(run.stdout);
    await eventually(() => allGone(left));
    expectNothingLeft(left);
  });
});
