// Every fixture is undone however the test process ends: by the exit handler
// after an uncaught exception, by the watchdog after SIGKILL. Each check looks
// only at this test's own fixtures (backing file, loop number, cgroup path),
// since other test processes attach, mount and throttle at the same time.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMountPoint, loopDevicesOver, readOnlyFlag } from '../helpers/leftovers';
import { rootSuiteSkipReason } from '../helpers/root';

const skipReason = rootSuiteSkipReason('aioring/testing clean-up suite');
const root = path.join(__dirname, '..', '..');

interface Made {
  device: string;
  backing: string;
  cgroup: string;
  mountPoint: string;
  fsBacking: string;
}

// Sets up a read-only loop device, a throttle and a mounted file system with a
// file held open in it, reports them, then fails or waits to be killed.
const fixtureScript = (ending: 'throw' | 'wait') => `
  const { createFileSystem, createLoopDevice, setReadOnly, throttle } = require('aioring/testing');
  const fs = require('node:fs');
  (async () => {
    const device = await createLoopDevice({ sizeMiB: 8, sectorSize: 4096 });
    await setReadOnly(device, true);
    const slow = await throttle(device, { readIops: 100 });
    const ext4 = await createFileSystem({ type: 'ext4', sizeMiB: 16 });
    fs.openSync(ext4.mountPoint + '/open-file', 'w');
    const made = { device: device.path, backing: device.backing, cgroup: slow.cgroup, mountPoint: ext4.mountPoint, fsBacking: ext4.device.backing };
    process.stdout.write(JSON.stringify(made) + '\\n');
    ${ending === 'throw' ? "throw new Error('the test failed');" : 'setInterval(() => {}, 1000);'}
  })();`;

function startChild(ending: 'throw' | 'wait') {
  const child = spawn(process.execPath, ['-e', fixtureScript(ending)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const made = new Promise<Made>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as Made);
    });
    void exited.then(({ code, stderr: text }) => reject(new Error(`child exited (${code}) before reporting its fixtures: ${text}`)));
  });
  return { child, made, exited };
}

async function eventually(check: () => boolean, ms = 3_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check() && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
}

function expectNothingLeft(made: Made): void {
  expect(loopDevicesOver(made.backing), 'loop device still attached').toEqual([]);
  expect(fs.existsSync(path.dirname(made.backing)), 'backing directory still there').toBe(false);
  expect(fs.existsSync(made.cgroup), 'cgroup still there').toBe(false);
  expect(isMountPoint(made.mountPoint), 'file system still mounted').toBe(false);
  expect(fs.existsSync(made.mountPoint), 'mount point still there').toBe(false);
  expect(loopDevicesOver(made.fsBacking), 'file system device still attached').toEqual([]);
  // The loop number may already be someone else's; only a free one must not stay read-only.
  const name = made.device.slice('/dev/'.length);
  if (!fs.existsSync(`/sys/block/${name}/loop/backing_file`)) expect(readOnlyFlag(made.device), 'read-only flag left on').toBe('0');
}

describe.skipIf(skipReason !== undefined)('fixtures are undone however the process ends', () => {
  it('a test that throws: the exit handler undoes everything', async () => {
    const { made, exited } = startChild('throw');
    const fixtures = await made;
    expect(loopDevicesOver(fixtures.backing)).toHaveLength(1);
    const { code, stderr } = await exited;
    expect(code).toBe(1);
    expect(stderr).toContain('the test failed');
    await eventually(() => loopDevicesOver(fixtures.fsBacking).length === 0 && !fs.existsSync(fixtures.cgroup));
    expectNothingLeft(fixtures);
  });

  it('SIGKILL: the watchdog undoes everything', async () => {
    const { child, made, exited } = startChild('wait');
    const fixtures = await made;
    expect(loopDevicesOver(fixtures.backing)).toHaveLength(1);
    expect(isMountPoint(fixtures.mountPoint)).toBe(true);
    expect(fs.readFileSync(path.join(fixtures.cgroup, 'cgroup.procs'), 'utf8').trim()).toBe(String(child.pid));
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    await eventually(() => loopDevicesOver(fixtures.fsBacking).length === 0 && !fs.existsSync(fixtures.cgroup) && !fs.existsSync(fixtures.backing));
    expectNothingLeft(fixtures);
  });
});
