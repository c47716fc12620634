// Runs a plan: every trial in its own forked child process, repetitions
// alternating between drivers (and reversing order on odd rounds so no driver
// always runs first or last), medians over repetitions, ratios to references.

import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Plan, PlannedDriver } from '../setup/plan';
import { trialSpec } from '../setup/plan';
import { restoreTarget, type Log } from '../setup/prepare';
import { applyRatios, medianMetrics, type DriverResult, type PointResult, type TrialOutcome } from '../report/results';
import { rwReads, rwWrites, type ChildMessage, type ParentMessage, type TrialSpec } from '../types';

export interface TrialProgress {
  spec: TrialSpec;
  index: number;
  total: number;
  repetition: number;
  phase: 'start' | 'ramp' | 'run';
  ops: number | null;
  elapsedS: number;
}

export interface RunnerOptions {
  /** The compiled child entry; defaults to child.js beside this file. */
  childScript?: string;
  log: Log;
  onProgress?: (p: TrialProgress) => void;
  onTrialEnd?: (spec: TrialSpec, outcome: TrialOutcome) => void;
  /** Send progress messages from children (only worth it when someone shows them). */
  progress: boolean;
}

/** Environment of a trial's child: UV_THREADPOOL_SIZE only for the -uv driver. */
export function childEnv(spec: TrialSpec, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env.UV_THREADPOOL_SIZE;
  delete env.NODE_OPTIONS; // no inherited loaders, inspectors or heap flags in a measured process
  if (spec.uvThreads !== undefined) env.UV_THREADPOOL_SIZE = String(spec.uvThreads);
  return env;
}

