// Protection information in separate buffers (DIX style): generateProtection
// and verifyProtection over whole intervals, checked here and run natively.
import { integrityError, type OperationContext } from './errors';
import type { IntegrityFault } from './types';
import { native, type NativeIntegrityFault, type NativeProtectionProfile } from './native';
import { ProtectionFormats, tupleBytes } from './native-contract';
import { checkInteger, checkOneOf, checkOptions, checkView } from './validate';

/** 't10dif': 8-byte tuples with a CRC-16 guard; 'nvme64': NVMe's 16-byte tuples with a CRC-64 guard and 48-bit reference tag. */
export type ProtectionFormat = keyof typeof ProtectionFormats;
export const protectionFormats = Object.keys(ProtectionFormats) as ProtectionFormat[];
/** The intervals a tuple can cover. */
export const protectionIntervals = [512, 4096] as const;
export type ProtectionInterval = (typeof protectionIntervals)[number];

export interface ProtectionOptions {
  format: ProtectionFormat;
  /** Bytes of data per tuple: 512 or 4096. */
  interval: ProtectionInterval;
  /** Type 1 reference tag of the first interval; interval k gets refTag + k, truncated to the tuple's width. Default 0. */
  refTag?: number;
  /** Application tag, 0 to 0xFFFF; a tuple holding 0xFFFF is not checked at all. Default 0. */
  appTag?: number;
}

/** The checked form of the options every protected transfer shares. */
export interface ProtectionProfile {
  format: ProtectionFormat;
  interval: number;
  tupleBytes: number;
  appTag: number;
}

function invalidValue(message: string, range = false): Error {
  const error = range ? new RangeError(message) : new TypeError(message);
  return Object.assign(error, { code: 'ERR_INVALID_ARG_VALUE' });
}

export function checkFormat(name: string, value: unknown): ProtectionFormat {
  return checkOneOf(name, value, protectionFormats);
}

export function checkAppTag(name: string, value: unknown): number {
  return value === undefined ? 0 : checkInteger(name, value, 0, 0xffff);
}

export function checkRefTag(name: string, value: unknown): number {
  return value === undefined ? 0 : checkInteger(name, value, 0, Number.MAX_SAFE_INTEGER);
}

function checkProtectionOptions(value: unknown): ProtectionProfile & { refTag: number } {
  const options = checkOptions('options', value);
  const format = checkFormat('options.format', options.format);
  const interval = options.interval;
  if (!protectionIntervals.includes(interval as ProtectionInterval)) {
    throw invalidValue(`The "options.interval" option must be 512 or 4096. Received ${String(interval)}`, true);
  }
  return {
    format,
    interval: interval as number,
    tupleBytes: tupleBytes[format],
    appTag: checkAppTag('options.appTag', options.appTag),
    refTag: checkRefTag('options.refTag', options.refTag),
  };
}

/** Throws unless `data` is whole intervals and `pi` exactly their tuples; returns the interval count. */
function checkBuffers(data: unknown, pi: unknown, profile: ProtectionProfile): number {
  const view = checkView('data', data);
  const tuples = checkView('pi', pi);
  if (view.byteLength % profile.interval !== 0) {
    throw invalidValue(
      `The "data" argument is ${view.byteLength} bytes, not a whole number of ${profile.interval}-byte intervals`,
      true,
    );
  }
  const count = view.byteLength / profile.interval;
  if (tuples.byteLength !== count * profile.tupleBytes) {
    throw invalidValue(
      `The "pi" argument is ${tuples.byteLength} bytes; ${count} interval(s) of ${profile.format} need exactly ` +
        `${count * profile.tupleBytes} (${profile.tupleBytes} per interval)`,
      true,
    );
  }
  return count;
}

export function nativeProfile(profile: ProtectionProfile, trailer: boolean, refTag: number): NativeProtectionProfile {
  return [ProtectionFormats[profile.format], profile.interval, trailer, refTag, profile.appTag];
}

/** Native faults with their byte positions: `base` plus the interval's offset. */
export function positionedFaults(faults: NativeIntegrityFault[], interval: number, base: number): IntegrityFault[] {
  return faults.map((fault) => ({ ...fault, position: base + fault.interval * interval }));
}

/**
 * Fills `pi` with one tuple per `interval` bytes of `data`: the guard CRC of
 * the interval, the application tag, and the reference tag refTag + k.
 */
export function generateProtection(data: ArrayBufferView, pi: ArrayBufferView, options: ProtectionOptions): void {
  const profile = checkProtectionOptions(options);
  checkBuffers(data, pi, profile);
  native.generateProtection(data, pi, ...nativeProtectionArgs(profile));
}

/**
 * Checks every interval of `data` against its tuple in `pi`. Throws an
 * AioError with code ERR_AIO_INTEGRITY naming the first bad interval (and all
 * of them in `faults`); returns nothing when every interval passes.
 */
export function verifyProtection(data: ArrayBufferView, pi: ArrayBufferView, options: ProtectionOptions): void {
  const profile = checkProtectionOptions(options);
  checkBuffers(data, pi, profile);
  const faults = native.verifyProtection(data, pi, ...nativeProtectionArgs(profile));
  if (faults !== null) throw integrityError(positionedFaults(faults, profile.interval, 0), verifyContext(data));
}

function nativeProtectionArgs(profile: ProtectionProfile & { refTag: number }): NativeProtectionProfile {
  return nativeProfile(profile, false, profile.refTag);
}

function verifyContext(data: ArrayBufferView): OperationContext {
  return { op: 'verifyProtection', length: data.byteLength };
}
