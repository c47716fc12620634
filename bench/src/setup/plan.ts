// From options to a plan: the target, the points (qd, bs) to run, the drivers
// and whether each is available here, and the reference drivers for ratios.
// A named suite (suites/) builds the same BenchOptions and goes through
// here, so it gets the same checks.

import * as fs from 'node:fs';
import { tryLoadAioring } from './aioring-lib';
import { UsageError, DEFAULTS, type BenchOptions } from '../options/args';
import { fioVersion } from '../drivers/fio';
import type { Driver, LibraryProbe } from '../drivers/driver';
import { findDriver } from '../drivers/registry';
import { formatBytes } from '../options/sizes';
import { checkBlockSizes, inspectTarget, tempTargetPath, TargetError, storageInfo, type TargetInfo } from './target';
import { integrityInterval, rwReads, rwWrites, type EngineName, type TrialIntegrity, type TrialSpec } from '../types';

export interface PlannedDriver {
  driver: Driver;
  available: boolean;
  /** Why unavailable. */
  reason: string | null;
}

export interface Plan {
  options: BenchOptions;
  target: TargetInfo;
  /** Bytes used from offset 0. */
  region: number;
  points: Array<{ qd: number; bs: number }>;
  drivers: PlannedDriver[];
  engines: LibraryProbe;
  fio: string | null;
  /** fsPromises: the O_DIRECT fs.promises driver; fio: fio drivers in order of preference. */
  references: { fsPromises: string; fio: string[] };
}

function isBlockDevice(file: string): boolean {
  try {
    return fs.statSync(file).isBlockDevice();
  } catch {
    return false;
  }
}

/** Loads the library, probes its engines and asks which one `auto` picks. */
export async function probeLibrary(): Promise<LibraryProbe> {
  const { mod, error } = tryLoadAioring();
  if (!mod) return { probe: null, auto: null, error };
  let probe: LibraryProbe['probe'] = null;
  try {
    probe = mod.probeEngines() as LibraryProbe['probe'];
  } catch (e) {
    return { probe: null, auto: null, error: `probeEngines() failed: ${(e as Error).message}` };
  }
  let auto: EngineName | null = null;
  try {
    const ring = new mod.Ring({ depth: 8, engine: 'auto' });
    auto = ring.engine as EngineName;
    await ring.close();
  } catch (e) {
    return { probe, auto: null, error: `new Ring({ engine: 'auto' }) failed: ${(e as Error).message}` };
  }
  return { probe, auto, error: null };
}

/** Checks options against the target and the machine; throws UsageError or TargetError. */
export async function makePlan(options: BenchOptions): Promise<Plan> {
  const bsValues = options.sweep?.param === 'bs' ? options.sweep.values : [options.bs];
  const qdValues = options.sweep?.param === 'qd' ? options.sweep.values : [options.qd];

  let target: TargetInfo;
  let region: number;
  if (options.target === null) {
    region = options.size ?? DEFAULTS.tempSize;
    const file = tempTargetPath();
    target = {
      path: file,
      kind: 'file',
      temporary: true,
      size: region,
      logicalBlockSize: 512,
      blockSizeSource: 'pending',
      storage: { device: null, disk: null, model: null, rotational: null, scheduler: null, filesystem: null, mountPoint: null },
    };
  } else {
    // Refuse a block-device write before looking any further at the device.
    if (rwWrites(options.rw) && !options.allowWrite && isBlockDevice(options.target)) {
      throw new UsageError(`--rw ${options.rw} writes to block device ${options.target}: add --allow-write if its contents may be destroyed`);
    }
    target = await inspectTarget(options.target);
    region = options.size ?? target.size;
    if (region === 0) throw new TargetError(`target ${target.path} is empty; give --size to say how much of it to use`);
    if (target.kind === 'block') {
      if (region > target.size) {
        throw new TargetError(`--size ${formatBytes(region)} is larger than ${target.path} (${formatBytes(target.size)})`);
      }
    }
    checkBlockSizes(target, ioSizes(options, bsValues), options.direct);
  }
  const maxBs = Math.max(...bsValues);
  if (region < maxBs) throw new UsageError(`--size ${formatBytes(region)} is smaller than the block size ${formatBytes(maxBs)}`);
  if (region % 512 !== 0) region -= region % 512;
  if (options.integrity !== null) region -= region % integrityInterval(Math.min(...bsValues));

  const [engines, fio] = await Promise.all([probeLibrary(), fioVersion()]);
  const drivers = options.drivers.map((name): PlannedDriver => {
    const driver = findDriver(name)!;
    const reason = driver.unavailableReason({ library: engines, fio, integrity: options.integrity !== null });
    return { driver, available: reason === null, reason };
  });
  const fioEngine = engines.auto === 'io_uring' ? 'io_uring' : 'libaio';
  const append = options.rw === 'append';
  return {
    options,
    target,
    region,
    points: qdValues.flatMap((qd) => bsValues.map((bs) => ({ qd, bs }))),
    drivers,
    engines,
    fio,
    references: append
      ? { fsPromises: 'fs-promises-append', fio: ['fio-append'] }
      : {
          fsPromises: options.stream ? 'fs-stream' : 'fs-promises',
          fio: [...new Set([`fio-${fioEngine}`, 'fio-libaio', 'fio-io_uring', 'fio-psync'])],
        },
  };
}

