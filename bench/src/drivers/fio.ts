// fio as the reference: same target, region, block size, queue depth and
// duration; ioengine libaio / io_uring (iodepth = qd) or psync (qd threads).
// Parses fio's JSON output into the bench's metrics.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { FioEngine, TrialMetrics, TrialSpec } from '../types';
import type { Driver, DriverRunResult, HostFacts, TrialContext } from './driver';

/** fio with one ioengine: the reference the other drivers are compared with. */
export class FioDriver implements Driver {
  readonly family = 'fio';
  readonly measures = 'self';
  readonly writesPattern = false;
  readonly buffered = false;
  readonly appends = false;
  readonly groups: readonly string[] = ['fio'];
  readonly id: string;
  readonly description: string;

  constructor(readonly fioEngine: FioEngine) {
    this.id = `fio-${fioEngine}`;
    this.description = `fio, ioengine=${fioEngine}${fioEngine === 'psync' ? ' (numjobs = qd threads)' : ''}: the reference`;
  }

  label(): string {
    return this.id;
  }

  specFields(): Pick<TrialSpec, 'fioEngine'> {
    return { fioEngine: this.fioEngine };
  }

  unavailableReason({ fio }: HostFacts): string | null {
    return fio ? null : 'fio is not installed';
  }

  async run(ctx: TrialContext): Promise<DriverRunResult> {
    const metrics = await runFioTrial(ctx.spec, (phase) => ctx.setPhase(phase));
    return { notes: [], extra: {}, metrics };
  }

  stop(): void {
    stopFio();
  }
}

/** fio's version string, or null when fio is not installed. */
export function fioVersion(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('fio', ['--version'], { timeout: 10_000 }, (err, stdout) => {
      resolve(err ? null : stdout.trim());
    });
  });
}

function seconds(s: number): string {
  return Number.isInteger(s) ? String(s) : `${Math.round(s * 1000)}ms`;
}

/** The fio command line for a trial (without the executable). */
export function fioArgs(spec: TrialSpec): string[] {
  const engine = spec.fioEngine;
  if (!engine) throw new Error(`${spec.label}: no fio engine given`);
  const threads = engine === 'psync' ? spec.qd : 1;
  const args = [
    '--name=aioring-bench',
    `--filename=${spec.path}`,
    `--rw=${spec.rw}`,
    `--bs=${spec.bs}`,
    `--ioengine=${engine}`,
    `--direct=${spec.direct ? 1 : 0}`,
    '--thread',
    '--group_reporting',
    '--unified_rw_reporting=mixed',
    '--lat_percentiles=1',
    '--percentile_list=50:90:99:99.9',
    '--norandommap',
    '--randrepeat=0',
    '--allow_file_create=0',
    '--eta=never',
    '--output-format=json',
  ];
  if (spec.rw === 'randrw') args.push(`--rwmixread=${spec.rwmixread}`);
  if (engine === 'psync') {
    args.push(`--numjobs=${threads}`);
    if (spec.rw === 'read' || spec.rw === 'write') {
      // Sequential: give each thread its own slice, like one stream split qd ways.
      const slice = Math.max(spec.bs, Math.floor(spec.region / threads / spec.bs) * spec.bs);
      args.push(`--size=${slice}`, `--offset_increment=${slice}`);
    } else {
      args.push(`--size=${spec.region}`);
    }
  } else {
    args.push(`--iodepth=${spec.qd}`, `--size=${spec.region}`);
  }
  // With an op count fio would spend the ramp's I/O out of io_size, so the ramp is time-based runs only.
  if (spec.rampS > 0 && spec.runtimeS !== null) args.push(`--ramp_time=${seconds(spec.rampS)}`);
  if (spec.runtimeS !== null) args.push('--time_based', `--runtime=${seconds(spec.runtimeS)}`);
  else if (spec.ops !== null) {
    // io_size (not number_ios, which stops at the end of --size) makes fio wrap around the region.
    args.push(`--io_size=${Math.max(1, Math.ceil(spec.ops / threads)) * spec.bs}`);
  }
  return args;
}

interface FioLat {
  mean: number;
  min: number;
  max: number;
  percentile?: Record<string, number>;
}

interface FioDir {
  io_bytes: number;
  bw_bytes: number;
  iops: number;
  runtime: number;
  total_ios: number;
  lat_ns: FioLat;
  clat_ns?: FioLat;
}

interface FioJob {
  error: number;
  /** The fsync/fdatasync calls of a run with --fsync or --fdatasync. */
  sync?: { lat_ns?: FioLat & { N?: number } };
  job_runtime: number;
  usr_cpu: number;
  sys_cpu: number;
  mixed?: FioDir;
  read?: FioDir;
  write?: FioDir;
}

function percentileOf(lat: FioLat, key: string): number {
  const table = lat.percentile ?? {};
  for (const [k, v] of Object.entries(table)) {
    if (Math.abs(Number(k) - Number(key)) < 1e-6) return v;
  }
  return Number.NaN;
}

/**
 * Where fio's latency percentiles come from: total latency (lat_ns, issue to
 * completion, what --lat_percentiles=1 asks for and what the JavaScript
 * drivers measure) or, when fio printed none, completion latency only (clat_ns,
 * which leaves out submission).
 */
export type FioLatSource = 'lat' | 'clat';

function hasPercentiles(lat: FioLat | undefined): lat is FioLat {
  return !!lat && !!lat.percentile && Object.keys(lat.percentile).length > 0;
}

