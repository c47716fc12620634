// The log on a file system that fills up: the appends whose group cannot be
// written reject with ENOSPC, every append acknowledged before stays durable,
// the log reopens with exactly the acknowledged records, and appending goes on
// once there is space again. ring.close() while groups fail that way settles
// every append (ENOSPC or durable, LSNs dense) and frees the log's lock.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../lib/index';
import { createFileSystem, fillFileSystem } from '../../lib/testing/index';
import { availableEngines } from '../helpers/engines';
import { seededRandom } from '../helpers/random';
import { rootSuiteSkipReason } from '../helpers/root';

const skipReason = rootSuiteSkipReason('the log ENOSPC suite');
const random = seededRandom();
if (skipReason === undefined) console.log(`log-enospc: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);

describe.skipIf(skipReason !== undefined)('log on a full ext4 file system', () => {
  it.each(availableEngines)('rejects the appends that do not fit with ENOSPC and keeps every acknowledged one (%s)', async (engine) => {
    const fileSystem = await createFileSystem({ type: 'ext4', sizeMiB: 16 });
    const ring = new Ring({ engine });
    try {
      const file = path.join(fileSystem.mountPoint, 'full.log');
      const acknowledged = new Map<bigint, Buffer>();
      const rejected: string[] = [];
      const log = await ring.openLog(file, { create: true, preallocateBytes: 1024 * 1024 });
      const appendBatch = async () => {
        const records = Array.from({ length: 64 }, () => random.fill(Buffer.alloc(random.int(1, 6000))));
        const outcomes = await Promise.allSettled(records.map((record) => log.append(record)));
        outcomes.forEach((outcome, i) => {
          if (outcome.status === 'fulfilled') acknowledged.set(outcome.value, records[i]!);
          else rejected.push((outcome.reason as { code?: string }).code ?? String(outcome.reason));
        });
      };
      await appendBatch();
      const filler = await fillFileSystem(fileSystem);
      for (let batch = 0, failedBatches = 0; failedBatches < 3 && batch < 200; batch++) {
        const before = rejected.length;
        await appendBatch();
        if (rejected.length > before) failedBatches++;
      }
      console.log(`log-enospc (${engine}): ${acknowledged.size} acknowledged, ${rejected.length} rejected`);
      expect(rejected.length).toBeGreaterThan(0);
      expect(new Set(rejected)).toEqual(new Set(['ENOSPC']));
      // Space again: the same log carries on after its failed writes, with the next LSN.
      await filler.release();
      const resumed = random.fill(Buffer.alloc(3000));
      expect(await log.append(resumed)).toBe(BigInt(acknowledged.size) + 1n);
      acknowledged.set(BigInt(acknowledged.size) + 1n, resumed);
      await log.close();

      const expectExactly = async (expected: Map<bigint, Buffer>) => {
        const reopened = await ring.openLog(file, { readOnly: true });
        expect(reopened.recovery).toMatchObject({ records: expected.size, endLsn: BigInt(expected.size) });
        let lsn = 1n;
        for await (const record of reopened.read()) {
          expect(record.lsn).toBe(lsn);
          expect(record.data.equals(expected.get(lsn++)!)).toBe(true);
        }
        expect(lsn).toBe(BigInt(expected.size) + 1n);
        await reopened.close();
      };
      // LSNs are handed out to durable records only: the acknowledged ones are 1..n with no gaps.
      await expectExactly(acknowledged);

      const writer = await ring.openLog(file, { preallocateBytes: 1024 * 1024 });
      const more = random.fill(Buffer.alloc(5000));
      const lsn = await writer.append(more);
      expect(lsn).toBe(BigInt(acknowledged.size) + 1n);
      acknowledged.set(lsn, more);
      await writer.close();
      await expectExactly(acknowledged);
    } finally {
      await ring.close();
      await fileSystem.close();
    }
  });
  it.each(availableEngines)('ring.close() while groups fail for want of space: those appends reject with ENOSPC, the rest are durable, the lock is free (%s)', async (engine) => {
    const fileSystem = await createFileSystem({ type: 'ext4', sizeMiB: 16 });
    const ring = new Ring({ engine });
    try {
      const file = path.join(fileSystem.mountPoint, 'closing.log');
      const log = await ring.openLog(file, { create: true, preallocateBytes: 1024 * 1024, maxGroupBytes: 64 * 1024 });
      const first = random.fill(Buffer.alloc(3000));
      expect(await log.append(first)).toBe(1n);
      const filler = await fillFileSystem(fileSystem);
      // Far more than the preallocated MiB: the later groups cannot be written.
      const records = Array.from({ length: 800 }, () => random.fill(Buffer.alloc(random.int(1000, 6000))));
      const settled = Promise.allSettled(records.map((record) => log.append(record)));
      await ring.close();
      const outcomes = await settled;
      const acknowledged = new Map<bigint, Buffer>([[1n, first]]);
      const rejected = new Set<string>();
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') acknowledged.set(outcome.value, records[i]!);
        else rejected.add((outcome.reason as { code?: string }).code ?? String(outcome.reason));
      });
      expect(rejected).toEqual(new Set(['ENOSPC']));
      expect([...acknowledged.keys()]).toEqual(Array.from({ length: acknowledged.size }, (_, i) => BigInt(i + 1)));
      await filler.release();

      const next = new Ring({ engine });
      try {
        const writer = await next.openLog(file);
        expect(writer.recovery).toMatchObject({ records: acknowledged.size, endLsn: BigInt(acknowledged.size) });
        let lsn = 1n;
        for await (const record of writer.read()) expect(record.data.equals(acknowledged.get(lsn++)!)).toBe(true);
        expect(lsn).toBe(BigInt(acknowledged.size) + 1n);
        expect(await writer.append(first)).toBe(lsn);
      } finally {
        await next.close();
      }
    } finally {
      await ring.close();
      await fileSystem.close();
    }
  });
});
