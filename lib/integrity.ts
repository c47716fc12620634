// Protection information in separate buffers (DIX style): generateProtection
// and verifyProtection over whole intervals, checked here and run natively.
import { type OperationContext, integrityError, invalidArgType, invalidArgValue } from './errors';
import type { IntegrityFault } from './types';
import { native, type NativeIntegrityFault, type NativeProtectionProfile } from './native';
import { ProtectionFormats, tupleBytes } from './native-contract';
import { optionKeys } from './option-keys';
import type {
  FileProtection,
  ProtectionFormat,
  ProtectionInterval,
  ProtectionLayout,
  ProtectionOptions,
  ProtectionProfile,
} from './types';
import { checkInteger, checkOneOf, checkOptions, checkView } from './validate';

export const protectionFormats = Object.keys(ProtectionFormats) as ProtectionFormat[];
const protectionIntervals: readonly ProtectionInterval[] = [512, 4096];
const protectionLayouts: readonly ProtectionLayout[] = ['trailer', 'separate'];

function checkFormat(name: string, value: unknown): ProtectionFormat {
  return checkOneOf(name, value, protectionFormats);
}

function checkAppTag(name: string, value: unknown): number {
  return value === undefined ? 0 : checkInteger(name, value, 0, 0xffff);
}

function checkRefTag(name: string, value: unknown): number {
  return value === undefined ? 0 : checkInteger(name, value, 0, Number.MAX_SAFE_INTEGER);
}

function checkInterval(name: string, value: unknown): ProtectionInterval {
  if (!protectionIntervals.includes(value as ProtectionInterval)) {
    throw invalidArgValue(`The "${name}" option must be 512 or 4096. Received ${String(value)}`, RangeError);
  }
  return value as ProtectionInterval;
}

/** Throws unless `tuples` holds exactly one tuple for each of `count` intervals. */
function checkTupleCount(description: string, tuples: ArrayBufferView, count: number, profile: Pick<ProtectionProfile, 'format' | 'tupleBytes'>): void {
  if (tuples.byteLength === count * profile.tupleBytes) return;
  throw invalidArgValue(
    `${description} is ${tuples.byteLength} bytes; ${count} interval(s) of ${profile.format} need exactly ` +
      `${count * profile.tupleBytes} (${profile.tupleBytes} per interval)`,
    RangeError,
  );
}

function checkProtectionOptions(value: unknown): ProtectionProfile & { refTag: number } {
  const options = checkOptions('options', value, optionKeys.protection);
  const format = checkFormat('options.format', options.format);
  return {
    format,
    interval: checkInterval('options.interval', options.interval),
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
    throw invalidArgValue(
      `The "data" argument is ${view.byteLength} bytes, not a whole number of ${profile.interval}-byte intervals`,
      RangeError,
    );
  }
  const count = view.byteLength / profile.interval;
  checkTupleCount('The "pi" argument', tuples, count, profile);
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

/** Checks the `integrity` option's own values; the file's block size is checked once it is open. */
export function checkFileIntegrity(value: unknown): Omit<FileProtection, 'kernelChecks'> | undefined {
  if (value === undefined) return undefined;
  const options = checkOptions('integrity', value, optionKeys.fileIntegrity);
  const format = checkFormat('integrity.format', options.format);
  const interval = checkInterval('integrity.interval', options.interval);
  const layout = options.layout === undefined ? 'trailer' : checkOneOf('integrity.layout', options.layout, protectionLayouts);
  return {
    format,
    interval,
    tupleBytes: tupleBytes[format],
    appTag: checkAppTag('integrity.appTag', options.appTag),
    refTagSeed: checkRefTag('integrity.refTagSeed', options.refTagSeed),
    layout,
  };
}

/** Why this file cannot carry these intervals, or undefined if it can. */
export function intervalMismatch(protection: Pick<FileProtection, 'interval'>, logicalBlockSize: number, offsetAlign: number): string | undefined {
  const unit = Math.max(logicalBlockSize, offsetAlign);
  if (protection.interval % unit === 0) return undefined;
  return `integrity.interval ${protection.interval} is not a multiple of this file's logical block size (${unit} bytes)`;
}

/**
 * Checks a protected transfer's pi buffer against its length: required and
 * exactly one tuple per interval in the separate layout, absent otherwise.
 * Returns it, or throws.
 */
export function checkTransferTuples(protection: FileProtection | undefined, pi: unknown, length: number): ArrayBufferView | undefined {
  if (protection === undefined || protection.layout === 'trailer') {
    if (pi === undefined) return undefined;
    throw invalidArgValue(
      protection === undefined
        ? 'The "pi" option is for files opened with integrity: { layout: \'separate\' }; this file has no integrity option'
        : 'The "pi" option is for the separate layout; this file keeps its tuples in each interval\'s trailer',
    );
  }
  if (pi === undefined) {
    throw invalidArgType('The "pi" option is required: this file was opened with integrity: { layout: \'separate\' }');
  }
  const tuples = checkView('pi', pi);
  checkTupleCount('The "pi" option', tuples, length / protection.interval, protection);
  return tuples;
}
