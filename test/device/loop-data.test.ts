// The data path on real block devices: loop devices this suite attaches (with
// direct I/O on the backing file), once with 512-byte and once with 4096-byte
// logical sectors, on every available engine. What aioring writes must be
// what the kernel stores (read back through plain fs, on the device and in the
// backing file) and the other way round; the device's geometry must be
// reported as blockdev reports it; misaligned requests must never reach the
// kernel; and the end of the device must behave as the kernel defines it.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, AioFile, Ring, allocAligned } from '../../lib/index';
import type { BatchOp } from '../../lib/index';
import { firstDifference } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { createLoopDevice } from '../../lib/testing/index';
import type { LoopDevice } from '../../lib/testing/index';
import { blockdevInfo } from '../helpers/blockdev';
import { seededRandom } from '../helpers/random';
import { rootSuiteSkipReason } from '../helpers/root';

const skipReason = rootSuiteSkipReason('loop-device suites');

const GiB = 1024 ** 3;
// Sparse, so it costs only what is written; above 4 GiB so positions need
// more than 32 bits all the way to the kernel.
const deviceSize = 6 * GiB;
const fourGiB = 4 * GiB;
const maxSectorsPerRequest = 16;
const depth = 64;

const random = seededRandom();
if (skipReason === undefined) console.log(`loop-data: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);

interface Extent {
  position: number;
  length: number;
}

/**
 * `count` non-overlapping extents of 1 to 16 sectors at random sector-aligned
 * positions over the whole device, plus one that straddles the 4 GiB mark.
 * Non-overlapping, so requests in flight together have one right answer.
 */
function randomExtents(count: number, sectorSize: number): Extent[] {
  const chunk = maxSectorsPerRequest * sectorSize;
  const chunks = deviceSize / chunk;
  const boundaryChunk = fourGiB / chunk;
  const taken = new Set<number>([boundaryChunk - 1, boundaryChunk]);
  const extents: Extent[] = [{ position: fourGiB - sectorSize, length: 2 * sectorSize }];
  while (extents.length < count) {
    const index = random.int(0, chunks - 1);
    if (taken.has(index)) continue;
    taken.add(index);
    const sectors = random.int(1, maxSectorsPerRequest);
    const offset = random.int(0, maxSectorsPerRequest - sectors);
    extents.push({ position: index * chunk + offset * sectorSize, length: sectors * sectorSize });
  }
  return random.shuffle(extents);
}

function randomBuffer(length: number, alignment: number): Buffer {
  return random.fill(allocAligned(length, alignment)) as Buffer;
}

/** Reads through plain fs (the page cache, no O_DIRECT). */
function plainRead(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

function withPlainFd<T>(path: string, flags: string, body: (fd: number) => T): T {
  const fd = fs.openSync(path, flags);
  try {
    return body(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function expectSame(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  if (at !== -1) {
    throw new Error(`${what}: first difference at byte ${at} (lengths ${actual.length}/${expected.length}, seed ${random.seed})`);
  }
}

describe.skipIf(skipReason !== undefined)('loop devices', () => {
  describe.each([512, 4096] as const)('%i-byte sectors', (sectorSize) => {
    let loop: LoopDevice | undefined;
    let geometry: ReturnType<typeof blockdevInfo>;

    beforeAll(async () => {
      loop = await createLoopDevice({ sizeMiB: deviceSize / 1024 ** 2, sectorSize });
      geometry = blockdevInfo(loop.path);
    });
    afterAll(() => loop?.close());

    it('the loop device has the geometry asked for', () => {
      expect(geometry.size).toBe(deviceSize);
      expect(geometry.logicalBlockSize).toBe(sectorSize);
      expect(geometry.physicalBlockSize).toBeGreaterThanOrEqual(sectorSize);
    });

    describe.each(availableEngines)('engine %s', (engine) => {
      let ring: Ring;
      let file: AioFile;
      let device: string;

      beforeAll(async () => {
        device = loop!.path;
        ring = new Ring({ depth, engine });
        file = await ring.open(device, { write: true });
      });
      afterAll(async () => {
        await ring?.close();
      });

      it('reports the geometry blockdev reports', async () => {
        expect(ring.engine).toBe(engine);
        expect(file.info).toMatchObject({
          size: geometry.size,
          logicalBlockSize: geometry.logicalBlockSize,
          physicalBlockSize: geometry.physicalBlockSize,
          blockDevice: true,
          direct: true,
          readOnly: false,
          offsetAlign: geometry.logicalBlockSize,
        });
        expect(file.info.memAlign).toBeGreaterThanOrEqual(geometry.logicalBlockSize);
        expect(file.memAlign).toBe(file.info.memAlign);
        const readOnly = await ring.open(device);
        expect(readOnly.info).toMatchObject({ size: geometry.size, blockDevice: true, readOnly: true });
        await readOnly.close();
      });

      it('what aioring writes at random aligned positions, many in flight, reads back through aioring, the device and the backing file', async () => {
        const extents = randomExtents(256, sectorSize);
        const data = extents.map((extent) => randomBuffer(extent.length, file.info.memAlign));
        const writes = extents.map((extent, i) => file.write(data[i]!, extent.position));
        // Everything asked in one turn goes to the engine in one submission;
        // nothing can complete before the event loop polls, so this is the
        // depth the kernel (or the pool) really saw.
        await Promise.resolve();
        const stats = ring.stats();
        expect(stats.inflight).toBe(depth);
        expect(stats.queued).toBe(extents.length - depth);
        expect(await Promise.all(writes)).toEqual(extents.map((extent) => extent.length));

        // Read back in another order, all at once.
        const order = random.shuffle(extents.map((_, i) => i));
        const back = extents.map((extent) => allocAligned(extent.length, file.info.memAlign));
        const counts = await Promise.all(order.map((i) => file.read(back[i]!, extents[i]!.position)));
        expect(counts).toEqual(order.map((i) => extents[i]!.length));
        extents.forEach((extent, i) => expectSame(back[i]!, data[i]!, `aioring read of ${extent.length} at ${extent.position}`));

        withPlainFd(device, 'r', (fd) => {
          extents.forEach((extent, i) => expectSame(plainRead(fd, extent.position, extent.length), data[i]!, `plain read of the device at ${extent.position}`));
        });
        withPlainFd(loop!.backing, 'r', (fd) => {
          extents.forEach((extent, i) => expectSame(plainRead(fd, extent.position, extent.length), data[i]!, `backing file at ${extent.position}`));
        });
      });

      it('reads through aioring what plain fs wrote to the device', async () => {
        const extents = randomExtents(128, sectorSize);
        const data = extents.map((extent) => randomBuffer(extent.length, 8));
        withPlainFd(device, 'r+', (fd) => {
          extents.forEach((extent, i) => expect(fs.writeSync(fd, data[i]!, 0, extent.length, extent.position)).toBe(extent.length));
          fs.fsyncSync(fd);
        });
        const back = extents.map((extent) => allocAligned(extent.length, file.info.memAlign));
        const counts = await Promise.all(extents.map((extent, i) => file.read(back[i]!, extent.position)));
        expect(counts).toEqual(extents.map((extent) => extent.length));
        extents.forEach((extent, i) => expectSame(back[i]!, data[i]!, `aioring read of plain-fs data at ${extent.position}`));
      });

      it('runs batches of writes, vectored writes and syncs, then reads and vectored reads, one result per op in order', async () => {
        const extents = randomExtents(96, sectorSize);
        const data = extents.map((extent) => randomBuffer(extent.length, file.info.memAlign));
        // Every third request goes as writev/readv over its extent split at sector boundaries.
        const split = (buffer: Buffer): Buffer[] => {
          const cut = Math.max(1, Math.floor(buffer.length / sectorSize / 2)) * sectorSize;
          return cut >= buffer.length ? [buffer] : [buffer.subarray(0, cut), buffer.subarray(cut)];
        };
        const writeOps: BatchOp[] = extents.map((extent, i) =>
          i % 3 === 0
            ? { op: 'writev', file, buffers: split(data[i]!), position: extent.position }
            : { op: 'write', file, buffer: data[i]!, position: extent.position, dsync: i % 7 === 0 },
        );
        const written = await ring.submit([...writeOps, { op: 'fdatasync', file }]);
        expect(written).toEqual([...extents.map((extent) => extent.length), 0]);

        const back = extents.map((extent) => allocAligned(extent.length, file.info.memAlign));
        const readOps: BatchOp[] = extents.map((extent, i) =>
          i % 3 === 1
            ? { op: 'readv', file, buffers: split(back[i]!), position: extent.position }
            : { op: 'read', file, buffer: back[i]!, position: extent.position },
        );
        const read = await ring.submit([{ op: 'fsync', file }, ...readOps]);
        expect(read).toEqual([0, ...extents.map((extent) => extent.length)]);
        extents.forEach((extent, i) => expectSame(back[i]!, data[i]!, `batch read at ${extent.position}`));
      });

      it('scatters and gathers with readv/writev split differently from the writes', async () => {
        const position = random.int(0, deviceSize / sectorSize - 64) * sectorSize;
        const parts = [1, 3, 2, 5].map((sectors) => randomBuffer(sectors * sectorSize, file.info.memAlign));
        const total = 11 * sectorSize;
        expect(await file.writev(parts, position)).toBe(total);
        const targets = [4, 7].map((sectors) => allocAligned(sectors * sectorSize, file.info.memAlign));
        expect(await file.readv(targets, position)).toBe(total);
        expectSame(Buffer.concat(targets), Buffer.concat(parts), 'readv after writev');
        withPlainFd(device, 'r', (fd) => expectSame(plainRead(fd, position, total), Buffer.concat(parts), 'plain read after writev'));
      });

      it('reads short at the end of the device: the bytes left when spanning it, 0 at and past it', async () => {
        const end = file.info.size;
        const tail = randomBuffer(sectorSize, file.info.memAlign);
        expect(await file.write(tail, end - sectorSize)).toBe(sectorSize);
        const spanning = allocAligned(4 * sectorSize, file.info.memAlign);
        expect(await file.read(spanning, end - sectorSize)).toBe(sectorSize);
        expectSame(spanning.subarray(0, sectorSize), tail, 'last sector');
        expect(await file.read(allocAligned(sectorSize, file.info.memAlign), end)).toBe(0);
        expect(await file.read(allocAligned(sectorSize, file.info.memAlign), end + 8 * sectorSize)).toBe(0);
        const vector = [allocAligned(sectorSize, file.info.memAlign), allocAligned(2 * sectorSize, file.info.memAlign)];
        expect(await file.readv(vector, end - 2 * sectorSize)).toBe(2 * sectorSize);
        const batch = await ring.submit([
          { op: 'read', file, buffer: allocAligned(2 * sectorSize, file.info.memAlign), position: end - sectorSize },
          { op: 'read', file, buffer: allocAligned(sectorSize, file.info.memAlign), position: end },
        ]);
        expect(batch).toEqual([sectorSize, 0]);
      });

      it('writes short at the end of the device, and fails with ENOSPC at it (the block layer’s rule)', async () => {
        // blkdev_write_iter shortens a write that crosses the end of the device
        // to what fits, and refuses one that starts at the end with ENOSPC.
        const end = file.info.size;
        expect(await file.write(randomBuffer(2 * sectorSize, file.info.memAlign), end - sectorSize)).toBe(sectorSize);
        const error = await file.write(randomBuffer(sectorSize, file.info.memAlign), end).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AioError);
        expect(error).toMatchObject({ code: 'ENOSPC', errno: -28, op: 'write', position: end, length: sectorSize, engine });
      });

      it('rejects misaligned positions, lengths and buffer addresses with ERR_AIO_ALIGNMENT before they reach the kernel', async () => {
        const memAlign = file.info.memAlign;
        const base = random.int(1, deviceSize / 4096 - 16) * 4096;
        // Put known content there first, so a write that slipped through would show.
        const known = randomBuffer(4 * 4096, memAlign);
        expect(await file.write(known, base)).toBe(known.length);

        // Offsets that are multiples of 512 but not of the sector (the 4096 case
        // the brief is about), and half a sector on every device.
        const badOffsets = sectorSize === 4096 ? [512, 1024, 3584, 2048] : [256, 1];
        const junk = randomBuffer(8 * 4096, memAlign);
        const submittedBefore = ring.stats().submitted;
        const rejected: Array<Promise<unknown>> = [];
        for (const offset of badOffsets) {
          // position off the sector grid, with a well-formed buffer
          rejected.push(file.write(junk.subarray(0, sectorSize), base + offset));
          rejected.push(file.read(allocAligned(sectorSize, memAlign), base + offset));
          // length off the sector grid, at a good position
          rejected.push(file.write(junk.subarray(0, offset), base));
          rejected.push(file.read(allocAligned(2 * sectorSize, memAlign).subarray(0, sectorSize + offset), base));
          // one bad piece in a vector
          rejected.push(file.writev([junk.subarray(0, sectorSize), junk.subarray(sectorSize, sectorSize + offset)], base));
        }
        // Buffer memory that starts on 512 bytes (and on half the required
        // alignment) but not on memAlign: checked in native code at submission.
        const addressOffsets = [...new Set([512, memAlign / 2])].filter((offset) => offset % memAlign !== 0);
        for (const offset of addressOffsets) {
          const unaligned = allocAligned(3 * memAlign, memAlign).subarray(offset, offset + memAlign);
          rejected.push(file.write(random.fill(unaligned), base));
          rejected.push(file.read(unaligned, base));
          rejected.push(file.readv([allocAligned(memAlign, memAlign), unaligned], base));
        }
        const errors = await Promise.all(rejected.map((p) => p.then(() => undefined, (e: unknown) => e)));
        errors.forEach((error, i) => {
          expect(error, `request ${i}`).toBeInstanceOf(AioError);
          expect((error as AioError).code, `request ${i}: ${(error as Error).message}`).toBe('ERR_AIO_ALIGNMENT');
          expect((error as AioError).op).toMatch(/^(read|write|readv|writev)$/);
        });
        expect(errors.length).toBe(badOffsets.length * 5 + addressOffsets.length * 3);

        // In a batch, the misaligned ops fail alone and the good one runs.
        const good = allocAligned(4096, memAlign);
        const results = await ring.submit([
          { op: 'write', file, buffer: junk.subarray(0, sectorSize), position: base + badOffsets[0]! },
          { op: 'read', file, buffer: good, position: base },
          ...(addressOffsets.length
            ? [{ op: 'write' as const, file, buffer: allocAligned(3 * memAlign, memAlign).subarray(addressOffsets[0]!, addressOffsets[0]! + memAlign), position: base }]
            : []),
        ]);
        expect((results[0] as AioError).code).toBe('ERR_AIO_ALIGNMENT');
        expect(results[1]).toBe(4096);
        if (addressOffsets.length) expect((results[2] as AioError).code).toBe('ERR_AIO_ALIGNMENT');
        expectSame(good, known.subarray(0, 4096), 'good read in a batch with misaligned ops');

        // Only the one well-formed request reached the engine.
        expect(ring.stats().submitted).toBe(submittedBefore + 1);
        const after = allocAligned(known.length, memAlign);
        expect(await file.read(after, base)).toBe(known.length);
        expectSame(after, known, 'content after rejected writes');
      });
    });
  });
});
