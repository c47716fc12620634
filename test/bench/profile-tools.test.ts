// The profiling tools in tools/profile back claims in README's Performance
// section, so they must keep building and running: each C tool is compiled
// with warnings as errors and run for a moment, and the JS loops are run
// against a small file on tmpfs (or the temp dir) with the built library.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines } from '../helpers/engines';
import { makePlaces, removePlaces, type Place } from '../helpers/places';

const profile = path.resolve(__dirname, '..', '..', 'tools', 'profile');
let places: Place[];
let dir: string;
let file: string;

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  expect(r.status, `${command} ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function compile(source: string): string {
  const binary = path.join(dir, path.basename(source, '.c'));
  run('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', binary, path.join(profile, source)]);
  return binary;
}

beforeAll(() => {
  places = makePlaces();
  dir = (places.find((p) => p.name === 'tmpfs') ?? places[0]).dir;
  file = path.join(dir, 'profile.dat');
  fs.writeFileSync(file, Buffer.alloc(4 << 20, 7));
});
afterAll(() => removePlaces(places));

describe('tools/profile tools', () => {
  it('reap-shapes.c runs both shapes, with the work and spin knobs', () => {
    const binary = compile('reap-shapes.c');
    const env = { REAP_SECONDS: '0.2', REAP_WORK_NS: '500', REAP_SPIN_US: '20' };
    expect(run(binary, [file, 'blocking'], env)).toMatch(/^blocking chunk 1: \d+ IOPS/);
    expect(run(binary, [file, 'loop', '4', 'read'], env)).toMatch(/^loop chunk 4: \d+ IOPS, [\d.]+ wake-ups per request/);
  });

  it('wakeup-cost.c runs', () => {
    const binary = compile('wakeup-cost.c');
    expect(run(binary, [file, '200'])).toMatch(/\d/);
  });

  it('qd-loop.js and qd1-loop.js report IOPS and latency with the built library', () => {
    expect(run(process.execPath, [path.join(profile, 'qd-loop.js'), file, '8', 'write', '0.2'])).toMatch(
      /^\w+ write qd 8: \d+ IOPS, user [\d.]+ µs\/op, system [\d.]+ µs\/op/,
    );
    expect(run(process.execPath, [path.join(profile, 'qd1-loop.js'), file, '200'])).toMatch(/200 reads, p50 [\d.]+ µs/);
    expect(run(process.execPath, [path.join(profile, 'qd-loop.js'), file, '8', 'read', '0.2', 'threadpool', '0', 'off'])).toMatch(
      /^\w+ read qd 8: \d+ IOPS, .*, latencyStats off$/m,
    );
  });

  it.runIf(availableEngines.includes('io_uring'))('ordered-batches.js compares ordered batches of two builds (here the same one twice)', () => {
    const root = path.resolve(__dirname, '..', '..');
    expect(run(process.execPath, [path.join(profile, 'ordered-batches.js'), file, root, '4', '0.1', '2'])).toMatch(
      /^this: \d+ batches\/s, batch p50 \d+ µs, linkedSubmits \d+, [\d.]+ syscalls per batch$[\s\S]*^this \/ other, per round: [\d. ]+; median [\d.]+x$/m,
    );
  });

  it('latency-record-cost.js times a LatencyRecorder update', () => {
    expect(run(process.execPath, [path.join(profile, 'latency-record-cost.js'), '0.5'])).toMatch(
      /^LatencyRecorder.record: [\d.]+ ns \(rounds [\d. ]+\); performance.now\(\): [\d.]+ ns$/m,
    );
  });
});
