import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeJsonReport } from '../../bench/src/report/json';
import { escapeXml, niceTicks, renderSvg, writeSvgReport } from '../../bench/src/report/svg';
import { renderTable } from '../../bench/src/report/table';
import { compactNumber, usesThroughput } from '../../bench/src/report/format';
import { applyRatios, median, medianMetrics } from '../../bench/src/report/results';
import { allElements, parseXml } from './xml';
import { makeReport, metrics } from './fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-bench-report-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function seriesOf(svg: string): string[] {
  return allElements(parseXml(svg))
    .filter((e) => e.name === 'g' && e.attrs.class === 'series')
    .map((e) => e.attrs['data-driver']);
}

describe('the XML checker itself', () => {
  it('accepts well-formed and rejects broken documents', () => {
    expect(parseXml('<?xml version="1.0"?><a x="1"><b/>t &amp; u<!-- c --></a>').children).toHaveLength(1);
    for (const bad of ['<a>', '<a></b>', '<a x=1/>', '<a>&</a>', '<a/><b/>', '<a x="1" x="2"/>', '<a>1 < 2</a>', 'text']) {
      expect(() => parseXml(bad), bad).toThrow();
    }
  });
});

describe('SVG writer', () => {
  it('bar chart: parses as XML, one series per driver, axes, legend and title', () => {
    const report = makeReport();
    const svg = renderSvg(report);
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(seriesOf(svg)).toEqual(report.points[0].results.map((r) => r.driver));
    const texts = allElements(root).filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts.some((t) => t.includes('randread') && t.includes('bs=4k') && t.includes('qd=32'))).toBe(true);
    expect(texts).toContain('IOPS (higher is better)');
    expect(texts).toContain('fio (reference)'); // legend
    expect(texts).toContain('0'); // axis tick
    expect(texts.some((t) => t.startsWith('skipped: fio is not installed'))).toBe(true);
    expect(texts.some((t) => t.includes('Test CPU') || t.includes('2 cores'))).toBe(true);
    // Bars have widths proportional to IOPS.
    const rects = allElements(root).filter((e) => e.name === 'rect' && e.children.some((c) => c.name === 'title'));
    const width = (driver: string) => Number(rects.find((r) => r.children[0].text.startsWith(`${driver}:`))!.attrs.width);
    expect(width('fs-promises') / width('aioring-libaio')).toBeCloseTo(0.5, 2);
  });

  it('uses MiB/s for large blocks', () => {
    const report = makeReport({ sweep: { param: 'bs', values: [1 << 20] } });
    expect(usesThroughput(report)).toBe(true);
    const texts = allElements(parseXml(renderSvg(report))).filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toContain('MiB/s (higher is better)');
  });

  it('qd sweep: a line per driver across queue depths, with axis labels and legend', () => {
    const report = makeReport({ sweep: { param: 'qd', values: [1, 8, 32, 128] } });
    const svg = renderSvg(report);
    const root = parseXml(svg);
    const drivers = report.points[0].results.map((r) => r.driver);
    expect(seriesOf(svg)).toEqual(drivers);
    const groups = allElements(root).filter((e) => e.name === 'g' && e.attrs.class === 'series');
    for (const g of groups) {
      const hasData = g.attrs['data-driver'] !== 'fio-io_uring';
      const lines = g.children.filter((c) => c.name === 'polyline');
      const markers = g.children.filter((c) => c.name === 'circle' && c.children.length > 0);
      expect(lines.length, g.attrs['data-driver']).toBe(hasData ? 1 : 0);
      expect(markers.length).toBe(hasData ? 4 : 0);
      if (hasData) expect(lines[0].attrs.points.split(' ')).toHaveLength(4);
    }
    const texts = allElements(root).filter((e) => e.name === 'text').map((e) => e.text);
    for (const tick of ['1', '8', '32', '128', 'queue depth', 'IOPS', 'fs-promises-uv(qd)', 'fio-io_uring (no data)']) {
      expect(texts).toContain(tick);
    }
  });

  it('bs sweep: block sizes on the x axis, MiB/s on y', () => {
    const report = makeReport({ sweep: { param: 'bs', values: [4096, 65536, 1 << 20] } });
    const texts = allElements(parseXml(renderSvg(report))).filter((e) => e.name === 'text').map((e) => e.text);
    for (const t of ['4k', '64k', '1m', 'block size', 'MiB/s']) expect(texts).toContain(t);
  });

  it('escapes text and writes a file', () => {
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    const file = path.join(dir, 'chart.svg');
    writeSvgReport(file, makeReport());
    expect(() => parseXml(fs.readFileSync(file, 'utf8'))).not.toThrow();
  });

  it('niceTicks covers the maximum with round steps', () => {
    expect(niceTicks(72_000)).toEqual([0, 20_000, 40_000, 60_000, 80_000]);
    expect(niceTicks(9)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe('JSON writer', () => {
  it('writes every result with parameters and machine info, and reads back equal', () => {
    const report = makeReport({ sweep: { param: 'qd', values: [1, 32] } });
    const file = path.join(dir, 'sub', 'out.json');
    writeJsonReport(file, report);
    const back = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(back).toEqual(report);
    expect(back.machine).toMatchObject({ cores: 2, kernel: '6.18.0' });
    expect(back.target).toMatchObject({ kind: 'file', logicalBlockSize: 512 });
    expect(back.params).toMatchObject({ rw: 'randread', sweep: { param: 'qd', values: [1, 32] } });
    const r = back.points[1].results.find((x: { driver: string }) => x.driver === 'aioring-libaio');
    expect(Object.keys(r.metrics.latUs).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p90', 'p99', 'p999']);
    expect(r.vsFsPromises).toBeCloseTo(2, 6);
    expect(r.vsFio).toBeCloseTo(60 / 72, 6);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['out.json']); // no temporary left behind
  });
});

describe('table', () => {
  it('has a row per measured driver, skipped drivers named, ratios shown', () => {
    const text = renderTable(makeReport());
    expect(text).toMatch(/^driver\s+IOPS\s+MiB\/s\s+mean\s+p50\s+p99\s+p99\.9\s+usr s\s+sys s\s+IOPS\/CPU-s\s+RSS MiB\s+vs fs\s+vs fio$/m);
    expect(text).toMatch(/^aioring-libaio\s+60\.0k\s+234\.4\s.*\s2\.00x\s+0\.83x$/m);
    expect(text).toMatch(/^fs-promises-uv32\s/m);
    expect(text).toMatch(/skipped fio-io_uring: fio is not installed/);
    expect(text).toMatch(/aioring-libaio: 0\.05 syscalls\/op/);
  });

  it('one section per sweep point, and a loud line on verification failure', () => {
    const report = makeReport({ sweep: { param: 'qd', values: [1, 8] } });
    report.verificationFailed = true;
    const text = renderTable(report);
    expect(text).toMatch(/== qd=1 bs=4k ==/);
    expect(text).toMatch(/== qd=8 bs=4k ==/);
    expect(text).toMatch(/VERIFICATION FAILED/);
  });
});

describe('medians and ratios', () => {
  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('medianMetrics takes each metric on its own', () => {
    const m = medianMetrics([metrics(100, 4096), metrics(300, 4096), metrics(200, 4096, { maxRssMiB: null, notes: ['x'] })]);
    expect(m.iops).toBe(200);
    expect(m.maxRssMiB).toBe(55);
    expect(m.notes).toEqual(['x']);
  });

  it('ratios are null without a reference', () => {
    const report = makeReport();
    const point = report.points[0];
    applyRatios(point, { fsPromises: 'fs-promises', fio: ['fio-io_uring'] }); // fio-io_uring was skipped
    expect(point.fioReference).toBeNull();
    expect(point.results.every((r) => r.vsFio === null)).toBe(true);
    expect(point.results.find((r) => r.driver === 'fs-promises')!.vsFsPromises).toBe(1);
  });

  it('the fio reference falls back along the preference list', () => {
    const point = makeReport().points[0];
    applyRatios(point, { fsPromises: 'fs-promises', fio: ['fio-io_uring', 'fio-libaio'] });
    expect(point.fioReference).toBe('fio-libaio');
    expect(point.results.find((r) => r.driver === 'fio-libaio')!.vsFio).toBe(1);
  });

  it('compactNumber', () => {
    expect(compactNumber(74138)).toBe('74.1k');
    expect(compactNumber(1234567)).toBe('1.23M');
    expect(compactNumber(950)).toBe('950');
    expect(compactNumber(5460)).toBe('5.46k');
  });
});
