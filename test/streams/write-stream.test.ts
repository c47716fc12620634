// file.createWriteStream on every engine, on ext4 and tmpfs: writes of any size
// gathered into aligned chunks, the file left exactly as written (new bytes in
// [start, start + n), old bytes elsewhere, the length max(old, start + n)),
// backpressure with a bounded number of chunks in flight, failures reported
// at the position nearest the start with nothing after it acknowledged, short
// writes finished, destroy and abort waiting for the writes in flight, the
// page cache left clean, and the argument checks.
import { createHash, randomFillSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, AioFile, AioWriteStream, Ring } from '../../lib/index';
import { firstDifference } from '../helpers/data';
import { availableEngines } from '../helpers/engines';
import { Place, makePlaces, placeNames, removePlaces } from '../helpers/places';
import { closed, trackRequests } from '../helpers/streams';
import { thrownBy } from '../helpers/thrown';

const KiB = 1024;
const MiB = 1024 * KiB;

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

function randomBytes(size: number): Buffer {
  return randomFillSync(Buffer.alloc(size));
}

/** Splits `data` into pieces of 1 to `largest` bytes, sizes drawn from `sizes` in turn. */
function pieces(data: Buffer, sizes: number[], largest: number): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = Math.min(data.length - offset, 1 + (sizes[i % sizes.length]! % largest));
    out.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

