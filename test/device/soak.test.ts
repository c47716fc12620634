// A bounded soak on a loop device at queue depth 128: random 4 KiB writes of
// self-describing blocks (position, sequence number, checksum) and random
// reads that check every block they see against what had been acknowledged
// when the read was issued. Zero mismatches, zero lost completions (every
// promise settles, and is counted), and resident memory that stays flat.
//
// Time: AIORING_SOAK_SECONDS for the engine 'auto' picks (default 60 s when
// CI=true, 10 s otherwise), then a fifth of that on each other engine; with
// the CI default the whole soak takes 60 + 2 * 12 = 84 s.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioFile, Ring, allocAligned } from '../../lib/index';
import type { EngineName } from '../../lib/index';
import { availableEngines } from '../helpers/engines';
import { createLoopDevice } from '../../lib/testing/index';
import type { LoopDevice } from '../../lib/testing/index';
import { seededRandom } from '../helpers/random';
import { inCI, rootSuiteSkipReason } from '../helpers/root';
import { settleAll } from '../helpers/settle';

const skipReason = rootSuiteSkipReason('loop-device suites');

const soakSeconds = Number(process.env.AIORING_SOAK_SECONDS || (inCI ? 60 : 10));
if (!(soakSeconds > 0)) throw new Error(`AIORING_SOAK_SECONDS must be a positive number of seconds, not '${process.env.AIORING_SOAK_SECONDS}'`);
const otherEngineSeconds = Math.max(2, Math.round(soakSeconds / 5));
const depth = 128;
// More than the depth, so requests also wait in the ring's queue.
const outstandingTarget = 192;
const blockSize = 4096;
const blockCount = 16384; // a 64 MiB device
const maxReadBlocks = 4;
const rssGrowthLimit = 32 * 1024 * 1024;

const random = seededRandom();
if (skipReason === undefined) console.log(`soak: seed ${random.seed}, ${soakSeconds} s on the auto engine, ${otherEngineSeconds} s on each other one`);

// Block layout: magic, position, sequence number, checksum over everything else.
const magic = 0x4b414f53; // 'SOAK'
const headerWords = 5; // magic, position low, position high, sequence, checksum
const checksumWord = 4;

function checksum(words: Uint32Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    if (i === checksumWord) continue;
    hash = Math.imul(hash ^ words[i]!, 0x01000193) >>> 0;
  }
  return hash;
}

