#!/usr/bin/env node
// Ordered batches of N 4 KiB O_DIRECT writes on io_uring, one batch at a time
// at random aligned positions of FILE, in alternating rounds between this
// checkout's build and another's (OTHER_DIR, e.g. a worktree of a commit
// before a change to how ordered batches run): batches per second and batch
// p50 per build as the median of its rounds, the median per-round ratio of
// this build to the other, and each build's linked submissions and system
// calls per batch. Both builds run in one process, so the disk's drift falls
// on both alike. FILE is overwritten; make it with e.g.
// `truncate -s 64M /var/tmp/ordered.dat`.
//
// usage: node tools/profile/ordered-batches.js FILE OTHER_DIR [N] [SECONDS_PER_ROUND] [ROUNDS]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [file, otherDir, nArg = '8', secondsArg = '1', roundsArg = '5'] = process.argv.slice(2);
if (!file || !otherDir) {
  console.error('usage: node tools/profile/ordered-batches.js FILE OTHER_DIR [N] [SECONDS_PER_ROUND] [ROUNDS]');
  process.exit(2);
}
const n = Number(nArg);
const roundMs = Number(secondsArg) * 1000;
const rounds = Number(roundsArg);
const blocks = Math.floor(fs.statSync(file).size / 4096);
if (blocks < n) throw new Error(`${file} holds ${blocks} blocks of 4 KiB; ${n} are needed`);

async function open(dir) {
  const { Ring, allocAligned } = require(path.join(path.resolve(dir), 'dist', 'lib', 'index.js'));
  const ring = new Ring({ engine: 'io_uring', depth: Math.max(64, n) });
  const target = await ring.open(file, { write: true });
  const buffers = Array.from({ length: n }, (_, i) => allocAligned(4096).fill(i));
  return { ring, target, buffers, rates: [], p50s: [] };
}

async function round(build) {
  const latencies = [];
  const end = performance.now() + roundMs;
  while (performance.now() < end) {
    const first = Math.floor(Math.random() * (blocks - n + 1));
    const ops = build.buffers.map((buffer, i) => ({ op: 'write', file: build.target, buffer, position: (first + i) * 4096 }));
    const started = performance.now();
    const results = await build.ring.submit(ops, { ordered: true });
    latencies.push(performance.now() - started);
    const failed = results.find((result) => result !== 4096);
    if (failed !== undefined) throw failed;
  }
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / (roundMs / 1000), p50: latencies[latencies.length >> 1] * 1000 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

(async () => {
  const builds = { this: await open(path.join(__dirname, '..', '..')), other: await open(otherDir) };
  await round(builds.this);
  await round(builds.other);
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const got = {};
    for (const name of r % 2 ? ['other', 'this'] : ['this', 'other']) {
      got[name] = await round(builds[name]);
      builds[name].rates.push(got[name].rate);
      builds[name].p50s.push(got[name].p50);
    }
    ratios.push(got.this.rate / got.other.rate);
  }
  for (const [name, build] of Object.entries(builds)) {
    const stats = build.ring.stats();
    console.log(
      `${name}: ${median(build.rates).toFixed(0)} batches/s, batch p50 ${median(build.p50s).toFixed(0)} µs, ` +
        `linkedSubmits ${stats.linkedSubmits ?? 0}, ${(stats.syscalls / (stats.submitted / n)).toFixed(1)} syscalls per batch`,
    );
    await build.target.close();
    await build.ring.close();
  }
  console.log(`this / other, per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)}x`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
