#!/usr/bin/env node
// One round of the durable-write pattern outside the bench: 32 workers each
// writing 4 KiB with O_DIRECT at random aligned positions of FILE, made
// durable either as ring.submit([write, fdatasync], { ordered: true })
// ('ordered'), as write(..., { dsync: true }) ('dsync'), or as a write
// awaited on its own and then datasync() ('await'), for SECONDS on
// ENGINE. Prints one JSON line: IOPS, the sync calls' latency from
// ring.stats() (counted from 0.3 s in), syncs coalesced and system calls.
// Alternate the modes in a shell loop to compare them; AIORING_NATIVE_PATH
// picks another build of the addon. FILE is created (256 MiB, written once,
// so no round pays for allocating blocks) or overwritten.
//
// usage: node tools/profile/ordered-vs-dsync.js FILE ENGINE SECONDS ordered|dsync|await
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [file, engine, secondsArg, mode] = process.argv.slice(2);
if (!file || !engine || !secondsArg || !['ordered', 'dsync', 'await'].includes(mode)) {
  console.error('usage: node tools/profile/ordered-vs-dsync.js FILE ENGINE SECONDS ordered|dsync|await');
  process.exit(2);
}
const { Ring, allocAligned } = require(path.join(__dirname, '..', '..', 'dist', 'lib', 'index.js'));
const size = 256 << 20;
const block = 4096;

if (!fs.existsSync(file) || fs.statSync(file).size !== size) {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20, 7);
  for (let i = 0; i < size / chunk.length; i++) fs.writeSync(fd, chunk);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

async function main() {
  const ring = new Ring({ depth: 32, engine });
  const handle = await ring.open(file, { write: true });
  let ops = 0;
  let stop = false;
  const started = process.hrtime.bigint();
  setTimeout(() => (stop = true), Number(secondsArg) * 1000);
  setTimeout(() => ring.resetStats(), 300);
  const worker = async () => {
    const buffer = allocAligned(block).fill(1);
    while (!stop) {
      const position = Math.floor(Math.random() * (size / block)) * block;
      if (mode === 'ordered') {
        const [written, synced] = await ring.submit(
          [{ op: 'write', file: handle, buffer, position }, { op: 'fdatasync', file: handle }],
          { ordered: true },
        );
        if (typeof written !== 'number') throw written;
        if (typeof synced !== 'number') throw synced;
      } else if (mode === 'await') {
        await handle.write(buffer, position);
        await handle.datasync();
      } else {
        await handle.write(buffer, position, { dsync: true });
      }
      ops++;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stats = ring.stats();
  const sync = stats.latencyUs.sync;
  console.log(
    JSON.stringify({
      engine: ring.engine,
      mode,
      iops: Math.round(ops / seconds),
      syncCallMeanUs: sync.count > 0 ? Math.round(sync.mean) : null,
      syncCalls: sync.count,
      syncsCoalesced: stats.syncsCoalesced,
      syscallsPerOp: Number((stats.syscalls / stats.completed).toFixed(2)),
    }),
  );
  await handle.close();
  await ring.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
