// A user's first program against an installed aioring: load it (require and
// import, and aioring/testing), probe the engines, and on every available engine write a pattern
// with O_DIRECT, read it back through per-op calls and a batch, and compare
// byte for byte. Copied into a directory where aioring is installed and run
// there; prints one JSON line, exits non-zero when any engine's round trip
// failed or no engine ran.
//
//   node round-trip.js DIR [ENGINE...]     (default: every available engine)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const BLOCK = 4096;
const BLOCKS = 16;

function pattern(seed) {
  const buffer = Buffer.alloc(BLOCK * BLOCKS);
  for (let i = 0; i < buffer.length; i += 4) buffer.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ seed) >>> 0, i);
  return buffer;
}

async function roundTrip(aioring, engine, dir) {
  const file = path.join(dir, `round-trip-${engine}.dat`);
  const ring = new aioring.Ring({ depth: 8, engine });
  try {
    if (ring.engine !== engine) throw new Error(`asked for ${engine}, got ${ring.engine}`);
    const handle = await ring.open(file, { write: true, create: true, truncate: true, direct: true });
    const expected = pattern(engine.length);
    const out = aioring.allocAligned(expected.length);
    expected.copy(out);
    // Per-op writes of each block, then one batch reading them back.
    await Promise.all(Array.from({ length: BLOCKS }, (_, i) => handle.write(out.subarray(i * BLOCK, (i + 1) * BLOCK), i * BLOCK)));
    const back = aioring.allocAligned(expected.length);
    const results = await ring.submit(
      Array.from({ length: BLOCKS }, (_, i) => ({ op: 'read', file: handle, buffer: back.subarray(i * BLOCK, (i + 1) * BLOCK), position: i * BLOCK })),
    );
    for (const r of results) if (r !== BLOCK) throw new Error(`batch read returned ${r instanceof Error ? r.code : r}`);
    if (!back.equals(expected)) throw new Error('batch read back different bytes');
    const single = aioring.allocAligned(expected.length);
    if ((await handle.read(single, 0)) !== expected.length || !single.equals(expected)) throw new Error('read back different bytes');
    await handle.close();
    return { engine, direct: handle.info.direct, bytes: expected.length };
  } finally {
    await ring.close();
    fs.rmSync(file, { force: true });
  }
}

async function main() {
  const [dir, ...engines] = process.argv.slice(2);
  if (!dir) throw new Error('usage: node round-trip.js DIR [ENGINE...]');
  const aioring = require('aioring');
  const esm = await import('aioring');
  if (esm.Ring !== aioring.Ring) throw new Error('import and require load different copies');
  if (typeof require('aioring/testing').createLoopDevice !== 'function') throw new Error('aioring/testing does not load');
  const probe = aioring.probeEngines();
  const wanted = engines.length > 0 ? engines : Object.keys(probe).filter((e) => probe[e].available);
  const autoRing = new aioring.Ring({ depth: 2 });
  const report = { arch: process.arch, node: process.version, probe, auto: autoRing.engine, passed: [], failed: {} };
  await autoRing.close();
  for (const engine of wanted) {
    try {
      report.passed.push((await roundTrip(aioring, engine, dir)).engine);
    } catch (e) {
      report.failed[engine] = `${e.code ?? ''} ${e.message}`.trim();
    }
  }
  console.log(JSON.stringify(report));
  if (report.passed.length === 0 || Object.keys(report.failed).length > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exitCode = 1;
});
