// The streams on real block devices and file systems, as root, on every
// engine: a loop device with 4096-byte sectors written and read through the
// streams at unaligned starts and ends (the bytes around them kept), an ext4
// file system on such a device, a file system that fills up part-way through
// a write stream, and a device made read-only under an open write stream.
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AioError, Ring } from '../../lib/index';
import { createFileSystem, createLoopDevice, setReadOnly } from '../../lib/testing/index';
import { firstDifference } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { seededRandom } from '../helpers/random';
import { rootSuiteSkipReason } from '../helpers/root';
import { closed, collect } from '../helpers/streams';

const skipReason = rootSuiteSkipReason('stream device suites');
const KiB = 1024;
const MiB = 1024 * KiB;
const random = seededRandom();
if (skipReason === undefined) console.log(`streams device suite: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);

function randomBytes(size: number): Buffer {
  return random.fill(Buffer.alloc(size)) as Buffer;
}

/** Bytes through plain fs, without O_DIRECT. */
function plainRead(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const n = fs.readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

describe.skipIf(skipReason !== undefined)('streams on devices', () => {
  describe.each(availableEngines)('engine %s', (engine) => {
    it('a 4096-byte-sector loop device: unaligned write and read ranges, the bytes around them kept', async () => {
      await using device = await createLoopDevice({ sizeMiB: 48, sectorSize: 4096 });
      const before = randomBytes(device.sizeBytes);
      fs.writeFileSync(device.path, before);
      const ring = new Ring({ engine });
      try {
        const file = await ring.open(device.path, { write: true });
        expect(file.info).toMatchObject({ blockDevice: true, offsetAlign: 4096 });
        const start = 3 * 4096 + 1234;
        const data = randomBytes(9 * MiB + 77);
        await pipeline(Readable.from([data.subarray(0, 5000), data.subarray(5000)]), file.createWriteStream({ start, flush: 'datasync' }));
        const model = Buffer.from(before);
        data.copy(model, start);
        // Through the streams, and through plain fs on the device.
        expect(firstDifference(await collect(file.createReadStream()), model)).toBe(-1);
        expect(firstDifference(plainRead(device.path, 0, device.sizeBytes), model)).toBe(-1);
        for (let i = 0; i < 12; i++) {
          const from = random.int(0, device.sizeBytes - 1);
          const to = random.int(from, device.sizeBytes + 3 * MiB);
          const got = await collect(file.createReadStream({ start: from, end: to, maxReadAhead: random.int(4, 1024) * 4 * KiB }));
          expect(firstDifference(got, model.subarray(from, to + 1))).toBe(-1);
        }
        // The device's end: a write that runs past it fails with the position where it did.
        const tail = file.createWriteStream({ start: device.sizeBytes - 4096 - 10 });
        const failure = pipeline(Readable.from([randomBytes(3 * 4096)]), tail);
        await expect(failure).rejects.toBeInstanceOf(AioError);
        await failure.catch((error: AioError) => expect(error.position).toBeGreaterThanOrEqual(device.sizeBytes - 8192));
      } finally {
        await ring.close();
      }
    });

    it('ext4 on a 4096-byte-sector device: files written and read back through the streams', async () => {
      await using fileSystem = await createFileSystem({ type: 'ext4', sizeMiB: 64, sectorSize: 4096 });
      const ring = new Ring({ engine });
      try {
        for (const size of [1, 4095, 4097, 6 * MiB + 3]) {
          const name = path.join(fileSystem.mountPoint, `file-${size}`);
          const file = await ring.open(name, { write: true, create: true });
          const data = randomBytes(size);
          await pipeline(Readable.from([data]), file.createWriteStream({ flush: 'sync' }));
          expect((await file.stat()).size).toBe(size);
          expect(firstDifference(await collect(file.createReadStream()), data)).toBe(-1);
          expect(firstDifference(fs.readFileSync(name), data)).toBe(-1);
          await file.close();
        }
      } finally {
        await ring.close();
      }
    });

    it('a file system that fills up: the stream fails with ENOSPC where it did, the acknowledged bytes are there', async () => {
      await using fileSystem = await createFileSystem({ type: 'ext4', sizeMiB: 16, sectorSize: 4096 });
      const ring = new Ring({ engine });
      try {
        const name = path.join(fileSystem.mountPoint, 'big');
        const file = await ring.open(name, { write: true, create: true });
        const data = randomFillSync(Buffer.alloc(32 * MiB));
        const stream = file.createWriteStream({ start: 100 });
        const failure = pipeline(Readable.from([data]), stream);
        const error = (await failure.then(
          () => undefined,
          (e: unknown) => e,
        )) as AioError;
        await closed(stream);
        expect(error).toBeInstanceOf(AioError);
        expect(error).toMatchObject({ code: 'ENOSPC', op: 'write' });
        expect(error.position).toBeGreaterThan(0);
        expect(error.position! % 4096).toBe(0);
        expect(stream.bytesWritten).toBeLessThanOrEqual(error.position! - 100);
        expect(stream.bytesWritten).toBeGreaterThan(0);
        const onDisk = plainRead(name, 100, stream.bytesWritten);
        expect(firstDifference(onDisk, data.subarray(0, stream.bytesWritten))).toBe(-1);
        await file.close();
      } finally {
        await ring.close();
      }
    });

    it('a device made read-only under the stream: EPERM at the first chunk, nothing acknowledged', async () => {
      await using device = await createLoopDevice({ sizeMiB: 16, sectorSize: 4096 });
      const ring = new Ring({ engine });
      try {
        const file = await ring.open(device.path, { write: true });
        await setReadOnly(device, true);
        const stream = file.createWriteStream({ start: 8192 });
        let finished = false;
        stream.on('finish', () => (finished = true));
        const failure = pipeline(Readable.from([randomBytes(4 * MiB)]), stream);
        await expect(failure).rejects.toMatchObject({ code: 'EPERM', op: 'write', position: 8192 });
        await closed(stream);
        expect(stream.bytesWritten).toBe(0);
        expect(finished).toBe(false);
      } finally {
        await ring.close();
        await setReadOnly(device, false);
      }
    });
  });
});
