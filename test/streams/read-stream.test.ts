// file.createReadStream on every engine, on ext4 and tmpfs: exactly the bytes
// start..end inclusive for any unaligned range and file size, the read-ahead
// window growing while the consumer keeps reading, buffers reused but never
// while the kernel holds them, early break and destroy with reads in flight,
// abort signals, read errors, and the argument checks.
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioFile, AioReadStream, Ring } from '../../lib/index';
import { readAheadState } from '../../lib/streams/read-stream';
import { firstDifference } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { Place, makePlaces, placeNames, removePlaces } from '../helpers/places';
import { closed, collect, trackRequests } from '../helpers/streams';
import { thrownBy } from '../helpers/thrown';

const KiB = 1024;
const MiB = 1024 * KiB;

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

function writeRandomFile(file: string, size: number): Buffer {
  const data = randomFillSync(Buffer.alloc(size));
  fs.writeFileSync(file, data);
  return data;
}

describe.each(availableEngines)('engine %s', (engine) => {
  describe.each(placeNames)('on %s', (placeName) => {
    let ring: Ring;
    let dir: string;
    let counter = 0;
    const newPath = () => path.join(dir, `${engine}-${counter++}.dat`);

    beforeAll(() => {
      dir = places.find((p) => p.name === placeName)!.dir;
      ring = new Ring({ depth: 64, engine });
    });
    afterAll(() => ring.close());

    async function openWith(size: number): Promise<{ file: AioFile; data: Buffer }> {
      const name = newPath();
      const data = writeRandomFile(name, size);
      return { file: await ring.open(name), data };
    }

    it('delivers a whole file of unaligned size byte for byte, as fs.createReadStream does', async () => {
      const { file, data } = await openWith(3 * MiB + 123);
      const got = await collect(file.createReadStream());
      expect(got.length).toBe(data.length);
      expect(firstDifference(got, data)).toBe(-1);
      const fromFs = await collect(fs.createReadStream(file.path, { start: 4000, end: 2 * MiB + 17 }));
      expect(firstDifference(await collect(file.createReadStream({ start: 4000, end: 2 * MiB + 17 })), fromFs)).toBe(-1);
      await file.close();
    });

    it('delivers exactly start..end for random unaligned ranges and file sizes', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 3 * MiB }),
          fc.nat(),
          fc.nat(),
          fc.constantFrom(4 * KiB, 64 * KiB, 1 * MiB),
          fc.integer({ min: 1, max: 256 * KiB }),
          async (size, a, b, maxReadAhead, highWaterMark) => {
            const { file, data } = await openWith(size);
            // Ranges reach a little past the end of the file, as callers' may.
            const span = size + 10_000;
            const start = a % span;
            const end = start + (b % (span - start));
            const got = await collect(file.createReadStream({ start, end, maxReadAhead, highWaterMark }));
            const want = data.subarray(start, end + 1);
            await file.close();
            fs.rmSync(file.path);
            expect(got.length).toBe(want.length);
            expect(firstDifference(got, want)).toBe(-1);
          },
        ),
        { numRuns: 16 },
      );
    });

    it('works with stream.pipeline and emits chunks no larger than highWaterMark', async () => {
      const { file, data } = await openWith(2 * MiB + 5);
      const sizes: number[] = [];
      const sink = new PassThrough();
      sink.on('data', (chunk: Buffer) => sizes.push(chunk.length));
      const copy = newPath();
      await pipeline(file.createReadStream({ start: 1, highWaterMark: 100_000 }), fs.createWriteStream(copy));
      expect(firstDifference(fs.readFileSync(copy), data.subarray(1))).toBe(-1);
      await pipeline(file.createReadStream({ highWaterMark: 100_000 }), sink);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(100_000);
      expect(sizes.reduce((x, y) => x + y, 0)).toBe(data.length);
      await file.close();
    });

    it('starts with a small window and doubles it up to maxReadAhead while the consumer reads on', async () => {
      const { file, data } = await openWith(40 * MiB);
      const tracker = trackRequests(file, 'read');
      const stream = file.createReadStream();
      expect(readAheadState(stream).window).toBe(128 * KiB);
      const windows: number[] = [];
      let mostInFlight = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        const state = readAheadState(stream);
        windows.push(state.window);
        mostInFlight = Math.max(mostInFlight, state.inflight);
      }
      tracker.restore();
      expect(firstDifference(Buffer.concat(chunks), data)).toBe(-1);
      // The consumer sees the window after the stream has buffered ahead of it, so
      // it may miss a step; every step it sees is a doubling of the first window.
      expect(windows).toEqual([...windows].sort((x, y) => x - y));
      for (const window of new Set(windows)) expect(Math.log2(window / (128 * KiB)) % 1).toBe(0);
      expect(windows.at(-1)).toBe(8 * MiB);
      expect(mostInFlight).toBeGreaterThan(1);
      // Requests grow with the window: small ones first, 1 MiB ones once it is large.
      const lengths = tracker.requests.map((request) => request.length);
      expect(lengths[0]).toBe(64 * KiB);
      expect(Math.max(...lengths)).toBe(MiB);
      expect(lengths.slice(0, -1)).toEqual([...lengths.slice(0, -1)].sort((x, y) => x - y));

      const capped = file.createReadStream({ maxReadAhead: 512 * KiB });
      let largest = 0;
      for await (const _ of capped) largest = Math.max(largest, readAheadState(capped).window);
      expect(largest).toBe(512 * KiB);
      await file.close();
    });

    it('reuses its buffers, but never one the kernel still holds', async () => {
      const { file, data } = await openWith(20 * MiB + 999);
      const tracker = trackRequests(file, 'read');
      const got = await collect(file.createReadStream({ start: 7 }));
      tracker.restore();
      expect(firstDifference(got, data.subarray(7))).toBe(-1);
      expect(tracker.reuses()).toBeGreaterThan(0);
      expect(tracker.sharedMemoryInFlight()).toEqual([]);
      expect(tracker.mostInFlight()).toBeGreaterThan(1);
      await file.close();
    });

    it('reads 512 KiB and larger requests into parts of 2 MiB huge-page blocks, smaller ones into their own buffers', async () => {
      const { file, data } = await openWith(12 * MiB + 3);
      const tracker = trackRequests(file, 'read');
      const got = await collect(file.createReadStream());
      tracker.restore();
      expect(firstDifference(got, data)).toBe(-1);
      const large = tracker.requests.filter((request) => request.length >= 512 * KiB);
      expect(large.length).toBeGreaterThan(4);
      for (const request of large) expect(request.buffer.buffer.byteLength).toBe(2 * MiB);
      for (const request of tracker.requests.filter((r) => r.length < 256 * KiB && r.position < 4 * MiB)) {
        expect(request.buffer.buffer.byteLength).toBeLessThan(512 * KiB);
      }
      expect(tracker.sharedMemoryInFlight()).toEqual([]);
      await file.close();
    });

    it('stops reading at an early break and reports closed only once its reads in flight are done', async () => {
      const { file, data } = await openWith(32 * MiB);
      const tracker = trackRequests(file, 'read');
      const stream = file.createReadStream({ maxReadAhead: 16 * MiB });
      let taken = 0;
      let inFlightAtBreak = 0;
      let issuedAtBreak = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        taken += chunk.length;
        if (taken >= 3 * MiB) {
          inFlightAtBreak = tracker.inflight();
          issuedAtBreak = tracker.requests.length;
          break;
        }
      }
      expect(stream.destroyed).toBe(true);
      expect(inFlightAtBreak).toBeGreaterThan(0);
      await closed(stream);
      expect(tracker.inflight()).toBe(0);
      expect(tracker.requests.length).toBe(issuedAtBreak);
      expect(tracker.sharedMemoryInFlight()).toEqual([]);
      tracker.restore();
      // The file and the ring are fine afterwards: a second scan reads the same bytes.
      expect(firstDifference(await collect(file.createReadStream()), data)).toBe(-1);
      await file.close();
    });

    it('destroy() in the middle stops issuing reads and waits for those in flight before close', async () => {
      const { file, data } = await openWith(16 * MiB);
      const tracker = trackRequests(file, 'read');
      const stream = file.createReadStream({ start: 100 });
      const closeSeen = closed(stream);
      let inFlightAtClose = -1;
      stream.once('close', () => (inFlightAtClose = tracker.inflight()));
      await new Promise<void>((resolve) => {
        let taken = 0;
        stream.on('data', (chunk: Buffer) => {
          taken += chunk.length;
          if (taken > MiB && !stream.destroyed) {
            stream.destroy();
            resolve();
          }
        });
      });
      const issuedAtDestroy = tracker.requests.length;
      await closeSeen;
      expect(inFlightAtClose).toBe(0);
      expect(tracker.requests.length).toBe(issuedAtDestroy);
      tracker.restore();
      expect(firstDifference(await collect(file.createReadStream({ start: 100 })), data.subarray(100))).toBe(-1);
      await file.close();
    });

    it('fails with an AbortError when its signal aborts, before or during the scan', async () => {
      const { file } = await openWith(8 * MiB);
      const early = new AbortController();
      early.abort();
      await expect(collect(file.createReadStream({ signal: early.signal }))).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });

      const controller = new AbortController();
      const tracker = trackRequests(file, 'read');
      const stream = file.createReadStream({ signal: controller.signal });
      const failure = (async () => {
        for await (const _ of stream) controller.abort();
      })();
      await expect(failure).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await closed(stream);
      expect(tracker.inflight()).toBe(0);
      tracker.restore();
      await file.close();
    });

    it('fails with the read error, position included, when a read fails', async () => {
      const { file } = await openWith(4 * MiB);
      const stream = file.createReadStream();
      const original = file.read.bind(file);
      // The file is closed under the stream: its next reads are refused.
      let closing: Promise<void> | undefined;
      file.read = (buffer, position) => {
        if (position >= MiB && closing === undefined) closing = file.close();
        return original(buffer, position);
      };
      await expect(collect(stream)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'read' });
      await closing;
    });

    it('reads a file opened without O_DIRECT too', async () => {
      const name = newPath();
      const data = writeRandomFile(name, MiB + 3);
      const file = await ring.open(name, { direct: false });
      expect(firstDifference(await collect(file.createReadStream({ start: 5, end: MiB })), data.subarray(5, MiB + 1))).toBe(-1);
      await file.close();
    });
  });
});

