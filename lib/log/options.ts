// The options of ring.openLog, checked in full before anything is opened.
import { invalidArgValue, outOfRange } from '../errors';
import { checkBoolean, checkInteger, checkOneOf, checkOptions } from '../validate';

const KiB = 1024;
const MiB = 1024 * KiB;

export type LogDurability = 'dsync' | 'fdatasync';

export interface LogOptions {
  /** Create the log if the file does not exist (or is empty). Default false. */
  create?: boolean;
  /** Open for reading only: recovery runs, nothing is written, append() rejects. Default false. */
  readOnly?: boolean;
  /** O_DIRECT: groups are written in aligned blocks past the page cache. Default true. */
  direct?: boolean;
  /**
   * How a group is made durable: 'dsync' (default) writes it with RWF_DSYNC, one
   * system call; 'fdatasync' writes it and then calls fdatasync.
   */
  durability?: LogDurability;
  /** A group holds records totalling at most this many bytes (a single larger record goes alone). 4 KiB to 64 MiB; default 1 MiB. */
  maxGroupBytes?: number;
  /**
   * Microseconds an idle log waits for more appends before it writes a group
   * (appends arriving while a group is being written never wait longer than it
   * takes). 0 to 1000000; default 0: write at once.
   */
  maxGroupWaitUs?: number;
  /** The largest record append() accepts, in bytes. 1 to 256 MiB; default 4 MiB. */
  maxRecordBytes?: number;
  /** Bytes the file is extended by ahead of the appends, so an append never also commits a size change. 0 (off) or a multiple of 4096 up to 1 GiB; default 64 MiB. */
  preallocateBytes?: number;
  /**
   * Preallocate by writing zeros (default true), so that appends overwrite
   * written blocks and commit no extent change either; false reserves the space
   * with fallocate(2) alone, which is cheaper but leaves unwritten extents whose
   * first write some file systems must also journal.
   */
  zeroFill?: boolean;
  /** Permission bits for a created file. Default 0o644. */
  mode?: number;
}

export interface ResolvedLogOptions {
  create: boolean;
  readOnly: boolean;
  direct: boolean;
  durability: LogDurability;
  maxGroupBytes: number;
  maxGroupWaitUs: number;
  maxRecordBytes: number;
  preallocateBytes: number;
  zeroFill: boolean;
  mode: number;
}

export const logOptionKeys: readonly (keyof LogOptions)[] = [
  'create',
  'readOnly',
  'direct',
  'durability',
  'maxGroupBytes',
  'maxGroupWaitUs',
  'maxRecordBytes',
  'preallocateBytes',
  'zeroFill',
  'mode',
];

export function resolveLogOptions(options: unknown): ResolvedLogOptions {
  const opts = checkOptions('options', options);
  for (const key of Object.keys(opts)) {
    if (!(logOptionKeys as readonly string[]).includes(key)) {
      throw invalidArgValue(`The option "${key}" is not a log option; known: ${logOptionKeys.join(', ')}`);
    }
  }
  const preallocateBytes = opts.preallocateBytes === undefined ? 64 * MiB : checkInteger('preallocateBytes', opts.preallocateBytes, 0, 1024 * MiB);
  if (preallocateBytes % (4 * KiB) !== 0) {
    throw outOfRange(`The value of "preallocateBytes" must be 0 or a multiple of 4096. Received ${preallocateBytes}`);
  }
  const readOnly = checkBoolean('readOnly', opts.readOnly, false);
  const create = checkBoolean('create', opts.create, false);
  if (readOnly && create) {
    throw invalidArgValue('The options "readOnly" and "create" cannot both be true');
  }
  return {
    create,
    readOnly,
    direct: checkBoolean('direct', opts.direct, true),
    durability: opts.durability === undefined ? 'dsync' : checkOneOf('durability', opts.durability, ['dsync', 'fdatasync'] as const),
    maxGroupBytes: opts.maxGroupBytes === undefined ? 1 * MiB : checkInteger('maxGroupBytes', opts.maxGroupBytes, 4 * KiB, 64 * MiB),
    maxGroupWaitUs: opts.maxGroupWaitUs === undefined ? 0 : checkInteger('maxGroupWaitUs', opts.maxGroupWaitUs, 0, 1_000_000),
    maxRecordBytes: opts.maxRecordBytes === undefined ? 4 * MiB : checkInteger('maxRecordBytes', opts.maxRecordBytes, 1, 256 * MiB),
    preallocateBytes,
    zeroFill: checkBoolean('zeroFill', opts.zeroFill, true),
    mode: opts.mode === undefined ? 0o644 : checkInteger('mode', opts.mode, 0, 0o7777),
  };
}
