// Argument checks for the kit, in the same style as the library's own: Node's
// error classes and codes, and the value that was wrong in the message.

import type { SectorSize } from './types';

export const MiB = 1024 * 1024;
/** Sparse backing files cost only what is written, but a typo like 1e6 MiB should not be taken literally. */
export const maxSizeMiB = 16 * 1024;

function invalid(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

export function checkSizeMiB(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > maxSizeMiB) {
    throw Object.assign(new RangeError(`The "${name}" option must be a whole number of MiB from 1 to ${maxSizeMiB}. Received ${String(value)}`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  }
  return value;
}

export function checkSectorSize(name: string, value: unknown, fallback: SectorSize): SectorSize {
  if (value === undefined) return fallback;
  if (value !== 512 && value !== 4096) throw invalid(`The "${name}" option must be 512 or 4096. Received ${String(value)}`);
  return value;
}

/** A limit: a positive whole number, or undefined for none. */
export function checkLimit(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw Object.assign(new RangeError(`The "${name}" option must be a whole number >= 1. Received ${String(value)}`), { code: 'ERR_OUT_OF_RANGE' });
  }
  return value;
}
