// A self-contained SVG chart of a report: horizontal bars by driver for a
// single point, or one line per driver across a qd / bs sweep. No scripts,
// no external fonts or styles, so it renders anywhere and parses as XML.

import * as fs from 'node:fs';
import { formatSize } from '../options/sizes';
import type { BenchReport, DriverResult } from './results';
import type { DriverFamily } from '../drivers/registry';
import { compactNumber, describeParams, usesThroughput } from './format';

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const WIDTH = 960;

const FAMILY_COLORS: Record<DriverFamily, string> = {
  aioring: '#2f6fde',
  'aioring-batch': '#12a37f',
  'fs-promises': '#e08a1e',
  fio: '#7d7d7d',
};

const FAMILY_NAMES: Record<DriverFamily, string> = {
  aioring: 'aioring, promise per op',
  'aioring-batch': 'aioring, ring.submit batches',
  'fs-promises': 'fs.promises',
  fio: 'fio (reference)',
};

const FIO_COLORS: Record<string, string> = { 'fio-libaio': '#222222', 'fio-io_uring': '#6b6b6b', 'fio-psync': '#a8a8a8' };

/** Distinct colours for sweep lines (colour-blind friendly first). */
const SERIES_COLORS = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
  '#e377c2', '#17becf', '#bcbd22', '#393b79', '#637939', '#843c39', '#5254a3', '#7f7f7f',
];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** Tick values 0, step, 2*step, ... covering [0, max] with a 1/2/5 step. */
export function niceTicks(max: number, target = 6): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function text(x: number, y: number, content: string, attrs: Record<string, string | number> = {}): string {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  return `<text x="${num(x)}" y="${num(y)}"${extra}>${escapeXml(content)}</text>`;
}