/** Fills in the temporary target's details once the file exists. */
export async function refreshTemporaryTarget(plan: Plan, bsValues: number[]): Promise<void> {
  const info = await inspectTarget(plan.target.path);
  plan.target = { ...info, temporary: true, storage: storageInfo(plan.target.path, 'file') };
  checkBlockSizes(plan.target, ioSizes(plan.options, bsValues), plan.options.direct);
}

// An append run's "block size" is its record size, which no driver writes as
// one block: only fio-append's 4 KiB writes must suit the target.
function ioSizes(options: BenchOptions, bsValues: number[]): number[] {
  return options.rw === 'append' ? [4096] : bsValues;
}

/** Whether the plan reads with verification (and so needs the pattern on the target). */
export function planVerifiesReads(plan: Plan): boolean {
  return plan.options.verifyEvery > 0 && rwReads(plan.options.rw);
}

/** --integrity's format and the one interval every block size of the plan divides into. */
export function planIntegrity(plan: Plan): TrialIntegrity | null {
  const format = plan.options.integrity;
  if (format === null) return null;
  return { format, interval: integrityInterval(Math.min(...plan.points.map((p) => p.bs))) };
}

export function trialSpec(plan: Plan, driver: Driver, point: { qd: number; bs: number }, progress: boolean): TrialSpec {
  const o = plan.options;
  return {
    driver: driver.id,
    label: driver.label(point.qd),
    path: plan.target.path,
    region: plan.region,
    rw: o.rw,
    bs: point.bs,
    qd: point.qd,
    batch: o.batch ?? Math.max(1, Math.ceil(point.qd / 2)),
    direct: o.direct && !driver.buffered,
    runtimeS: o.runtimeS,
    ops: o.ops,
    rampS: o.rampS,
    rampOps: o.rampOps,
    rwmixread: o.rwmixread,
    seed: o.seed,
    verifyEvery: o.verifyEvery,
    integrity: planIntegrity(plan),
    progress,
    ...(o.stream ? { stream: true } : {}),
    ...driver.specFields(point.qd),
  };
}

/** Report notes for the planned drivers that measure themselves and so read unverified data. */
export function unverifiedDriverNotes(plan: Plan): string[] {
  const families = new Set(plan.drivers.filter((d) => d.available && d.driver.measures === 'self').map((d) => d.driver.family));
  return [...families].map((f) => `${f} results are not verified: ${f} reads whatever the target holds`);
}

/** Whether a driver of the plan writes data other than the pattern (so the target needs restamping before verified reads). */
export function planOverwritesPattern(plan: Plan): boolean {
  return rwWrites(plan.options.rw) && plan.drivers.some((d) => d.available && !d.driver.writesPattern);
}

export function bsValuesOf(plan: Plan): number[] {
  return [...new Set(plan.points.map((p) => p.bs))];
}
