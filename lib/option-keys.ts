// Every options object the library takes, and the keys each one may have, in
// one place. An unknown key throws ERR_INVALID_ARG_VALUE naming it, so that a
// misspelt or foreign option (`deph`, `timeout`, `flags: 'r+'`) is never
// silently ignored.
//
// Adding an option: add the field to its interface in types.ts and the key to
// its table here; each table is typed Record<keyof Interface, true>, so the
// compiler refuses a table that misses a field or names one the type lacks.
import { invalidArgValue } from './errors';
import type { FileSystemOptions, LoopDeviceOptions, ThrottleLimits, ThrottleOptions } from './testing/types';
import type {
  AllocateOptions,
  BatchOpOn,
  FileIntegrityOptions,
  LogAppendOptions,
  LogOptions,
  LogReadOptions,
  OpenOptions,
  ProtectionOptions,
  ReadOptions,
  ReadStreamOptions,
  RingOptions,
  ScrubOptions,
  StatOptions,
  SubmitOptions,
  SyncOptions,
  WriteOptions,
  WriteStreamOptions,
} from './types';

type KeyTable<T> = Record<keyof T, true>;

const ring: KeyTable<RingOptions> = { depth: true, engine: true, prefer: true, busyPollUs: true, pollBudget: true, strictBuffers: true, latencyStats: true };
const open: KeyTable<OpenOptions> = {
  write: true,
  create: true,
  exclusive: true,
  truncate: true,
  direct: true,
  dsync: true,
  mode: true,
  integrity: true,
  signal: true,
};
const read: KeyTable<ReadOptions> = { pi: true, signal: true, timeoutMs: true };
const write: KeyTable<WriteOptions> = { dsync: true, pi: true, signal: true, timeoutMs: true, atomic: true };
const sync: KeyTable<SyncOptions> = { signal: true, timeoutMs: true };
const submit: KeyTable<SubmitOptions> = { signal: true, timeoutMs: true, ordered: true };
const scrub: KeyTable<ScrubOptions> = { onProgress: true };
const stat: KeyTable<StatOptions> = { bigint: true };
const allocate: KeyTable<AllocateOptions> = { keepSize: true };
const batchTransfer: KeyTable<Extract<BatchOpOn<unknown>, { op: 'read' }>> = { op: true, file: true, buffer: true, position: true, dsync: true, pi: true };
const batchVector: KeyTable<Extract<BatchOpOn<unknown>, { op: 'readv' }>> = { op: true, file: true, buffers: true, position: true, dsync: true, pi: true };
const batchFlush: KeyTable<Extract<BatchOpOn<unknown>, { op: 'fsync' }>> = { op: true, file: true };
const protection: KeyTable<ProtectionOptions> = { format: true, interval: true, refTag: true, appTag: true };
const fileIntegrity: KeyTable<FileIntegrityOptions> = { format: true, interval: true, appTag: true, refTagSeed: true, layout: true };
const readStream: KeyTable<ReadStreamOptions> = { start: true, end: true, highWaterMark: true, maxReadAhead: true, signal: true };
const writeStream: KeyTable<WriteStreamOptions> = { start: true, chunkSize: true, flush: true, highWaterMark: true, signal: true };
const logRead: KeyTable<LogReadOptions> = { from: true };
const logAppend: KeyTable<LogAppendOptions> = { signal: true, timeoutMs: true };
const log: KeyTable<LogOptions> = {
  create: true,
  readOnly: true,
  direct: true,
  durability: true,
  maxGroupBytes: true,
  maxGroupWaitUs: true,
  maxRecordBytes: true,
  preallocateBytes: true,
  zeroFill: true,
  mode: true,
};

const loopDevice: KeyTable<LoopDeviceOptions> = { sizeMiB: true, sectorSize: true, directIo: true, backing: true, waitMs: true };
const fileSystem: KeyTable<FileSystemOptions> = { type: true, sizeMiB: true, sectorSize: true };
const throttleLimits: KeyTable<ThrottleLimits> = { readBps: true, writeBps: true, readIops: true, writeIops: true };
const throttle: KeyTable<ThrottleOptions> = { pid: true };

/** What to say about a key that users bring from another API. */
const hints: Record<string, string> = {
  flags: "aioring takes no flags string: use { write, create, exclusive, truncate } (for 'r+': { write: true })",
  encoding: 'aioring transfers bytes only',
};

export class OptionKeys {
  private readonly allowed: ReadonlySet<string>;

  constructor(table: object) {
    this.allowed = new Set(Object.keys(table));
  }

  /** A table from a list, for options objects with no interface of their own. */
  static of(keys: readonly string[]): OptionKeys {
    return new OptionKeys(Object.fromEntries(keys.map((key) => [key, true])));
  }

  /** Throws ERR_INVALID_ARG_VALUE for the first key of `options` this table does not know. */
  check(name: string, options: object): void {
    for (const key in options) {
      if (!this.allowed.has(key)) throw unknownKey(name, key, [...this.allowed]);
    }
  }
}

export const optionKeys = {
  ring: new OptionKeys(ring),
  open: new OptionKeys(open),
  read: new OptionKeys(read),
  write: new OptionKeys(write),
  scrub: new OptionKeys(scrub),
  sync: new OptionKeys(sync),
  submit: new OptionKeys(submit),
  stat: new OptionKeys(stat),
  allocate: new OptionKeys(allocate),
  batchTransfer: new OptionKeys(batchTransfer),
  batchVector: new OptionKeys(batchVector),
  batchFlush: new OptionKeys(batchFlush),
  protection: new OptionKeys(protection),
  fileIntegrity: new OptionKeys(fileIntegrity),
  log: new OptionKeys(log),
  logRead: new OptionKeys(logRead),
  logAppend: new OptionKeys(logAppend),
  readStream: new OptionKeys(readStream),
  writeStream: new OptionKeys(writeStream),
  loopDevice: new OptionKeys(loopDevice),
  fileSystem: new OptionKeys(fileSystem),
  throttleLimits: new OptionKeys(throttleLimits),
  throttle: new OptionKeys(throttle),
};

function unknownKey(name: string, key: string, allowed: string[]): TypeError {
  const near = allowed.find((candidate) => editDistance(candidate.toLowerCase(), key.toLowerCase()) <= 2);
  const advice = hints[key] ?? (near !== undefined ? `did you mean '${near}'?` : `the known ones are ${allowed.map((k) => `'${k}'`).join(', ')}`);
  return invalidArgValue(`The "${name}" argument has an unknown option '${key}': ${advice}`);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
