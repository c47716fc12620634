// The drivers the bench knows, with names as the CLI spells them. Importing
// this loads no library: drivers load what they measure inside run(), in the
// trial's child process.

import { ENGINE_NAMES, type FioEngine } from '../types';
import { AioringDriver } from './aioring';
import { AioringLogDriver } from './aioring-log';
import type { Driver } from './driver';
import { FioDriver } from './fio';
import { FioAppendDriver } from './fio-append';
import { FsPromisesDriver } from './fs-promises';
import { FsPromisesAppendDriver } from './fs-promises-append';
import { AioringStreamDriver, FsStreamDriver } from './streams';

export type { Driver, DriverFamily } from './driver';

const FIO_ENGINES: FioEngine[] = ['libaio', 'io_uring', 'psync'];
const BUSY_POLL_US = 500;
const MAX_UV_THREADS = 1024;

export const DRIVERS: readonly Driver[] = [
  ...ENGINE_NAMES.map(
    (engine) =>
      new AioringDriver(
        `aioring-${engine}`,
        engine,
        { batch: false, fixedBuffers: false, busyPollUs: 0, protect: false, latencyStats: true, durable: 'none' },
        `aioring, ${engine} engine, one promise per op (qd workers each awaiting file.read/write)`,
        ['aioring'],
      ),
  ),
  ...ENGINE_NAMES.map(
    (engine) =>
      new AioringDriver(
        `aioring-${engine}-batch`,
        engine,
        { batch: true, fixedBuffers: false, busyPollUs: 0, protect: false, latencyStats: true, durable: 'none' },
        `aioring, ${engine} engine, ring.submit() batches refilled as they complete`,
        ['aioring-batch'],
      ),
  ),
  // Only io_uring has registered buffers; on the other engines ring.registerBuffers()
  // hands out plain aligned buffers, which would measure the same as the drivers above.
  new AioringDriver(
    'aioring-io_uring-fixed',
    'io_uring',
    { batch: false, fixedBuffers: true, busyPollUs: 0, protect: false, latencyStats: true, durable: 'none' },
    'as aioring-io_uring, buffers from ring.registerBuffers(): READ_FIXED/WRITE_FIXED',
    ['aioring-fixed'],
  ),
  new AioringDriver(
    'aioring-io_uring-batch-fixed',
    'io_uring',
    { batch: true, fixedBuffers: true, busyPollUs: 0, protect: false, latencyStats: true, durable: 'none' },
    'as aioring-io_uring-batch, buffers from ring.registerBuffers(): READ_FIXED/WRITE_FIXED',
    ['aioring-fixed'],
  ),
  // The same rings with adaptive polling off, to show what it brings.
  ...ENGINE_NAMES.map(
    (engine) =>
      new AioringDriver(
        `aioring-${engine}-nopoll`,
        engine,
        { batch: false, fixedBuffers: false, busyPollUs: 0, pollBudget: 0, latencyStats: true, protect: false, durable: 'none' },
        `as aioring-${engine}, on a ring made with pollBudget: 0 (no adaptive polling)`,
        ['aioring-nopoll'],
      ),
  ),
  // Busy polling spins instead of sleeping between completions; 500 us covers
  // the time the project's disk takes to return a burst at QD 32.
  ...ENGINE_NAMES.map(
    (engine) =>
      new AioringDriver(
        `aioring-${engine}-poll`,
        engine,
        { batch: false, fixedBuffers: false, busyPollUs: BUSY_POLL_US, protect: false, latencyStats: true, durable: 'none' },
        `as aioring-${engine}, on a ring made with busyPollUs: ${BUSY_POLL_US} (spins for completions)`,
        ['aioring-poll'],
      ),
  ),
  // What recording ring.stats().latencyUs costs: the same driver with it off.
  ...ENGINE_NAMES.map(
    (engine) =>
      new AioringDriver(
        `aioring-${engine}-nolatency`,
        engine,
        { batch: false, fixedBuffers: false, busyPollUs: 0, latencyStats: false, protect: false, durable: 'none' },
        `as aioring-${engine}, on a ring made with latencyStats: false (stats().latencyUs not recorded)`,
        ['aioring-nolatency'],
      ),
  ),
  // Protected files: the same per-op workload on a file opened with ring.open's
  // integrity option, so every write fills its trailers and every read is checked.
  ...ENGINE_NAMES.map(
    (engine) =>
      new AioringDriver(
        `aioring-${engine}-pi`,
        engine,
        { batch: false, fixedBuffers: false, busyPollUs: 0, protect: true, latencyStats: true, durable: 'none' },
        `as aioring-${engine}, the file opened with integrity: { format: --integrity, interval: 4096 (512 below 4k) }`,
        ['aioring-pi'],
      ),
  ),
  // Durable writes, for --rw randwrite/write: RWF_DSYNC on each write against an
  // ordered batch of the write and an fdatasync.
  ...ENGINE_NAMES.flatMap((engine) => [
    new AioringDriver(
      `aioring-${engine}-dsync`,
      engine,
      { batch: false, fixedBuffers: false, busyPollUs: 0, latencyStats: true, protect: false, durable: 'dsync' },
      `as aioring-${engine}, every write with { dsync: true } (RWF_DSYNC)`,
      ['aioring-durable'],
    ),
    new AioringDriver(
      `aioring-${engine}-ordered`,
      engine,
      { batch: false, fixedBuffers: false, busyPollUs: 0, latencyStats: true, protect: false, durable: 'ordered' },
      `as aioring-${engine}, every write as ring.submit([write, fdatasync], { ordered: true })`,
      ['aioring-durable'],
    ),
  ]),
  new FsPromisesDriver('fs-promises', null, false, 'fs.promises FileHandle.read/write, O_DIRECT, aligned buffers, default UV_THREADPOOL_SIZE'),
  new FsPromisesDriver('fs-promises-uv', 'qd', false, 'as fs-promises with UV_THREADPOOL_SIZE = qd (write fs-promises-uvN for a fixed N)'),
  new FsPromisesDriver('fs-promises-buffered', null, true, 'fs.promises without O_DIRECT; page cache dropped before reading runs'),
  ...FIO_ENGINES.map((fioEngine) => new FioDriver(fioEngine)),
  new AioringLogDriver(),
  new FsPromisesAppendDriver(),
  new FioAppendDriver(),
  new AioringStreamDriver(),
  new FsStreamDriver(),
];

