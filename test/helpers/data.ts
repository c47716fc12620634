import { randomFillSync } from 'node:crypto';
import { allocAligned } from '../../lib/index';

/** An aligned buffer of `size` random bytes. */
export function randomAligned(size: number): Buffer {
  return randomFillSync(allocAligned(size));
}

/** Asserts two byte ranges are identical, reporting the first difference rather than a huge diff. */
export function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  const index = Buffer.from(actual.buffer, actual.byteOffset, actual.length).compare(
    Buffer.from(expected.buffer, expected.byteOffset, expected.length),
  );
  if (index === 0) return -1;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return i;
  return -1;
}
