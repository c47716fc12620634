// Where an ordered batch's fdatasync runs as RWF_DSYNC on the write before it,
// on real file systems and a block device. ext4, XFS and a bare loop device
// fuse: the loop driver has a write-back cache and no FUA, so the kernel makes
// an RWF_DSYNC write durable with a flush of its whole cache. btrfs and tmpfs
// keep the fdatasync as a call. Every engine, every byte read back.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AioFile, Ring, allocAligned } from '../../lib/index';
import { createFileSystem, createLoopDevice } from '../../lib/testing/index';
import type { FileSystemType } from '../../lib/testing/index';
import { firstDifference } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { orderedCommit } from '../helpers/ordered-commit';
import { rootSuiteSkipReason } from '../helpers/root';
import { toolSkipReason } from '../helpers/tools';

const skipReason = rootSuiteSkipReason('the datasync fusion device suite');
const xfsSkip = skipReason ?? toolSkipReason('the xfs fusion case', ['mkfs.xfs']);
const btrfsSkip = skipReason ?? toolSkipReason('the btrfs fusion case', ['mkfs.btrfs']);
const fileSystemCases = (
  [
    ['ext4', 32, true],
    ['xfs', 300, true],
    ['btrfs', 128, false],
    ['tmpfs', 16, false],
  ] as const
).filter(([type]) => (type === 'xfs' ? xfsSkip === undefined : type === 'btrfs' ? btrfsSkip === undefined : true));

/** Runs pages, fdatasync, commit as an ordered batch on each engine; returns how many syncs were fused. */
async function orderedCommitOnEveryEngine(open: (ring: Ring) => Promise<AioFile>): Promise<number[]> {
  const fused: number[] = [];
  for (const engine of availableEngines) {
    const ring = new Ring({ engine, depth: 8 });
    try {
      const file = await open(ring);
      const before = ring.stats().syncsFused;
      const { results, expected } = await orderedCommit(ring, file);
      expect(results).toEqual([4096, 4096, 0, 4096]);
      fused.push(ring.stats().syncsFused - before);
      const back = allocAligned(3 * 4096);
      expect(await file.read(back, 0)).toBe(back.length);
      expect(firstDifference(back, expected)).toBe(-1);
      await file.close();
    } finally {
      await ring.close();
    }
  }
  return fused;
}

describe.skipIf(skipReason !== undefined)('an ordered write + fdatasync on real storage', () => {
  it.each(fileSystemCases)('%s (%i MiB): fused %s', async (type: FileSystemType, sizeMiB, fuses) => {
    const fileSystem = await createFileSystem({ type, sizeMiB });
    try {
      let counter = 0;
      const fused = await orderedCommitOnEveryEngine((ring) =>
        ring.open(path.join(fileSystem.mountPoint, `commit-${counter++}`), { write: true, create: true }),
      );
      expect(fused).toEqual(availableEngines.map(() => (fuses ? 1 : 0)));
    } finally {
      await fileSystem.close();
    }
  });

  it('a loop device opened directly: fused on every engine', async () => {
    const device = await createLoopDevice({ sizeMiB: 8 });
    try {
      const fused = await orderedCommitOnEveryEngine((ring) => ring.open(device.path, { write: true }));
      expect(fused).toEqual(availableEngines.map(() => 1));
    } finally {
      await device.close();
    }
  });
});
