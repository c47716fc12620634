// A log-linear latency histogram in the style of HdrHistogram: fixed memory,
// constant-time recording, bounded relative error, no per-sample storage.
//
// Values are non-negative integers (ring.stats() and the bench record
// nanoseconds). Values below 2^(subBits+1) get a bucket each (exact). Above
// that, every power-of-two range [2^k, 2^(k+1)) is split into 2^subBits equal
// buckets, so a bucket is at most 2^-subBits of its lower bound wide.
// Quantiles report the bucket's middle, so a reported quantile is within
// 2^-(subBits+1) of a sample value of the same rank (0.39% with subBits = 7).

export const DEFAULT_SUB_BITS = 7;
/** Largest value kept exactly; bigger values are clamped (2^40 ns is about 18 minutes). */
export const DEFAULT_MAX_EXPONENT = 40;

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class Histogram {
  readonly subBits: number;
  readonly maxExponent: number;
  /** Stated bound on |reported quantile - true quantile| / true quantile. */
  readonly relativeError: number;
  private readonly counts: Float64Array;
  private readonly maxValue: number;
  /** 2^(subBits+1): values below it have a bucket each. */
  private readonly exactLimit: number;
  private total = 0;
  private sum = 0;
  private minSeen = Number.POSITIVE_INFINITY;
  private maxSeen = 0;

  constructor(subBits = DEFAULT_SUB_BITS, maxExponent = DEFAULT_MAX_EXPONENT) {
    if (!Number.isInteger(subBits) || subBits < 1 || subBits > 16) throw new RangeError('subBits must be 1..16');
    if (!Number.isInteger(maxExponent) || maxExponent <= subBits || maxExponent > 52) {
      throw new RangeError('maxExponent must be an integer in (subBits, 52]');
    }
    this.subBits = subBits;
    this.maxExponent = maxExponent;
    this.relativeError = 2 ** -(subBits + 1);
    this.maxValue = 2 ** maxExponent - 1;
    this.exactLimit = 2 ** (subBits + 1);
    this.counts = new Float64Array(this.indexOf(this.maxValue) + 1);
  }

  /** Number of buckets (memory is 8 bytes per bucket). */
  get bucketCount(): number {
    return this.counts.length;
  }

  get count(): number {
    return this.total;
  }

  get min(): number {
    return this.total === 0 ? 0 : this.minSeen;
  }

  get max(): number {
    return this.maxSeen;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** Records one value (rounded to an integer, clamped to [0, 2^maxExponent - 1]). */
  record(value: number): void {
    let v = Math.round(value);
    if (!(v >= 0)) v = 0; // also catches NaN
    if (v > this.maxValue) v = this.maxValue;
    this.counts[this.indexOf(v)]++;
    this.total++;
    this.sum += v;
    if (v < this.minSeen) this.minSeen = v;
    if (v > this.maxSeen) this.maxSeen = v;
  }

  /** Adds every count of `other` (same layout) into this histogram. */
  merge(other: Histogram): void {
    if (other.subBits !== this.subBits || other.maxExponent !== this.maxExponent) {
      throw new Error('cannot merge histograms with different layouts');
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.minSeen = Math.min(this.minSeen, other.minSeen);
      this.maxSeen = Math.max(this.maxSeen, other.maxSeen);
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.minSeen = Number.POSITIVE_INFINITY;
    this.maxSeen = 0;
  }

  /**
   * The value at percentile p (0..100) by the nearest-rank definition: the
   * smallest recorded value such that at least p% of values are <= it,
   * approximated by its bucket's middle and clamped to [min, max].
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const clamped = Math.min(100, Math.max(0, p));
    const rank = Math.max(1, Math.ceil((clamped / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const [low, width] = this.bucketBounds(i);
        const mid = low + (width - 1) / 2;
        return Math.min(this.maxSeen, Math.max(this.minSeen, mid));
      }
    }
    return this.maxSeen;
  }

  summary(): HistogramSummary {
    return {
      count: this.total,
      min: this.min,
      max: this.max,
      mean: this.mean,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /** Bucket index for an integer value within range. */
  indexOf(v: number): number {
    if (v < this.exactLimit) return v;
    // Recording is on every request's completion path, so this stays in
    // integer operations (clz32, shifts) wherever the value fits 32 bits:
    // `**` and division compile to calls into the math library.
    if (v < twoTo32) {
      const e = 31 - Math.clz32(v) - this.subBits; // >= 1 here
      return (e << this.subBits) + (v >>> e);
    }
    const e = floorLog2(v) - this.subBits;
    return e * 2 ** this.subBits + Math.floor(v / 2 ** e);
  }

  /** [lowest value, width] of bucket i. */
  bucketBounds(i: number): [number, number] {
    const s = this.subBits;
    const sub = 2 ** s;
    if (i < 2 * sub) return [i, 1];
    const e = Math.floor(i / sub) - 1;
    const mantissa = i - e * sub; // in [sub, 2*sub)
    return [mantissa * 2 ** e, 2 ** e];
  }
}

const twoTo32 = 0x1_0000_0000;

/** floor(log2(v)) for an integer v >= 1 up to 2^53, exact (no floating-point log). */
export function floorLog2(v: number): number {
  if (v < twoTo32) return 31 - Math.clz32(v);
  const high = Math.floor(v / twoTo32);
  return 63 - Math.clz32(high);
}
