// The kernel never writes to memory JavaScript may have freed: requests keep
// their buffers (and their ring and file) alive until they complete, however
// hard the collector runs, on every engine. The work happens in a child
// process started with --expose-gc (see test/fixtures/safety-gc.js for the
// method: dropped buffers, WeakRef verification, canary buffers).
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines } from '../helpers/engines';
import { ensureDistFresh, explain, report, runFixture, scratchDir } from './child';

let dir: string;
beforeAll(() => {
  ensureDistFresh();
  dir = scratchDir('gc');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface GcReport {
  ok: boolean;
  reads: number;
  readvs: number;
  readsVerified: number;
  readsCollectedBeforeCheck: number;
  readMismatches: number;
  writes: number;
  writeMismatches: number;
  heapReads: number;
  heapReadsVerified: number;
  heapMismatches: number;
  canaries: number;
  canariesDamaged: number;
  gcRuns: number;
  ringCollected: boolean;
  transferReads: number;
  transferDamaged: number;
  error?: string;
}

describe.each(availableEngines)('engine %s', (engine) => {
  it('keeps dropped buffers alive while in flight, under forced collections, and the data is right', async () => {
    const result = await runFixture('safety-gc.js', [engine, fs.mkdtempSync(`${dir}/${engine}-`)], {
      nodeArgs: ['--expose-gc'],
      timeoutMs: 45_000,
    });
    const context = explain(result);
    expect(result.signal, context).toBeNull();
    expect(result.timedOut, context).toBe(false);
    const stats = report<GcReport>(result);
    expect(stats.error, context).toBeUndefined();
    // 5500 reads (500 of them on a ring nobody references) and 500 readvs, all verified
    expect(stats.reads + stats.readvs, context).toBe(6000);
    expect(stats.readMismatches, context).toBe(0);
    expect(stats.readsCollectedBeforeCheck, context).toBeLessThanOrEqual(300);
    expect(stats.writes, context).toBe(4096);
    expect(stats.writeMismatches, context).toBe(0);
    expect(stats.heapReads, context).toBe(3000);
    expect(stats.heapMismatches, context).toBe(0);
    expect(stats.canariesDamaged, context).toBe(0);
    expect(stats.canaries, context).toBeGreaterThan(0);
    expect(stats.gcRuns, context).toBeGreaterThan(10);
    // transferring an allocAligned buffer's memory away mid-read cannot take it from the kernel
    expect(stats.transferReads, context).toBe(200);
    expect(stats.transferDamaged, context).toBe(0);
    // a ring dropped by its owner lives while it has requests, and is collectable once idle
    expect(stats.ringCollected, context).toBe(true);
    expect(stats.ok, context).toBe(true);
    expect(result.code, context).toBe(0);
    // no warnings either (a FileHandle closed by the collector would print one)
    expect(result.stderr, context).toBe('');
  });
});