function fillBlock(block: Uint8Array, index: number, sequence: number): void {
  const words = new Uint32Array(block.buffer, block.byteOffset, blockSize / 4);
  const position = index * blockSize;
  words[0] = magic;
  words[1] = position >>> 0;
  words[2] = Math.floor(position / 2 ** 32);
  words[3] = sequence;
  // Payload depends on the sequence number, so a stale block cannot pass for a new one.
  let x = (sequence * 0x9e3779b1) ^ index ^ 0xdeadbeef;
  for (let i = headerWords; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  words[checksumWord] = checksum(words);
}

/** The sequence number a block holds: 0 for a never-written (all-zero) block, -1 if it is corrupt or misplaced. */
function decodeBlock(block: Uint8Array, index: number): number {
  const words = new Uint32Array(block.buffer, block.byteOffset, blockSize / 4);
  if (words[0] === 0) {
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return -1;
    return 0;
  }
  const position = index * blockSize;
  if (words[0] !== magic || words[1] !== position >>> 0 || words[2] !== Math.floor(position / 2 ** 32)) return -1;
  if (words[checksumWord] !== checksum(words)) return -1;
  return words[3]!;
}

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface SoakReport {
  engine: EngineName;
  seconds: number;
  writes: number;
  reads: number;
  blocksVerified: number;
  overlappedReads: number;
  mismatches: string[];
  failures: string[];
  issued: number;
  settled: number;
  rssAfterWarmup: number;
  rssAtEnd: number;
  /** RSS every few seconds after warm-up (no forced collection), to tell a leak from noise. */
  rssSamples: number[];
}

/**
 * The model: per block, the newest acknowledged sequence number and the newest
 * issued one. Writes to a block are never in flight two at a time, so the
 * newest acknowledged write is the block's content once nothing is in flight.
 */
class Model {
  readonly acknowledged = new Uint32Array(blockCount);
  readonly issued = new Uint32Array(blockCount);
  readonly writing = new Uint8Array(blockCount);
  sequence = 0;
}

async function soak(ring: Ring, file: AioFile, model: Model, seconds: number): Promise<SoakReport> {
  const report: SoakReport = {
    engine: ring.engine,
    seconds,
    writes: 0,
    reads: 0,
    blocksVerified: 0,
    overlappedReads: 0,
    mismatches: [],
    failures: [],
    issued: 0,
    settled: 0,
    rssAfterWarmup: 0,
    rssAtEnd: 0,
    rssSamples: [],
  };
  const sampleEvery = Math.max(1_000, (seconds * 1000) / 10);
  let nextSample = 0;
  const pool = Array.from({ length: outstandingTarget }, () => allocAligned(maxReadBlocks * blockSize));
  const pending = new Set<Promise<void>>();
  const start = Date.now();
  const warmupEnd = start + Math.min(5_000, Math.max(1_000, seconds * 200));
  const deadline = start + seconds * 1000;
  let warmedUp = false;
  let wake: (() => void) | undefined;

  const track = (promise: Promise<void>, buffer: Buffer) => {
    report.issued++;
    const tracked: Promise<void> = promise.finally(() => {
      report.settled++;
      pending.delete(tracked);
      pool.push(buffer);
      wake?.();
    });
    pending.add(tracked);
  };

  const issueWrite = () => {
    let index = random.int(0, blockCount - 1);
    for (let tries = 0; model.writing[index] && tries < 8; tries++) index = random.int(0, blockCount - 1);
    if (model.writing[index]) return false;
    const sequence = ++model.sequence;
    const buffer = pool.pop()!;
    const block = buffer.subarray(0, blockSize);
    fillBlock(block, index, sequence);
    model.writing[index] = 1;
    model.issued[index] = sequence;
    report.writes++;
    track(
      file.write(block, index * blockSize).then(
        (bytes) => {
          model.writing[index] = 0;
          if (bytes !== blockSize) report.failures.push(`write of block ${index} returned ${bytes}`);
          else model.acknowledged[index] = sequence;
        },
        (error: Error) => {
          model.writing[index] = 0;
          report.failures.push(`write of block ${index}: ${error.message}`);
        },
      ),
      buffer,
    );
    return true;
  };

  const issueRead = () => {
    const count = random.int(1, maxReadBlocks);
    const first = random.int(0, blockCount - count);
    // What each block must at least show: the newest write acknowledged now.
    const floor = Array.from({ length: count }, (_, i) => model.acknowledged[first + i]!);
    let overlapped = false;
    for (let i = 0; i < count; i++) if (model.writing[first + i]) overlapped = true;
    if (overlapped) report.overlappedReads++;
    const pooled = pool.pop()!;
    const buffer = pooled.subarray(0, count * blockSize);
    report.reads++;
    track(
      file.read(buffer, first * blockSize).then(
        (bytes) => {
          if (bytes !== count * blockSize) {
            report.failures.push(`read of ${count} blocks at ${first} returned ${bytes}`);
            return;
          }
          for (let i = 0; i < count; i++) {
            const index = first + i;
            const seen = decodeBlock(buffer.subarray(i * blockSize, (i + 1) * blockSize), index);
            report.blocksVerified++;
            // Never older than what was acknowledged when the read was issued,
            // never newer than what has been issued by now, never corrupt.
            if (seen < 0 || seen < floor[i]! || seen > model.issued[index]!) {
              if (report.mismatches.length < 20) {
                report.mismatches.push(`block ${index}: saw ${seen}, acknowledged at issue ${floor[i]}, newest issued ${model.issued[index]}`);
              } else if (report.mismatches.length === 20) {
                report.mismatches.push('...');
              }
            }
          }
        },
        (error: Error) => {
          report.failures.push(`read of ${count} blocks at ${first}: ${error.message}`);
        },
      ),
      pooled,
    );
  };

  while (Date.now() < deadline) {
    while (pending.size < outstandingTarget && pool.length > 0) {
      if (random.next() < 0.5) {
        if (!issueWrite()) issueRead();
      } else {
        issueRead();
      }
    }
    // Woken by the next settlement; the timer only keeps a lost completion
    // from hanging the loop (settleAll below then names the count).
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, 10_000);
    });
    clearTimeout(timer);
    wake = undefined;
    if (!warmedUp && Date.now() >= warmupEnd) {
      warmedUp = true;
      collectGarbage();
      report.rssAfterWarmup = process.memoryUsage().rss;
      nextSample = Date.now() + sampleEvery;
    }
    if (warmedUp && Date.now() >= nextSample) {
      report.rssSamples.push(process.memoryUsage().rss);
      nextSample += sampleEvery;
    }
  }
  if (!warmedUp) {
    collectGarbage();
    report.rssAfterWarmup = process.memoryUsage().rss;
  }
  // Every promise must settle: a lost completion fails here with a count.
  await settleAll([...pending], 30_000, 'soak requests');
  collectGarbage();
  report.rssAtEnd = process.memoryUsage().rss;
  return report;
}

