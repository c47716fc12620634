// Protected files (ring.open's integrity option) on every available engine,
// on a disk file system (ext4 here) and tmpfs: tuples are written as
// documented, each kind of damage fails only its own request, the separate
// layout checks against the application's tuples, and bad requests are
// refused before the kernel sees them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, Ring, allocAligned, generateProtection, verifyProtection } from '../lib/index';
import type { ProtectionFormat } from '../lib/index';
import { firstDifference } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, placeNames, removePlaces } from './helpers/places';
import { appTag, expectDocumentedTrailers, plainRead, refTagSeed, runFaultScenario } from './helpers/protected-scenario';
import { tupleSize } from './helpers/protection-reference';
import { seededRandom } from './helpers/random';

const random = seededRandom();
console.log(`protected-files: seed ${random.seed}`);

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

const formats: ProtectionFormat[] = ['t10dif', 'nvme64'];

describe.each(availableEngines)('engine %s', (engine) => {
  describe.each(placeNames)('on %s', (placeName) => {
    let ring: Ring;
    let dir: string;
    let counter = 0;
    const newPath = () => path.join(dir, `${engine}-${counter++}.dat`);

    beforeAll(() => {
      dir = places.find((p) => p.name === placeName)!.dir;
      ring = new Ring({ depth: 32, engine });
    });
    afterAll(() => ring.close());

    for (const format of formats) {
      for (const interval of [512, 4096] as const) {
        it(`${format}/${interval}: each kind of damage fails only its own interval's read, and scrub finds them all`, async () => {
          await runFaultScenario(ring, newPath(), format, interval, 0, random);
        });
      }

      it(`${format}: the separate layout fills the application's pi on write and checks reads against it`, async () => {
        const interval = 4096;
        const file = await ring.open(newPath(), { write: true, create: true, integrity: { format, interval, layout: 'separate', appTag, refTagSeed } });
        expect(file.integrity).toMatchObject({ format, interval, layout: 'separate', appTag, refTagSeed, tupleBytes: tupleSize[format] });
        const data = random.fill(allocAligned(4 * interval)) as Buffer;
        const original = Buffer.from(data);
        const pi = Buffer.alloc(4 * tupleSize[format]);
        await file.write(data, 2 * interval, { pi });
        // The data is untouched (no trailer) and pi holds what generateProtection makes for it.
        expect(firstDifference(plainRead(file.path, 2 * interval, data.length), original)).toBe(-1);
        const expectedPi = Buffer.alloc(pi.length);
        generateProtection(original, expectedPi, { format, interval, appTag, refTag: refTagSeed + 2 });
        expect(pi.equals(expectedPi)).toBe(true);
        verifyProtection(original, pi, { format, interval, appTag, refTag: refTagSeed + 2 });

        const back = allocAligned(4 * interval);
        expect(await file.read(back, 2 * interval, { pi })).toBe(back.length);
        expect(firstDifference(back, original)).toBe(-1);

        // Tuples kept for other data (stale, or from another position) fail the read.
        const stale = Buffer.from(pi);
        stale[1 * tupleSize[format]] ^= 0x01;
        await expect(file.read(back, 2 * interval, { pi: stale })).rejects.toMatchObject({ code: 'ERR_AIO_INTEGRITY', kind: 'guard', interval: 1, position: 3 * interval });
        await expect(file.read(back, 3 * interval, { pi })).rejects.toMatchObject({ code: 'ERR_AIO_INTEGRITY' });
        const results = await ring.submit([
          { op: 'read', file, buffer: back.subarray(0, interval), position: 2 * interval, pi: pi.subarray(0, tupleSize[format]) },
          { op: 'readv', file, buffers: [allocAligned(interval), allocAligned(interval)], position: 3 * interval, pi: stale.subarray(tupleSize[format], 3 * tupleSize[format]) },
        ]);
        expect(results[0]).toBe(interval);
        expect(results[1]).toMatchObject({ code: 'ERR_AIO_INTEGRITY', kind: 'guard', interval: 0, position: 3 * interval });

        await expect(file.read(back, 0)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"pi" option is required/ });
        await expect(file.write(data, 0, { pi: Buffer.alloc(8) })).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /need exactly/ });
        await expect(file.scrub()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
        await file.close();
      });
    }

    it('writev and readv protect every buffer, each whole intervals, in order', async () => {
      const file = await ring.open(newPath(), { write: true, create: true, integrity: { format: 'nvme64', interval: 512, appTag, refTagSeed } });
      const parts = [allocAligned(1024), allocAligned(4096), allocAligned(512)].map((b) => random.fill(b) as Buffer);
      expect(await file.writev(parts, 4096)).toBe(5632);
      const stored = plainRead(file.path, 4096, 5632);
      expectDocumentedTrailers(stored, 4096, 'nvme64', 512);
      const back = [allocAligned(512), allocAligned(5120)];
      expect(await file.readv(back, 4096)).toBe(5632);
      expect(firstDifference(Buffer.concat(back), stored)).toBe(-1);
      await file.close();
    });

    it('refuses requests that are not whole intervals before the kernel, and pi where it does not belong', async () => {
      const file = await ring.open(newPath(), { write: true, create: true, integrity: { format: 't10dif', interval: 4096 } });
      const plain = await ring.open(newPath(), { write: true, create: true });
      const submitted = ring.stats().submitted;
      const cases = [
        file.write(allocAligned(512), 0),
        file.read(allocAligned(4096), 512),
        file.readv([allocAligned(4096), allocAligned(512)], 0),
        ring.submit([{ op: 'write', file, buffer: allocAligned(6144), position: 0 }]).then((results) => Promise.reject(results[0])),
      ];
      for (const outcome of await Promise.allSettled(cases)) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as AioError;
        expect(error).toBeInstanceOf(AioError);
        expect(error.code).toBe('ERR_AIO_ALIGNMENT');
        expect(error.message).toMatch(/protected in 4096-byte intervals/);
      }
      await expect(file.write(allocAligned(4096), 0, { pi: Buffer.alloc(8) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: /trailer/ });
      await expect(plain.read(allocAligned(4096), 0, { pi: Buffer.alloc(8) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: /no integrity option/ });
      await expect(plain.scrub()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      expect(ring.stats().submitted).toBe(submitted);
      await Promise.all([file.close(), plain.close()]);
    });

    it('refuses bad integrity options before opening anything', async () => {
      const target = newPath();
      const bad: [object, object][] = [
        [{ format: 'crc32', interval: 4096 }, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }],
        [{ format: 't10dif', interval: 1000 }, { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }],
        [{ format: 't10dif', interval: 4096, appTag: 0x10000 }, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }],
        [{ format: 't10dif', interval: 4096, layout: 'inline' }, { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }],
        [{ format: 't10dif', interval: 4096, refTagSeed: -1 }, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }],
      ];
      for (const [integrity, shape] of bad) {
        await expect(ring.open(target, { write: true, create: true, integrity: integrity as never })).rejects.toMatchObject(shape);
      }
      expect(fs.existsSync(target)).toBe(false);
    });

    it('a stored application tag of 0xFFFF turns the checks off, as T10 defines', async () => {
      const target = newPath();
      const writer = await ring.open(target, { write: true, create: true, integrity: { format: 't10dif', interval: 4096, appTag: 0xffff } });
      await writer.write(random.fill(allocAligned(8192)), 0);
      await writer.close();
      const fd = fs.openSync(target, 'r+');
      fs.writeSync(fd, Buffer.from([0x55]), 0, 1, 100);
      fs.closeSync(fd);
      const reader = await ring.open(target, { integrity: { format: 't10dif', interval: 4096, appTag } });
      expect(await reader.read(allocAligned(8192), 0)).toBe(8192);
      expect((await reader.scrub()).faults).toEqual([]);
      await reader.close();
    });

    it('a read cut short inside an interval (the file ends there) resolves with the checked whole intervals only', async () => {
      const target = newPath();
      const file = await ring.open(target, { write: true, create: true, integrity: { format: 't10dif', interval: 4096, appTag, refTagSeed } });
      await file.write(random.fill(allocAligned(8192)), 0);
      const stored = plainRead(target, 0, 8192);
      fs.truncateSync(target, 4096 + 1024);
      const back = allocAligned(8192);
      expect(await file.read(back, 0)).toBe(4096);
      expect(firstDifference(back.subarray(0, 4096), stored.subarray(0, 4096))).toBe(-1);
      expect(await file.read(back.subarray(0, 4096), 4096)).toBe(0);
      await file.close();
    });
  });
});