/** Converts fio's JSON (the whole stdout) into metrics; extra.latPercentiles says which latency the percentiles are. */
export function parseFioOutput(stdout: string, spec: Pick<TrialSpec, 'rw' | 'rwmixread'>): TrialMetrics {
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`fio printed no JSON: ${stdout.slice(0, 300)}`);
  const doc = JSON.parse(stdout.slice(start)) as { jobs?: FioJob[] };
  const job = doc.jobs?.[0];
  if (!job) throw new Error('fio JSON has no jobs');
  if (job.error) throw new Error(`fio reported error ${job.error}`);
  const writeOnly = spec.rw === 'randwrite' || spec.rw === 'write' || spec.rw === 'append';
  const dir = job.mixed ?? (writeOnly ? job.write : job.read);
  if (!dir) throw new Error('fio JSON has no mixed, read or write section');
  const elapsedS = dir.runtime / 1000;
  const us = (ns: number) => ns / 1000;
  const cpuS = (pct: number) => (pct / 100) * (job.job_runtime / 1000);
  const userS = cpuS(job.usr_cpu);
  const systemS = cpuS(job.sys_cpu);
  const reads = spec.rw === 'randread' || spec.rw === 'read';
  const readOps = reads ? dir.total_ios : writeOnly ? 0 : Math.round((dir.total_ios * spec.rwmixread) / 100);
  const latSource: FioLatSource = hasPercentiles(dir.lat_ns) || !hasPercentiles(dir.clat_ns) ? 'lat' : 'clat';
  const pct = latSource === 'lat' ? dir.lat_ns : dir.clat_ns!;
  const sync = job.sync?.lat_ns;
  const metrics: TrialMetrics = {
    ops: dir.total_ios,
    readOps,
    writeOps: dir.total_ios - readOps,
    bytes: dir.io_bytes,
    elapsedS,
    iops: dir.iops,
    mibps: dir.bw_bytes / 2 ** 20,
    latUs: {
      mean: us(dir.lat_ns.mean),
      min: us(dir.lat_ns.min),
      p50: us(percentileOf(pct, '50')),
      p90: us(percentileOf(pct, '90')),
      p99: us(percentileOf(pct, '99')),
      p999: us(percentileOf(pct, '99.9')),
      max: us(dir.lat_ns.max),
    },
    cpu: { userS, systemS },
    iopsPerCpuS: userS + systemS > 0 ? dir.total_ios / (userS + systemS) : 0,
    maxRssMiB: null,
    loopDelayMs: null,
    verifiedOps: 0,
    extra: { latPercentiles: latSource },
    notes: latSource === 'clat' ? ['fio printed no total-latency percentiles: p50/p90/p99 are completion latency (clat), without submission'] : [],
  };
  if (sync?.N) {
    // With --fsync/--fdatasync each write is followed by its sync: a durable
    // write's latency is the write's plus the sync's (each statistic added).
    const l = metrics.latUs;
    l.mean += us(sync.mean);
    l.min += us(sync.min);
    l.max += us(sync.max);
    for (const [field, key] of [['p50', '50'], ['p90', '90'], ['p99', '99'], ['p999', '99.9']] as const) l[field] += us(percentileOf(sync, key));
    metrics.notes.push("latency is fio's write latency plus its fdatasync latency, statistic by statistic");
  }
  return metrics;
}

/** Peak resident set of a running process (VmHWM), in MiB, or null. */
function peakRssMiB(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

let running: ChildProcess | null = null;

/** Stops a running fio (used when the trial process is told to stop). */
export function stopFio(): void {
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
}

/** Runs fio for one trial. `onPhase` is told when the measured part starts (approximately). */
export function runFioTrial(spec: TrialSpec, onPhase: (phase: 'ramp' | 'run') => void, args: string[] = fioArgs(spec)): Promise<TrialMetrics> {
  return new Promise((resolve, reject) => {
    const child = spawn('fio', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    let stdout = '';
    let stderr = '';
    let peak: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const poll = setInterval(() => {
      if (child.pid !== undefined) peak = peakRssMiB(child.pid) ?? peak;
    }, 100);
    const ramps = args.some((a) => a.startsWith('--ramp_time'));
    const rampTimer = ramps ? setTimeout(() => onPhase('run'), spec.rampS * 1000) : null;
    onPhase(ramps ? 'ramp' : 'run');
    child.on('error', (e) => {
      clearInterval(poll);
      if (rampTimer) clearTimeout(rampTimer);
      reject(new Error(`could not run fio: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      running = null;
      clearInterval(poll);
      if (rampTimer) clearTimeout(rampTimer);
      if (code !== 0) {
        const why = stderr.trim().split('\n').slice(-3).join(' / ') || stdout.slice(0, 300);
        reject(new Error(`fio exited with ${signal ?? code}: ${why}`));
        return;
      }
      try {
        const metrics = parseFioOutput(stdout, spec);
        metrics.maxRssMiB = peak;
        const warnings = stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '');
        if (warnings.length) metrics.notes.push(`fio: ${warnings.slice(0, 2).join(' / ')}`);
        Object.assign(metrics.extra, spec.fioEngine === 'psync' ? { numjobs: spec.qd, iodepth: 1 } : { numjobs: 1, iodepth: spec.qd });
        metrics.extra.ioengine = spec.fioEngine ?? '';
        resolve(metrics);
      } catch (e) {
        reject(e);
      }
    });
  });
}
