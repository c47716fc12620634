import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Pattern } from '../../bench/src/setup/pattern';
import { OpStream, Prng, Recorder, VerificationError, Verifier } from '../../bench/src/trial/workload';

describe('Verifier', () => {
  it('checks every Nth read and throws VerificationError on a mismatch', () => {
    const p = new Pattern(5);
    const v = new Verifier(p, 4, 'test-driver');
    const good = Buffer.alloc(4096);
    p.fill(good, 0);
    for (let i = 0; i < 8; i++) v.afterRead(good, 0);
    expect(v.verified).toBe(2);
    const bad = Buffer.alloc(4096);
    for (let i = 0; i < 3; i++) v.afterRead(bad, 0); // not sampled
    expect(() => v.afterRead(bad, 0)).toThrow(VerificationError);
    expect(() => new Verifier(p, 1, 'x').afterRead(bad, 0)).toThrow(/x: data read at offset 0/);
  });

  it('does nothing when disabled', () => {
    const v = new Verifier(new Pattern(5), 0, 'x');
    v.afterRead(Buffer.alloc(512), 0);
    expect(v.verified).toBe(0);
  });
});

describe('OpStream', () => {
  it('random offsets are block-aligned and inside the region', () => {
    const s = new OpStream({ rw: 'randread', bs: 8192, region: 1 << 20, rwmixread: 50, seed: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const op = s.next();
      expect(op.read).toBe(true);
      expect(op.position % 8192).toBe(0);
      expect(op.position + 8192).toBeLessThanOrEqual(1 << 20);
      seen.add(op.position);
    }
    expect(seen.size).toBe(128); // every block gets hit
  });

  it('sequential offsets wrap around; writes are writes; randrw mixes', () => {
    const s = new OpStream({ rw: 'write', bs: 4096, region: 3 * 4096 + 100, rwmixread: 50, seed: 1 });
    expect([0, 1, 2, 3].map(() => s.next())).toEqual([
      { read: false, position: 0 },
      { read: false, position: 4096 },
      { read: false, position: 8192 },
      { read: false, position: 0 },
    ]);
    const mix = new OpStream({ rw: 'randrw', bs: 4096, region: 1 << 20, rwmixread: 70, seed: 3 });
    let reads = 0;
    for (let i = 0; i < 10_000; i++) if (mix.next().read) reads++;
    expect(reads / 10_000).toBeGreaterThan(0.66);
    expect(reads / 10_000).toBeLessThan(0.74);
  });

  it('refuses a region smaller than a block', () => {
    expect(() => new OpStream({ rw: 'read', bs: 8192, region: 4096, rwmixread: 50, seed: 1 })).toThrow(/smaller than one block/);
  });
});

describe('Prng', () => {
  it('is deterministic per seed and covers ranges beyond 2^32', () => {
    const a = new Prng(9);
    const b = new Prng(9);
    for (let i = 0; i < 10; i++) expect(a.nextU32()).toBe(b.nextU32());
    let max = 0;
    for (let i = 0; i < 1000; i++) max = Math.max(max, a.below(2 ** 40));
    expect(max).toBeGreaterThan(2 ** 39);
  });
});

describe('Recorder', () => {
  it('counts only inside the window and stops at the op limit', async () => {
    const r = new Recorder({ rampS: 0, runtimeS: null, ops: 3 });
    r.record(0, 1, 4096, true); // before start: ignored
    r.start();
    expect(r.phase).toBe('run');
    r.record(0, 0.5, 4096, true);
    r.record(0, 0.25, 4096, false);
    expect(r.stopped).toBe(false);
    r.record(0, 1, 4096, true);
    expect(r.stopped).toBe(true);
    r.record(0, 1, 4096, true); // after stop: ignored
    const m = r.metrics(1, ['note'], { batch: 4 });
    expect(m).toMatchObject({ ops: 3, readOps: 2, writeOps: 1, bytes: 3 * 4096, verifiedOps: 1, notes: ['note'], extra: { batch: 4 } });
    expect(m.latUs.max).toBeCloseTo(1000, -1);
    expect(m.maxRssMiB).toBeGreaterThan(1);
  });

  it('stops on time even when the event loop never runs timers', () => {
    const r = new Recorder({ rampS: 0.01, runtimeS: 0.02, ops: null });
    r.start();
    const t0 = performance.now();
    // A synchronous loop: the ramp and runtime timers cannot fire, only the clock check can.
    while (!r.stopped && performance.now() - t0 < 2000) {
      const now = performance.now();
      r.record(now, now, 512, true);
    }
    expect(r.stopped).toBe(true);
    const m = r.metrics(0, []);
    expect(m.elapsedS).toBeGreaterThanOrEqual(0.02);
    expect(m.elapsedS).toBeLessThan(0.5);
    expect(m.ops).toBeGreaterThan(0);
  });

  it('warms up by op count when rampOps is given, and samples memory at both ends of the window', () => {
    const r = new Recorder({ rampS: 5, runtimeS: null, ops: 2, rampOps: 3 });
    r.record(0, 1, 512, true); // before start: ignored, does not count toward the warm-up
    r.start();
    expect(r.phase).toBe('ramp');
    r.record(0, 1, 512, true);
    r.record(0, 1, 512, true);
    expect(r.phase).toBe('ramp');
    r.record(0, 1, 512, true); // the third warm-up op ends the ramp (the time ramp plays no part)
    expect(r.phase).toBe('run');
    r.record(0, 2, 512, true);
    r.record(0, 3, 512, true);
    expect(r.stopped).toBe(true);
    const m = r.metrics(0, [], { engine: 'libaio' });
    expect(m.ops).toBe(2);
    expect(m.extra.engine).toBe('libaio');
    for (const k of ['rss', 'heapTotal', 'heapUsed', 'external']) {
      const start = m.extra[`${k}StartMiB`] as number;
      const end = m.extra[`${k}EndMiB`] as number;
      expect(start, k).toBeGreaterThan(0);
      expect(m.extra[`${k}GrowthMiB`]).toBeCloseTo(end - start, 2);
    }
    expect(m.extra.rssStartMiB as number).toBeGreaterThan(10);
    expect(typeof m.extra.rssAnonGrowthMiB).toBe('number');
  });

  it('ramps before measuring', async () => {
    const r = new Recorder({ rampS: 0.05, runtimeS: 0.05, ops: null });
    r.start();
    expect(r.phase).toBe('ramp');
    r.record(0, 1, 512, true);
    await new Promise((res) => setTimeout(res, 70));
    expect(r.phase).toBe('run');
    r.record(0, 1, 512, true);
    await new Promise((res) => setTimeout(res, 80));
    expect(r.stopped).toBe(true);
    expect(r.metrics(0, []).ops).toBe(1);
  });
});
