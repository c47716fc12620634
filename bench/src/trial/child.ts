// Entry point of a forked trial process: receives one TrialSpec over IPC, runs
// that driver once, sends back metrics (or an error), and exits. A fresh
// process per trial means no driver inherits another's JIT, heap or threads.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { alignedAllocator } from './aligned';
import { dropPageCache, pageCacheBytes } from '../setup/cache';
import type { Driver, TrialContext } from '../drivers/driver';
import { findDriver } from '../drivers/registry';
import { Pattern } from '../setup/pattern';
import { INTEGRITY_TUPLE_BYTES, rwReads, type ChildMessage, type ParentMessage, type TrialMetrics, type TrialSpec } from '../types';
import { Recorder, VerificationError, Verifier } from './workload';

/** Event-loop delays at least this long are called out in the report. */
const STALL_NOTE_MS = 200;

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

async function runTrial(spec: TrialSpec): Promise<TrialMetrics> {
  const driver = findDriver(spec.driver);
  if (!driver) throw new Error(`unknown driver ${spec.driver}`);
  const notes: string[] = [];
  const direct = spec.direct && !driver.buffered;
  if (spec.stream) notes.push(dropPageCache(spec.path, 3).note);
  else if (!direct && rwReads(spec.rw)) notes.push(dropPageCache(spec.path).note);
  const run = driver.measures === 'self' ? runSelfMeasured : runRecorded;
  const metrics = await run(driver, { ...spec, direct }, notes);
  if (spec.stream) addStreamFacts(metrics, spec.path);
  return metrics;
}

/**
 * What a stream trial adds: CPU seconds per GiB moved and how much of the
 * file the page cache holds afterwards (the write drivers' sha256 check reads
 * with O_DIRECT, which leaves the cache as the trial did).
 */
function addStreamFacts(metrics: TrialMetrics, path: string): void {
  const cpuS = metrics.cpu.userS + metrics.cpu.systemS;
  if (metrics.bytes > 0) metrics.extra.cpuSPerGiB = cpuS / (metrics.bytes / 2 ** 30);
  const cached = pageCacheBytes(path);
  if (cached.bytes !== null) metrics.extra.pageCacheMiB = cached.bytes / 2 ** 20;
  else metrics.notes.push(cached.note!);
}

/** A driver that measures itself (an outside tool): progress is its phase and the time in it. */
async function runSelfMeasured(driver: Driver, spec: TrialSpec, notes: string[]): Promise<TrialMetrics> {
  let phase: 'ramp' | 'run' = 'ramp';
  let phaseStart = Date.now();
  const timer = spec.progress
    ? setInterval(() => void send({ type: 'progress', phase, ops: null, elapsedS: (Date.now() - phaseStart) / 1000 }), 250)
    : null;
  const ctx = workerContext(spec, noBuffers, (p) => {
    phase = p;
    phaseStart = Date.now();
  });
  try {
    const result = await driver.run(ctx);
    if (!result.metrics) throw new Error(`${spec.label}: the driver measures itself but returned no metrics`);
    result.metrics.notes.unshift(...notes, ...result.notes);
    Object.assign(result.metrics.extra, result.extra);
    return result.metrics;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** A driver doing its I/O through the shared workload: the Recorder measures it, the Verifier checks its reads. */
async function runRecorded(driver: Driver, spec: TrialSpec, notes: string[]): Promise<TrialMetrics> {
  const allocator = alignedAllocator();
  if (allocator.source !== 'aioring') notes.push(`buffers from ${allocator.source} (aioring not loadable)`);
  const ctx = workerContext(spec, allocator.alloc, () => undefined);
  const { recorder, verifier } = ctx;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const timer = spec.progress
    ? setInterval(() => {
        if (recorder.phase === 'done') return;
        void send({ type: 'progress', phase: recorder.phase, ops: recorder.ops, elapsedS: recorder.phaseElapsedS });
      }, 250)
    : null;
  try {
    const outcome = await driver.run(ctx);
    loopDelay.disable();
    if (spec.verifyEvery === 0) notes.push('not verified (--no-verify)');
    const metrics = recorder.metrics(verifier.verified, [...notes, ...outcome.notes], outcome.extra);
    metrics.loopDelayMs = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    if (metrics.loopDelayMs.max >= STALL_NOTE_MS) {
      metrics.notes.push(`event loop stalled for up to ${Math.round(metrics.loopDelayMs.max)} ms (timers starved)`);
    }
    return metrics;
  } finally {
    loopDelay.disable();
    if (timer) clearInterval(timer);
  }
}

/** Drivers that measure themselves do their I/O in another process and get no buffers here. */
function noBuffers(): Buffer {
  throw new Error('a driver that measures itself allocates no bench buffers');
}

function trailerOf(spec: TrialSpec): { interval: number; bytes: number } | null {
  return spec.integrity ? { interval: spec.integrity.interval, bytes: INTEGRITY_TUPLE_BYTES[spec.integrity.format] } : null;
}

function workerContext(spec: TrialSpec, alloc: TrialContext['alloc'], setPhase: TrialContext['setPhase']): TrialContext {
  const pattern = new Pattern(spec.seed, trailerOf(spec));
  return {
    spec,
    recorder: new Recorder(spec),
    verifier: new Verifier(pattern, spec.verifyEvery, spec.label),
    pattern,
    alloc,
    setPhase,
  };
}

function main(): void {
  if (!process.send) {
    process.stderr.write('bench/child.js runs one trial for the bench runner and must be started with fork()\n');
    process.exit(2);
  }
  // Told to stop, or the parent went away (nobody to report to): stop what the driver started, and go.
  let driver: Driver | null = null;
  const quit = (code: number) => {
    driver?.stop?.();
    process.exit(code);
  };
  process.on('disconnect', () => quit(1));
  process.on('SIGTERM', () => quit(143));
  process.once('message', (msg: ParentMessage) => {
    if (msg?.type !== 'run') return;
    driver = findDriver(msg.spec.driver);
    runTrial(msg.spec).then(
      async (metrics) => {
        await send({ type: 'result', metrics });
        process.exit(0);
      },
      async (e: unknown) => {
        const err = e as Error;
        await send({
          type: 'error',
          message: err?.message ?? String(e),
          verification: err instanceof VerificationError,
        });
        process.exit(1);
      },
    );
  });
}

main();
