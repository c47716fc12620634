// throttle(): the kernel's block throttling on a kit device, for one process.
// Only lower bounds on time are asserted: a throttled device can be no
// faster than its limit, whatever else the machine is doing.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../lib/index';
import { createLoopDevice, throttle } from '../../lib/testing/index';
import { randomAligned } from '../helpers/data';
import { rootSuiteSkipReason } from '../helpers/root';

const skipReason = rootSuiteSkipReason('aioring/testing throttle suite');
const root = path.join(__dirname, '..', '..');
const MiB = 1024 * 1024;

function cgroupLines(pid: number | 'self'): string[] {
  return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
}

function limitsIn(cgroup: string, version: 1 | 2): string {
  if (version === 2) return fs.readFileSync(path.join(cgroup, 'io.max'), 'utf8').trim();
  return ['read_bps', 'write_bps', 'read_iops', 'write_iops']
    .map((name) => fs.readFileSync(path.join(cgroup, `blkio.throttle.${name}_device`), 'utf8').trim())
    .filter(Boolean)
    .join(' | ');
}

describe.skipIf(skipReason !== undefined)('throttle', () => {
  it('this process: direct writes to the device go no faster than writeBps; close() puts the process back and removes the cgroup', async () => {
    await using device = await createLoopDevice({ sizeMiB: 16, sectorSize: 4096 });
    const { rdev } = fs.statSync(device.path);
    const numbers = `${Math.floor(rdev / 256) & 0xfff}:${rdev & 0xff}`;
    const before = cgroupLines('self');
    const ring = new Ring({ depth: 4 });
    try {
      const file = await ring.open(device.path, { write: true });
      const data = randomAligned(MiB);
      const slow = await throttle(device, { writeBps: 2 * MiB, readIops: 1000 });
      try {
        expect(fs.readFileSync(path.join(slow.cgroup, 'cgroup.procs'), 'utf8').trim().split('\n')).toContain(String(process.pid));
        const limits = limitsIn(slow.cgroup, slow.cgroupVersion);
        if (slow.cgroupVersion === 2) expect(limits).toBe(`${numbers} rbps=max wbps=${2 * MiB} riops=1000 wiops=max`);
        else expect(limits).toBe(`${numbers} ${2 * MiB} | ${numbers} 1000`);
        const start = process.hrtime.bigint();
        for (let i = 0; i < 5; i++) expect(await file.write(data, i * MiB)).toBe(MiB);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        // 5 MiB at 2 MiB/s: the kernel lets the first slice through at once, so at least 1.5 s.
        expect(seconds).toBeGreaterThan(1.5);
      } finally {
        await slow.close();
      }
      expect(fs.existsSync(slow.cgroup)).toBe(false);
      expect(cgroupLines('self')).toEqual(before);
    } finally {
      await ring.close();
    }
  });

  it('another process, by pid: it and what it forks are throttled until close()', async () => {
    await using device = await createLoopDevice({ sizeMiB: 8 });
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const before = cgroupLines(child.pid!);
      const slow = await throttle(device.path, { readBps: MiB }, { pid: child.pid! });
      expect(slow.pid).toBe(child.pid);
      expect(fs.readFileSync(path.join(slow.cgroup, 'cgroup.procs'), 'utf8').trim()).toBe(String(child.pid));
      expect(cgroupLines('self').some((line) => line.endsWith(path.basename(slow.cgroup)))).toBe(false);
      await slow.close();
      expect(fs.existsSync(slow.cgroup)).toBe(false);
      expect(cgroupLines(child.pid!)).toEqual(before);
    } finally {
      child.kill('SIGKILL');
    }
  });

  describe('bad input is refused before any cgroup is made', () => {
    it.each([
      [{}, 'ERR_INVALID_ARG_VALUE', /at least one of readBps, writeBps, readIops, writeIops/],
      [{ writeBps: 0 }, 'ERR_OUT_OF_RANGE', /writeBps/],
      [{ readIops: 1.5 }, 'ERR_OUT_OF_RANGE', /readIops/],
      [{ readBps: -1 }, 'ERR_OUT_OF_RANGE', /readBps/],
      [{ writeBPS: 10 }, 'ERR_INVALID_ARG_VALUE', /unknown option 'writeBPS'/],
    ])('%j: %s', async (limits, code, message) => {
      await using device = await createLoopDevice({ sizeMiB: 1 });
      await expect(throttle(device, limits as never)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    });

    it('a path that is not a block device', async () => {
      await expect(throttle('/etc/hostname', { readBps: MiB })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: /block device/ });
      await expect(throttle('/nonexistent-device', { readBps: MiB })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    });

    it('where no cgroup v2 (or v1 blkio) hierarchy is mounted: ERR_AIO_TESTKIT_UNSUPPORTED saying so', () => {
      // A private mount namespace without the cgroup mounts: the host's stay as they are.
      const script =
        "const { createLoopDevice, throttle } = require('aioring/testing');" +
        '(async () => { const d = await createLoopDevice({ sizeMiB: 1 });' +
        ' try { await throttle(d, { readBps: 1048576 }); console.log("throttled"); }' +
        ' catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } finally { await d.close(); } })();';
      const out = execFileSync(
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', 'umount -R -l /sys/fs/cgroup && exec "$0" -e "$1"', process.execPath, script],
        { cwd: root, encoding: 'utf8' },
      );
      const error = JSON.parse(out) as { code: string; message: string };
      expect(error.code).toBe('ERR_AIO_TESTKIT_UNSUPPORTED');
      expect(error.message).toMatch(/cgroup v2/);
    });
  });
});
