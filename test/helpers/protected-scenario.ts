// The fault scenario the protected-file suites run on every engine, on files
// and on loop devices: intervals written through aioring, then damaged by
// plain writes behind its back the four ways storage fails, then read back.
import * as fs from 'node:fs';
import { expect } from 'vitest';
import { AioError, AioFile, Ring, allocAligned } from '../../lib/index';
import type { ProtectionFormat } from '../../lib/index';
import { flipBytes } from '../../lib/testing/index';
import { firstDifference } from './data';
import { referenceTuple, tupleSize } from './protection-reference';
import type { Random } from './random';

export const appTag = 0x1234;
export const refTagSeed = 1000;
const intervals = 8;

/** Reads `length` bytes at `position` of a file or device behind the library's back. */
export function plainRead(path: string, position: number, length: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(length);
    expect(fs.readSync(fd, bytes, 0, length, position)).toBe(length);
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes behind the library's back and makes it reach the medium. */
export function plainWrite(path: string, position: number, bytes: Uint8Array): void {
  const fd = fs.openSync(path, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, position);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every trailer of [base, base + bytes.length) is the documented tuple, computed with a bitwise CRC. */
export function expectDocumentedTrailers(bytes: Buffer, base: number, format: ProtectionFormat, interval: number): void {
  const size = tupleSize[format];
  for (let offset = 0; offset < bytes.length; offset += interval) {
    const guarded = bytes.subarray(offset, offset + interval - size);
    const expected = referenceTuple(format, guarded, appTag, refTagSeed + (base + offset) / interval);
    const actual = bytes.subarray(offset + interval - size, offset + interval);
    expect(actual.equals(expected), `trailer of the interval at ${base + offset}`).toBe(true);
  }
}

export async function openProtected(ring: Ring, path: string, format: ProtectionFormat, interval: 512 | 4096, create: boolean): Promise<AioFile> {
  return ring.open(path, { write: true, create, integrity: { format, interval: interval, appTag, refTagSeed } });
}

/**
 * Writes 8 intervals at `base`, damages four of them (a flipped bit, a copy
 * of another interval, a half-overwritten interval, a wrong application tag)
 * and checks that each fails with its own kind, in one batch where the intact
 * ones read back byte for byte, and that scrub reports exactly the four.
 */
export async function runFaultScenario(
  ring: Ring,
  path: string,
  format: ProtectionFormat,
  interval: 512 | 4096,
  base: number,
  random: Random,
): Promise<void> {
  const file = await openProtected(ring, path, format, interval, !fs.existsSync(path));
  const align = Math.max(4096, file.info.memAlign);
  const data = random.fill(allocAligned(intervals * interval, align)) as Buffer;
  const written = Buffer.from(data);
  expect(await file.write(data, base)).toBe(data.length);

  const stored = plainRead(path, base, data.length);
  expectDocumentedTrailers(stored, base, format, interval);
  // The write filled the trailers in its own buffer: what is stored is that buffer.
  expect(firstDifference(stored, data)).toBe(-1);
  const tuple = tupleSize[format];
  for (let k = 0; k < intervals; k++) {
    const guarded = (k + 1) * interval - tuple;
    expect(firstDifference(data.subarray(k * interval, guarded), written.subarray(k * interval, guarded))).toBe(-1);
  }

  const at = (k: number) => base + k * interval;
  const bit = random.int(0, interval - tuple - 1);
  plainWrite(path, at(1) + bit, Buffer.from([stored[interval + bit]! ^ (1 << random.int(0, 7))]));
  plainWrite(path, at(3), stored.subarray(6 * interval, 7 * interval));
  await flipBytes(path, at(4) + interval / 2, interval / 2);
  const wrongTag = Buffer.alloc(2);
  wrongTag.writeUInt16BE(0x4321);
  plainWrite(path, at(5) + interval - tuple + (format === 't10dif' ? 2 : 8), wrongTag);

  const buffers = Array.from({ length: intervals }, () => allocAligned(interval, align));
  const results = await ring.submit(buffers.map((buffer, k) => ({ op: 'read' as const, file, buffer, position: at(k) })));
  const expectedKinds: Record<number, string> = { 1: 'guard', 3: 'reference', 4: 'guard', 5: 'application' };
  for (let k = 0; k < intervals; k++) {
    const result = results[k];
    if (expectedKinds[k] === undefined) {
      expect(result, `interval ${k}`).toBe(interval);
      expect(firstDifference(buffers[k]!, stored.subarray(k * interval, (k + 1) * interval)), `interval ${k}`).toBe(-1);
    } else {
      expect(result, `interval ${k}`).toBeInstanceOf(AioError);
      expect(result, `interval ${k}`).toMatchObject({ code: 'ERR_AIO_INTEGRITY', kind: expectedKinds[k], interval: 0, position: at(k), op: 'read' });
    }
  }
  expect(results[3]).toMatchObject({ expected: refTagSeed + at(3) / interval, actual: refTagSeed + at(6) / interval });
  expect(results[5]).toMatchObject({ expected: appTag, actual: 0x4321 });

  const whole = allocAligned(intervals * interval, align);
  const failure = await file.read(whole, base).catch((error: unknown) => error);
  expect(failure).toMatchObject({ code: 'ERR_AIO_INTEGRITY', kind: 'guard', interval: 1, position: at(1) });
  expect((failure as AioError).faults!.map((fault) => [fault.kind, fault.interval, fault.position])).toEqual([
    ['guard', 1, at(1)],
    ['reference', 3, at(3)],
    ['guard', 4, at(4)],
    ['application', 5, at(5)],
  ]);

  const progress: number[] = [];
  const report = await file.scrub({ onProgress: ({ bytesScanned }) => progress.push(bytesScanned) });
  expect(report.faults.filter((fault) => fault.position >= base && fault.position < at(intervals)).map((f) => [f.kind, f.position])).toEqual([
    ['guard', at(1)],
    ['reference', at(3)],
    ['guard', at(4)],
    ['application', at(5)],
  ]);
  expect(progress.at(-1)).toBe(report.bytesScanned);
  await file.close();
}
