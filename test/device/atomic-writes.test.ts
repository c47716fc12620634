// write(..., { atomic: true }): RWF_ATOMIC within the unit statx reports. XFS
// on Linux 6.16+ offers atomic writes in software (4 KiB to 1 MiB here), so
// they run for real on a fresh XFS on a loop device; where the file system
// offers none (ext4 and tmpfs on this machine's disks) every attempt is
// refused before it reaches the kernel, saying why.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../../lib/index';
import { FileSystem, createFileSystem } from '../../lib/testing/index';
import { firstDifference, randomAligned } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { Place, makePlaces, removePlaces } from '../helpers/places';
import { rootSuiteSkipReason } from '../helpers/root';
import { toolSkipReason } from '../helpers/tools';

const KiB = 1024;

describe('where the file offers no atomic writes', () => {
  let places: Place[];
  let ring: Ring;
  beforeAll(() => {
    places = makePlaces();
    ring = new Ring({ depth: 4 });
  });
  afterAll(async () => {
    await ring.close();
    removePlaces(places);
  });

  it('info reports 0 and an atomic write is refused with ERR_AIO_ATOMIC, the file untouched', async () => {
    for (const place of places) {
      const file = await ring.open(path.join(place.dir, 'plain'), { write: true, create: true });
      if (file.info.atomicWriteMax > 0) {
        await file.close();
        continue; // a file system that does offer them is covered below
      }
      expect(file.info.atomicWriteMin).toBe(0);
      const error = await file.write(allocAligned(4 * KiB), 0, { atomic: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_AIO_ATOMIC', op: 'write', position: 0, length: 4 * KiB });
      expect((error as Error).message).toContain('atomicWriteMax is 0');
      expect(fs.statSync(file.path).size).toBe(0);
      await file.close();
    }
  });

  it('a buffered file reports 0 and refuses, since RWF_ATOMIC needs direct I/O; writev refuses the option', async () => {
    const file = await ring.open(path.join(places[0]!.dir, 'buffered'), { write: true, create: true, direct: false });
    expect(file.info.atomicWriteMax).toBe(0);
    await expect(file.write(allocAligned(4 * KiB), 0, { atomic: true })).rejects.toMatchObject({
      code: 'ERR_AIO_ATOMIC',
      message: expect.stringContaining('direct I/O'),
    });
    await expect(file.writev([allocAligned(4 * KiB)], 0, { atomic: true })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await file.close();
  });
});

const skipReason = rootSuiteSkipReason('atomic writes on XFS') ?? toolSkipReason('atomic writes on XFS', ['mkfs.xfs']);

describe.skipIf(skipReason !== undefined)('on XFS', () => {
  let xfs: FileSystem;
  beforeAll(async () => {
    xfs = await createFileSystem({ type: 'xfs', sizeMiB: 300, sectorSize: 4096 });
  });
  afterAll(async () => {
    await xfs?.close();
  });

  describe.each(availableEngines)('engine %s', (engine) => {
    it('atomic writes of every power of two in the unit land whole; sizes and positions outside the rules are refused', async () => {
      const ring = new Ring({ engine, depth: 8 });
      try {
        const file = await ring.open(path.join(xfs.mountPoint, `${engine}.dat`), { write: true, create: true });
        const { atomicWriteMin: min, atomicWriteMax: max } = file.info;
        if (max === 0) {
          // A kernel before XFS's software atomic writes (6.16): the refusal is all there is to see.
          await expect(file.write(allocAligned(4 * KiB), 0, { atomic: true })).rejects.toMatchObject({ code: 'ERR_AIO_ATOMIC' });
          return;
        }
        expect(min).toBeGreaterThan(0);
        expect(max).toBeGreaterThanOrEqual(min);
        const written: Array<[number, Buffer]> = [];
        for (let size = min; size <= max; size *= 2) {
          const data = randomAligned(size);
          const position = size * 2;
          expect(await file.write(data, position, { atomic: true, dsync: true })).toBe(size);
          written.push([position, data]);
        }
        // Later, larger writes overlap the earlier ones: the last reads back whole.
        const [position, data] = written.at(-1)!;
        const back = allocAligned(data.length);
        expect(await file.read(back, position)).toBe(data.length);
        expect(firstDifference(back, data)).toBe(-1);

        const before = ring.stats().submitted;
        for (const [length, at, rule] of [
          [3 * min, 0, 'power of two'],
          [max * 2, 0, 'power of two'],
          [min * 2, min, 'multiple of its own length'],
        ] as const) {
          const error = await file.write(allocAligned(length), at, { atomic: true }).catch((e: unknown) => e);
          expect(error).toMatchObject({ code: 'ERR_AIO_ATOMIC', position: at, length });
          expect((error as Error).message).toContain(rule);
        }
        expect(ring.stats().submitted).toBe(before);
        await file.close();
      } finally {
        await ring.close();
      }
    });
  });
});
