// createFileSystem and the faults inside one: each file system type mounted
// on a fresh directory and gone after close(); a full file system (ENOSPC) and
// a corrupted btrfs block (EIO) as the kernel reports them through aioring.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../../lib/index';
import { corruptFileBlock, createFileSystem, fillFileSystem } from '../../lib/testing/index';
import type { FileSystemType } from '../../lib/testing/index';
import { randomAligned } from '../helpers/data';
import { isMountPoint, loopDevicesOver } from '../helpers/leftovers';
import { rootSuiteSkipReason } from '../helpers/root';
import { toolSkipReason } from '../helpers/tools';

const skipReason = rootSuiteSkipReason('aioring/testing file-system suite');
const btrfsSkip = skipReason ?? toolSkipReason('the btrfs cases', ['mkfs.btrfs', 'btrfs-map-logical']);
const xfsSkip = skipReason ?? toolSkipReason('the xfs cases', ['mkfs.xfs']);
/** The cases whose file system's tools are installed (the others were announced as skipped above). */
function installedOnly<T extends readonly [FileSystemType, ...unknown[]]>(cases: readonly T[]): T[] {
  return cases.filter(([type]) => (type === 'xfs' ? xfsSkip === undefined : type === 'btrfs' ? btrfsSkip === undefined : true));
}
const fileSystemCases = installedOnly([
  ['ext4', 32, 4096],
  ['xfs', 300, 4096],
  ['btrfs', 128, 512],
  ['tmpfs', 16, undefined],
] as const);
const root = path.join(__dirname, '..', '..');

function mountedType(mountPoint: string): string | undefined {
  const line = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((entry) => entry.split(' ')[4] === mountPoint);
  return line?.split(' - ')[1]?.split(' ')[0];
}

