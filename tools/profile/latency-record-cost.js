#!/usr/bin/env node
// What recording one request's latency costs in JS, in nanoseconds: the
// LatencyRecorder update the dispatcher makes per completion, on latencies
// spread like a QD 32 run's (20 to 420 µs), and one performance.now() for
// comparison. Pure CPU in one process, so it repeats from run to run where
// IOPS on a shared machine do not; divide by qd-loop.js's CPU per request to
// get the share of a request's cost.
//
// usage: node tools/profile/latency-record-cost.js [MILLION_RECORDS] [LIBRARY_DIR]
'use strict';
const path = require('node:path');

const [millionsArg = '20', libraryDir = path.join(__dirname, '..', '..')] = process.argv.slice(2);
const { LatencyRecorder } = require(path.join(path.resolve(libraryDir), 'dist', 'lib', 'latency.js'));
const { OpCodes } = require(path.join(path.resolve(libraryDir), 'dist', 'lib', 'native-contract.js'));

const records = Number(millionsArg) * 1e6;
const latencies = new Float64Array(4096);
let seed = 1;
for (let i = 0; i < latencies.length; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  latencies[i] = 20_000 + (seed % 400_000) + (seed & 1023) / 1024;
}

function nsPer(count, body) {
  const started = process.hrtime.bigint();
  const sink = body(count);
  const ns = Number(process.hrtime.bigint() - started) / count;
  if (sink === 0.5) console.log(''); // keeps the loop's result alive
  return ns;
}

const recorder = new LatencyRecorder();
const recordAll = (count) => {
  for (let i = 0; i < count; i++) recorder.record(OpCodes.read, latencies[i & 4095]);
  return recorder.histograms.read.count;
};
const readClock = (count) => {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += performance.now();
  return sum;
};
const rounds = 5;
const recordNs = [];
const clockNs = [];
for (let round = 0; round < rounds; round++) {
  recordNs.push(nsPer(records / rounds, recordAll));
  clockNs.push(nsPer(records / rounds / 10, readClock));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(
  `LatencyRecorder.record: ${median(recordNs).toFixed(1)} ns (rounds ${recordNs.map((v) => v.toFixed(1)).join(' ')}); ` +
    `performance.now(): ${median(clockNs).toFixed(1)} ns`,
);
