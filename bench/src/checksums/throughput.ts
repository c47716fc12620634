// --checksums: aioring's CRCs against npm @node-rs/crc32, side by side in one
// process. Every round measures each case for the same time, in an order that
// alternates between rounds; a ratio is the median of the per-round ratios, so
// it compares runs made back to back.

import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadAioring } from '../setup/aioring-lib';

type Checksum = (data: Buffer) => number | bigint;

interface Case {
  name: string;
  size: number;
  run: Checksum;
}

export interface ChecksumOptions {
  repeat: number;
  /** Seconds each case runs per round. */
  seconds: number;
  json: string | null;
}

export interface ChecksumRatio {
  name: string;
  size: number;
  ratio: number;
  bar: number;
  pass: boolean;
}

const SIZES = [4 * 1024, 64 * 1024];

function loadNodeRs(): { crc32c: (input: Buffer, initial?: number) => number } {
  // A bench dev dependency; resolved from the bench package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@node-rs/crc32');
}

function cases(): Case[] {
  const aioring = loadAioring();
  const nodeRs = loadNodeRs();
  return SIZES.flatMap((size) => [
    { name: 'aioring crc32c', size, run: (b: Buffer) => aioring.crc32c(b) },
    { name: '@node-rs/crc32 crc32c', size, run: (b: Buffer) => nodeRs.crc32c(b) },
    { name: 'aioring crc16t10dif', size, run: (b: Buffer) => aioring.crc16t10dif(b) },
    { name: 'aioring crc64nvme', size, run: (b: Buffer) => aioring.crc64nvme(b) },
  ]);
}

/** Bytes per second of `run` over `buffer` for about `seconds`. */
function measure(run: Checksum, buffer: Buffer, seconds: number): number {
  let sink = 0;
  let calls = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 64; i++) sink ^= Number(run(buffer)) & 1;
    calls += 64;
    now = performance.now();
  }
  if (sink === 2) process.stdout.write('');
  return (calls * buffer.length) / ((now - start) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function key(c: Pick<Case, 'name' | 'size'>): string {
  return `${c.name}@${c.size}`;
}

export function runChecksumBench(options: ChecksumOptions): { ratios: ChecksumRatio[]; code: number } {
  const all = cases();
  const buffers = new Map(SIZES.map((size) => [size, Buffer.alloc(size, 0x5a).map((_, i) => (i * 131) & 0xff) as Buffer]));
  const rates = new Map<string, number[]>(all.map((c) => [key(c), []]));
  // One round of warm-up, not recorded, so every case runs optimised code.
  for (const c of all) measure(c.run, buffers.get(c.size)!, Math.min(0.1, options.seconds));
  for (let round = 0; round < options.repeat; round++) {
    const order = round % 2 === 0 ? all : [...all].reverse();
    for (const c of order) rates.get(key(c))!.push(measure(c.run, buffers.get(c.size)!, options.seconds));
  }

  const lines: string[] = [];
  lines.push(`checksum throughput, median of ${options.repeat} alternating rounds of ${options.seconds} s per case (GB/s)`);
  lines.push('');
  lines.push(`${'function'.padEnd(24)}${SIZES.map((s) => `${s / 1024} KiB`.padStart(12)).join('')}`);
  for (const name of [...new Set(all.map((c) => c.name))]) {
    const cells = SIZES.map((size) => (median(rates.get(`${name}@${size}`)!) / 1e9).toFixed(2).padStart(12));
    lines.push(`${name.padEnd(24)}${cells.join('')}`);
  }

  const perRound = (a: string, b: string) => {
    const x = rates.get(a)!;
    const y = rates.get(b)!;
    return median(x.map((value, i) => value / y[i]!));
  };
  const checks: Array<[string, number, string, string, number]> = [
    ['crc32c vs @node-rs/crc32', 4096, 'aioring crc32c@4096', '@node-rs/crc32 crc32c@4096', 1.0],
    ['crc32c vs @node-rs/crc32', 65536, 'aioring crc32c@65536', '@node-rs/crc32 crc32c@65536', 1.0],
    ['crc16t10dif vs aioring crc32c', 65536, 'aioring crc16t10dif@65536', 'aioring crc32c@65536', 0.5],
    ['crc64nvme vs aioring crc32c', 65536, 'aioring crc64nvme@65536', 'aioring crc32c@65536', 0.5],
  ];
  const ratios = checks.map(([name, size, a, b, bar]) => {
    const ratio = perRound(a, b);
    return { name, size, ratio, bar, pass: ratio >= bar };
  });
  lines.push('');
  lines.push('ratio (median of per-round ratios)             size      ratio    bar');
  for (const r of ratios) {
    lines.push(`${r.name.padEnd(44)}${`${r.size / 1024} KiB`.padStart(8)}${r.ratio.toFixed(2).padStart(10)}${`>= ${r.bar.toFixed(2)}`.padStart(10)}  ${r.pass ? 'PASS' : 'FAIL'}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (options.json) {
    const medians = Object.fromEntries([...rates].map(([k, v]) => [k, median(v)]));
    fs.writeFileSync(options.json, `${JSON.stringify({ repeat: options.repeat, seconds: options.seconds, bytesPerSecond: medians, ratios }, null, 2)}\n`);
  }
  return { ratios, code: ratios.every((r) => r.pass) ? 0 : 1 };
}
