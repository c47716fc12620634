// ring.stats().latencyUs and ring.resetStats(): per-kind latency summaries
// from the library's histogram, and counts that start again from zero.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../lib/index';
import type { LatencySummary } from '../lib/index';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';

let places: Place[];
let dir: string;
beforeAll(() => {
  places = makePlaces();
  dir = places[0]!.dir;
});
afterAll(() => removePlaces(places));

function expectOrdered(summary: LatencySummary): void {
  expect(summary.mean).toBeGreaterThan(0);
  expect(summary.p50).toBeGreaterThan(0);
  expect(summary.p50).toBeLessThanOrEqual(summary.p99);
  expect(summary.p99).toBeLessThanOrEqual(summary.p999);
  expect(summary.p999).toBeLessThanOrEqual(summary.max);
  expect(summary.mean).toBeLessThanOrEqual(summary.max);
}

const empty = { count: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 };

describe.each(availableEngines)('engine %s', (engine) => {
  it('counts every read, write and sync by kind, with ordered quantiles; resetStats() starts again', async () => {
    const ring = new Ring({ engine, depth: 8 });
    try {
      expect(ring.stats().latencyUs).toEqual({ read: empty, write: empty, sync: empty });
      const file = await ring.open(path.join(dir, `${engine}.dat`), { write: true, create: true });
      const block = allocAligned(4096).fill(7);
      await Promise.all(Array.from({ length: 20 }, (_, i) => file.write(block, i * 4096)));
      await file.writev([block, block], 0);
      await Promise.all(Array.from({ length: 30 }, (_, i) => file.read(allocAligned(4096), (i % 20) * 4096)));
      await ring.submit([{ op: 'readv', file, buffers: [allocAligned(4096)], position: 0 }, { op: 'fdatasync', file }]);
      await file.sync();
      const { latencyUs } = ring.stats();
      expect(latencyUs.write.count).toBe(21);
      expect(latencyUs.read.count).toBe(31);
      expect(latencyUs.sync.count).toBe(2);
      for (const summary of Object.values(latencyUs)) expectOrdered(summary);

      ring.resetStats();
      const reset = ring.stats();
      expect(reset.latencyUs).toEqual({ read: empty, write: empty, sync: empty });
      expect(reset).toMatchObject({ submitted: 0, completed: 0, bytesRead: 0, bytesWritten: 0, bytes: 0, cancelled: 0, syscalls: 0 });
      await file.read(allocAligned(4096), 0);
      expect(ring.stats()).toMatchObject({ submitted: 1, completed: 1, bytesRead: 4096 });
      expect(ring.stats().latencyUs.read.count).toBe(1);
      expect(ring.stats().syscalls).toBeGreaterThan(0);
      await file.close();
    } finally {
      await ring.close();
    }
  });
});

describe.runIf(availableEngines.includes('io_uring'))('io_uring', () => {
  // Native code times each request with the clock readings adaptive polling
  // takes; with that polling off or replaced by busyPollUs it must still time them.
  it.each([
    ['by default', {}],
    ['with pollBudget: 0', { pollBudget: 0 }],
    ['with busyPollUs', { busyPollUs: 20 }],
  ])('a read that waits 50 ms for a pipe reports about that long, %s', async (_, options) => {
    const fifo = path.join(dir, `pipe-${Object.keys(options).join('') || 'default'}`);
    execFileSync('mkfifo', [fifo]);
    const ring = new Ring({ engine: 'io_uring', depth: 2, ...options });
    try {
      const file = await ring.open(fifo, { write: true, direct: false });
      const writer = fs.openSync(fifo, 'r+');
      const reading = file.read(allocAligned(4096), 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      fs.writeSync(writer, Buffer.alloc(4096, 1));
      expect(await reading).toBe(4096);
      fs.closeSync(writer);
      const { read } = ring.stats().latencyUs;
      expect(read.count).toBe(1);
      expect(read.max).toBeGreaterThanOrEqual(45_000);
      expect(read.max).toBeLessThan(5_000_000);
      await file.close();
    } finally {
      await ring.close();
    }
  });
});
