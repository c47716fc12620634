// Entry point of a forked trial process: receives one TrialSpec over IPC, runs
// that driver once, sends back metrics (or an error), and exits. A fresh
// process per trial means no driver inherits another's JIT, heap or threads.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { alignedAllocator } from './aligned';
import { dropPageCache } from './cache';
import { runAioringTrial } from './drivers/aioring';
import { runFioTrial, stopFio } from './drivers/fio';
import { runFsPromisesTrial } from './drivers/fs-promises';
import { findDriver } from './drivers/registry';
import { Pattern } from './pattern';
import { rwReads, type ChildMessage, type ParentMessage, type TrialMetrics, type TrialSpec } from './types';
import { Recorder, VerificationError, Verifier, type WorkerContext } from './workload';

/** Event-loop delays at least this long are called out in the report. */
const STALL_NOTE_MS = 200;

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

async function runTrial(spec: TrialSpec): Promise<TrialMetrics> {
  const def = findDriver(spec.driver);
  if (!def) throw new Error(`unknown driver ${spec.driver}`);
  const notes: string[] = [];
  const direct = spec.direct && !def.forceBuffered;

  if (!direct && rwReads(spec.rw)) notes.push(dropPageCache(spec.path).note);

  if (def.family === 'fio') {
    let phase: 'ramp' | 'run' = 'ramp';
    let phaseStart = Date.now();
    const timer = spec.progress
      ? setInterval(() => void send({ type: 'progress', phase, ops: null, elapsedS: (Date.now() - phaseStart) / 1000 }), 250)
      : null;
    try {
      const metrics = await runFioTrial({ ...spec, direct }, (p) => {
        phase = p;
        phaseStart = Date.now();
      });
      metrics.notes.unshift(...notes);
      return metrics;
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  const pattern = new Pattern(spec.seed);
  const recorder = new Recorder(spec);
  const verifier = new Verifier(pattern, spec.verifyEvery, spec.label);
  const allocator = alignedAllocator();
  if (allocator.source !== 'aioring') notes.push(`buffers from ${allocator.source} (aioring not loadable)`);
  const ctx: WorkerContext = { spec: { ...spec, direct }, recorder, verifier, pattern, alloc: allocator.alloc };

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const timer = spec.progress
    ? setInterval(() => {
        if (recorder.phase === 'done') return;
        void send({ type: 'progress', phase: recorder.phase, ops: recorder.ops, elapsedS: recorder.phaseElapsedS });
      }, 250)
    : null;
  try {
    let outcome: { notes: string[]; extra: Record<string, number | string> };
    if (def.family === 'aioring' || def.family === 'aioring-batch') {
      outcome = await runAioringTrial(ctx, {
        batch: def.family === 'aioring-batch',
        fixedBuffers: def.fixedBuffers === true,
        busyPollUs: def.busyPollUs ?? 0,
      });
    } else {
      outcome = await runFsPromisesTrial(ctx, direct);
    }
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

function main(): void {
  if (!process.send) {
    process.stderr.write('bench/child.js runs one trial for the bench runner and must be started with fork()\n');
    process.exit(2);
  }
  // Told to stop, or the parent went away (nobody to report to): stop fio if it runs, and go.
  const quit = (code: number) => {
    stopFio();
    process.exit(code);
  };
  process.on('disconnect', () => quit(1));
  process.on('SIGTERM', () => quit(143));
  process.once('message', (msg: ParentMessage) => {
    if (msg?.type !== 'run') return;
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
