// An ordered batch's write followed by an fdatasync of the same file runs as
// one write with RWF_DSYNC where that does all the fdatasync would: on ext4 and
// XFS (and block devices) over a device that then flushes its whole cache,
// with no page of the file waiting in the page cache.
// Everywhere else, and whenever a page waits, the fdatasync stays a call.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, Ring, type RingStats } from '../lib/index';
import { native } from '../lib/native';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { orderedCommit, orderedWriteDatasync } from './helpers/ordered-commit';
import { type Place, makePlaces, removePlaces } from './helpers/places';

const ext4 = 0xef53;
const tempFsType = fs.statfsSync(os.tmpdir()).type;

// Whether the temp dir's files can fuse at all: ext4 or XFS on a device that
// flushes its whole cache for an RWF_DSYNC write, and cachestat(2) allowed.
function fusionSkipReason(): string | undefined {
  const probe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-fusion-probe-')), 'probe');
  const fd = fs.openSync(probe, 'w');
  try {
    if (!native.describeFd(fd).dsyncWriteDoesDatasync) {
      return `${os.tmpdir()} is not on ext4 or XFS over a device without a volatile cache or without FUA`;
    }
    const clean = native.pageCacheClean(fd);
    return clean < 0 ? `cachestat(2) fails with errno ${-clean} (Linux 6.5+, and not blocked by seccomp)` : undefined;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(probe), { recursive: true, force: true });
  }
}
const skipReason = fusionSkipReason();
if (skipReason !== undefined) console.log(`skipping the fused cases: ${skipReason}`);
const fusingFs = skipReason === undefined;

let places: Place[];
let counter = 0;
const newPath = (place: string) => path.join(places.find((p) => p.name === place)!.dir, `fusion-${counter++}.dat`);
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

function delta(before: RingStats, after: RingStats) {
  return {
    fused: after.syncsFused - before.syncsFused,
    syncCalls: after.latencyUs.sync.count - before.latencyUs.sync.count,
    writes: after.latencyUs.write.count - before.latencyUs.write.count,
  };
}