function trialTimeoutMs(spec: TrialSpec): number {
  if (spec.runtimeS !== null) return (spec.rampS + spec.runtimeS) * 1000 + 120_000;
  return 30 * 60_000;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after graceMs if the child is still there; resolves once it has exited. */
function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (!alive(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (alive(child)) child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export class Runner {
  private current: ChildProcess | null = null;
  private aborted = false;

  constructor(private readonly opts: RunnerOptions) {}

  /**
   * Stops the run: asks the running trial's child to stop (SIGTERM, so it can
   * stop fio), kills it after a grace period, and runs no more trials.
   * Resolves when the child is gone.
   */
  abort(graceMs = 1500): Promise<void> {
    this.aborted = true;
    const child = this.current;
    return child ? terminate(child, graceMs) : Promise.resolve();
  }

  get wasAborted(): boolean {
    return this.aborted;
  }

  /** Runs one trial in a fresh child process. */
  runTrial(spec: TrialSpec, onMessage?: (m: ChildMessage) => void): Promise<Omit<TrialOutcome, 'repetition'>> {
    const script = this.opts.childScript ?? path.join(__dirname, 'child.js');
    const started = performance.now();
    return new Promise((resolve) => {
      const child = fork(script, [], {
        env: childEnv(spec),
        execArgv: [],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      this.current = child;
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-4000);
      });
      child.stdout?.resume();
      let settled: Omit<TrialOutcome, 'repetition'> | null = null;
      const wallS = () => (performance.now() - started) / 1000;
      const timer = setTimeout(() => {
        settled ??= { status: 'failed', metrics: null, error: `timed out after ${trialTimeoutMs(spec) / 1000} s`, verification: false, wallS: wallS() };
        void terminate(child, 2000);
      }, trialTimeoutMs(spec));
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'result') settled ??= { status: 'ok', metrics: m.metrics, error: null, verification: false, wallS: wallS() };
        else if (m.type === 'error') settled ??= { status: 'failed', metrics: null, error: m.message, verification: m.verification, wallS: wallS() };
        else onMessage?.(m);
      });
      child.on('error', (e) => {
        settled ??= { status: 'failed', metrics: null, error: `could not start the trial process: ${e.message}`, verification: false, wallS: wallS() };
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.current = null;
        if (!settled) {
          const tail = stderr.trim().split('\n').slice(-5).join(' / ');
          const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
          settled = {
            status: 'failed',
            metrics: null,
            error: this.aborted ? 'interrupted' : `trial process ${how} without a result${tail ? `: ${tail}` : ''}`,
            verification: false,
            wallS: wallS(),
          };
        }
        resolve(settled);
      });
      const msg: ParentMessage = { type: 'run', spec };
      child.send(msg);
    });
  }

  /** Runs every point, repetition and driver of the plan. */
  async run(plan: Plan): Promise<PointResult[]> {
    const available = plan.drivers.filter((d) => d.available);
    const total = plan.points.length * plan.options.repeat * available.length;
    const points: PointResult[] = [];
    const brokenDrivers = new Map<string, string>(); // driver id -> why it is not run again
    let dirty = false; // a driver wrote its own data over the pattern
    let index = 0;
    const reads = rwReads(plan.options.rw);
    const verifying = plan.options.verifyEvery > 0 && reads;

    for (const point of plan.points) {
      const byDriver = new Map<string, DriverResult>();
      for (const d of plan.drivers) {
        byDriver.set(d.driver.id, {
          driver: d.driver.id,
          label: trialSpec(plan, d.driver, point, false).label,
          family: d.driver.family,
          status: d.available ? 'ok' : 'skipped',
          reason: d.reason,
          metrics: null,
          trials: [],
          vsFsPromises: null,
          vsFio: null,
        });
      }
      for (let rep = 0; rep < plan.options.repeat; rep++) {
        const order: PlannedDriver[] = rep % 2 === 0 ? available : [...available].reverse();
        for (const d of order) {
          if (this.aborted) break;
          index++;
          const result = byDriver.get(d.driver.id)!;
          const broken = brokenDrivers.get(d.driver.id);
          if (broken) {
            result.status = 'failed';
            result.reason = broken;
            continue;
          }
          const spec = trialSpec(plan, d.driver, point, this.opts.progress);
          if (dirty && verifying && d.driver.measures === 'recorder') {
            await restoreTarget(plan, this.opts.log);
            dirty = false;
          }
          this.opts.onProgress?.({ spec, index, total, repetition: rep, phase: 'start', ops: null, elapsedS: 0 });
          const outcome = await this.runTrial(spec, (m) => {
            if (m.type === 'progress') {
              this.opts.onProgress?.({ spec, index, total, repetition: rep, phase: m.phase, ops: m.ops, elapsedS: m.elapsedS });
            }
          });
          const trial: TrialOutcome = { repetition: rep, ...outcome };
          result.trials.push(trial);
          this.opts.onTrialEnd?.(spec, trial);
          if (!d.driver.writesPattern && rwWrites(plan.options.rw)) dirty = true;
          if (trial.verification) brokenDrivers.set(d.driver.id, `verification failed: ${trial.error}`);
        }
      }
      for (const result of byDriver.values()) {
        if (result.status === 'skipped') continue;
        const ok = result.trials.filter((t) => t.status === 'ok' && t.metrics);
        if (ok.length > 0 && !brokenDrivers.has(result.driver)) {
          result.status = 'ok';
          result.metrics = medianMetrics(ok.map((t) => t.metrics!));
          result.reason = null;
        } else {
          result.status = 'failed';
          const failed = result.trials.find((t) => t.status === 'failed');
          result.reason = brokenDrivers.get(result.driver) ?? failed?.error ?? (this.aborted ? 'interrupted' : 'no trial ran');
        }
      }
      const pointResult: PointResult = { qd: point.qd, bs: point.bs, results: [...byDriver.values()], fioReference: null };
      applyRatios(pointResult, plan.references);
      points.push(pointResult);
      if (this.aborted) break;
    }
    if (dirty && !plan.target.temporary && reads && !this.aborted) await restoreTarget(plan, this.opts.log);
    return points;
  }
}
