// Command-line parsing for aioring-bench. Pure: takes argv, returns options or
// throws UsageError with a sentence meant for the person at the terminal.

import { DEFAULT_APPEND_DRIVERS, DEFAULT_DRIVERS, DRIVER_GROUPS, DRIVERS, STREAM_DRIVERS, expandDriverNames, findDriver, isStreamDriver } from '../drivers/registry';
import { DEFAULT_SEED } from '../setup/pattern';
import { formatSize, parseCount, parseDuration, parseSize } from './sizes';
import { INTEGRITY_FORMATS, RW_MODES, type IntegrityFormat, type RwMode } from '../types';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type SweepParam = 'qd' | 'bs';

export interface Sweep {
  param: SweepParam;
  values: number[];
}

export interface BenchOptions {
  help: boolean;
  /** Existing file or block device; null = create a temporary file. */
  target: string | null;
  rw: RwMode;
  bs: number;
  qd: number;
  /** Bytes of the target to use; null = the target's size (256 MiB for the temporary file). */
  size: number | null;
  runtimeS: number | null;
  ops: number | null;
  rampS: number;
  drivers: string[];
  /** True when --drivers was given (otherwise the default comparison). */
  driversGiven: boolean;
  direct: boolean;
  json: string | null;
  svg: string | null;
  sweep: Sweep | null;
  repeat: number;
  rwmixread: number;
  /** Ops per ring.submit() for batch drivers; null = ceil(qd / 2). */
  batch: number | null;
  verifyEvery: number;
  seed: number;
  allowWrite: boolean;
  /**
   * Unmeasured warm-up of this many operations instead of rampS (JavaScript
   * drivers only). Not a command-line option: the suite's memory target sets it.
   */
  rampOps: number | null;
  /** A named suite (suites/targets.ts) instead of a single comparison. */
  suite: string | null;
  /** With --suite: run only these targets (names as the suite lists them). */
  only: string[] | null;
  /** --checksums: the checksum-throughput comparison instead of I/O trials. */
  checksums: boolean;
  /** --integrity: the target carries protection trailers; the -pi drivers open it protected. */
  integrity: IntegrityFormat | null;
  /** --stream: one pass over the region per trial, through streams (see STREAM_DEFAULTS). */
  stream: boolean;
}

/** The named suites --suite accepts (defined in suites/targets.ts). */
export const SUITE_NAMES: readonly string[] = ['targets'];

/**
 * What --suite changes when --runtime / --repeat are not given. Many short
 * rounds rather than a few long ones: the disk's speed drifts by up to 2x over
 * tens of seconds, and each round's ratio only compares trials run back to back.
 */
export const SUITE_DEFAULTS = { runtimeS: 2, repeat: 7 };

/** What --checksums changes when --runtime / --repeat are not given: short measurements, many rounds. */
export const CHECKSUM_DEFAULTS = { runtimeS: 0.25, repeat: 9 };

/** Options a suite sets itself for each of its runs. */
const SUITE_FIXED = ['target', 'rw', 'bs', 'qd', 'sweep', 'drivers', 'svg', 'batch', 'direct', 'no-direct', 'buffered', 'rwmixread', 'allow-write'];

export const DEFAULTS = {
  rw: 'randread' as RwMode,
  bs: 4096,
  qd: 32,
  runtimeS: 4,
  rampS: 0.5,
  tempSize: 256 * 1024 * 1024,
  verifyEvery: 64,
  repeat: 1,
  rwmixread: 50,
};

/** What --stream sets when not given: fio's --bs=1M --iodepth=8, one pass, no ramp. */
export const STREAM_DEFAULTS = { bs: 1024 * 1024, qd: 8 };
/** Options that contradict a one-pass stream trial. */
const STREAM_REFUSED = ['runtime', 'ops', 'ramp', 'sweep', 'batch', 'no-direct', 'buffered', 'rwmixread', 'checksums', 'integrity', 'appenders', 'record-size'];

const MAX_QD = 4096;

type Handler = (value: string, opts: BenchOptions) => void;

interface OptionDef {
  takesValue: boolean;
  handle: Handler;
}