describe.skipIf(skipReason !== undefined)('createFileSystem', () => {
  it.each(fileSystemCases)('%s, %i MiB: mounted on a fresh directory, holds what aioring writes, and is gone after close()', async (type, sizeMiB, sectorSize) => {
    const fileSystem = await createFileSystem({ type, sizeMiB, ...(sectorSize ? { sectorSize } : {}) });
    const backing = fileSystem.device?.backing;
    try {
      expect(path.dirname(fileSystem.mountPoint)).toBe(fs.realpathSync(os.tmpdir()));
      expect(mountedType(fileSystem.mountPoint)).toBe(type);
      if (type === 'tmpfs') {
        expect(fileSystem.device).toBeUndefined();
        expect(fs.statfsSync(fileSystem.mountPoint).blocks * fs.statfsSync(fileSystem.mountPoint).bsize).toBe(sizeMiB * 1024 * 1024);
      } else {
        expect(fileSystem.device!.sectorSize).toBe(sectorSize);
        expect(loopDevicesOver(backing!)).toHaveLength(1);
      }
      const ring = new Ring({ depth: 8 });
      try {
        const file = await ring.open(path.join(fileSystem.mountPoint, 'data'), { write: true, create: true });
        const data = randomAligned(64 * 1024);
        expect(await file.write(data, 0)).toBe(data.length);
        await file.sync();
        const back = allocAligned(data.length);
        expect(await file.read(back, 0)).toBe(data.length);
        expect(back.equals(data)).toBe(true);
      } finally {
        await ring.close();
      }
    } finally {
      await fileSystem.close();
    }
    expect(isMountPoint(fileSystem.mountPoint)).toBe(false);
    expect(fs.existsSync(fileSystem.mountPoint)).toBe(false);
    if (backing) expect(loopDevicesOver(backing)).toEqual([]);
    await fileSystem.close();
  });

  it.each(
    installedOnly([
      ['ext4', 16],
      ['tmpfs', 16],
      ['xfs', 300],
      ['btrfs', 128],
    ] as const),
  )('fillFileSystem on %s: new blocks fail with ENOSPC, rewriting blocks a file has works (not on btrfs), release() gives the space back', async (type, sizeMiB) => {
    await using fileSystem = await createFileSystem({ type, sizeMiB });
    const ring = new Ring({ depth: 8 });
    try {
      const file = await ring.open(path.join(fileSystem.mountPoint, 'log'), { write: true, create: true });
      const block = randomAligned(4096);
      expect(await file.write(block, 0)).toBe(4096);
      await file.sync();
      const filler = await fillFileSystem(fileSystem);
      expect(filler.bytes).toBeGreaterThan(sizeMiB * 1024 * 1024 * 0.3);
      await expect(file.write(block, 1024 * 1024)).rejects.toMatchObject({ code: 'ENOSPC', errno: -28, op: 'write', position: 1024 * 1024 });
      // btrfs writes every change to new blocks, so on a full btrfs rewriting fails too.
      if (type === 'btrfs') await expect(file.write(block, 0)).rejects.toMatchObject({ code: 'ENOSPC' });
      else expect(await file.write(block, 0)).toBe(4096);
      await filler.release();
      expect(fs.existsSync(filler.path)).toBe(false);
      expect(await file.write(block, 1024 * 1024)).toBe(4096);
      const back = allocAligned(4096);
      expect(await file.read(back, 1024 * 1024)).toBe(4096);
      expect(back.equals(block)).toBe(true);
    } finally {
      await ring.close();
    }
  });

  it.skipIf(btrfsSkip !== undefined)('corruptFileBlock on btrfs: the direct read of that block fails with EIO, the blocks around it read back intact', async () => {
    await using fileSystem = await createFileSystem({ type: 'btrfs', sizeMiB: 128, sectorSize: 4096 });
    const ring = new Ring({ depth: 32 });
    try {
      const name = path.join(fileSystem.mountPoint, 'pages');
      const file = await ring.open(name, { write: true, create: true });
      const blocks = Array.from({ length: 16 }, () => randomAligned(4096));
      expect(await ring.submit(blocks.map((buffer, i) => ({ op: 'write' as const, file, buffer, position: i * 4096 })))).toEqual(blocks.map(() => 4096));
      await file.sync();
      await corruptFileBlock(fileSystem, 'pages', 5 * 4096 + 100);
      const back = blocks.map(() => allocAligned(4096));
      const results = await ring.submit(back.map((buffer, i) => ({ op: 'read' as const, file, buffer, position: i * 4096 })));
      results.forEach((result, i) => {
        if (i === 5) {
          expect(result).toMatchObject({ code: 'EIO', errno: -5, op: 'read', position: 5 * 4096 });
        } else {
          expect(result, `block ${i}`).toBe(4096);
          expect(back[i]!.equals(blocks[i]!), `block ${i}`).toBe(true);
        }
      });
      // Rewriting the block gives it a new checksum: recovery works.
      expect(await file.write(blocks[5]!, 5 * 4096)).toBe(4096);
      expect(await file.read(back[5]!, 5 * 4096)).toBe(4096);
      expect(back[5]!.equals(blocks[5]!)).toBe(true);

      fs.writeFileSync(path.join(fileSystem.mountPoint, 'tiny'), 'inline');
      await expect(corruptFileBlock(fileSystem, 'tiny', 0)).rejects.toMatchObject({ code: 'ERR_AIO_TESTKIT_UNSUPPORTED', message: /inline/ });
      await expect(corruptFileBlock(fileSystem, 'pages', 16 * 4096)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(corruptFileBlock(fileSystem, '../../etc/passwd', 0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    } finally {
      await ring.close();
    }
  });

  describe('bad input: a clear error, and nothing left attached or mounted', () => {
    function ourTempEntries(): Set<string> {
      return new Set(fs.readdirSync(os.tmpdir()).filter((name) => /^aioring-(ext4|xfs|btrfs|tmpfs)-/.test(name)));
    }

    it.each([
      [{ type: 'zfs', sizeMiB: 64 }, 'ERR_INVALID_ARG_VALUE', /'ext4', 'xfs', 'btrfs', 'tmpfs'/],
      [{ type: 'ext4', sizeMiB: 0.5 }, 'ERR_OUT_OF_RANGE', /whole number of MiB/],
      [{ type: 'ext4', sizeMiB: 100_000 }, 'ERR_OUT_OF_RANGE', /16384/],
      [{ type: 'ext4', sizeMiB: 64, sectorSize: 2048 }, 'ERR_INVALID_ARG_VALUE', /512 or 4096/],
      [{ type: 'tmpfs', sizeMiB: 64, sectorSize: 4096 }, 'ERR_INVALID_ARG_VALUE', /tmpfs/],
      [{ type: 'ext4', sizeMiB: 64, mountPoint: '/mnt' }, 'ERR_INVALID_ARG_VALUE', /unknown option 'mountPoint'/],
      ...(xfsSkip === undefined ? [[{ type: 'xfs', sizeMiB: 64 }, 'ERR_AIO_TESTKIT_FAILED', /mkfs\.xfs .*300/] as const] : []),
    ])('%j: %s', async (options, code, message) => {
      const before = ourTempEntries();
      await expect(createFileSystem(options as never)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
      expect([...ourTempEntries()].filter((name) => !before.has(name))).toEqual([]);
    });

    it('corruptFileBlock on ext4: ERR_AIO_TESTKIT_UNSUPPORTED, pointing at flipBytes', async () => {
      await using fileSystem = await createFileSystem({ type: 'ext4', sizeMiB: 8 });
      fs.writeFileSync(path.join(fileSystem.mountPoint, 'f'), Buffer.alloc(8192));
      await expect(corruptFileBlock(fileSystem, 'f', 0)).rejects.toMatchObject({ code: 'ERR_AIO_TESTKIT_UNSUPPORTED', message: /btrfs.*flipBytes/ });
      await expect(corruptFileBlock({ mountPoint: '/' } as never, 'f', 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(fillFileSystem({ mountPoint: '/' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('a missing mkfs names the Debian package to install', () => {
      // Hide mkfs.xfs in a private mount namespace; the host's stays as it is.
      const script =
        "require('aioring/testing').createFileSystem({ type: 'xfs', sizeMiB: 300 })" +
        '.then(() => console.log("made"), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));';
      const hide = 'for f in /usr/sbin/mkfs.xfs /sbin/mkfs.xfs; do [ -e "$f" ] && mount --bind /dev/null "$f"; done; exec "$0" -e "$1"';
      const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', hide, process.execPath, script], { cwd: root, encoding: 'utf8' });
      const error = JSON.parse(out) as { code: string; message: string };
      expect(error.code).toBe('ERR_AIO_TESTKIT_MISSING_TOOL');
      expect(error.message).toMatch(/mkfs\.xfs is not installed: install the xfsprogs package/);
    });
  });
});