// Allocated once and reused by every run, so the final check leaves no
// garbage behind to blur the next run's memory figures.
const verifyChunkBlocks = 256;
const verifyBatch = 8;
let verifyBuffers: Buffer[] | undefined;

/** With nothing in flight, every block must hold exactly its newest acknowledged write. */
async function verifyWholeDevice(ring: Ring, file: AioFile, model: Model): Promise<string[]> {
  const problems: string[] = [];
  verifyBuffers ??= Array.from({ length: verifyBatch }, () => allocAligned(verifyChunkBlocks * blockSize));
  const buffers = verifyBuffers;
  for (let firstChunk = 0; firstChunk < blockCount / verifyChunkBlocks; firstChunk += verifyBatch) {
    const results = await ring.submit(
      buffers.map((buffer, i) => ({ op: 'read' as const, file, buffer, position: (firstChunk + i) * verifyChunkBlocks * blockSize })),
    );
    results.forEach((result, i) => {
      const chunk = firstChunk + i;
      if (result !== verifyChunkBlocks * blockSize) {
        problems.push(`final read of chunk ${chunk}: ${result instanceof Error ? result.message : result}`);
        return;
      }
      for (let j = 0; j < verifyChunkBlocks && problems.length < 20; j++) {
        const index = chunk * verifyChunkBlocks + j;
        const seen = decodeBlock(buffers[i]!.subarray(j * blockSize, (j + 1) * blockSize), index);
        if (seen !== model.acknowledged[index]) problems.push(`block ${index} holds ${seen}, newest acknowledged ${model.acknowledged[index]}`);
      }
    });
  }
  return problems;
}

describe.skipIf(skipReason !== undefined)('soak on a loop device', () => {
  let loop: LoopDevice | undefined;
  const model = new Model();

  beforeAll(async () => {
    // 4096-byte sectors: each block is one sector, which the device writes
    // whole, so a read racing a write sees the old block or the new one.
    loop = await createLoopDevice({ sizeMiB: (blockCount * blockSize) / 1024 ** 2, sectorSize: 4096 });
  });
  afterAll(() => loop?.close());

  // The engine 'auto' picks (Linux AIO first, or AIORING_ENGINE) gets the long
  // run; every other available engine a shorter one.
  const autoEngine = (() => {
    const probe = new Ring({ depth: 1 });
    void probe.close();
    return probe.engine;
  })();
  const plan: Array<{ label: string; engine: EngineName | 'auto'; seconds: number }> = [
    { label: `auto (${autoEngine})`, engine: 'auto', seconds: soakSeconds },
    ...availableEngines.filter((engine) => engine !== autoEngine).map((engine) => ({ label: engine, engine, seconds: otherEngineSeconds })),
  ];

  it.each(plan)('$label engine: no mismatches, no lost completions, flat memory', async ({ label, engine, seconds }) => {
    const ring = new Ring({ depth, engine });
    try {
      const file = await ring.open(loop!.path, { write: true });
      const before = ring.stats();
      const report = await soak(ring, file, model, seconds);
      const after = ring.stats();
      const growth = report.rssAtEnd - report.rssAfterWarmup;
      console.log(
        `soak ${label} (${report.engine}) ${seconds} s: ${report.writes} writes, ${report.reads} reads ` +
          `(${report.overlappedReads} racing a write), ${report.blocksVerified} blocks verified, ` +
          `${Math.round((report.writes + report.reads) / seconds)} req/s; ${report.issued} issued, ${report.settled} settled; ` +
          `${report.mismatches.length} mismatches, ${report.failures.length} failures; ` +
          `RSS ${mb(report.rssAfterWarmup)} after warm-up, ${mb(report.rssAtEnd)} at end (${growth >= 0 ? '+' : ''}${mb(growth)}); ` +
          `samples ${report.rssSamples.length ? `${report.rssSamples.map((rss) => (rss / 1024 / 1024).toFixed(0)).join(' ')} MiB` : 'none'}`,
      );
      expect(report.failures).toEqual([]);
      expect(report.mismatches).toEqual([]);
      expect(report.settled).toBe(report.issued);
      expect(report.issued).toBe(report.writes + report.reads);
      expect(report.reads).toBeGreaterThan(0);
      expect(report.writes).toBeGreaterThan(0);
      expect(after.completed - before.completed).toBe(report.issued);
      expect(after.submitted - before.submitted).toBe(report.issued);
      expect(after.inflight).toBe(0);
      expect(after.queued).toBe(0);
      expect(await verifyWholeDevice(ring, file, model)).toEqual([]);
      expect(report.rssAfterWarmup).toBeGreaterThan(0);
      expect(growth).toBeLessThan(rssGrowthLimit);
    } finally {
      await ring.close();
    }
  }, (soakSeconds + 90) * 1000);
});
