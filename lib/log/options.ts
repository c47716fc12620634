// The options of ring.openLog, checked in full before anything is opened.
import { invalidArgValue, outOfRange } from '../errors';
import { optionKeys } from '../option-keys';
import type { LogDurability } from '../types';
import { checkBoolean, checkInteger, checkOneOf, checkOptions } from '../validate';

const KiB = 1024;
const MiB = 1024 * KiB;

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

export function resolveLogOptions(options: unknown): ResolvedLogOptions {
  const opts = checkOptions('options', options, optionKeys.log);
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
