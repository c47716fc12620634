#!/usr/bin/env node
// QD requests kept in flight by QD async workers, each awaiting one 4 KiB
// O_DIRECT read or write at a random aligned offset before issuing the next:
// the shape of the bench's per-op driver without its harness (no latency
// histogram, pattern or verification), to tell the library's cost from the
// bench's, and to run beside fio and reap-shapes.c in the same minute.
//
// usage: node tools/profile/qd-loop.js FILE [QD] [read|write] [SECONDS] [ENGINE] [BUSY_POLL_US] [LATENCY_STATS]
// FILE must exist; write overwrites it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Ring, allocAligned } = require(path.join(__dirname, '..', '..', 'dist', 'lib', 'index.js'));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const [file, qdArg = '32', mode = 'read', secondsArg = '3', engine = 'libaio', busyPollArg = '0', latencyArg = 'on'] = process.argv.slice(2);
  if (!file || (mode !== 'read' && mode !== 'write')) throw new Error('usage: qd-loop.js FILE [QD] [read|write] [SECONDS] [ENGINE] [BUSY_POLL_US] [on|off]');
  const qd = Number(qdArg);
  const blocks = Math.floor(fs.statSync(file).size / 4096);
  const ring = new Ring({ depth: qd, engine, busyPollUs: Number(busyPollArg), latencyStats: latencyArg !== 'off' });
  const handle = await ring.open(file, { write: mode === 'write' });
  let done = 0;
  let stopped = false;
  let seed = 1;
  const worker = async (index) => {
    const buffer = allocAligned(4096);
    buffer.fill(index + 1);
    while (!stopped) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const position = (seed % blocks) * 4096;
      if (mode === 'write') await handle.write(buffer, position);
      else await handle.read(buffer, position);
      done++;
    }
  };
  const workers = Array.from({ length: qd }, (_, index) => worker(index));
  await sleep(300); // warm-up, not measured
  const doneBefore = done;
  const cpuBefore = process.cpuUsage();
  const syscallsBefore = ring.stats().syscalls;
  const started = performance.now();
  await sleep(Number(secondsArg) * 1000);
  const ops = done - doneBefore;
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const syscalls = ring.stats().syscalls - syscallsBefore;
  stopped = true;
  await Promise.all(workers);
  await ring.close();
  console.log(
    `${ring.engine} ${mode} qd ${qd}: ${Math.round(ops / elapsed)} IOPS, user ${(cpu.user / ops).toFixed(2)} µs/op, ` +
      `system ${(cpu.system / ops).toFixed(2)} µs/op, ${(syscalls / ops).toFixed(3)} aioring syscalls/op${latencyArg === 'off' ? ', latencyStats off' : ''}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
