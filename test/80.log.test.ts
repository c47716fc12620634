// ring.openLog: group commit, LSNs, reading back, recovery, bad input. Runs on
// every engine; the crash suites are test/81.log-crash.test.ts and the
// device suite test/device/log-enospc.test.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioLog, Ring } from '../lib/index';
import type { LogOptions } from '../lib/index';
import { frameBytes, minDataStart } from '../lib/log/format';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { seededRandom } from './helpers/random';

const random = seededRandom();
console.log(`log: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);
const KiB = 1024;

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

let fileCount = 0;
function freshPath(place = places[0]!): string {
  return path.join(place.dir, `log-${process.pid}-${fileCount++}.log`);
}

function recordFor(tag: number, size: number): Buffer {
  const record = Buffer.alloc(size);
  random.fill(record);
  if (size >= 4) record.writeUInt32LE(tag, 0);
  return record;
}

async function readAll(log: AioLog, from?: bigint): Promise<Array<{ lsn: bigint; data: Buffer }>> {
  const records: Array<{ lsn: bigint; data: Buffer }> = [];
  for await (const record of log.read(from === undefined ? undefined : { from })) records.push(record);
  return records;
}

async function withRing<T>(engine: string, body: (ring: Ring) => Promise<T>): Promise<T> {
  const ring = new Ring({ engine: engine as never });
  try {
    return await body(ring);
  } finally {
    await ring.close();
  }
}

const small: LogOptions = { create: true, preallocateBytes: 256 * KiB };

describe.each(availableEngines)('openLog on %s', (engine) => {
  it('puts 256 concurrent appends in one group, LSNs in call order, acknowledged in LSN order', async () => {
    await withRing(engine, async (ring) => {
      const log = await ring.openLog(freshPath(), small);
      const acknowledged: bigint[] = [];
      const lsns = await Promise.all(
        Array.from({ length: 256 }, (_, i) => log.append(recordFor(i, 100)).then((lsn) => (acknowledged.push(lsn), lsn))),
      );
      expect(lsns).toEqual(Array.from({ length: 256 }, (_, i) => BigInt(i + 1)));
      expect(acknowledged).toEqual(lsns);
      expect(log.stats()).toEqual({ groups: 1, records: 256 });
      expect(log.lastLsn).toBe(256n);
      await log.close();
    });
  });

  it('bounds a group by maxGroupBytes and writes the next as soon as the previous is durable', async () => {
    await withRing(engine, async (ring) => {
      const log = await ring.openLog(freshPath(), { ...small, maxGroupBytes: 4096 });
      const perGroup = Math.floor(4096 / (frameBytes + 100));
      const lsns = await Promise.all(Array.from({ length: 256 }, (_, i) => log.append(recordFor(i, 100))));
      expect(lsns.at(-1)).toBe(256n);
      expect(log.stats().groups).toBe(Math.ceil(256 / perGroup));
      // A record larger than a group goes alone.
      expect(await log.append(recordFor(0, 3 * 4096))).toBe(257n);
      await log.close();
    });
  });

  it('under 256 closed-loop appenders, every group takes every waiting append', async () => {
    await withRing(engine, async (ring) => {
      const log = await ring.openLog(freshPath(), small);
      const rounds = 8;
      const order: bigint[] = [];
      await Promise.all(
        Array.from({ length: 256 }, async (_, appender) => {
          for (let round = 0; round < rounds; round++) order.push(await log.append(recordFor(appender, 100)));
        }),
      );
      expect(order).toEqual(Array.from({ length: 256 * rounds }, (_, i) => BigInt(i + 1)));
      // Each round's acknowledgements set off the next round's appends, which all join one group.
      expect(log.stats().groups).toBe(rounds);
      await log.close();
    });
  });

  it('waits up to maxGroupWaitUs for more appends when idle', async () => {
    await withRing(engine, async (ring) => {
      const log = await ring.openLog(freshPath(), { ...small, maxGroupWaitUs: 200_000 });
      const appends: Promise<bigint>[] = [];
      for (let i = 0; i < 5; i++) {
        appends.push(log.append(recordFor(i, 50)));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await Promise.all(appends)).toEqual([1n, 2n, 3n, 4n, 5n]);
      expect(log.stats().groups).toBe(1);
      await log.close();
    });
  });

  it('writes the appends that queued during a group as soon as it is durable, without waiting maxGroupWaitUs again', async () => {
    await withRing(engine, async (ring) => {
      const log = await ring.openLog(freshPath(), { ...small, maxGroupBytes: 4096, maxGroupWaitUs: 1_000_000 });
      // A full group is written without waiting; one turn of the event loop later its write is in flight.
      const first = log.append(recordFor(0, 4096));
      await new Promise((resolve) => setImmediate(resolve));
      const second = log.append(recordFor(1, 10));
      expect(await first).toBe(1n);
      const firstDurable = performance.now();
      expect(await second).toBe(2n);
      // Waiting again would take the full second; the write alone takes a small part of it.
      expect(performance.now() - firstDurable).toBeLessThan(900);
      expect(log.stats().groups).toBe(2);
      await log.close();
    });
  });

  it('reads every record back byte for byte, from any LSN, before and after reopening', async () => {
    await withRing(engine, async (ring) => {
      const file = freshPath();
      const log = await ring.openLog(file, { ...small, maxGroupBytes: 16 * KiB });
      const written: Buffer[] = [];
      for (let batch = 0; batch < 6; batch++) {
        const records = Array.from({ length: 40 }, (_, i) => recordFor(batch * 100 + i, random.int(1, 3000)));
        written.push(...records);
        await Promise.all(records.map((record) => log.append(record)));
      }
      // A record larger than the preallocation chunk and the scan window.
      const large = recordFor(9999, 1536 * KiB);
      written.push(large);
      await log.append(large);
      const check = (records: Array<{ lsn: bigint; data: Buffer }>, from: number) => {
        expect(records.map((record) => record.lsn)).toEqual(written.slice(from - 1).map((_, i) => BigInt(from + i)));
        records.forEach((record, i) => expect(record.data.equals(written[from - 1 + i]!)).toBe(true));
      };
      check(await readAll(log), 1);
      check(await readAll(log, 117n), 117);
      await log.close();

      const reopened = await ring.openLog(file);
      expect(reopened.recovery).toEqual({ records: written.length, endLsn: BigInt(written.length), discarded: null });
      check(await readAll(reopened), 1);
      check(await readAll(reopened, BigInt(written.length)), written.length);
      expect(await readAll(reopened, BigInt(written.length + 1))).toEqual([]);
      expect(await reopened.append(Buffer.from('after'))).toBe(BigInt(written.length + 1));
      await reopened.close();
    });
  });

  it('recovers and keeps appending across many reopenings, with and without O_DIRECT and zero fill', async () => {
    await withRing(engine, async (ring) => {
      for (const options of [{ direct: true }, { direct: false }, { zeroFill: false }, { durability: 'fdatasync' as const }, { preallocateBytes: 0 }]) {
        const file = freshPath(places[places.length - 1]);
        const expected: Buffer[] = [];
        for (let session = 0; session < 4; session++) {
          const log = await ring.openLog(file, { ...small, ...options });
          expect(log.recovery).toEqual({ records: expected.length, endLsn: BigInt(expected.length), discarded: null });
          const records = Array.from({ length: random.int(1, 30) }, (_, i) => recordFor(i, random.int(1, 700)));
          const lsns = await Promise.all(records.map((record) => log.append(record)));
          expect(lsns[0]).toBe(BigInt(expected.length + 1));
          expected.push(...records);
          await log.close();
        }
        const log = await ring.openLog(file, { readOnly: true, direct: options.direct });
        const records = await readAll(log);
        expect(records.length).toBe(expected.length);
        records.forEach((record, i) => expect(record.data.equals(expected[i]!)).toBe(true));
        await log.close();
      }
    });
  });

  it('stops recovery at a corrupted byte in the middle of the log and says where and why', async () => {
    await withRing(engine, async (ring) => {
      const file = freshPath();
      const log = await ring.openLog(file, small);
      // Each record ends in a non-zero byte, so the log's last non-zero byte is its end.
      const records = Array.from({ length: 400 }, (_, i) => recordFor(i, 200).fill(1, 199));
      await Promise.all(records.map((record) => log.append(record)));
      await log.close();

      const victim = 173; // 0-based: LSN 174
      const recordStart = minDataStart + victim * (frameBytes + 200);
      const offset = recordStart + frameBytes + random.int(4, 199);
      const handle = fs.openSync(file, 'r+');
      const byte = Buffer.alloc(1);
      fs.readSync(handle, byte, 0, 1, offset);
      byte[0] ^= 0x5a;
      fs.writeSync(handle, byte, 0, 1, offset);
      fs.closeSync(handle);

      const readOnly = await ring.openLog(file, { readOnly: true });
      const logEnd = minDataStart + records.length * (frameBytes + 200);
      expect(readOnly.recovery).toEqual({
        records: victim,
        endLsn: BigInt(victim),
        discarded: { bytes: logEnd - recordStart, reason: 'checksum', position: recordStart },
      });
      expect((await readAll(readOnly)).length).toBe(victim);
      await readOnly.close();

      const writer = await ring.openLog(file);
      expect(writer.recovery.records).toBe(victim);
      expect(await writer.append(Buffer.alloc(200, 'n'))).toBe(BigInt(victim + 1));
      await writer.close();
      const after = await ring.openLog(file, { readOnly: true });
      const recovered = await readAll(after);
      expect(recovered.length).toBe(victim + 1);
      expect(recovered.at(-1)!.data.equals(Buffer.alloc(200, 'n'))).toBe(true);
      // The rest of the old log still lies past the end (after the new record's zero padding), never taken as records.
      expect(after.recovery.discarded).toMatchObject({ reason: 'length', position: recordStart + frameBytes + 200 });
      await after.close();
    });
  });
});

describe('openLog: a torn last write (a random subset of its sectors reaches the disk)', () => {
  it.each(availableEngines)('keeps every acknowledged byte of the rewritten tail block and never takes a torn record (%s)', async (engine) => {
    await withRing(engine, async (ring) => {
      for (let trial = 0; trial < 12; trial++) {
        const file = freshPath();
        const log = await ring.openLog(file, small);
        const unit = log.blockSize;
        const first = Array.from({ length: random.int(1, 20) }, (_, i) => recordFor(i, random.int(1, 900)));
        await Promise.all(first.map((record) => log.append(record)));
        let end = minDataStart + first.reduce((sum, record) => sum + frameBytes + record.length, 0);
        if (end % unit === 0) {
          first.push(recordFor(99, 7));
          await log.append(first.at(-1)!);
          end += frameBytes + 7;
        }
        const before = fs.readFileSync(file);
        const last = Array.from({ length: random.int(1, 30) }, (_, i) => recordFor(100 + i, random.int(1, 900)));
        await Promise.all(last.map((record) => log.append(record)));
        const after = fs.readFileSync(file);
        await log.close();

        // The last write covered whole sectors from the one holding `end`.
        const writeStart = end - (end % unit);
        const lastEnd = end + last.reduce((sum, record) => sum + frameBytes + record.length, 0);
        const writeEnd = Math.ceil(lastEnd / unit) * unit;
        const torn = Buffer.alloc(after.length);
        before.copy(torn);
        const applied = new Set<number>();
        for (let sector = writeStart; sector < writeEnd; sector += unit) {
          if (random.next() < 0.5) {
            after.copy(torn, sector, sector, sector + unit);
            applied.add(sector);
          }
        }
        fs.writeFileSync(file, torn);

        // A record of the last write survives only if every sector it touches arrived, and all before it did.
        let intact = 0;
        for (let at = end; intact < last.length; intact++) {
          const recordEnd = at + frameBytes + last[intact]!.length;
          let whole = true;
          for (let sector = at - (at % unit); sector < recordEnd; sector += unit) if (!applied.has(sector)) whole = false;
          if (!whole) break;
          at = recordEnd;
        }
        const reopened = await ring.openLog(file, small);
        const expected = [...first, ...last.slice(0, intact)];
        expect(reopened.recovery.records).toBe(expected.length);
        const more = recordFor(500, random.int(1, 900));
        expect(await reopened.append(more)).toBe(BigInt(expected.length + 1));
        await reopened.close();

        const final = await ring.openLog(file, { readOnly: true });
        const records = await readAll(final);
        expect(records.length).toBe(expected.length + 1);
        [...expected, more].forEach((record, i) => expect(records[i]!.data.equals(record)).toBe(true));
        await final.close();
      }
    });
  });
});

describe('openLog: stray records of an earlier session', () => {
  it('are refused even where their LSN and checksum would fit', async () => {
    await withRing(availableEngines[0]!, async (ring) => {
      const file = freshPath();
      const log = await ring.openLog(file, small);
      // One record per block, so the records of a later write line up exactly with those of a torn one.
      const size = log.blockSize - frameBytes;
      await Promise.all([0, 1, 2, 3].map((i) => log.append(recordFor(i, size).fill(1, size - 1))));
      const before = fs.readFileSync(file);
      await Promise.all([4, 5, 6, 7, 8, 9].map((i) => log.append(recordFor(i, size).fill(1, size - 1))));
      const after = fs.readFileSync(file);
      await log.close();
      // The torn write: all but the block of LSN 5 arrived.
      const lsn5 = minDataStart + 4 * log.blockSize;
      const torn = Buffer.from(after);
      before.copy(torn, lsn5, lsn5, lsn5 + log.blockSize);
      fs.writeFileSync(file, torn);

      const recovering = await ring.openLog(file);
      expect(recovering.recovery).toEqual({ records: 4, endLsn: 4n, discarded: { bytes: 6 * log.blockSize, reason: 'length', position: lsn5 } });
      expect(await recovering.append(recordFor(50, size))).toBe(5n);
      await recovering.close();
      // LSN 6 from the torn write now follows LSN 5 with a valid checksum, but from an older session.
      const reopened = await ring.openLog(file, { readOnly: true });
      expect(reopened.recovery).toEqual({ records: 5, endLsn: 5n, discarded: { bytes: 5 * log.blockSize, reason: 'sequence', position: lsn5 + log.blockSize } });
      await reopened.close();
    });
  });
});

describe('openLog: bad input', () => {
  const engine = availableEngines[0]!;

  it('rejects non-buffers, empty and too-large records, and writes nothing for them', async () => {
    await withRing(engine, async (ring) => {
      const file = freshPath();
      const log = await ring.openLog(file, { ...small, maxRecordBytes: 1000 });
      await log.append(Buffer.from('kept'));
      await expect(log.append('text' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(log.append(null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(log.append(Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(log.append(Buffer.alloc(1001))).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      expect(await log.append(new Uint16Array([1, 2]))).toBe(2n);
      await log.close();
      await expect(log.append(Buffer.from('late'))).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
      const reopened = await ring.openLog(file, { readOnly: true });
      expect(reopened.recovery).toEqual({ records: 2, endLsn: 2n, discarded: null });
      await expect(reopened.append(Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_AIO_LOG_READ_ONLY' });
      await reopened.close();
      const again = await ring.openLog(file, { readOnly: true });
      expect(again.recovery.records).toBe(2);
      await again.close();
    });
  });

  it('checks options and the file before anything is written', async () => {
    await withRing(engine, async (ring) => {
      const file = freshPath();
      await expect(ring.openLog(file, { maxGroupBytes: 100 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(ring.openLog(file, { maxGroupWaitUs: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(ring.openLog(file, { preallocateBytes: 1000 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(ring.openLog(file, { durability: 'sometimes' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      await expect(ring.openLog(file, { groupBytes: 1 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      await expect(ring.openLog(file, { create: true, readOnly: true })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      await expect(ring.openLog(file)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(fs.existsSync(file)).toBe(false);
      fs.writeFileSync(file, 'not a log at all, but longer than the header is'.repeat(2));
      await expect(ring.openLog(file, { create: true })).rejects.toMatchObject({ code: 'ERR_AIO_LOG_CORRUPT' });
      fs.writeFileSync(file, '');
      await expect(ring.openLog(file, { readOnly: true })).rejects.toMatchObject({ code: 'ERR_AIO_LOG_CORRUPT' });
      await expect(ring.openLog(file, { read: { from: -1 } } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      const log = await ring.openLog(file, { create: true });
      expect(() => log.read({ from: -1n })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => log.read({ start: 1n } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => log.read(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      await log.close();
    });
  });
});