/** What the file must hold: `old`, with `data` written over it at `start` (writing nothing extends nothing). */
function expected(old: Buffer, data: Buffer, start: number): Buffer {
  if (data.length === 0) return old;
  const result = Buffer.alloc(Math.max(old.length, start + data.length));
  old.copy(result);
  data.copy(result, start);
  return result;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function noSpace(position: number, length: number): AioError {
  return new AioError(`ENOSPC: no space left on device, write at position ${position}`, {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
    op: 'write',
    position,
    length,
  });
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

    async function fileHolding(old: Buffer): Promise<AioFile> {
      const name = newPath();
      fs.writeFileSync(name, old);
      return ring.open(name, { write: true });
    }

    it('leaves exactly the bytes written, for random starts, sizes, pieces and old contents', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 3 * MiB }),
          fc.integer({ min: 0, max: 4 * MiB }),
          fc.integer({ min: 0, max: 5 * MiB }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
          fc.constantFrom(64 * KiB, 300 * KiB, 2 * MiB),
          fc.constantFrom(4 * KiB, 64 * KiB, 1 * MiB),
          fc.constantFrom('none' as const, 'datasync' as const, 'sync' as const),
          async (start, oldSize, size, sizes, largest, chunkSize, flush) => {
            const old = randomBytes(oldSize);
            const data = randomBytes(size);
            const file = await fileHolding(old);
            const stream = file.createWriteStream({ start, chunkSize, flush });
            await pipeline(Readable.from(pieces(data, sizes, largest)), stream);
            await file.close();
            const onDisk = fs.readFileSync(file.path);
            fs.rmSync(file.path);
            const want = expected(old, data, start);
            expect(onDisk.length).toBe(want.length);
            expect(firstDifference(onDisk, want)).toBe(-1);
            expect(stream.bytesWritten).toBe(size);
          },
        ),
        { numRuns: 14 },
      );
    });

    it('writes a new file of unaligned length with the sha256 of its input, from one large write or many small ones', async () => {
      const data = randomBytes(9 * MiB + 4097);
      const one = await ring.open(newPath(), { write: true, create: true, truncate: true });
      const stream = one.createWriteStream({ flush: 'datasync' });
      stream.end(data);
      await new Promise<void>((resolve, reject) => stream.on('finish', resolve).on('error', reject));
      expect(sha256(fs.readFileSync(one.path))).toBe(sha256(data));
      expect((await one.stat()).size).toBe(data.length);
      await one.close();

      const many = await ring.open(newPath(), { write: true, create: true });
      await pipeline(Readable.from(pieces(data, [1, 17, 511, 4096, 70_000], 70_001)), many.createWriteStream());
      expect(sha256(fs.readFileSync(many.path))).toBe(sha256(data));
      await many.close();
    });

    it('holds back write() once its chunks are all in flight, and never has more in flight than it says', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const tracker = trackRequests(file, 'write');
      const stream = file.createWriteStream({ chunkSize: 256 * KiB, highWaterMark: 512 * KiB });
      const data = randomBytes(24 * MiB + 5);
      let refusals = 0;
      let mostBuffered = 0;
      for (const piece of pieces(data, [64 * KiB - 1], 64 * KiB)) {
        mostBuffered = Math.max(mostBuffered, stream.writableLength);
        if (!stream.write(piece)) {
          refusals++;
          await new Promise((resolve) => stream.once('drain', resolve));
        }
      }
      stream.end();
      await new Promise<void>((resolve, reject) => stream.on('finish', resolve).on('error', reject));
      tracker.restore();
      expect(refusals).toBeGreaterThan(0);
      expect(mostBuffered).toBeLessThanOrEqual(512 * KiB + 64 * KiB);
      expect(tracker.mostInFlight()).toBeGreaterThan(1);
      expect(tracker.mostInFlight()).toBeLessThanOrEqual(8);
      expect(tracker.sharedMemoryInFlight()).toEqual([]);
      expect(tracker.reuses()).toBeGreaterThan(0);
      expect(firstDifference(fs.readFileSync(file.path), data)).toBe(-1);
      await file.close();
    });

    it('gathers 512 KiB and larger chunks in parts of huge-page blocks, byte for byte', async () => {
      for (const [chunkSize, blockBytes] of [
        [MiB, 2 * MiB],
        [4 * MiB, 4 * MiB],
        [64 * KiB, 64 * KiB],
      ] as const) {
        const file = await ring.open(newPath(), { write: true, create: true });
        const tracker = trackRequests(file, 'write');
        const data = randomBytes(10 * MiB + 77);
        await pipeline(Readable.from(pieces(data, [100_000], 100_001)), file.createWriteStream({ chunkSize }));
        tracker.restore();
        for (const request of tracker.requests) expect(request.buffer.buffer.byteLength).toBe(blockBytes);
        expect(tracker.sharedMemoryInFlight()).toEqual([]);
        expect(firstDifference(fs.readFileSync(file.path), data)).toBe(-1);
        await file.close();
      }
    });

    it('fails at the failing position nearest the start; nothing after it is acknowledged', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const original = file.write.bind(file);
      const failFrom = 3 * MiB;
      let issuedAfterFailure = 0;
      let failed = false;
      // Every chunk from failFrom on fails, the nearest last, so that a later one fails first.
      file.write = (buffer, position, options) => {
        if (failed) issuedAfterFailure++;
        if (position < failFrom) return original(buffer, position, options);
        return new Promise((_, reject) =>
          setTimeout(
            () => {
              failed = true;
              reject(noSpace(position, buffer.byteLength));
            },
            position === failFrom ? 30 : 5,
          ),
        );
      };
      const stream = file.createWriteStream({ start: 100 });
      const finished = { value: false };
      stream.on('finish', () => (finished.value = true));
      const data = randomBytes(12 * MiB);
      const callbacks: Array<Error | null | undefined> = [];
      const error = await new Promise<AioError>((resolve) => {
        stream.on('error', resolve);
        const feed = (offset: number): void => {
          while (offset < data.length) {
            const ok = stream.write(data.subarray(offset, offset + 100 * KiB), (e) => callbacks.push(e));
            offset += 100 * KiB;
            if (!ok) {
              stream.once('drain', () => feed(offset));
              return;
            }
          }
          stream.end();
        };
        feed(0);
      });
      await closed(stream);
      expect(error).toMatchObject({ code: 'ENOSPC', position: failFrom, op: 'write' });
      expect(stream.bytesWritten).toBeLessThanOrEqual(failFrom - 100);
      expect(finished.value).toBe(false);
      expect(issuedAfterFailure).toBe(0);
      expect(callbacks.some((e) => e instanceof Error)).toBe(true);
      file.write = original;
      // The prefix that was acknowledged is in the file.
      const onDisk = fs.readFileSync(file.path);
      expect(firstDifference(onDisk.subarray(100, 100 + stream.bytesWritten), data.subarray(0, stream.bytesWritten))).toBe(-1);
      await file.close();
    });

    it('finishes a chunk the device took only part of by writing the rest', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const original = file.write.bind(file);
      let shortened = 0;
      file.write = (buffer, position, options) => {
        if (buffer.byteLength === MiB && shortened++ < 3) {
          const part = 12 * KiB;
          return original(new Uint8Array(buffer.buffer, buffer.byteOffset, part), position, options);
        }
        return original(buffer, position, options);
      };
      const data = randomBytes(5 * MiB + 3);
      const stream = file.createWriteStream();
      await pipeline(Readable.from([data]), stream);
      file.write = original;
      expect(shortened).toBeGreaterThan(3);
      expect(firstDifference(fs.readFileSync(file.path), data)).toBe(-1);
      await file.close();
    });

    it('destroy() and an aborted signal stop it, and close waits for the writes in flight', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      // The writes go to the device at once, but the stream hears of none of
      // them until destroy() has been called: on a fast device a delivery can
      // otherwise finish the whole buffer before the test gets to run, and
      // then there is nothing in flight to wait for.
      const original = file.write.bind(file);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let firstIssued!: () => void;
      const issued = new Promise<void>((resolve) => (firstIssued = resolve));
      file.write = (buffer, position, options) => {
        firstIssued();
        return original(buffer, position, options).then(
          async (bytes) => {
            await held;
            return bytes;
          },
          async (error: unknown) => {
            await held;
            throw error;
          },
        );
      };
      const tracker = trackRequests(file, 'write');
      const stream = file.createWriteStream({ chunkSize: 64 * KiB });
      let inFlightAtClose = -1;
      stream.once('close', () => (inFlightAtClose = tracker.inflight()));
      stream.write(Buffer.alloc(32 * MiB, 7));
      await issued;
      expect(tracker.inflight()).toBeGreaterThan(0);
      const issuedAtDestroy = tracker.requests.length;
      stream.destroy();
      // While its writes are held, the stream must not report itself closed.
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(stream.closed).toBe(false);
      release();
      await closed(stream);
      expect(inFlightAtClose).toBe(0);
      expect(tracker.requests.length).toBe(issuedAtDestroy);

      const controller = new AbortController();
      const aborted = file.createWriteStream({ signal: controller.signal });
      const failure = pipeline(
        Readable.from(
          (function* () {
            for (let i = 0; i < 64; i++) {
              if (i === 8) controller.abort();
              yield randomBytes(256 * KiB);
            }
          })(),
        ),
        aborted,
      );
      await expect(failure).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await closed(aborted);
      expect(tracker.inflight()).toBe(0);
      tracker.restore();
      file.write = original;
      await file.close();
    });

    it('writes a file opened without O_DIRECT too', async () => {
      const old = randomBytes(10_000);
      const name = newPath();
      fs.writeFileSync(name, old);
      const file = await ring.open(name, { write: true, direct: false });
      const data = randomBytes(MiB + 1);
      await pipeline(Readable.from(pieces(data, [5000], 5000)), file.createWriteStream({ start: 3 }));
      expect(firstDifference(fs.readFileSync(name), expected(old, data, 3))).toBe(-1);
      await file.close();
    });
  });
});