describe.skipIf(!availableEngines.includes('libaio'))('a buffered protected file on a libaio ring', () => {
  it('is protected on the engine buffered files use', async () => {
    const ring = new Ring({ engine: 'libaio', depth: 8 });
    const target = path.join(places[0]!.dir, 'buffered-protected.dat');
    try {
      const file = await ring.open(target, { write: true, create: true, direct: false, integrity: { format: 'nvme64', interval: 512, appTag, refTagSeed } });
      await file.write(random.fill(Buffer.alloc(2048)), 0);
      expectDocumentedTrailers(plainRead(target, 0, 2048), 0, 'nvme64', 512);
      const fd = fs.openSync(target, 'r+');
      fs.writeSync(fd, Buffer.from([0x99]), 0, 1, 600);
      fs.closeSync(fd);
      const results = await ring.submit([
        { op: 'read', file, buffer: Buffer.alloc(512), position: 0 },
        { op: 'read', file, buffer: Buffer.alloc(512), position: 512 },
      ]);
      expect(ring.bufferedEngine).not.toBe('libaio');
      expect(results[0]).toBe(512);
      expect(results[1]).toMatchObject({ code: 'ERR_AIO_INTEGRITY', kind: 'guard', position: 512 });
    } finally {
      await ring.close();
    }
  });
});
