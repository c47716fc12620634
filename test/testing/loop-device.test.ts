// aioring/testing's loop devices, on the real kernel: geometry as asked,
// autoclear so that a killed process leaves nothing attached, read-only mode
// undone on close, flipped bytes seen by the next direct read, and bad input
// refused before anything is attached.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../../lib/index';
import { createLoopDevice, flipBytes, setReadOnly } from '../../lib/testing/index';
import { randomAligned } from '../helpers/data';
import { loopDevicesOver, readOnlyFlag } from '../helpers/leftovers';
import { rootSuiteSkipReason, sh } from '../helpers/root';

const skipReason = rootSuiteSkipReason('aioring/testing loop-device suite');
const root = path.join(__dirname, '..', '..');

describe.skipIf(skipReason !== undefined)('createLoopDevice', () => {
  it.each([512, 4096] as const)('%i-byte sectors: the geometry asked for, direct I/O, autoclear; close() detaches and removes the backing file', async (sectorSize) => {
    const device = await createLoopDevice({ sizeMiB: 32, sectorSize });
    try {
      expect(device.path).toMatch(/^\/dev\/loop\d+$/);
      expect(device).toMatchObject({ sectorSize, sizeBytes: 32 * 1024 * 1024, directIo: true });
      const name = device.path.slice('/dev/'.length);
      expect(sh('blockdev', ['--getss', '--getsize64', device.path]).split(/\s+/)).toEqual([String(sectorSize), String(32 * 1024 * 1024)]);
      expect(fs.readFileSync(`/sys/block/${name}/loop/autoclear`, 'utf8').trim()).toBe('1');
      expect(fs.readFileSync(`/sys/block/${name}/loop/dio`, 'utf8').trim()).toBe('1');
      expect(loopDevicesOver(device.backing)).toEqual([name]);

      const ring = new Ring({ depth: 4 });
      try {
        const file = await ring.open(device.path, { write: true });
        expect(file.info).toMatchObject({ logicalBlockSize: sectorSize, size: device.sizeBytes });
        const data = randomAligned(8192);
        expect(await file.write(data, device.sizeBytes - 8192)).toBe(8192);
        const back = allocAligned(8192);
        expect(await file.read(back, device.sizeBytes - 8192)).toBe(8192);
        expect(back.equals(data)).toBe(true);
      } finally {
        await ring.close();
      }
    } finally {
      await device.close();
    }
    expect(loopDevicesOver(device.backing)).toEqual([]);
    expect(fs.existsSync(path.dirname(device.backing))).toBe(false);
    await device.close(); // a second close is harmless
  });

  it('uses a backing file the caller names: an existing one is kept, a new one is made and removed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-testkit-backing-'));
    try {
      const existing = path.join(dir, 'image.img');
      fs.writeFileSync(existing, Buffer.alloc(2 * 1024 * 1024, 0x5a));
      {
        await using device = await createLoopDevice({ backing: existing, directIo: false });
        expect(device).toMatchObject({ backing: existing, sizeBytes: 2 * 1024 * 1024, sectorSize: 512, directIo: false });
        const fd = fs.openSync(device.path, 'r');
        const first = Buffer.alloc(512);
        fs.readSync(fd, first, 0, 512, 0);
        fs.closeSync(fd);
        expect(first.every((byte) => byte === 0x5a)).toBe(true);
      }
      expect(loopDevicesOver(existing)).toEqual([]);
      expect(fs.statSync(existing).size).toBe(2 * 1024 * 1024);

      const fresh = path.join(dir, 'fresh.img');
      const device = await createLoopDevice({ backing: fresh, sizeMiB: 4, sectorSize: 4096 });
      expect(fs.statSync(fresh).size).toBe(4 * 1024 * 1024);
      await device.close();
      expect(fs.existsSync(fresh)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setReadOnly: writes fail with EPERM, reads work; close() clears the flag, which would outlive the device', async () => {
    const device = await createLoopDevice({ sizeMiB: 8, sectorSize: 4096 });
    const ring = new Ring({ depth: 4 });
    try {
      const file = await ring.open(device.path, { write: true });
      const data = randomAligned(4096);
      expect(await file.write(data, 0)).toBe(4096);
      await setReadOnly(device, true);
      expect(readOnlyFlag(device.path)).toBe('1');
      await expect(file.write(data, 4096)).rejects.toMatchObject({ code: 'EPERM', errno: -1, op: 'write', position: 4096 });
      const back = allocAligned(4096);
      expect(await file.read(back, 0)).toBe(4096);
      expect(back.equals(data)).toBe(true);
      await setReadOnly(device, false);
      expect(await file.write(data, 4096)).toBe(4096);
      await setReadOnly(device, true);
    } finally {
      await ring.close();
      await device.close();
    }
    // The same loop number, now free: not read-only for whoever takes it next.
    expect(readOnlyFlag(device.path)).toBe('0');
  });

  it('flipBytes: the next direct read sees exactly the flipped bytes; flipping again restores them', async () => {
    await using device = await createLoopDevice({ sizeMiB: 8, sectorSize: 512 });
    const ring = new Ring({ depth: 4 });
    try {
      const file = await ring.open(device.path, { write: true });
      const data = randomAligned(4096);
      expect(await file.write(data, 65536)).toBe(4096);
      const before = await flipBytes(device, 65536 + 100, 7);
      expect(before.equals(data.subarray(100, 107))).toBe(true);
      const back = allocAligned(4096);
      expect(await file.read(back, 65536)).toBe(4096);
      for (let i = 0; i < 4096; i++) expect(back[i], `byte ${i}`).toBe(i >= 100 && i < 107 ? data[i]! ^ 0xff : data[i]);
      await flipBytes(device.path, 65536 + 100, 7);
      expect(await file.read(back, 65536)).toBe(4096);
      expect(back.equals(data)).toBe(true);
      await expect(flipBytes(device, device.sizeBytes - 2, 4)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    } finally {
      await ring.close();
    }
  });

  describe('when no loop device is free, it waits (bounded) for one', () => {
    // A private mount namespace whose /dev has /dev/loop-control but no
    // /dev/loopN nodes: every device the driver offers cannot be opened, as
    // when others hold them all. The host's /dev stays as it is.
    function inNamespaceWithoutLoopNodes(script: string, withControl = true): { code: string; ms: number; path?: string; message?: string } {
      const control = withControl ? 'mknod /dev/loop-control c 10 237 && ' : '';
      const setUp = `mount -t tmpfs none /dev && mknod /dev/null c 1 3 && ${control}exec "$0" -e "$1"`;
      const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', setUp, process.execPath, script], { cwd: root, encoding: 'utf8' });
      return JSON.parse(out) as { code: string; ms: number; path?: string; message?: string };
    }
    const attempt = (waitMs: number, nodesAfterMs?: number) => `
      const { execFileSync } = require('node:child_process');
      const { createLoopDevice } = require('aioring/testing');
      ${nodesAfterMs === undefined ? '' : `setTimeout(() => { for (let i = 0; i < 64; i++) execFileSync('mknod', ['/dev/loop' + i, 'b', '7', String(i)]); }, ${nodesAfterMs});`}
      const start = Date.now();
      createLoopDevice({ sizeMiB: 1, waitMs: ${waitMs} }).then(
        async (device) => { const ms = Date.now() - start; await device.close(); console.log(JSON.stringify({ code: 'ok', ms, path: device.path })); },
        (e) => console.log(JSON.stringify({ code: e.code, ms: Date.now() - start, message: e.message })));`;

    it('gives up after waitMs with ERR_AIO_TESTKIT_NO_LOOP_DEVICE', () => {
      const result = inNamespaceWithoutLoopNodes(attempt(400));
      expect(result.code).toBe('ERR_AIO_TESTKIT_NO_LOOP_DEVICE');
      expect(result.ms).toBeGreaterThanOrEqual(400);
    });

    it('without /dev/loop-control it fails at once, saying the loop driver is missing', () => {
      const result = inNamespaceWithoutLoopNodes(attempt(20_000), false);
      expect(result.code).toBe('ERR_AIO_TESTKIT_UNSUPPORTED');
      expect(result.message).toMatch(/modprobe loop/);
      expect(result.ms).toBeLessThan(5_000);
    });

    it('takes a device as soon as one can be had', () => {
      const result = inNamespaceWithoutLoopNodes(attempt(20_000, 300));
      expect(result.code).toBe('ok');
      expect(result.ms).toBeGreaterThanOrEqual(300);
      expect(result.path).toMatch(/^\/dev\/loop\d+$/);
    });
  });

  describe('bad input is refused before anything is attached', () => {
    it.each([
      [{ sizeMiB: 1.5 }, 'ERR_OUT_OF_RANGE', /whole number of MiB/],
      [{ sizeMiB: 0 }, 'ERR_OUT_OF_RANGE', /whole number of MiB/],
      [{ sizeMiB: 16 * 1024 + 1 }, 'ERR_OUT_OF_RANGE', /from 1 to 16384/],
      [{ sizeMiB: '8' }, 'ERR_OUT_OF_RANGE', /whole number of MiB/],
      [{ sizeMiB: 8, sectorSize: 1024 }, 'ERR_INVALID_ARG_VALUE', /512 or 4096/],
      [{ sizeMiB: 8, sectorSize: 520 }, 'ERR_INVALID_ARG_VALUE', /512 or 4096/],
      [{ sizeMiB: 8, sectorsize: 4096 }, 'ERR_INVALID_ARG_VALUE', /unknown option 'sectorsize'/],
      [{ sizeMiB: 8, directIo: 'yes' }, 'ERR_INVALID_ARG_TYPE', /directIo/],
      [{}, 'ERR_INVALID_ARG_VALUE', /sizeMiB/],
    ])('%j: %s', async (options, code, message) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-testkit-bad-'));
      const backing = path.join(dir, 'never.img');
      try {
        const error = await createLoopDevice({ ...(options as object), backing }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
        expect(fs.existsSync(backing)).toBe(false);
        expect(loopDevicesOver(backing)).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('an existing backing file whose size is not whole sectors, or not the size asked for', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-testkit-bad-'));
      try {
        const odd = path.join(dir, 'odd.img');
        fs.writeFileSync(odd, Buffer.alloc(4096 + 512));
        await expect(createLoopDevice({ backing: odd, sectorSize: 4096 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
        await expect(createLoopDevice({ backing: odd, sizeMiB: 1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
        expect(loopDevicesOver(odd)).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('setReadOnly and flipBytes take only kit devices and sane ranges', async () => {
      await expect(setReadOnly('/dev/loop0' as never, true)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(flipBytes({} as never, 0, 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await using device = await createLoopDevice({ sizeMiB: 1 });
      await expect(setReadOnly(device, 1 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(flipBytes(device, -1, 1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(flipBytes(device, 0, 0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    });
  });
});

describe('without root', () => {
  it('throws ERR_AIO_TESTKIT_PRIVILEGE saying what is missing', () => {
    const script = `require('aioring/testing').createLoopDevice({ sizeMiB: 1 }).catch((e) => { console.log(JSON.stringify({ code: e.code, message: e.message })); });`;
    const args = ['-e', script];
    const command = process.getuid?.() === 0 ? 'setpriv' : process.execPath;
    const full = process.getuid?.() === 0 ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args] : args;
    const out = execFileSync(command, full, { cwd: root, encoding: 'utf8' });
    const error = JSON.parse(out) as { code: string; message: string };
    expect(error.code).toBe('ERR_AIO_TESTKIT_PRIVILEGE');
    expect(error.message).toMatch(/CAP_SYS_ADMIN/);
    expect(error.message).toMatch(/root/);
  });
});
