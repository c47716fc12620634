// The plain-text report: a header with parameters, machine and target, then
// one table per point (qd, bs), then skipped/failed drivers and notes.

import { formatBytes, formatSize } from '../options/sizes';
import type { BenchReport, DriverResult, PointResult } from './results';
import { compactNumber, describeParams, fixed, micros, ratio } from './format';

const COLUMNS = [
  'driver',
  'IOPS',
  'MiB/s',
  'mean',
  'p50',
  'p99',
  'p99.9',
  'usr s',
  'sys s',
  'IOPS/CPU-s',
  'RSS MiB',
  'vs fs',
  'vs fio',
] as const;

function row(r: DriverResult): string[] {
  const m = r.metrics!;
  return [
    r.label,
    compactNumber(m.iops),
    fixed(m.mibps, 1),
    micros(m.latUs.mean),
    micros(m.latUs.p50),
    micros(m.latUs.p99),
    micros(m.latUs.p999),
    fixed(m.cpu.userS, 2),
    fixed(m.cpu.systemS, 2),
    compactNumber(m.iopsPerCpuS),
    fixed(m.maxRssMiB, 0),
    ratio(r.vsFsPromises),
    ratio(r.vsFio),
  ];
}

const STREAM_COLUMNS = ['driver', 'MiB/s', 'usr s', 'sys s', 'CPU s/GiB', 'CPU vs fs', 'cache MiB', 'vs fs', 'vs fio'] as const;

function numberExtra(r: DriverResult | undefined, key: string): number | null {
  const value = r?.metrics?.extra[key];
  return typeof value === 'number' ? value : null;
}

function streamRow(r: DriverResult, fs: DriverResult | undefined): string[] {
  const m = r.metrics!;
  const cpu = numberExtra(r, 'cpuSPerGiB');
  const fsCpu = numberExtra(fs, 'cpuSPerGiB');
  const cached = numberExtra(r, 'pageCacheMiB');
  return [
    r.label,
    fixed(m.mibps, 1),
    fixed(m.cpu.userS, 2),
    fixed(m.cpu.systemS, 2),
    cpu === null ? '-' : fixed(cpu, 3),
    cpu === null || fsCpu === null || fsCpu === 0 ? '-' : ratio(cpu / fsCpu),
    cached === null ? '-' : fixed(cached, 1),
    ratio(r.vsFsPromises),
    ratio(r.vsFio),
  ];
}