function header(report: BenchReport, height: number): string[] {
  const t = report.target;
  const m = report.machine;
  const storage = [t.kind === 'block' ? 'block device' : t.storage.filesystem ? String(t.storage.filesystem) : 'file', t.storage.device]
    .filter(Boolean)
    .join(' on ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}" font-size="13">`,
    `<title>${escapeXml(`aioring-bench: ${describeParams(report)}`)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(24, 32, `aioring-bench — ${describeParams(report, { sweepAware: true })}`, { 'font-size': 18, 'font-weight': 600, fill: '#111' }),
    text(24, 54, `${m.cores} cores · Linux ${m.kernel} · node ${m.node} · ${storage} · ${formatSize(t.region)} region · ${m.fio ?? 'fio not installed'}`, {
      'font-size': 12,
      fill: '#555',
    }),
  ];
}

function metricOf(r: DriverResult, throughput: boolean): number | null {
  if (r.status !== 'ok' || !r.metrics) return null;
  return throughput ? r.metrics.mibps : r.metrics.iops;
}

function trialRange(r: DriverResult, throughput: boolean): [number, number] | null {
  const values = r.trials.filter((t) => t.status === 'ok' && t.metrics).map((t) => (throughput ? t.metrics!.mibps : t.metrics!.iops));
  if (values.length < 2) return null;
  return [Math.min(...values), Math.max(...values)];
}

function barChart(report: BenchReport): string {
  const throughput = usesThroughput(report);
  const unit = throughput ? 'MiB/s' : 'IOPS';
  const point = report.points[0];
  const rows = point ? point.results : [];
  const left = 210;
  const right = 170;
  const top = 104;
  const rowH = 30;
  const plotW = WIDTH - left - right;
  const plotH = Math.max(1, rows.length) * rowH;
  const height = top + plotH + 70;
  const maxValue = Math.max(0, ...rows.map((r) => Math.max(metricOf(r, throughput) ?? 0, trialRange(r, throughput)?.[1] ?? 0)));
  const ticks = niceTicks(maxValue || 1);
  const axisMax = ticks[ticks.length - 1];
  const x = (v: number) => left + (v / axisMax) * plotW;
  const out = header(report, height);

  // Legend: one swatch per family present.
  const families = [...new Set(rows.map((r) => r.family))];
  let lx = 24;
  for (const f of families) {
    out.push(`<rect x="${lx}" y="70" width="14" height="14" rx="2" fill="${FAMILY_COLORS[f]}"/>`);
    out.push(text(lx + 20, 82, FAMILY_NAMES[f], { fill: '#333' }));
    lx += 28 + FAMILY_NAMES[f].length * 7.2;
  }

  // Grid and x axis.
  out.push('<g class="axis x-axis">');
  for (const t of ticks) {
    out.push(`<line x1="${num(x(t))}" y1="${top - 6}" x2="${num(x(t))}" y2="${top + plotH}" stroke="#e3e3e3"/>`);
    out.push(text(x(t), top + plotH + 18, compactNumber(t), { 'text-anchor': 'middle', fill: '#444', 'font-size': 12 }));
  }
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top - 6}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(text(left + plotW / 2, top + plotH + 44, `${unit} (higher is better)`, { 'text-anchor': 'middle', fill: '#222' }));
  out.push('</g>');

  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const value = metricOf(r, throughput);
    out.push(`<g class="series" data-driver="${escapeXml(r.driver)}">`);
    out.push(text(left - 10, y + rowH / 2 + 4, r.label, { 'text-anchor': 'end', fill: '#222' }));
    if (value === null) {
      const why = r.status === 'skipped' ? `skipped: ${r.reason ?? ''}` : `failed: ${r.reason ?? ''}`;
      const short = why.length > 80 ? why.slice(0, 77) + '...' : why;
      out.push(text(left + 8, y + rowH / 2 + 4, short, { fill: r.status === 'failed' ? '#b00020' : '#888', 'font-style': 'italic', 'font-size': 12 }));
    } else {
      const w = Math.max(1, x(value) - left);
      out.push(
        `<rect x="${left}" y="${y + 5}" width="${num(w)}" height="${rowH - 10}" rx="2" fill="${FAMILY_COLORS[r.family]}"><title>${escapeXml(
          `${r.label}: ${compactNumber(value)} ${unit}`,
        )}</title></rect>`,
      );
      const range = trialRange(r, throughput);
      if (range) {
        const cy = y + rowH / 2;
        out.push(`<line x1="${num(x(range[0]))}" y1="${cy}" x2="${num(x(range[1]))}" y2="${cy}" stroke="#222" stroke-width="1.2"/>`);
        for (const v of range) out.push(`<line x1="${num(x(v))}" y1="${cy - 5}" x2="${num(x(v))}" y2="${cy + 5}" stroke="#222" stroke-width="1.2"/>`);
      }
      const ratioText = r.vsFsPromises !== null && r.driver !== report.references.fsPromises ? `  ${r.vsFsPromises.toFixed(2)}× fs` : '';
      const labelX = Math.max(x(value), range ? x(range[1]) : 0) + 6;
      out.push(text(labelX, y + rowH / 2 + 4, `${compactNumber(value)}${ratioText}`, { fill: '#222', 'font-size': 12 }));
    }
    out.push('</g>');
  });
  if (report.params.repeat > 1) {
    out.push(text(WIDTH - 24, height - 12, `bars: median of ${report.params.repeat}; whiskers: min–max`, { 'text-anchor': 'end', fill: '#666', 'font-size': 11 }));
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function lineChart(report: BenchReport): string {
  const sweep = report.params.sweep!;
  const throughput = usesThroughput(report);
  const unit = throughput ? 'MiB/s' : 'IOPS';
  const xs = sweep.values;
  const label = (v: number) => (sweep.param === 'bs' ? formatSize(v) : String(v));
  const pointAt = (v: number) => report.points.find((p) => (sweep.param === 'qd' ? p.qd === v : p.bs === v));
  const drivers: Array<{ id: string; label: string; family: DriverFamily }> = [];
  for (const p of report.points) {
    for (const r of p.results) {
      if (!drivers.some((d) => d.id === r.driver)) {
        drivers.push({ id: r.driver, label: r.driver === 'fs-promises-uv' ? 'fs-promises-uv(qd)' : r.label, family: r.family });
      }
    }
  }
  const left = 90;
  const right = 240;
  const top = 80;
  const plotH = 400;
  const plotW = WIDTH - left - right;
  const height = top + plotH + 80;
  let maxValue = 0;
  for (const p of report.points) for (const r of p.results) maxValue = Math.max(maxValue, metricOf(r, throughput) ?? 0);
  const ticks = niceTicks(maxValue || 1);
  const axisMax = ticks[ticks.length - 1];
  const xAt = (i: number) => left + (xs.length === 1 ? plotW / 2 : (i / (xs.length - 1)) * plotW);
  const yAt = (v: number) => top + plotH - (v / axisMax) * plotH;
  const out = header(report, height);

  out.push('<g class="axis y-axis">');
  for (const t of ticks) {
    out.push(`<line x1="${left}" y1="${num(yAt(t))}" x2="${left + plotW}" y2="${num(yAt(t))}" stroke="#e3e3e3"/>`);
    out.push(text(left - 8, yAt(t) + 4, compactNumber(t), { 'text-anchor': 'end', fill: '#444', 'font-size': 12 }));
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(text(22, top + plotH / 2, unit, { 'text-anchor': 'middle', fill: '#222', transform: `rotate(-90 22 ${top + plotH / 2})` }));
  out.push('</g>');
  out.push('<g class="axis x-axis">');
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  xs.forEach((v, i) => {
    out.push(`<line x1="${num(xAt(i))}" y1="${top + plotH}" x2="${num(xAt(i))}" y2="${top + plotH + 5}" stroke="#333"/>`);
    out.push(text(xAt(i), top + plotH + 20, label(v), { 'text-anchor': 'middle', fill: '#444', 'font-size': 12 }));
  });
  out.push(text(left + plotW / 2, top + plotH + 48, sweep.param === 'qd' ? 'queue depth' : 'block size', { 'text-anchor': 'middle', fill: '#222' }));
  out.push('</g>');

  let colorIndex = 0;
  drivers.forEach((d, di) => {
    const color = d.family === 'fio' ? (FIO_COLORS[d.id] ?? '#666') : SERIES_COLORS[colorIndex++ % SERIES_COLORS.length];
    const dash = d.family === 'fio' ? ' stroke-dasharray="7 4"' : d.family === 'fs-promises' ? ' stroke-dasharray="2 3"' : '';
    out.push(`<g class="series" data-driver="${escapeXml(d.id)}">`);
    // Consecutive measured points form a segment; a missing point breaks the line.
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1) {
        out.push(`<polyline points="${segment.join(' ')}" fill="none" stroke="${color}" stroke-width="2.2"${dash}/>`);
      }
      segment = [];
    };
    const markers: string[] = [];
    xs.forEach((v, i) => {
      const r = pointAt(v)?.results.find((x) => x.driver === d.id);
      const value = r ? metricOf(r, throughput) : null;
      if (value === null) return flush();
      segment.push(`${num(xAt(i))},${num(yAt(value))}`);
      markers.push(
        `<circle cx="${num(xAt(i))}" cy="${num(yAt(value))}" r="3.5" fill="${color}"><title>${escapeXml(
          `${r!.label} at ${sweep.param}=${label(v)}: ${compactNumber(value)} ${unit}`,
        )}</title></circle>`,
      );
    });
    flush();
    out.push(...markers);
    // Legend entry.
    const ly = top + 8 + di * 22;
    const lx = left + plotW + 24;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${color}" stroke-width="2.2"${dash}/>`);
    out.push(`<circle cx="${lx + 13}" cy="${ly}" r="3.5" fill="${color}"/>`);
    const status = markers.length === 0 ? ' (no data)' : '';
    out.push(text(lx + 34, ly + 4, `${d.label}${status}`, { fill: markers.length ? '#222' : '#999', 'font-size': 12 }));
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function renderSvg(report: BenchReport): string {
  return report.params.sweep && report.params.sweep.values.length > 1 ? lineChart(report) : barChart(report);
}

export function writeSvgReport(file: string, report: BenchReport): void {
  fs.writeFileSync(file, renderSvg(report));
}