function positiveInt(text: string, what: string, max: number): number {
  let n: number;
  try {
    n = parseCount(text, what);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (n > max) throw new UsageError(`${what} ${n} is too large (at most ${max})`);
  return n;
}

function size(text: string, what: string): number {
  try {
    return parseSize(text);
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
}

function seconds(text: string, what: string): number {
  let s: number;
  try {
    s = parseDuration(text);
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
  return s;
}

function parseSweep(text: string): Sweep {
  const match = /^(qd|bs)=(.+)$/.exec(text.trim());
  if (!match) throw new UsageError(`malformed --sweep "${text}" (expected qd=1,8,32,128 or bs=4k,64k,1m)`);
  const param = match[1] as SweepParam;
  const parts = match[2].split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new UsageError(`--sweep ${param}= needs at least one value`);
  const values = parts.map((p) => (param === 'qd' ? positiveInt(p, 'queue depth', MAX_QD) : size(p, '--sweep bs')));
  if (new Set(values).size !== values.length) throw new UsageError(`--sweep ${param} has a repeated value`);
  return { param, values };
}

const OPTIONS: Record<string, OptionDef> = {
  help: { takesValue: false, handle: (_v, o) => void (o.help = true) },
  target: { takesValue: true, handle: (v, o) => void (o.target = v) },
  filename: { takesValue: true, handle: (v, o) => void (o.target = v) }, // fio's spelling
  rw: {
    takesValue: true,
    handle: (v, o) => {
      if (!(RW_MODES as readonly string[]).includes(v)) {
        throw new UsageError(`unknown --rw "${v}" (expected one of ${RW_MODES.join(', ')})`);
      }
      o.rw = v as RwMode;
    },
  },
  bs: { takesValue: true, handle: (v, o) => void (o.bs = size(v, '--bs')) },
  qd: { takesValue: true, handle: (v, o) => void (o.qd = positiveInt(v, 'queue depth', MAX_QD)) },
  appenders: { takesValue: true, handle: (v, o) => void (o.qd = positiveInt(v, '--appenders', MAX_QD)) },
  'record-size': { takesValue: true, handle: (v, o) => void (o.bs = size(v, '--record-size')) },
  iodepth: { takesValue: true, handle: (v, o) => void (o.qd = positiveInt(v, 'queue depth', MAX_QD)) },
  size: { takesValue: true, handle: (v, o) => void (o.size = size(v, '--size')) },
  runtime: {
    takesValue: true,
    handle: (v, o) => {
      const s = seconds(v, '--runtime');
      if (s <= 0) throw new UsageError('--runtime must be greater than zero');
      o.runtimeS = s;
    },
  },
  ramp: { takesValue: true, handle: (v, o) => void (o.rampS = seconds(v, '--ramp')) },
  ops: { takesValue: true, handle: (v, o) => void (o.ops = positiveInt(v, '--ops', Number.MAX_SAFE_INTEGER)) },
  drivers: {
    takesValue: true,
    handle: (v, o) => {
      try {
        o.drivers = expandDriverNames(v.split(','));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (o.drivers.length === 0) throw new UsageError('--drivers needs at least one driver');
      o.driversGiven = true;
    },
  },
  direct: { takesValue: false, handle: (_v, o) => void (o.direct = true) },
  'no-direct': { takesValue: false, handle: (_v, o) => void (o.direct = false) },
  buffered: { takesValue: false, handle: (_v, o) => void (o.direct = false) },
  json: { takesValue: true, handle: (v, o) => void (o.json = v) },
  svg: { takesValue: true, handle: (v, o) => void (o.svg = v) },
  sweep: { takesValue: true, handle: (v, o) => void (o.sweep = parseSweep(v)) },
  repeat: { takesValue: true, handle: (v, o) => void (o.repeat = positiveInt(v, '--repeat', 100)) },
  rwmixread: {
    takesValue: true,
    handle: (v, o) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 100) throw new UsageError(`--rwmixread must be a whole percentage 0..100, got "${v}"`);
      o.rwmixread = n;
    },
  },
  batch: { takesValue: true, handle: (v, o) => void (o.batch = positiveInt(v, '--batch', MAX_QD)) },
  'verify-every': {
    takesValue: true,
    handle: (v, o) => {
      if (!/^\d+$/.test(v)) throw new UsageError(`--verify-every must be a whole number (0 = off), got "${v}"`);
      o.verifyEvery = Number(v);
    },
  },
  'no-verify': { takesValue: false, handle: (_v, o) => void (o.verifyEvery = 0) },
  seed: {
    takesValue: true,
    handle: (v, o) => {
      if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new UsageError(`--seed must be a whole number below 2^32, got "${v}"`);
      o.seed = Number(v);
    },
  },
  'allow-write': { takesValue: false, handle: (_v, o) => void (o.allowWrite = true) },
  checksums: { takesValue: false, handle: (_v, o) => void (o.checksums = true) },
  integrity: {
    takesValue: true,
    handle: (v, o) => {
      if (!INTEGRITY_FORMATS.includes(v as IntegrityFormat)) {
        throw new UsageError(`--integrity must be one of ${INTEGRITY_FORMATS.join(', ')}, got "${v}"`);
      }
      o.integrity = v as IntegrityFormat;
    },
  },
  stream: { takesValue: false, handle: (_v, o) => void (o.stream = true) },
  suite: {
    takesValue: true,
    handle: (v, o) => {
      if (!SUITE_NAMES.includes(v)) throw new UsageError(`unknown suite "${v}" (known: ${SUITE_NAMES.join(', ')})`);
      o.suite = v;
    },
  },
  only: {
    takesValue: true,
    handle: (v, o) => {
      const names = v.split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (names.length === 0) throw new UsageError('--only needs at least one target name');
      o.only = names;
    },
  },
};

const ALIASES: Record<string, string> = { h: 'help' };

export function defaultOptions(): BenchOptions {
  return {
    help: false,
    target: null,
    rw: DEFAULTS.rw,
    bs: DEFAULTS.bs,
    qd: DEFAULTS.qd,
    size: null,
    runtimeS: null,
    ops: null,
    rampS: DEFAULTS.rampS,
    drivers: [...DEFAULT_DRIVERS],
    driversGiven: false,
    direct: true,
    json: null,
    svg: null,
    sweep: null,
    repeat: DEFAULTS.repeat,
    rwmixread: DEFAULTS.rwmixread,
    batch: null,
    verifyEvery: DEFAULTS.verifyEvery,
    seed: DEFAULT_SEED,
    allowWrite: false,
    rampOps: null,
    suite: null,
    only: null,
    checksums: false,
    integrity: null,
    stream: false,
  };
}

/** Parses argv (without node and script); throws UsageError on bad input. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const opts = defaultOptions();
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      name = ALIASES[arg.slice(1)] ?? arg.slice(1);
    } else {
      throw new UsageError(`unexpected argument "${arg}" (options start with --; see --help)`);
    }
    const def = OPTIONS[name];
    if (!def) throw new UsageError(`unknown option "${arg.split('=')[0]}" (see --help)`);
    let value = '';
    if (def.takesValue) {
      if (inline !== undefined) value = inline;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      else throw new UsageError(`--${name} needs a value`);
      if (value === '') throw new UsageError(`--${name} needs a value`);
    } else if (inline !== undefined) {
      throw new UsageError(`--${name} takes no value`);
    }
    def.handle(value, opts);
    seen.add(name === 'iodepth' ? 'qd' : name === 'filename' ? 'target' : name);
  }
  if (opts.help) return opts;

  if (opts.stream) {
    if (opts.suite !== null) throw new UsageError('--stream and --suite cannot be combined');
    applyStreamOptions(opts, seen);
    return opts;
  }
  const streamOnly = opts.drivers.find((d) => isStreamDriver(d));
  if (streamOnly) throw new UsageError(`driver ${streamOnly} runs only with --stream`);

  if (opts.suite !== null) {
    const fixed = SUITE_FIXED.find((n) => seen.has(n));
    if (fixed) throw new UsageError(`--suite ${opts.suite} sets its own workloads: --${fixed} cannot be combined with it`);
    // --runtime: every time-based trial; --ops: the memory target's measured operations; --size: the files.
    if (!seen.has('runtime')) opts.runtimeS = SUITE_DEFAULTS.runtimeS;
    if (!seen.has('repeat')) opts.repeat = SUITE_DEFAULTS.repeat;
    return opts;
  }
  if (opts.checksums) {
    if (!seen.has('runtime')) opts.runtimeS = CHECKSUM_DEFAULTS.runtimeS;
    if (!seen.has('repeat')) opts.repeat = CHECKSUM_DEFAULTS.repeat;
  }
  if (seen.has('only')) throw new UsageError('--only needs --suite');
  if (seen.has('runtime') && seen.has('ops')) throw new UsageError('give --runtime or --ops, not both');
  if (opts.ops === null && opts.runtimeS === null) opts.runtimeS = DEFAULTS.runtimeS;
  if (opts.sweep && seen.has(opts.sweep.param)) {
    throw new UsageError(`--sweep ${opts.sweep.param}=... and --${opts.sweep.param} contradict each other; give one`);
  }
  if (seen.has('rwmixread') && opts.rw !== 'randrw') throw new UsageError('--rwmixread only applies to --rw randrw');
  if (opts.integrity !== null && opts.rw === 'randrw') {
    // Unprotected drivers' writes would leave intervals without trailers for the protected drivers' reads.
    throw new UsageError('--integrity takes a read-only or write-only --rw (randread, read, randwrite, write), not randrw');
  }
  if (opts.integrity !== null && opts.rw === 'append') throw new UsageError('--integrity does not apply to --rw append');
  if (opts.integrity !== null && opts.suite !== null) throw new UsageError('--integrity does not apply to --suite');
  return chooseWorkloadDrivers(opts, seen);
}

// --rw append has drivers of its own (they append records; the others do block I/O).
function chooseWorkloadDrivers(opts: BenchOptions, seen: Set<string>): BenchOptions {
  const append = opts.rw === 'append';
  for (const option of ['appenders', 'record-size']) {
    if (seen.has(option) && !append) throw new UsageError(`--${option} only applies to --rw append`);
  }
  if (append && (seen.has('qd') || seen.has('bs'))) throw new UsageError('--rw append takes --appenders and --record-size, not --qd and --bs');
  if (append && opts.sweep) throw new UsageError('--sweep does not apply to --rw append');
  if (!opts.driversGiven) {
    if (append) opts.drivers = [...DEFAULT_APPEND_DRIVERS];
    return opts;
  }
  const fitting = opts.drivers.filter((name) => findDriver(name)!.appends === append);
  if (fitting.length === 0) throw new UsageError(`none of the --drivers runs --rw ${opts.rw}${append ? ' (the append drivers: aioring-log, fs-promises-append, fio-append)' : ''}`);
  opts.drivers = fitting;
  return opts;
}

function applyStreamOptions(opts: BenchOptions, seen: ReadonlySet<string>): void {
  if (opts.rw !== 'read' && opts.rw !== 'write') throw new UsageError(`--stream needs --rw read or --rw write, not ${opts.rw}`);
  const refused = STREAM_REFUSED.find((n) => seen.has(n));
  if (refused) throw new UsageError(`--stream reads or writes the region once per trial: --${refused} cannot be combined with it`);
  if (!opts.driversGiven) opts.drivers = [...STREAM_DRIVERS];
  const isFio = (name: string) => findDriver(name)?.family === 'fio' && !findDriver(name)!.appends;
  const other = opts.drivers.find((d) => !isStreamDriver(d) && !isFio(d));
  if (other) throw new UsageError(`--stream runs the stream drivers and fio; ${other} is neither`);
  if (!seen.has('bs')) opts.bs = STREAM_DEFAULTS.bs;
  if (!seen.has('qd')) opts.qd = STREAM_DEFAULTS.qd;
  opts.runtimeS = null;
  opts.ops = null;
  opts.rampS = 0;
}

export function helpText(): string {
  const driverLines = DRIVERS.map((d) => {
    const name = d.id === 'fs-promises-uv' ? 'fs-promises-uv[N]' : d.id;
    return `    ${name.padEnd(26)} ${d.description}`;
  });
  const groupLines = Object.entries(DRIVER_GROUPS).map(([k, v]) => `    ${k.padEnd(26)} ${v}`);
  return `aioring-bench: compare aioring's engines with fs.promises and fio (fio's vocabulary)

Usage: aioring-bench [options]

With no options: a short default comparison of every driver (${formatSize(DEFAULTS.bs)} ${DEFAULTS.rw}, qd ${DEFAULTS.qd},
${DEFAULTS.runtimeS} s each) on a ${DEFAULTS.tempSize / 2 ** 20} MiB file it creates in the temporary directory and removes
afterwards (also on Ctrl-C).

Target and workload
  --target PATH         existing file or block device (e.g. /dev/loop0); default: a temporary file
  --size SIZE           bytes of the target to use (e.g. 256m, 1g); default: the whole target
                        (${DEFAULTS.tempSize / 2 ** 20}m for the temporary file)
  --rw MODE             randread | randwrite | read | write | randrw | append   (default ${DEFAULTS.rw})
                        append: --appenders N concurrent appenders of --record-size B records,
                        each awaiting its record's durability (drivers aioring-log, fs-promises-append,
                        fio-append; other drivers run the other modes)
  --rwmixread PCT       percentage of reads for randrw (default ${DEFAULTS.rwmixread})
  --bs SIZE             block size: 512, 4k, 64k, 1m ... (binary units; default ${formatSize(DEFAULTS.bs)});
                        must be a multiple of the target's logical block size
  --qd N                operations in flight (fio's iodepth; default ${DEFAULTS.qd})
  --batch N             ops per ring.submit() for the -batch drivers (default: ceil(qd/2),
                        so two batches overlap)
  --direct              O_DIRECT (default)
  --no-direct, --buffered  through the page cache (dropped before reading runs when possible)
  --allow-write         permit writing to a block device, or stamping an existing target with
                        the verification pattern

Duration
  --runtime SECONDS     measured time per trial (default ${DEFAULTS.runtimeS}; accepts 500ms, 10s, 1m)
  --ops N               measured operations per trial instead of a time
  --ramp SECONDS        unmeasured warm-up per trial (default ${DEFAULTS.rampS}; fio ramps in
                        time-based runs only)
  --repeat N            run every trial N times, alternating drivers; report medians

Comparison
  --drivers LIST        comma list of drivers or groups (default: all; unavailable ones are
                        reported as skipped)
  --sweep qd=1,8,32,128 or --sweep bs=4k,64k,1m   run each value, producing a curve

Output
  --json FILE           write every result with parameters and machine info
  --svg FILE            write a chart (bars by driver; lines per driver for a sweep)

Streams
  --stream              with --rw read or write: one pass over the region per trial through
                        aioring's file.createReadStream / createWriteStream (aioring-stream),
                        fs.createReadStream / createWriteStream + fsync (fs-stream) and fio
                        (fio-libaio), at --bs ${STREAM_DEFAULTS.bs / 2 ** 20}m --qd ${STREAM_DEFAULTS.qd} unless given. The page cache is dropped
                        before every trial (root) and its residency measured after (fincore);
                        the table adds CPU seconds per GiB. Writes check the file's sha256.

Suites
  --suite targets       run the named suite of targets: preset workloads on a 1 GiB file in the
                        temporary directory and one on /dev/shm, each compared with fio (libaio)
                        and fs.promises against a bar, printed with PASS/FAIL (see bench/README.md).
                        Defaults to --runtime ${SUITE_DEFAULTS.runtimeS} --repeat ${SUITE_DEFAULTS.repeat}; also takes --ramp, --json,
                        --seed, --verify-every, --size (the files; default 1g) and --ops (the memory
                        target's measured operations; default 5m)
  --only LIST           with --suite: run only these targets (comma list of names)

Integrity
  --integrity FORMAT    t10dif | nvme64: the target is written with protection trailers (every
                        4096-byte interval, 512 for smaller blocks, ends in its tuple) and the
                        aioring-<engine>-pi drivers open it with ring.open's integrity option, so
                        they generate trailers on writes and check them on reads; the other drivers
                        run unprotected on the same target, side by side. Not with randrw.

Checksums
  --checksums           compare aioring's crc32c with @node-rs/crc32 on 4 KiB and 64 KiB buffers,
                        and crc16t10dif / crc64nvme with that crc32c, in one process: alternating
                        rounds (--repeat, default ${CHECKSUM_DEFAULTS.repeat}) of --runtime each (default ${CHECKSUM_DEFAULTS.runtimeS * 1000}ms) per case;
                        PASS/FAIL against the bars (crc32c >= 1.0x @node-rs/crc32; the others
                        >= 0.5x crc32c at 64 KiB). Exit 1 if a bar is missed. Takes --json.

Checking
  --verify-every N      check every Nth read against the target's pattern (default ${DEFAULTS.verifyEvery}; 0 = off)
  --no-verify           same as --verify-every 0 (needed to read a foreign target read-only)
  --seed N              pattern seed
  -h, --help            this text

Drivers
${driverLines.join('\n')}
  Groups:
${groupLines.join('\n')}

Each trial runs in its own child process. A verification mismatch fails the run.
Exit status: 0 success, 1 a trial failed, 2 bad usage, 3 verification failed, 4 a suite target
missed its bar, 130 interrupted.
`;
}