function alignTable(header: readonly string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

export function pointTitle(report: Pick<BenchReport, 'params'>, point: PointResult): string {
  return `qd=${point.qd} bs=${formatSize(point.bs)}`;
}

function pointSection(report: BenchReport, point: PointResult): string[] {
  const lines: string[] = [];
  const ok = point.results.filter((r) => r.status === 'ok' && r.metrics);
  const fs = ok.find((r) => r.driver === report.references.fsPromises);
  if (ok.length > 0 && report.params.stream) lines.push(...alignTable(STREAM_COLUMNS, ok.map((r) => streamRow(r, fs))));
  else if (ok.length > 0) lines.push(...alignTable(COLUMNS, ok.map(row)));
  else lines.push('(no driver produced a result)');
  for (const r of point.results) {
    if (r.status === 'skipped') lines.push(`  skipped ${r.label}: ${r.reason}`);
    else if (r.status === 'failed') lines.push(`  FAILED  ${r.label}: ${r.reason}`);
  }
  if (point.fioReference === null) {
    const fioMissing = report.machine.fio === null;
    lines.push(`  vs fio: ${fioMissing ? 'fio is not installed, no reference' : 'no fio driver in this run, no reference'}`);
  } else if (point.fioReference !== report.references.fio[0]) {
    lines.push(`  vs fio: relative to ${point.fioReference} (${report.references.fio[0]} did not run)`);
  }
  if (!ok.some((r) => r.driver === report.references.fsPromises)) {
    lines.push(`  vs fs: ${report.references.fsPromises} not in this run`);
  }
  return lines;
}

function detailText(extra: Record<string, number | string>): string[] {
  const out: string[] = [];
  if (typeof extra.syscallsPerOp === 'number') out.push(`${extra.syscallsPerOp.toFixed(2)} syscalls/op`);
  if (typeof extra.batch === 'number') out.push(`batch ${extra.batch}`);
  if (typeof extra.uvThreads === 'number') out.push(`UV_THREADPOOL_SIZE ${extra.uvThreads}`);
  if (typeof extra.numjobs === 'number' && extra.numjobs > 1) out.push(`numjobs ${extra.numjobs}`);
  if (typeof extra.loopDelayP99Ms === 'number') out.push(`event-loop delay p99 ${extra.loopDelayP99Ms.toFixed(2)} ms`);
  if (typeof extra.adaptivePollHitShare === 'number') out.push(`${(extra.adaptivePollHitShare * 100).toFixed(0)} % of adaptive polls hit`);
  if (typeof extra.pollCpuShare === 'number' && extra.pollCpuShare > 0) out.push(`polling ${(extra.pollCpuShare * 100).toFixed(1)} % of a core`);
  return out;
}

function notesSection(report: BenchReport): string[] {
  const lines: string[] = [];
  const byDriver = new Map<string, { label: string; notes: string[] }>();
  const single = report.points.length === 1;
  for (const point of report.points) {
    for (const r of point.results) {
      if (!r.metrics) continue;
      const entry = byDriver.get(r.driver) ?? { label: single ? r.label : r.driver, notes: [] };
      const items = [...(single ? detailText(r.metrics.extra ?? {}) : []), ...r.metrics.notes];
      for (const n of items) if (!entry.notes.includes(n)) entry.notes.push(n);
      byDriver.set(r.driver, entry);
    }
  }
  const withNotes = [...byDriver.values()].filter((e) => e.notes.length > 0);
  if (withNotes.length === 0 && report.notes.length === 0) return lines;
  lines.push('', 'notes:');
  for (const n of report.notes) lines.push(`  ${n}`);
  for (const e of withNotes) lines.push(`  ${e.label}: ${e.notes.join('; ')}`);
  return lines;
}

export function renderTable(report: BenchReport): string {
  const m = report.machine;
  const t = report.target;
  const where =
    t.kind === 'block'
      ? 'block device'
      : `file${t.temporary ? ' (temporary)' : ''}${t.storage.filesystem ? ` on ${String(t.storage.filesystem)}` : ''}`;
  const dev = t.storage.device ? ` [${String(t.storage.device)}]` : '';
  const lines = [
    `aioring-bench: ${describeParams(report, { sweepAware: true })}`,
    `target:  ${t.path} (${where}${dev}, ${formatBytes(t.region)} used, logical block ${t.logicalBlockSize})`,
    `machine: ${m.cores} cores, ${m.cpuModel}, Linux ${m.kernel}, node ${m.node}, ${m.fio ?? 'fio not installed'}`,
    `engines: auto = ${report.engines.auto ?? '-'}${report.engines.error ? ` (${report.engines.error})` : ''}; ` +
      (report.params.stream
        ? `ratios: throughput and CPU s/GiB vs ${report.references.fsPromises}, throughput vs ${report.references.fio[0]}; cache: MiB of the file in the page cache after the run`
        : `ratios: IOPS vs ${report.references.fsPromises} and vs ${report.references.fio[0]}; latency in µs`),
  ];
  const multi = report.points.length > 1;
  for (const point of report.points) {
    lines.push('');
    if (multi) lines.push(`== ${pointTitle(report, point)} ==`);
    lines.push(...pointSection(report, point));
  }
  lines.push(...notesSection(report));
  if (report.verificationFailed) {
    lines.push('', '!!! VERIFICATION FAILED: a driver read data that does not match the target pattern (see FAILED lines) !!!');
  }
  return lines.join('\n') + '\n';
}
