// Real kernel faults on real devices, not mocks: a checksum failure (EIO) on
// btrfs, full file systems and a loop device whose backing store runs out
// (ENOSPC), a read-only device (EPERM), requests the kernel refuses at
// submission in the middle of a batch, and Linux AIO with fs.aio-max-nr
// exhausted. Each fault must fail exactly the requests it hits, with the
// kernel's errno and the request's details, and leave the ring working.
//
// What Linux 6.18 was seen to do, on libaio, io_uring and threadpool alike:
//   - btrfs, O_DIRECT read of a block whose data checksum fails: EIO (-5) for
//     each request that touches it, however large; btrfs keeps failing it
//     (data is single-copy, so there is nothing to repair from).
//   - ext4 full: O_DIRECT writes that need new blocks fail with ENOSPC (-28);
//     overwriting blocks already allocated still works.
//   - loop device over a file on a full tmpfs: the loop driver passes the
//     backing file's ENOSPC up as BLK_STS_NOSPC, so the write fails with ENOSPC
//     (-28), not EIO; the kernel logs "critical space allocation error". It
//     also acknowledges, in full, some writes just past the full point that it
//     never stored (a kernel bug, reproduced without aioring: see that test).
//   - Linux AIO with fs.aio-max-nr below fs.aio-nr: io_setup fails with EAGAIN
//     (-11); contexts that exist keep working. io_submit itself never returned
//     EAGAIN: the kernel sizes a context for at least twice the events asked
//     for, and the engine never has more than `depth` requests in it.
//   - blockdev --setro: opening for writing still succeeds (info.readOnly is
//     true); every write fails with EPERM (-1); reads and fsync work.
//   - a write on a file opened read-only, in the middle of a batch: EBADF (-9).
//     With libaio, io_submit accepts the iocbs before it, returns that partial
//     count, then fails the next call with EBADF (seen with strace); the engine
//     turns that into the request's completion and submits the rest.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, AioFile, Ring, allocAligned, probeEngines } from '../../lib/index';
import type { BatchOp } from '../../lib/index';
import { corruptFileBlock, createFileSystem, createLoopDevice, setReadOnly } from '../../lib/testing/index';
import type { FileSystem, LoopDevice } from '../../lib/testing/index';
import { firstDifference } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { seededRandom } from '../helpers/random';
import { rootSuiteSkipReason, sh } from '../helpers/root';
import { toolSkipReason } from '../helpers/tools';
import { settleAll } from '../helpers/settle';
import { readSysctl, withSysctls } from '../helpers/sysctl';
import { thrownBy } from '../helpers/thrown';

const skipReason = rootSuiteSkipReason('loop-device suites');
const btrfsSkip = skipReason ?? toolSkipReason('the btrfs EIO cases', ['mkfs.btrfs', 'btrfs-map-logical']);