describe('createWriteStream on ext4', () => {
  it('leaves the page cache clean: direct writes, the tail included', async () => {
    const ring = new Ring();
    const name = path.join(places[0]!.dir, 'cache.dat');
    const file = await ring.open(name, { write: true, create: true });
    await pipeline(Readable.from([randomBytes(16 * MiB + 123)]), file.createWriteStream({ flush: 'datasync' }));
    const resident = Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', name], { encoding: 'utf8' }).trim());
    expect(resident).toBeLessThan(64 * KiB);
    await file.close();
    await ring.close();
  });
});

describe('createWriteStream arguments', () => {
  let ring: Ring;
  let file: AioFile;
  beforeAll(async () => {
    ring = new Ring();
    file = await ring.open(path.join(places[0]!.dir, 'arguments.dat'), { write: true, create: true });
  });
  afterAll(() => ring.close());

  it('refuses a file opened without write, with EBADF and a message saying so', async () => {
    const readOnly = await ring.open(file.path);
    const error = thrownBy(() => readOnly.createWriteStream());
    expect(error).toBeInstanceOf(AioError);
    expect(error).toMatchObject({ code: 'EBADF', op: 'write', path: file.path });
    expect((error as Error).message).toMatch(/without write/);
    await readOnly.close();
  });

  it('refuses chunk sizes off the alignment or above 64 MiB, unknown flush modes and bad starts', () => {
    const unit = file.info.offsetAlign;
    expect(thrownBy(() => file.createWriteStream({ chunkSize: unit + 1 }))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createWriteStream({ chunkSize: 64 * MiB + unit }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createWriteStream({ chunkSize: 0 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createWriteStream({ flush: 'fsync' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrownBy(() => file.createWriteStream({ start: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createWriteStream({ start: 0.5 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createWriteStream({ highWaterMark: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => file.createWriteStream({ signal: 'no' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it("refuses options it does not know, such as fs.createWriteStream's flags", () => {
    const error = thrownBy(() => file.createWriteStream({ flags: 'w' } as never));
    expect(error).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect((error as Error).message).toContain("'flags'");
    expect(thrownBy(() => file.createWriteStream({ chunksize: 4096 } as never))).toMatchObject({ message: expect.stringContaining("did you mean 'chunkSize'?") });
  });

  it('is a Writable, and writing nothing leaves the file alone', async () => {
    fs.writeFileSync(file.path, 'keep');
    const stream = file.createWriteStream({ start: 2 });
    expect(stream).toBeInstanceOf(AioWriteStream);
    expect(stream).toBeInstanceOf(Writable);
    stream.end();
    await new Promise((resolve) => stream.on('finish', resolve));
    expect(fs.readFileSync(file.path, 'utf8')).toBe('keep');
  });
});
