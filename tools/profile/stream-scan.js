#!/usr/bin/env node
// One cold sequential O_DIRECT scan of FILE per mode, in alternating rounds:
//   loop    8 workers each awaiting 1 MiB reads into an allocAligned buffer
//           (ordinary pages): the engine without the stream;
//   huge    the same loop into huge-page-backed buffers, as the streams use;
//   stream  file.createReadStream() with its defaults, consumed by for await.
// Per mode: MiB/s, CPU seconds per GiB (this process) and the device's read
// requests per GiB (/sys/dev/block/MAJ:MIN/stat), each the median of the
// rounds, and the median per-round throughput ratio to `loop`. The page cache
// is dropped before every scan (root). Fewer device requests than 1 per MiB
// means the block layer merged transfers; more means it split them.
//
// usage: node tools/profile/stream-scan.js FILE [ROUNDS] [MODES, comma-separated]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [file, roundsArg = '5', modesArg = 'loop,huge,stream'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tools/profile/stream-scan.js FILE [ROUNDS] [MODES]');
  process.exit(2);
}
const root = path.resolve(__dirname, '..', '..');
const { Ring, allocAligned } = require(path.join(root, 'dist', 'lib', 'index.js'));
const { allocHugePageBacked } = require(path.join(root, 'dist', 'lib', 'buffers.js'));

const MiB = 1 << 20;
const size = Math.floor(fs.statSync(file).size / MiB) * MiB;
const { dev } = fs.statSync(file);
const deviceStat = `/sys/dev/block/${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}/stat`;
const deviceReads = () => Number(fs.readFileSync(deviceStat, 'utf8').trim().split(/\s+/)[0]);

async function loop(handle, buffers) {
  let next = 0;
  await Promise.all(
    buffers.map(async (buffer) => {
      while (next < size) {
        const position = next;
        next += MiB;
        await handle.read(buffer, position);
      }
    }),
  );
}

const modes = {
  loop: (handle) => loop(handle, Array.from({ length: 8 }, () => allocAligned(MiB))),
  huge: (handle) => {
    const block = allocHugePageBacked(8 * MiB);
    return loop(handle, Array.from({ length: 8 }, (_, i) => block.subarray(i * MiB, (i + 1) * MiB)));
  },
  stream: async (handle) => {
    for await (const chunk of handle.createReadStream({ end: size - 1 })) void chunk;
  },
};

async function scan(ring, mode) {
  const handle = await ring.open(file);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
  const reads = deviceReads();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await modes[mode](handle);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const requests = deviceReads() - reads;
  await handle.close();
  const gib = size / 2 ** 30;
  return { mibps: size / MiB / seconds, cpuPerGiB: (used.user + used.system) / 1e6 / gib, requestsPerGiB: requests / gib };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

(async () => {
  const chosen = modesArg.split(',');
  for (const mode of chosen) if (!modes[mode]) throw new Error(`unknown mode ${mode}; modes: ${Object.keys(modes).join(', ')}`);
  const ring = new Ring();
  const results = Object.fromEntries(chosen.map((m) => [m, []]));
  for (let round = 0; round < Number(roundsArg); round++) {
    for (const mode of chosen) results[mode].push(await scan(ring, mode));
  }
  await ring.close();
  console.log(`${size / MiB} MiB of ${file}, ${roundsArg} rounds, engine ${ring.engine}; medians of the rounds`);
  console.log('mode      MiB/s  CPU s/GiB  device reads/GiB  vs loop (median per-round ratio)');
  for (const mode of chosen) {
    const rows = results[mode];
    const ratio = results.loop ? median(rows.map((r, i) => r.mibps / results.loop[i].mibps)).toFixed(2) + 'x' : '-';
    console.log(
      `${mode.padEnd(7)} ${median(rows.map((r) => r.mibps)).toFixed(0).padStart(7)}  ${median(rows.map((r) => r.cpuPerGiB)).toFixed(3).padStart(9)}  ${median(rows.map((r) => r.requestsPerGiB)).toFixed(0).padStart(16)}  ${ratio}`,
    );
  }
})();
