// Adaptive polling (RingOptions.pollBudget), which is on by default except on
// the thread pool: data still reads back byte for byte on every engine; the
// ring never polls with nothing in flight; a budget of 0, busyPollUs, or the
// thread pool's default means no adaptive polls; the CPU it counts for
// polling stays within its budget; and an idle ring uses no CPU. The policy
// itself (when to spin, for how long) is checked on a made-up clock in
// test/native/engine_check.cc; argument checks are in 20.validation.test.ts.
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AioFile, Ring, allocAligned } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, usePlaces } from './helpers/places';
import { ensureDistFresh, runFixture } from './safety/child';

const places = usePlaces();

const block = 4096;
const blocks = 256;
const depth = 16;

function place(name: string): Place {
  const found = places().find((p) => p.name === name);
  if (!found) throw new Error(`no ${name} place on this machine`);
  return found;
}

async function openFilled(ring: Ring, dir: string, name: string): Promise<{ file: AioFile; expected: Buffer }> {
  const file = await ring.open(path.join(dir, name), { write: true, create: true });
  const expected = randomAligned(blocks * block);
  await file.write(expected, 0);
  return { file, expected };
}

// `depth` readers, each awaiting one read after another, for `ms` milliseconds.
async function readFor(file: AioFile, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let reads = 0;
  await Promise.all(
    Array.from({ length: depth }, async (_, i) => {
      const buffer = allocAligned(block);
      for (let n = 0; Date.now() < until; n++, reads++) await file.read(buffer, ((n * depth + i) % blocks) * block);
    }),
  );
  return reads;
}

describe.each(availableEngines)('engine %s', (engine) => {
  describe.each(['disk', 'tmpfs'])('on %s', (placeName) => {
    it('reads back what was written, byte for byte, polling by default', async () => {
      const ring = new Ring({ depth, engine });
      try {
        expect(ring.pollBudget).toBe(engine === 'threadpool' ? 0 : 0.1);
        const { file, expected } = await openFilled(ring, place(placeName).dir, `adaptive-${engine}.dat`);
        const readBack = allocAligned(blocks * block);
        for (let round = 0; round < 4; round++) {
          readBack.fill(0);
          await Promise.all(
            Array.from({ length: blocks }, (_, i) => file.read(readBack.subarray(i * block, (i + 1) * block), i * block)),
          );
          expect(firstDifference(readBack, expected)).toBe(-1);
        }
        const stats = ring.stats();
        expect(stats.adaptivePollHits).toBeLessThanOrEqual(stats.adaptivePolls);
        expect(stats.busyPolls).toBe(0);
        if (stats.adaptivePolls === 0) expect(stats.pollCpuUs).toBe(0);
      } finally {
        await ring.close();
      }
    });
  });

  it('never polls with nothing in flight', async () => {
    const ring = new Ring({ depth, engine, pollBudget: 1 });
    try {
      const { file, expected } = await openFilled(ring, place('disk').dir, `adaptive-idle-${engine}.dat`);
      const before = ring.stats();
      const buffer = allocAligned(block);
      // Each read completes with nothing else in flight, and the next one is
      // made only after a timer, so no wake-up ends with a request in flight.
      for (let i = 0; i < 200; i++) {
        await file.read(buffer, (i % blocks) * block);
        expect(firstDifference(buffer, expected.subarray((i % blocks) * block, ((i % blocks) + 1) * block))).toBe(-1);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const after = ring.stats();
      expect(after.completed - before.completed).toBe(200);
      expect(after.adaptivePolls - before.adaptivePolls).toBe(0);
      expect(after.pollCpuUs - before.pollCpuUs).toBe(0);
    } finally {
      await ring.close();
    }
  });
});

// The thread pool's eight threads complete disk reads one by one, spread out
// in time, so a ring on it often has a request in flight that is about to
// complete when a wake-up ends: the case adaptive polling is for, once given
// a budget (by default the pool has none: its threads need the CPU).
describe('where completions come one by one (thread pool, disk)', () => {
  const engine = 'threadpool';
  const where = () => place('disk').dir;

  it('polls, and finds completions', async () => {
    const ring = new Ring({ depth, engine, pollBudget: 1 });
    try {
      const { file } = await openFilled(ring, where(), 'adaptive-pool.dat');
      await readFor(file, 500);
      const stats = ring.stats();
      expect(stats.adaptivePolls).toBeGreaterThan(0);
      expect(stats.adaptivePollHits).toBeGreaterThan(0);
      expect(stats.adaptivePollHits).toBeLessThanOrEqual(stats.adaptivePolls);
      expect(stats.pollCpuUs).toBeGreaterThan(0);
    } finally {
      await ring.close();
    }
  });

  it('keeps the CPU it spends polling within its budget', async () => {
    const budget = 0.01;
    const ring = new Ring({ depth, engine, pollBudget: budget });
    try {
      const { file } = await openFilled(ring, where(), 'adaptive-budget.dat');
      const started = performance.now();
      await readFor(file, 1000);
      const elapsedUs = (performance.now() - started) * 1000;
      const stats = ring.stats();
      expect(stats.adaptivePolls).toBeGreaterThan(0);
      // The bucket starts full with a tenth of a second's worth, and a spin
      // may overrun its end by one clock reading (well under a microsecond).
      const allowedUs = budget * (elapsedUs + 100_000) + stats.adaptivePolls;
      expect(stats.pollCpuUs).toBeLessThanOrEqual(allowedUs);
    } finally {
      await ring.close();
    }
  });

  it('never polls adaptively by default, with pollBudget: 0, nor with busyPollUs, which replaces it', async () => {
    for (const options of [{}, { pollBudget: 0 }, { busyPollUs: 100 }]) {
      const ring = new Ring({ depth, engine, ...options });
      try {
        expect(ring.pollBudget).toBe(0);
        const { file } = await openFilled(ring, where(), 'adaptive-off.dat');
        await readFor(file, 300);
        const stats = ring.stats();
        expect(stats.completed).toBeGreaterThan(blocks);
        expect(stats.adaptivePolls).toBe(0);
        expect(stats.adaptivePollHits).toBe(0);
        if (!options.busyPollUs) expect(stats.pollCpuUs).toBe(0);
      } finally {
        await ring.close();
      }
    }
  });
});

describe('an idle ring', () => {
  beforeAll(() => ensureDistFresh());

  it.each(availableEngines)('on %s uses no CPU while nothing is in flight', async (engine) => {
    const seconds = 2;
    const child = await runFixture('idle-ring-cpu.js', [engine, place('disk').dir, String(seconds)], { timeoutMs: 30_000 });
    expect(child.code, child.stderr).toBe(0);
    const report = JSON.parse(child.stdout.trim()) as { idleTicks: number; inflight: number; pollCpuUs: number; adaptivePolls: number };
    expect(report.inflight).toBe(0);
    expect(report.adaptivePolls).toBe(0);
    expect(report.pollCpuUs).toBe(0);
    // Clock ticks are 10 ms: a process that woke only for its one timer uses
    // at most a tick or two (a spinning one would use 200 in two seconds).
    expect(report.idleTicks).toBeLessThanOrEqual(3);
  }, 40_000);
});
