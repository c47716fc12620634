// A suite's summary: one row per check with the measured value, the bar and
// PASS/FAIL, the per-round ratios, the other engines' values; and the JSON
// document with every run's full report.

import type { BenchReport, MachineInfo } from '../report/results';
import { formatBytes } from '../options/sizes';
import { compactNumber, micros } from '../report/format';
import { overallVerdict, type CheckResult, type Verdict } from './evaluate';
import type { Bar, Suite, SuiteTarget } from './suite';

export function formatBar(bar: Bar, unit: 'x' | 'MiB'): string {
  const op = bar.op === '>=' ? '>=' : '<=';
  return unit === 'x' ? `${op} ${bar.value.toFixed(2)}x` : `${op} ${bar.value} MiB`;
}

function value(v: number | null, unit: 'x' | 'MiB'): string {
  if (v === null || !Number.isFinite(v)) return '-';
  return unit === 'x' ? `${v.toFixed(3)}x` : `${v >= 0 ? '+' : ''}${v.toFixed(2)} MiB`;
}

function unitOf(r: CheckResult): 'x' | 'MiB' {
  return r.kind === 'memory' ? 'MiB' : 'x';
}

function rounds(r: CheckResult): string {
  if (r.rounds.length === 0) return '-';
  return r.rounds.map((x) => (r.kind === 'memory' ? x.toFixed(1) : x.toFixed(2))).join(' ');
}

/** The two medians behind a ratio ("41.3k / 34.3k IOPS"), or RSS before -> after for memory. */
export function mediansText(r: Pick<CheckResult, 'kind' | 'metric' | 'subjectValue' | 'referenceValue'>): string {
  const a = r.subjectValue;
  const b = r.referenceValue;
  if (a === null || b === null) return '-';
  switch (r.metric) {
    case 'rssGrowthMiB':
      return `RSS ${b.toFixed(1)} -> ${a.toFixed(1)} MiB`;
    case 'iops':
      return `${compactNumber(a)} / ${compactNumber(b)} IOPS`;
    case 'mibps':
      return `${a.toFixed(0)} / ${b.toFixed(0)} MiB/s`;
    case 'p50':
      return `${micros(a)} / ${micros(b)} µs`;
    case 'iopsPerCpuS':
      return `${compactNumber(a)} / ${compactNumber(b)} per CPU-s`;
  }
}

function others(r: CheckResult): string {
  return r.others
    .map((o) => `${o.engine} ${o.value === null ? `- (${o.reason ?? 'no value'})` : `${o.value.toFixed(2)}x`}`)
    .join(', ');
}

function align(header: readonly string[], rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

export interface SuiteSummaryContext {
  suite: Suite;
  targets: SuiteTarget[];
  auto: string | null;
  repeat: number;
  runtimeS: number | null;
  durationS: number;
  /** Lines printed under the table. */
  notes: string[];
}

/** The summary table: one row per check. */
export function renderSuiteSummary(results: CheckResult[], ctx: SuiteSummaryContext): string {
  const header = ['target', 'check', 'held to bar', 'medians', 'measured', 'bar', 'result', 'per round', 'other engines (information)'] as const;
  const rows = results.map((r) => [
    r.target,
    r.what,
    r.driver ?? '-',
    mediansText(r),
    value(r.value, unitOf(r)),
    formatBar(r.bar, unitOf(r)),
    r.verdict,
    rounds(r),
    others(r),
  ]);
  const verdict: Verdict = overallVerdict(results);
  const passed = results.filter((r) => r.verdict === 'PASS').length;
  const lines = [
    `== suite ${ctx.suite.name}: ${ctx.suite.description} ==`,
    `engine auto = ${ctx.auto ?? '-'} (bars apply to aioring-${ctx.auto ?? '<auto>'}); ${ctx.repeat} alternating round(s) per run` +
      `${ctx.runtimeS !== null ? `, ${ctx.runtimeS} s per trial` : ''}`,
    'measured = median of the per-round ratios (held to bar / reference); medians = each side\'s median over the rounds',
    '',
    ...align(header, rows, new Set([3, 4, 5, 7])),
  ];
  const reasons = results.filter((r) => r.reason !== null && r.verdict === 'ERROR');
  if (reasons.length > 0) {
    lines.push('');
    for (const r of reasons) lines.push(`  ERROR ${r.target} / ${r.what}: ${r.reason}`);
  }
  if (ctx.notes.length > 0) {
    lines.push('', 'notes:');
    for (const n of ctx.notes) lines.push(`  ${n}`);
  }
  lines.push(
    '',
    `suite ${ctx.suite.name}: ${verdict} (${passed} of ${results.length} checks passed) in ${formatDuration(ctx.durationS)}`,
  );
  return lines.join('\n') + '\n';
}

export function formatDuration(s: number): string {
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return m > 0 ? `${m} min ${rest.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

export interface SuiteFile {
  storage: string;
  path: string;
  size: number;
  filesystem: string | null;
  device: string | null;
}

export interface SuiteRunRecord {
  id: string;
  drivers: string[];
  report: BenchReport | null;
  error: string | null;
}

export interface SuiteReport {
  tool: 'aioring-bench';
  kind: 'suite';
  suite: string;
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string[];
  machine: MachineInfo | null;
  engines: { auto: string | null; probe: unknown; error: string | null };
  params: {
    runtimeS: number | null;
    rampS: number;
    repeat: number;
    seed: number;
    verifyEvery: number;
    fileSize: number;
    memoryOps: number;
    memoryWarmupOps: number;
  };
  files: SuiteFile[];
  targets: SuiteTarget[];
  checks: CheckResult[];
  verdict: Verdict;
  runs: SuiteRunRecord[];
  notes: string[];
  verificationFailed: boolean;
}

export function describeFile(f: SuiteFile): string {
  return `${f.storage}: ${f.path} (${formatBytes(f.size)}${f.filesystem ? ` on ${f.filesystem}` : ''}${f.device ? ` [${f.device}]` : ''})`;
}
