import { describe, expect, it } from 'vitest';
import { Histogram, floorLog2 } from '../../lib/histogram';
import { Prng } from '../../bench/src/trial/workload';

/** Nearest-rank percentile of a sorted array, the definition the histogram approximates. */
function reference(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function latencyLike(prng: Prng, n: number): number[] {
  // Log-uniform between ~1 us and ~50 ms in ns, with a heavy-ish tail: like I/O latencies.
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = prng.nextU32() / 2 ** 32;
    const v = prng.nextU32() / 2 ** 32;
    const base = Math.exp(Math.log(1_000) + u * (Math.log(200_000) - Math.log(1_000)));
    out.push(Math.round(v > 0.99 ? base * 250 : base));
  }
  return out;
}

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

describe('Histogram', () => {
  it('states a relative error of 2^-(subBits+1) and uses fixed memory', () => {
    const h = new Histogram();
    expect(h.relativeError).toBe(2 ** -8);
    const buckets = h.bucketCount;
    for (let i = 0; i < 10_000; i++) h.record(i * 12345);
    expect(h.bucketCount).toBe(buckets);
    expect(buckets).toBeLessThan(10_000);
  });

  it.each([1, 2, 3, 4, 5])('percentiles match a sorted-array reference on random data (seed %d)', (seed) => {
    const prng = new Prng(seed);
    const data = latencyLike(prng, 50_000);
    const h = new Histogram();
    for (const v of data) h.record(v);
    const sorted = [...data].sort((a, b) => a - b);
    for (const p of PERCENTILES) {
      const want = reference(sorted, p);
      const got = h.percentile(p);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(want * h.relativeError + 1e-9);
    }
    expect(h.count).toBe(data.length);
    expect(h.min).toBe(sorted[0]);
    expect(h.max).toBe(sorted[sorted.length - 1]);
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    expect(h.mean).toBeCloseTo(mean, 6);
  });

  it('is exact for small values', () => {
    const h = new Histogram();
    const data = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    data.forEach((v) => h.record(v));
    const sorted = [...data].sort((a, b) => a - b);
    for (const p of PERCENTILES) expect(h.percentile(p)).toBe(reference(sorted, p));
  });

  it('holds its error bound with a coarser layout too', () => {
    const h = new Histogram(3);
    expect(h.relativeError).toBe(1 / 16);
    const prng = new Prng(99);
    const data = latencyLike(prng, 20_000);
    data.forEach((v) => h.record(v));
    const sorted = [...data].sort((a, b) => a - b);
    for (const p of PERCENTILES) {
      const want = reference(sorted, p);
      expect(Math.abs(h.percentile(p) - want)).toBeLessThanOrEqual(want * h.relativeError);
    }
  });

  it('bucket bounds invert indexOf and tile the range without gaps', () => {
    const h = new Histogram(4, 30);
    let expectedLow = 0;
    for (let i = 0; i < h.bucketCount; i++) {
      const [low, width] = h.bucketBounds(i);
      expect(low).toBe(expectedLow);
      expect(h.indexOf(low)).toBe(i);
      expect(h.indexOf(low + width - 1)).toBe(i);
      if (width > 1) expect(width / low).toBeLessThanOrEqual(2 ** -4);
      expectedLow = low + width;
    }
  });

  it('puts every value in the bucket whose bounds hold it, across the 32-bit boundary', () => {
    const h = new Histogram();
    const prng = new Prng(7);
    const values = [0, 1, 255, 256, 257, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 - 1];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor((prng.nextU32() / 2 ** 32) * 2 ** (1 + (i % 40))));
    for (const v of values) {
      const [low, width] = h.bucketBounds(h.indexOf(v));
      expect(v).toBeGreaterThanOrEqual(low);
      expect(v).toBeLessThan(low + width);
    }
  });

  it('clamps out-of-range values and ignores NaN as zero', () => {
    const h = new Histogram(7, 20);
    h.record(-5);
    h.record(Number.NaN);
    h.record(2 ** 30);
    expect(h.count).toBe(3);
    expect(h.min).toBe(0);
    expect(h.max).toBe(2 ** 20 - 1);
  });

  it('merges and resets', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 100; i++) a.record(i * 1000);
    for (let i = 101; i <= 200; i++) b.record(i * 1000);
    a.merge(b);
    expect(a.count).toBe(200);
    expect(Math.abs(a.percentile(50) - 100_000)).toBeLessThanOrEqual(100_000 * a.relativeError);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.percentile(99)).toBe(0);
    expect(() => a.merge(new Histogram(5))).toThrow(/layouts/);
  });

  it('summary reports p50/p90/p99/p99.9', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    const s = h.summary();
    expect(s).toMatchObject({ count: 1000, min: 1, max: 1000 });
    expect(s.p50).toBeCloseTo(500, -1);
    expect(s.p99).toBeCloseTo(990, -1);
    expect(s.p999).toBeCloseTo(999, -1);
  });

  it('floorLog2 is exact across the 32-bit boundary', () => {
    for (const e of [0, 1, 7, 31, 32, 33, 45, 52]) {
      expect(floorLog2(2 ** e)).toBe(e);
      if (e > 0) expect(floorLog2(2 ** e - 1)).toBe(e - 1);
    }
  });
});
