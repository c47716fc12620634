// Busy polling (RingOptions.busyPollUs) on every available engine, on a disk
// file system and on tmpfs: with it on, data still reads back byte for byte,
// the ring really spins for completions on the disk, where they come later
// (stats().busyPolls / busyPollHits), and the event loop keeps running timers
// while requests stream through a spinning ring. Argument checks are in
// 20.validation.test.ts.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { usePlaces } from './helpers/places';

const places = usePlaces();

const block = 4096;
const blocks = 256;
const depth = 16;

describe.each(availableEngines)('engine %s', (engine) => {
  describe.each(['disk', 'tmpfs'])('on %s', (placeName) => {
    let ring: Ring;
    let file: Awaited<ReturnType<Ring['open']>>;
    let expected: Buffer;

    beforeAll(async () => {
      const place = places().find((p) => p.name === placeName);
      if (!place) throw new Error(`no ${placeName} place on this machine`);
      ring = new Ring({ depth, engine, busyPollUs: 2000 });
      file = await ring.open(path.join(place.dir, `busy-poll-${engine}.dat`), { write: true, create: true });
      expected = randomAligned(blocks * block);
      await file.write(expected, 0);
    });
    afterAll(() => ring.close());

    it('reads back what was written, byte for byte, with many requests in flight', async () => {
      const readBack = allocAligned(blocks * block);
      await Promise.all(
        Array.from({ length: blocks }, (_, i) => file.read(readBack.subarray(i * block, (i + 1) * block), i * block)),
      );
      expect(firstDifference(readBack, expected)).toBe(-1);
    });

    it('spins for completions that arrive after the submission, and finds them', async () => {
      const before = ring.stats();
      const buffers = Array.from({ length: depth }, () => allocAligned(block));
      for (let round = 0; round < 50; round++) {
        await Promise.all(buffers.map((buffer, i) => file.read(buffer, ((round * depth + i) % blocks) * block)));
      }
      const after = ring.stats();
      expect(ring.busyPollUs).toBe(2000);
      // On tmpfs requests finish inside the submission or within microseconds,
      // so whether anything is still in flight to spin for is a race; on the
      // disk each read takes far longer than delivering a batch.
      if (placeName === 'disk') {
        expect(after.busyPolls).toBeGreaterThan(before.busyPolls);
        expect(after.busyPollHits).toBeGreaterThan(before.busyPollHits);
      }
      expect(after.busyPollHits - before.busyPollHits).toBeLessThanOrEqual(after.busyPolls - before.busyPolls);
    });

    it('lets timers run while requests keep a spinning ring busy', async () => {
      let stop = false;
      const worker = async (buffer: Buffer, i: number) => {
        for (let n = 0; !stop; n++) await file.read(buffer, ((n * depth + i) % blocks) * block);
      };
      const workers = Array.from({ length: depth }, (_, i) => worker(allocAligned(block), i));
      const started = Date.now();
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (++ticks === 20) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      stop = true;
      await Promise.all(workers);
      // 20 ticks of 5 ms; a loop held by the spin would take far longer.
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });
});

describe('without busyPollUs', () => {
  it('never spins', async () => {
    const place = places()[0];
    const ring = new Ring({ depth });
    try {
      const file = await ring.open(path.join(place.dir, 'no-busy-poll.dat'), { write: true, create: true });
      const data = randomAligned(16 * block);
      await file.write(data, 0);
      const readBack = allocAligned(16 * block);
      await Promise.all(Array.from({ length: 16 }, (_, i) => file.read(readBack.subarray(i * block, (i + 1) * block), i * block)));
      expect(firstDifference(readBack, data)).toBe(-1);
      expect(ring.stats()).toMatchObject({ busyPolls: 0, busyPollHits: 0 });
    } finally {
      await ring.close();
    }
  });
});