/** Drivers that run only with --stream (and the only ones besides fio that do). */
export function isStreamDriver(id: string): boolean {
  return DRIVERS.some((d) => d.id === id && d.groups.includes('stream'));
}

/** The default comparison with --stream: the two streams and fio at the same block size and depth. */
export const STREAM_DRIVERS: readonly string[] = ['aioring-stream', 'fs-stream', 'fio-libaio'];

/** Looks a CLI driver name up; null when unknown. */
export function findDriver(name: string): Driver | null {
  const exact = DRIVERS.find((d) => d.id === name);
  if (exact) return exact;
  const uv = /^fs-promises-uv(\d+)$/.exec(name);
  if (uv) {
    const n = Number(uv[1]);
    if (n >= 1 && n <= MAX_UV_THREADS) return new FsPromisesDriver(name, n, false, `as fs-promises with UV_THREADPOOL_SIZE = ${n}`);
  }
  return null;
}

/** Group names accepted by --drivers besides single drivers. */
export const DRIVER_GROUPS: Record<string, string> = {
  all: 'every driver (but the stream drivers: see stream)',
  aioring: 'aioring-<engine> for every engine',
  'aioring-batch': 'aioring-<engine>-batch for every engine',
  'aioring-fixed': 'the drivers with registered buffers: aioring-io_uring-fixed, aioring-io_uring-batch-fixed',
  'aioring-poll': 'aioring-<engine>-poll for every engine: rings that busy-poll',
  'aioring-nopoll': 'aioring-<engine>-nopoll for every engine: rings without adaptive polling (pollBudget: 0)',
  'aioring-nolatency': 'aioring-<engine>-nolatency for every engine: rings with latencyStats: false (what recording stats().latencyUs costs)',
  'aioring-pi': 'aioring-<engine>-pi for every engine: protected files (needs --integrity)',
  'aioring-durable': 'aioring-<engine>-dsync and -ordered for every engine: durable writes, RWF_DSYNC against write + fdatasync ordered',
  fio: 'fio-<engine> for every fio engine',
  append: 'the --rw append drivers: aioring-log, fs-promises-append, fio-append',
  stream: 'with --stream: aioring-stream, fs-stream',
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
    if (name === 'all') DRIVERS.filter((d) => !isStreamDriver(d.id)).forEach((d) => add(d.id));
    else if (name in DRIVER_GROUPS) DRIVERS.filter((d) => d.groups.includes(name)).forEach((d) => add(d.id));
    else if (findDriver(name)) add(name);
    else throw new Error(`unknown driver "${name}" (known: ${knownDriverList()})`);
  }
  return out;
}

export function knownDriverList(): string {
  return [...DRIVERS.map((d) => (d.id === 'fs-promises-uv' ? 'fs-promises-uv[N]' : d.id)), ...Object.keys(DRIVER_GROUPS)].join(', ');
}

/** The default comparison: every driver of the workload (unavailable ones are reported as skipped). */
export const DEFAULT_DRIVERS: readonly string[] = DRIVERS.filter((d) => !d.appends && !isStreamDriver(d.id)).map((d) => d.id);
export const DEFAULT_APPEND_DRIVERS: readonly string[] = DRIVERS.filter((d) => d.appends).map((d) => d.id);