describe('createReadStream arguments', () => {
  let ring: Ring;
  let file: AioFile;
  beforeAll(async () => {
    ring = new Ring();
    const name = path.join(places[0]!.dir, 'arguments.dat');
    writeRandomFile(name, 8192);
    file = await ring.open(name);
  });
  afterAll(() => ring.close());

  it('refuses start > end, negative, fractional and non-number positions with Node codes', () => {
    expect(thrownBy(() => file.createReadStream({ start: 10, end: 9 }))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ start: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ end: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ start: 1.5 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ end: 2 ** 53 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ start: '0' as unknown as number }))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrownBy(() => file.createReadStream('x' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('refuses read-ahead and highWaterMark values out of range, and a signal that is not one', () => {
    expect(thrownBy(() => file.createReadStream({ maxReadAhead: 64 * MiB + 1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ maxReadAhead: 0 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ highWaterMark: 0 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createReadStream({ signal: {} as AbortSignal }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it("refuses options it does not know, such as fs.createReadStream's encoding", () => {
    const error = thrownBy(() => file.createReadStream({ encoding: 'utf8' } as never));
    expect(error).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect((error as Error).message).toContain("'encoding'");
    expect(thrownBy(() => file.createReadStream({ maxReadahead: 4096 } as never))).toMatchObject({ message: expect.stringContaining("did you mean 'maxReadAhead'?") });
  });

  it('accepts start === end (one byte) and is a Readable', async () => {
    const stream = file.createReadStream({ start: 4095, end: 4095 });
    expect(stream).toBeInstanceOf(AioReadStream);
    expect(stream).toBeInstanceOf(Readable);
    expect((await collect(stream)).length).toBe(1);
    expect(stream.bytesRead).toBe(1);
  });

  it('refuses a closed file', async () => {
    const name = path.join(places[0]!.dir, 'closed.dat');
    writeRandomFile(name, 4096);
    const other = await ring.open(name);
    await other.close();
    expect(thrownBy(() => other.createReadStream())).toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });
});