describe.each(availableEngines)('engine %s', (engine) => {
  let ring: Ring;
  beforeAll(() => {
    ring = new Ring({ engine, depth: 8 });
  });
  afterAll(() => ring.close());

  describe.runIf(fusingFs)('on the temp dir (ext4 or XFS, whole-cache flushes)', () => {
    it('write + fdatasync runs as one RWF_DSYNC write and settles both entries', async () => {
      const file = await ring.open(newPath('disk'), { write: true, create: true });
      const page = randomAligned(4096);
      const before = ring.stats();
      const results = await orderedWriteDatasync(ring, file, page, 8192);
      expect(results).toEqual([4096, 0]);
      expect(delta(before, ring.stats())).toEqual({ fused: 1, syncCalls: 0, writes: 1 });
      const onDisk = fs.readFileSync(file.path);
      expect(onDisk.length).toBe(12288);
      expect(firstDifference(onDisk.subarray(8192), page)).toBe(-1);
      await file.close();
    });

    it('pages, fdatasync, commit record: the sync fused into the last page, and every byte in place', async () => {
      const file = await ring.open(newPath('disk'), { write: true, create: true });
      const before = ring.stats();
      const { results, expected } = await orderedCommit(ring, file);
      expect(results).toEqual([4096, 4096, 0, 4096]);
      const after = ring.stats();
      // On io_uring the two pages go to the kernel as one linked run, the second carrying RWF_DSYNC.
      expect(delta(before, after)).toEqual({ fused: 1, syncCalls: 0, writes: 3 });
      expect(after.linkedSubmits - before.linkedSubmits).toBe(engine === 'io_uring' ? 1 : 0);
      expect(firstDifference(fs.readFileSync(file.path), expected)).toBe(-1);
      await file.close();
    });

    it('a dirty page of the file in the page cache keeps the fdatasync a call, which writes it back', async () => {
      const target = newPath('disk');
      const file = await ring.open(target, { write: true, create: true });
      const buffered = fs.openSync(target, 'r+');
      const dirty = randomAligned(4096);
      const page = randomAligned(4096);
      try {
        fs.writeSync(buffered, dirty, 0, 4096, 0);
        expect(native.pageCacheClean(file.fd)).toBe(0);
        const before = ring.stats();
        const results = await orderedWriteDatasync(ring, file, page, 4096);
        expect(results).toEqual([4096, 0]);
        expect(delta(before, ring.stats())).toEqual({ fused: 0, syncCalls: 1, writes: 1 });
        expect(native.pageCacheClean(file.fd)).toBe(1);
        expect(firstDifference(fs.readFileSync(target), Buffer.concat([dirty, page]))).toBe(-1);
      } finally {
        fs.closeSync(buffered);
        await file.close();
      }
    });

    it('an fdatasync of another file is not fused into the write', async () => {
      const written = await ring.open(newPath('disk'), { write: true, create: true });
      const other = await ring.open(newPath('disk'), { write: true, create: true });
      const before = ring.stats();
      const results = await ring.submit(
        [
          { op: 'write', file: written, buffer: randomAligned(4096), position: 0 },
          { op: 'fdatasync', file: other },
        ],
        { ordered: true },
      );
      expect(results).toEqual([4096, 0]);
      expect(delta(before, ring.stats())).toEqual({ fused: 0, syncCalls: 1, writes: 1 });
      await Promise.all([written.close(), other.close()]);
    });

    it.runIf(tempFsType === ext4)('a fused write that fails at the end of a run cancels the fdatasync and the rest', async () => {
      const file = await ring.open(newPath('disk'), { write: true, create: true });
      const first = randomAligned(4096);
      const results = await ring.submit(
        [
          { op: 'write', file, buffer: first, position: 0 },
          { op: 'write', file, buffer: randomAligned(4096), position: 2 ** 44 },
          { op: 'fdatasync', file },
          { op: 'write', file, buffer: randomAligned(4096), position: 4096 },
        ],
        { ordered: true },
      );
      expect(results[0]).toBe(4096);
      const [, write, sync, commit] = results as AioError[];
      expect(write!.code).toBe('EFBIG');
      expect(write!.message).toContain('run with RWF_DSYNC for the fdatasync after it');
      for (const cancelled of [sync, commit]) {
        expect(cancelled!.code).toBe('ECANCELED');
        expect(cancelled!.cause).toBe(write);
      }
      expect(firstDifference(fs.readFileSync(file.path), first)).toBe(-1);
      await file.close();
    });

    it.runIf(tempFsType === ext4)('a fused write that fails cancels the fdatasync and says it ran with RWF_DSYNC', async () => {
      const file = await ring.open(newPath('disk'), { write: true, create: true });
      // Past ext4's largest file (16 TiB with 4 KiB blocks).
      const results = await orderedWriteDatasync(ring, file, randomAligned(4096), 2 ** 44);
      const [write, sync] = results as AioError[];
      expect(write).toBeInstanceOf(AioError);
      expect(write!.code).toBe('EFBIG');
      expect(write!.message).toContain('run with RWF_DSYNC for the fdatasync after it');
      // The stack's first line is made from the message when first read, so it says so too.
      expect(write!.stack!.split('\n')[0]).toContain('run with RWF_DSYNC for the fdatasync after it');
      expect(sync).toBeInstanceOf(AioError);
      expect(sync!.code).toBe('ECANCELED');
      expect(sync!.cause).toBe(write);
      await file.close();
    });
  });

  it('unordered, or on tmpfs, the fdatasync is a call of its own', async () => {
    const place = places.some((p) => p.name === 'tmpfs') ? 'tmpfs' : 'disk';
    const file = await ring.open(newPath(place), { write: true, create: true });
    const page = randomAligned(4096);
    const before = ring.stats();
    await expect(ring.submit([{ op: 'write', file, buffer: page, position: 0 }])).resolves.toEqual([4096]);
    await expect(ring.submit([{ op: 'fdatasync', file }])).resolves.toEqual([0]);
    if (place === 'tmpfs') {
      const ordered = await orderedWriteDatasync(ring, file, page, 4096);
      expect(ordered).toEqual([4096, 0]);
    }
    expect(delta(before, ring.stats())).toEqual({ fused: 0, syncCalls: place === 'tmpfs' ? 2 : 1, writes: place === 'tmpfs' ? 2 : 1 });
    await file.close();
  });
});
