// Number formatting shared by the table and the chart.

import { formatSize } from '../options/sizes';
import type { BenchReport } from './results';

/** 74138 -> "74.1k", 1234567 -> "1.23M", 950 -> "950". */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(abs >= 1e10 ? 1 : 2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  if (abs >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(1);
}

/** Microseconds with sensible precision. */
export function micros(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us < 10) return us.toFixed(2);
  if (us < 1000) return us.toFixed(1);
  return String(Math.round(us));
}

export function fixed(n: number | null | undefined, digits: number): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

export function ratio(n: number | null): string {
  return n === null || !Number.isFinite(n) ? '-' : `${n.toFixed(2)}x`;
}

/** Whether charts show MiB/s rather than IOPS (large blocks, or a block-size sweep). */
export function usesThroughput(report: Pick<BenchReport, 'params' | 'points'>): boolean {
  if (report.params.sweep?.param === 'bs') return true;
  return report.points.every((p) => p.bs >= 128 * 1024);
}

/** "randread bs=4k qd=32 O_DIRECT, 4 s per trial" */
export function describeParams(report: Pick<BenchReport, 'params'>, opts: { sweepAware?: boolean } = {}): string {
  const p = report.params;
  const parts: string[] = [p.rw];
  if (p.rw === 'randrw') parts.push(`${p.rwmixread}% reads`);
  if (!(opts.sweepAware && p.sweep?.param === 'bs')) parts.push(`bs=${formatSize(p.bs)}`);
  if (!(opts.sweepAware && p.sweep?.param === 'qd')) parts.push(`qd=${p.qd}`);
  parts.push(p.direct ? 'O_DIRECT' : 'buffered');
  if (p.stream) parts.push('streams, one pass per trial, caches dropped before each');
  else if (p.runtimeS !== null) parts.push(`${p.runtimeS} s per trial`);
  else if (p.ops !== null) parts.push(`${p.ops} ops per trial`);
  if (p.repeat > 1) parts.push(`median of ${p.repeat}`);
  return parts.join(', ');
}
