// The list of drivers the bench knows, with names as the CLI spells them.
// Pure data: safe to import in the parent without loading the library.

import type { EngineName, FioEngine } from '../types';

export type DriverFamily = 'aioring' | 'aioring-batch' | 'fs-promises' | 'fio';

export interface DriverDef {
  /** Canonical id; "fs-promises-uv" stands for fs-promises-uv<qd>. */
  id: string;
  family: DriverFamily;
  engine?: EngineName;
  fioEngine?: FioEngine;
  /** For fs-promises-uv<N> with an explicit N. */
  uvThreads?: number;
  /** fs-promises-buffered: never O_DIRECT, whatever --direct says. */
  forceBuffered?: boolean;
  /** The aioring -fixed drivers: I/O buffers from ring.registerBuffers(). */
  fixedBuffers?: boolean;
  /** The aioring -poll drivers: a ring made with this busyPollUs. */
  busyPollUs?: number;
  description: string;
}

const ENGINES: EngineName[] = ['libaio', 'io_uring', 'threadpool'];
const BUSY_POLL_US = 500;

export const DRIVERS: readonly DriverDef[] = [
  ...ENGINES.map(
    (engine): DriverDef => ({
      id: `aioring-${engine}`,
      family: 'aioring',
      engine,
      description: `aioring, ${engine} engine, one promise per op (qd workers each awaiting file.read/write)`,
    }),
  ),
  ...ENGINES.map(
    (engine): DriverDef => ({
      id: `aioring-${engine}-batch`,
      family: 'aioring-batch',
      engine,
      description: `aioring, ${engine} engine, ring.submit() batches refilled as they complete`,
    }),
  ),
  // Only io_uring has registered buffers; on the other engines ring.registerBuffers()
  // hands out plain aligned buffers, which would measure the same as the drivers above.
  {
    id: 'aioring-io_uring-fixed',
    family: 'aioring',
    engine: 'io_uring',
    fixedBuffers: true,
    description: 'as aioring-io_uring, buffers from ring.registerBuffers(): READ_FIXED/WRITE_FIXED',
  },
  {
    id: 'aioring-io_uring-batch-fixed',
    family: 'aioring-batch',
    engine: 'io_uring',
    fixedBuffers: true,
    description: 'as aioring-io_uring-batch, buffers from ring.registerBuffers(): READ_FIXED/WRITE_FIXED',
  },
  // Busy polling spins instead of sleeping between completions; 500 us covers
  // the time the project's disk takes to return a burst at QD 32.
  ...ENGINES.map(
    (engine): DriverDef => ({
      id: `aioring-${engine}-poll`,
      family: 'aioring',
      engine,
      busyPollUs: BUSY_POLL_US,
      description: `as aioring-${engine}, on a ring made with busyPollUs: ${BUSY_POLL_US} (spins for completions)`,
    }),
  ),
  {
    id: 'fs-promises',
    family: 'fs-promises',
    description: 'fs.promises FileHandle.read/write, O_DIRECT, aligned buffers, default UV_THREADPOOL_SIZE',
  },
  {
    id: 'fs-promises-uv',
    family: 'fs-promises',
    description: 'as fs-promises with UV_THREADPOOL_SIZE = qd (write fs-promises-uvN for a fixed N)',
  },
  {
    id: 'fs-promises-buffered',
    family: 'fs-promises',
    forceBuffered: true,
    description: 'fs.promises without O_DIRECT; page cache dropped before reading runs',
  },
  ...(['libaio', 'io_uring', 'psync'] as FioEngine[]).map(
    (fioEngine): DriverDef => ({
      id: `fio-${fioEngine}`,
      family: 'fio',
      fioEngine,
      description: `fio, ioengine=${fioEngine}${fioEngine === 'psync' ? ' (numjobs = qd threads)' : ''}: the reference`,
    }),
  ),
];

/** Looks a CLI driver name up; null when unknown. */
export function findDriver(name: string): DriverDef | null {
  const exact = DRIVERS.find((d) => d.id === name);
  if (exact) return exact;
  const uv = /^fs-promises-uv(\d+)$/.exec(name);
  if (uv) {
    const n = Number(uv[1]);
    if (n >= 1 && n <= 1024) {
      return { ...DRIVERS.find((d) => d.id === 'fs-promises-uv')!, id: name, uvThreads: n };
    }
  }
  return null;
}

/** Group names accepted by --drivers besides single drivers. */
export const DRIVER_GROUPS: Record<string, string> = {
  all: 'every driver',
  aioring: 'aioring-<engine> for every engine',
  'aioring-batch': 'aioring-<engine>-batch for every engine',
  'aioring-fixed': 'the drivers with registered buffers: aioring-io_uring-fixed, aioring-io_uring-batch-fixed',
  'aioring-poll': 'aioring-<engine>-poll for every engine: rings that busy-poll',
  fio: 'fio-<engine> for every fio engine',
};

/** Expands groups; returns names in order without duplicates, or throws on an unknown name. */
export function expandDriverNames(names: string[]): string[] {
  const out: string[] = [];
  const add = (n: string) => {
    if (!out.includes(n)) out.push(n);
  };
  for (const raw of names) {
    const name = raw.trim();
    if (name === '') continue;
    if (name === 'all') DRIVERS.forEach((d) => add(d.id));
    else if (name === 'aioring') DRIVERS.filter((d) => d.family === 'aioring' && !d.fixedBuffers && !d.busyPollUs).forEach((d) => add(d.id));
    else if (name === 'aioring-batch') DRIVERS.filter((d) => d.family === 'aioring-batch' && !d.fixedBuffers).forEach((d) => add(d.id));
    else if (name === 'aioring-fixed') DRIVERS.filter((d) => d.fixedBuffers).forEach((d) => add(d.id));
    else if (name === 'aioring-poll') DRIVERS.filter((d) => d.busyPollUs).forEach((d) => add(d.id));
    else if (name === 'fio') DRIVERS.filter((d) => d.family === 'fio').forEach((d) => add(d.id));
    else if (findDriver(name)) add(name);
    else throw new Error(`unknown driver "${name}" (known: ${knownDriverList()})`);
  }
  return out;
}

export function knownDriverList(): string {
  return [...DRIVERS.map((d) => (d.id === 'fs-promises-uv' ? 'fs-promises-uv[N]' : d.id)), ...Object.keys(DRIVER_GROUPS)].join(', ');
}

/** The name shown in tables and charts for a driver at a queue depth. */
export function driverLabel(def: DriverDef, qd: number): string {
  if (def.id === 'fs-promises-uv') return `fs-promises-uv${Math.min(qd, 1024)}`;
  return def.id;
}

/** The default comparison: every driver (unavailable ones are reported as skipped). */
export const DEFAULT_DRIVERS: readonly string[] = DRIVERS.map((d) => d.id);