const KiB = 1024;
const MiB = 1024 * KiB;
const random = seededRandom();
if (skipReason === undefined) console.log(`faults: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);

function expectSame(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  if (at !== -1) throw new Error(`${what}: first difference at byte ${at} (seed ${random.seed})`);
}

function randomBlock(length: number): Buffer {
  return random.fill(allocAligned(length)) as Buffer;
}

/** Nothing in flight and every submitted request completed: the faults lost nothing. */
function expectNothingLost(ring: Ring): void {
  const stats = ring.stats();
  expect(stats.inflight).toBe(0);
  expect(stats.completed).toBe(stats.submitted);
}

/** Overwrites `bytes` at `position` with fresh data and reads them back through the ring. */
async function expectOverwriteReadsBack(file: AioFile, position: number, bytes: number, what: string): Promise<void> {
  const replacement = randomBlock(bytes);
  expect(await file.write(replacement, position)).toBe(bytes);
  const check = allocAligned(bytes);
  expect(await file.read(check, position)).toBe(bytes);
  expectSame(check, replacement, what);
}

function expectKernelError(value: unknown, fields: Partial<AioError>): AioError {
  expect(value).toBeInstanceOf(AioError);
  expect(value).toMatchObject(fields);
  return value as AioError;
}

describe.skipIf(skipReason !== undefined)('kernel faults on real devices', () => {
  describe.skipIf(btrfsSkip !== undefined)('EIO: a data block corrupted behind btrfs', () => {
    const blockSize = 4096;
    const blockCount = 64;
    const corruptIndex = 37;
    let btrfs: FileSystem | undefined;
    let mountPoint: string | undefined;
    let dataFile: string;
    const contents = Array.from({ length: blockCount }, () => randomBlock(blockSize));

    beforeAll(async () => {
      // The kit makes btrfs with single-copy data: there is no second copy
      // for btrfs to repair the block from, so the read must fail.
      btrfs = await createFileSystem({ type: 'btrfs', sizeMiB: 256 });
      mountPoint = btrfs.mountPoint;
      expect(sh('btrfs', ['filesystem', 'df', mountPoint])).toMatch(/^Data, single/m);
      dataFile = path.join(mountPoint, 'blocks.dat');

      const ring = new Ring({ depth: 64, engine: availableEngines[0] });
      try {
        const file = await ring.open(dataFile, { write: true, create: true });
        const written = await ring.submit(contents.map((buffer, i) => ({ op: 'write' as const, file, buffer, position: i * blockSize })));
        expect(written).toEqual(new Array(blockCount).fill(blockSize));
        await file.sync();
      } finally {
        await ring.close();
      }
      await corruptFileBlock(btrfs, dataFile, corruptIndex * blockSize);
    });

    afterAll(() => btrfs?.close());

    it.each(availableEngines)('%s: only the request on the bad block fails, with EIO; the rest of its batch completes and the ring goes on', async (engine) => {
      const ring = new Ring({ depth: 128, engine });
      try {
        const file = await ring.open(dataFile);
        expect(file.info.direct).toBe(true);
        const back = contents.map(() => allocAligned(blockSize));
        const wide = allocAligned(8 * blockSize);
        const vector = [allocAligned(blockSize), allocAligned(2 * blockSize)];
        const ops: BatchOp[] = [
          ...back.map((buffer, i) => ({ op: 'read' as const, file, buffer, position: i * blockSize })),
          // larger requests that include the bad block fail whole
          { op: 'read', file, buffer: wide, position: (corruptIndex - 3) * blockSize },
          { op: 'readv', file, buffers: vector, position: (corruptIndex - 1) * blockSize },
        ];
        const results = await ring.submit(ops);
        expect(results).toHaveLength(ops.length);
        results.forEach((result, i) => {
          if (i === corruptIndex) {
            expectKernelError(result, { code: 'EIO', errno: -5, syscall: 'read', op: 'read', position: corruptIndex * blockSize, length: blockSize, engine, path: dataFile });
          } else if (i < blockCount) {
            expect(result, `block ${i}`).toBe(blockSize);
            expectSame(back[i]!, contents[i]!, `block ${i}`);
          }
        });
        expectKernelError(results[blockCount], { code: 'EIO', errno: -5, op: 'read', position: (corruptIndex - 3) * blockSize, length: 8 * blockSize });
        expectKernelError(results[blockCount + 1], { code: 'EIO', errno: -5, op: 'readv', position: (corruptIndex - 1) * blockSize, length: 3 * blockSize });

        // The ring goes on: good blocks read, and the bad one still fails (nothing repaired it).
        const again = allocAligned(blockSize);
        expect(await file.read(again, (corruptIndex + 1) * blockSize)).toBe(blockSize);
        expectSame(again, contents[corruptIndex + 1]!, 'read after the failure');
        await expect(file.read(allocAligned(blockSize), corruptIndex * blockSize)).rejects.toMatchObject({ code: 'EIO', errno: -5 });
        expectNothingLost(ring);
      } finally {
        await ring.close();
      }
    });
    // btrfs does real direct I/O only when the position, the length and the
    // buffer address are multiples of its sector size (4096); anything less
    // aligned it quietly serves through the page cache. A request that meets
    // file.info's alignment must stay direct, which fincore can see.
    const cachedPages = (file: string) => Number(sh('fincore', ['--noheadings', '--bytes', '--output', 'PAGES', file]));

    it('direct requests aligned to the btrfs sector size leave nothing in the page cache (the baseline for the next test)', async () => {
      const ring = new Ring({ depth: 8, engine: availableEngines[0] });
      try {
        const file = await ring.open(path.join(mountPoint!, 'baseline.dat'), { write: true, create: true });
        expect(await file.write(randomBlock(64 * KiB), 0)).toBe(64 * KiB);
        await file.sync();
        expect(await file.read(allocAligned(4096), 8192)).toBe(4096);
        expect(await file.write(randomBlock(4096), 16384)).toBe(4096);
        expect(cachedPages(file.path)).toBe(0);
      } finally {
        await ring.close();
      }
    });

    // btrfs fills no STATX_DIOALIGN and its st_dev is an anonymous device with
    // no queue in /sys/dev/block; requests aligned to less than its sector size
    // are accepted but quietly go through the page cache. file.info must name
    // the sector size, so that requests meeting it really bypass the cache.
    it('file.info on btrfs gives the alignment that keeps O_DIRECT direct (its sector size)', async () => {
      const ring = new Ring({ depth: 8, engine: availableEngines[0] });
      try {
        const file = await ring.open(path.join(mountPoint!, 'alignment.dat'), { write: true, create: true });
        expect(await file.write(randomBlock(64 * KiB), 0)).toBe(64 * KiB);
        await file.sync();
        const { offsetAlign, memAlign } = file.info;
        // the least-aligned request file.info allows: position, length and address on its bounds only
        const memory = allocAligned(8 * KiB, memAlign);
        const buffer = memory.subarray(memAlign % 4096 ? memAlign : 0).subarray(0, offsetAlign);
        expect(await file.read(buffer, offsetAlign % 4096 ? offsetAlign : 4096)).toBe(offsetAlign);
        expect(cachedPages(file.path), `file.info says offsetAlign ${offsetAlign}, memAlign ${memAlign}`).toBe(0);
        const sectorSize = fs.statfsSync(mountPoint!).bsize;
        expect(file.info.offsetAlign).toBeGreaterThanOrEqual(sectorSize);
        expect(file.info.memAlign).toBeGreaterThanOrEqual(sectorSize);
      } finally {
        await ring.close();
      }
    });
  });

  describe('ENOSPC: a full ext4 file system', () => {
    it.each(availableEngines)('%s: O_DIRECT writes fill it until ENOSPC; every acknowledged write reads back intact', async (engine) => {
      // The kit's ext4 keeps no blocks back for root (the tests run as root and would use them).
      const ext4 = await createFileSystem({ type: 'ext4', sizeMiB: 64 });
      const { mountPoint } = ext4;
      const ring = new Ring({ depth: 32, engine });
      try {
        const file = await ring.open(path.join(mountPoint, 'fill.dat'), { write: true, create: true });

        const writeSize = 256 * KiB;
        const perRound = 32;
        const acknowledged: Array<{ position: number; data: Buffer; bytes: number }> = [];
        const failures: AioError[] = [];
        let position = 0;
        for (let round = 0; round < 24 && failures.length === 0; round++) {
          const data = Array.from({ length: perRound }, () => randomBlock(writeSize));
          const positions = data.map((_, i) => position + i * writeSize);
          position += perRound * writeSize;
          const results = await ring.submit(data.map((buffer, i) => ({ op: 'write' as const, file, buffer, position: positions[i]! })));
          results.forEach((result, i) => {
            if (typeof result === 'number') {
              // A write that got only part of its blocks may come back short.
              expect(result % 4096, `short write of ${result} bytes`).toBe(0);
              if (result > 0) acknowledged.push({ position: positions[i]!, data: data[i]!, bytes: result });
            } else {
              failures.push(result);
              expectKernelError(result, { code: 'ENOSPC', errno: -28, op: 'write', position: positions[i]!, length: writeSize, engine });
            }
          });
        }
        expect(failures.length, 'the file system never filled up').toBeGreaterThan(0);
        const free = fs.statfsSync(mountPoint);
        expect(free.bavail * free.bsize).toBeLessThan(2 * MiB);
        const acknowledgedBytes = acknowledged.reduce((sum, write) => sum + write.bytes, 0);
        expect(acknowledgedBytes).toBeGreaterThan(32 * MiB);
        expect(acknowledgedBytes).toBeLessThanOrEqual(64 * MiB);

        // Everything acknowledged is there, read back with O_DIRECT in one batch...
        const back = acknowledged.map((write) => allocAligned(write.bytes));
        const reads = await ring.submit(acknowledged.map((write, i) => ({ op: 'read' as const, file, buffer: back[i]!, position: write.position })));
        expect(reads).toEqual(acknowledged.map((write) => write.bytes));
        acknowledged.forEach((write, i) => expectSame(back[i]!, write.data.subarray(0, write.bytes), `acknowledged write at ${write.position}`));

        // ...and overwriting blocks the file already owns needs no space, so it still works.
        const first = acknowledged[0]!;
        await expectOverwriteReadsBack(file, first.position, first.bytes, 'overwrite on a full file system');
        await file.close();
        expectNothingLost(ring);
      } finally {
        await ring.close();
        await ext4.close();
      }
    });
  });

  describe('ENOSPC: a loop device whose backing file lives on a tmpfs too small for it', () => {
    // Linux 6.18 bug, outside aioring: the loop driver (lo_complete_rq) ends a
    // write request whose backing-file write came back short with success, so
    // when adjacent writes submitted together are merged into one request and
    // tmpfs fills up part-way through it, the writes past the full point are
    // acknowledged in full yet never stored: they read back as zeros. A plain C
    // program (io_setup/io_submit/io_getevents, no aioring) that submits these
    // writes in batches sees the same (e.g. 264 acknowledged, 8 lost); one
    // write per io_submit did not. So this test holds aioring to what the
    // kernel can promise: failures are ENOSPC with the request's details,
    // nothing more than the tmpfs holds reads back as stored, and a block the
    // kernel lost is zeros, never another request's data.
    it.each(availableEngines)('%s: writes past what the tmpfs can hold fail with ENOSPC', async (engine) => {
      let tmpfs: FileSystem | undefined;
      let loop: LoopDevice | undefined;
      const ring = new Ring({ depth: 32, engine });
      try {
        tmpfs = await createFileSystem({ type: 'tmpfs', sizeMiB: 16 });
        // A 64 MiB sparse file on a 16 MiB tmpfs, attached with direct I/O on.
        loop = await createLoopDevice({ sizeMiB: 64, backing: path.join(tmpfs.mountPoint, 'backing.img') });
        const file = await ring.open(loop.path, { write: true });
        expect(file.info.size).toBe(64 * MiB);

        const writeSize = 64 * KiB;
        const count = (32 * MiB) / writeSize;
        const data = Array.from({ length: count }, () => randomBlock(writeSize));
        const outcomes = await settleAll(data.map((buffer, i) => file.write(buffer, i * writeSize)));
        const acknowledged: number[] = [];
        let failed = 0;
        outcomes.forEach((outcome, i) => {
          if (outcome.ok) {
            // the block layer completes a request whole or fails it: never short here
            expect(outcome.value).toBe(writeSize);
            acknowledged.push(i);
          } else {
            failed++;
            expectKernelError(outcome.error, { code: 'ENOSPC', errno: -28, syscall: 'write', op: 'write', position: i * writeSize, length: writeSize, engine });
          }
        });
        expect(failed).toBeGreaterThan(0);
        expect(acknowledged.length * writeSize).toBeGreaterThan(8 * MiB);

        const back = acknowledged.map(() => allocAligned(writeSize));
        const reads = await ring.submit(acknowledged.map((index, i) => ({ op: 'read' as const, file, buffer: back[i]!, position: index * writeSize })));
        expect(reads).toEqual(new Array(acknowledged.length).fill(writeSize));
        const intact: number[] = [];
        const lost: number[] = [];
        acknowledged.forEach((index, i) => {
          if (firstDifference(back[i]!, data[index]!) === -1) {
            intact.push(index);
            return;
          }
          lost.push(index);
          // page by page: the data written, or zeros where the kernel dropped it
          for (let page = 0; page < writeSize; page += 4096) {
            const got = back[i]!.subarray(page, page + 4096);
            const zero = got.every((byte) => byte === 0);
            if (!zero) expectSame(got, data[index]!.subarray(page, page + 4096), `write ${index}, page at ${page}`);
          }
        });
        // The tmpfs holds 16 MiB and nothing else lives on it.
        expect(intact.length * writeSize).toBeLessThanOrEqual(16 * MiB);
        expect(intact.length * writeSize).toBeGreaterThan(8 * MiB);
        if (lost.length > 0) {
          console.log(`tmpfs-backed loop (${engine}): the kernel acknowledged ${lost.length} write(s) it did not store: ${lost.join(', ')}`);
        }

        // Space the backing file already has is reused: overwriting works.
        await expectOverwriteReadsBack(file, intact[0]! * writeSize, writeSize, 'overwrite on the full tmpfs');
        expectNothingLost(ring);
      } finally {
        await ring.close();
        try {
          await loop?.close();
        } finally {
          await tmpfs?.close();
        }
      }
    });
  });

  describe('EPERM: a loop device made read-only with blockdev --setro', () => {
    let loop: LoopDevice | undefined;
    const content = randomBlock(64 * KiB);

    beforeAll(async () => {
      loop = await createLoopDevice({ sizeMiB: 16 });
      const fd = fs.openSync(loop.path, 'r+');
      try {
        fs.writeSync(fd, content, 0, content.length, 0);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      await setReadOnly(loop, true);
      expect(sh('blockdev', ['--getro', loop.path])).toBe('1');
    });
    // close() clears the read-only flag before the device detaches.
    afterAll(() => loop?.close());

    it.each(availableEngines)('%s: opening for writing works, every write fails with EPERM, reads and syncs still work', async (engine) => {
      const ring = new Ring({ depth: 16, engine });
      try {
        const file = await ring.open(loop!.path, { write: true });
        expect(file.info.readOnly).toBe(true);
        const error = await file.write(randomBlock(4096), 8192).catch((e: unknown) => e);
        expectKernelError(error, { code: 'EPERM', errno: -1, syscall: 'write', op: 'write', position: 8192, length: 4096, engine });
        await expect(file.writev([randomBlock(4096), randomBlock(8192)], 0)).rejects.toMatchObject({ code: 'EPERM', errno: -1, op: 'writev' });
        await expect(file.write(randomBlock(4096), 0, { dsync: true })).rejects.toMatchObject({ code: 'EPERM', errno: -1 });

        const back = allocAligned(content.length);
        const results = await ring.submit([
          { op: 'write', file, buffer: randomBlock(4096), position: 4096 },
          { op: 'read', file, buffer: back, position: 0 },
          { op: 'fsync', file },
          { op: 'writev', file, buffers: [randomBlock(4096)], position: 0 },
        ]);
        expectKernelError(results[0], { code: 'EPERM', errno: -1, op: 'write', position: 4096 });
        expect(results[1]).toBe(content.length);
        expect(results[2]).toBe(0);
        expectKernelError(results[3], { code: 'EPERM', errno: -1, op: 'writev' });
        expectSame(back, content, 'read-only device content');
        const plain = Buffer.alloc(content.length);
        const fd = fs.openSync(loop!.path, 'r');
        try {
          fs.readSync(fd, plain, 0, plain.length, 0);
        } finally {
          fs.closeSync(fd);
        }
        expectSame(plain, content, 'read-only device content through plain fs');
      } finally {
        await ring.close();
      }
    });
  });

  describe('requests the kernel refuses at submission, in the middle of a batch', () => {
    let loop: LoopDevice | undefined;
    const content = randomBlock(32 * 4096);

    beforeAll(async () => {
      loop = await createLoopDevice({ sizeMiB: 16, sectorSize: 4096 });
      const fd = fs.openSync(loop.path, 'r+');
      try {
        fs.writeSync(fd, content, 0, content.length, 0);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
    afterAll(() => loop?.close());

    it.each(availableEngines)('%s: writes through a read-only handle fail with EBADF alone; the requests around them complete', async (engine) => {
      const ring = new Ring({ depth: 64, engine });
      try {
        const readWrite = await ring.open(loop!.path, { write: true });
        const readOnly = await ring.open(loop!.path);
        const refusedAt = new Set([0, 5, 6, 20, 33]);
        const back: Buffer[] = [];
        const ops: BatchOp[] = [];
        for (let i = 0; i < 34; i++) {
          if (refusedAt.has(i)) {
            ops.push({ op: 'write', file: readOnly, buffer: randomBlock(4096), position: i * 4096 });
          } else {
            const buffer = allocAligned(4096);
            back[i] = buffer;
            ops.push({ op: 'read', file: i % 2 ? readOnly : readWrite, buffer, position: (i % 32) * 4096 });
          }
        }
        const results = await ring.submit(ops);
        results.forEach((result, i) => {
          if (refusedAt.has(i)) {
            expectKernelError(result, { code: 'EBADF', errno: -9, op: 'write', position: i * 4096, length: 4096, engine });
          } else {
            expect(result, `op ${i}`).toBe(4096);
            expectSame(back[i]!, content.subarray((i % 32) * 4096, (i % 32 + 1) * 4096), `op ${i}`);
          }
        });
        expectNothingLost(ring);
        expect(ring.stats().submitted).toBeGreaterThanOrEqual(ops.length);
      } finally {
        await ring.close();
      }
    });
  });

  describe.skipIf(!availableEngines.includes('libaio'))('Linux AIO with fs.aio-max-nr exhausted', () => {
    let loop: LoopDevice | undefined;
    let ring: Ring | undefined;
    let file: AioFile;
    const blockSize = 4096;
    const blocks = 4096; // 16 MiB

    beforeAll(async () => {
      loop = await createLoopDevice({ sizeMiB: (blocks * blockSize) / MiB, sectorSize: 4096 });
      ring = new Ring({ depth: 128, engine: 'libaio' });
      file = await ring.open(loop.path, { write: true });
    });
    afterAll(async () => {
      try {
        await ring?.close();
      } finally {
        await loop?.close();
      }
    });

    it('a ring made before the limit keeps completing thousands of requests, none lost, while new contexts are refused', async () => {
      const data = Array.from({ length: blocks }, () => randomBlock(blockSize));
      const before = ring!.stats();
      // 0 rather than exactly fs.aio-nr: other processes on this kernel may
      // free contexts meanwhile, which would make room under a limit of aio-nr.
      await withSysctls({ 'fs.aio-max-nr': '0' }, async () => {
        expect(Number(readSysctl('fs.aio-nr'))).toBeGreaterThanOrEqual(128);
        expect(probeEngines().libaio).toMatchObject({ available: false, code: 'EAGAIN', errno: -11 });
        expect(() => new Ring({ depth: 1, engine: 'libaio' })).toThrow(expect.objectContaining({ code: 'ERR_AIO_ENGINE_UNAVAILABLE', errno: -11 }));

        const writes = await settleAll(data.map((buffer, i) => file.write(buffer, i * blockSize)), 30_000, 'writes');
        writes.forEach((outcome, i) => {
          if (!outcome.ok) throw new Error(`write ${i} failed: ${(outcome.error as Error).message}`);
          expect(outcome.value).toBe(blockSize);
        });
        const back = data.map(() => allocAligned(blockSize));
        const order = random.shuffle(data.map((_, i) => i));
        const reads = await settleAll(order.map((i) => file.read(back[i]!, i * blockSize)), 30_000, 'reads');
        reads.forEach((outcome) => expect(outcome).toEqual({ ok: true, value: blockSize }));
        data.forEach((buffer, i) => expectSame(back[i]!, buffer, `block ${i}`));
      });
      const after = ring!.stats();
      expect(after.completed - before.completed).toBe(2 * blocks);
      expect(after.submitted - before.submitted).toBe(2 * blocks);
      expect(after.inflight).toBe(0);
      expect(after.queued).toBe(0);
      expect(ring!.engine).toBe('libaio');
    });

    it('a depth larger than the AIO headroom is refused when the ring is made (never at submission); auto moves on to io_uring', async () => {
      const savedOverride = process.env.AIORING_ENGINE;
      delete process.env.AIORING_ENGINE;
      try {
        await withSysctls({ 'fs.aio-max-nr': String(Number(readSysctl('fs.aio-nr')) + 64) }, async () => {
          const error = thrownBy(() => new Ring({ depth: 4096, engine: 'libaio' }));
          expect(error).toBeInstanceOf(AioError);
          expect(error).toMatchObject({ code: 'ERR_AIO_ENGINE_UNAVAILABLE', errno: -11 });
          expect((error as Error).message).toContain('aio-max-nr');
          const auto = new Ring({ depth: 4096 });
          try {
            expect(auto.engine).not.toBe('libaio');
            expect(auto.engineReason).toContain('libaio refused');
            const other = await auto.open(loop!.path);
            const back = Array.from({ length: 512 }, () => allocAligned(blockSize));
            const reads = await auto.submit(back.map((buffer, i) => ({ op: 'read' as const, file: other, buffer, position: i * blockSize })));
            expect(reads).toEqual(new Array(512).fill(blockSize));
          } finally {
            await auto.close();
          }
        });
      } finally {
        if (savedOverride !== undefined) process.env.AIORING_ENGINE = savedOverride;
      }
    });
  });
});
