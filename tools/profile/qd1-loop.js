#!/usr/bin/env node
// One read in flight at a time, awaited, as a database's point lookup would:
// the loop the QD 1 latency target times, stripped of the bench's harness so
// that perf and callgrind see only aioring and Node.
//
// usage: node tools/profile/qd1-loop.js FILE [READS] [ENGINE]
// FILE must exist and be at least 4 KiB; reads are 4 KiB at random aligned offsets.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Ring, allocAligned } = require(path.join(__dirname, '..', '..', 'dist', 'lib', 'index.js'));

async function main() {
  const [file, readsArg = '20000', engine = 'libaio'] = process.argv.slice(2);
  if (!file) throw new Error('usage: qd1-loop.js FILE [READS] [ENGINE]');
  const reads = Number(readsArg);
  const blocks = Math.floor(fs.statSync(file).size / 4096);
  const ring = new Ring({ depth: 1, engine });
  const handle = await ring.open(file);
  const buffer = allocAligned(4096);
  const latencies = new Float64Array(reads);
  let seed = 1;
  for (let i = 0; i < reads; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const started = performance.now();
    await handle.read(buffer, (seed % blocks) * 4096);
    latencies[i] = performance.now() - started;
  }
  latencies.sort();
  const stats = ring.stats();
  await ring.close();
  const p50 = (latencies[reads >> 1] * 1000).toFixed(1);
  console.log(`${ring.engine}: ${reads} reads, p50 ${p50} µs, ${(stats.syscalls / reads).toFixed(2)} aioring syscalls per read`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
