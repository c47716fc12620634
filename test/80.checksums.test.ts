import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc16t10dif, crc32c, crc64nvme } from '../lib/index';
import { native } from '../lib/native';
import { NativeChecksumAlgorithm, NativeChecksumPath } from '../lib/native-contract';
import { bitwiseCrc16T10Dif, bitwiseCrc32C, bitwiseCrc64Nvme } from './helpers/crc-reference';
import { seededRandom } from './helpers/random';
import { thrownBy } from './helpers/thrown';

const random = seededRandom();
console.log(`checksums: seed ${random.seed}`);

const check = Buffer.from('123456789');
const pool = random.fill(new Uint8Array(70_064));

interface Algorithm {
  name: 'crc16t10dif' | 'crc32c' | 'crc64nvme';
  id: NativeChecksumAlgorithm;
  reference(bytes: Uint8Array, seed: number | bigint): number | bigint;
  randomSeed(): number | bigint;
}

const algorithms: Algorithm[] = [
  { name: 'crc16t10dif', id: NativeChecksumAlgorithm.crc16t10dif, reference: (b, s) => bitwiseCrc16T10Dif(b, Number(s)), randomSeed: () => random.int(0, 0xffff) },
  { name: 'crc32c', id: NativeChecksumAlgorithm.crc32c, reference: (b, s) => bitwiseCrc32C(b, Number(s)), randomSeed: () => random.int(0, 0xffffffff) },
  {
    name: 'crc64nvme',
    id: NativeChecksumAlgorithm.crc64nvme,
    reference: (b, s) => bitwiseCrc64Nvme(b, BigInt(s)),
    randomSeed: () => (BigInt(random.int(0, 0xffffffff)) << 32n) | BigInt(random.int(0, 0xffffffff)),
  },
];

function byPath(algorithm: Algorithm, path: NativeChecksumPath, bytes: Uint8Array, seed: number | bigint): number | bigint | null {
  return native.checksumByPath(algorithm.id, path, bytes, seed);
}

describe('checksums', () => {
  it('give the catalogued check values for "123456789"', () => {
    expect(crc16t10dif(check)).toBe(0xd0db);
    expect(crc32c(check)).toBe(0xe3069283);
    expect(crc64nvme(check)).toBe(0xae8b14860a799888n);
    expect(crc64nvme(check, 0n)).toBe(0xae8b14860a799888n);
  });

  it('choose the instruction paths exactly where this CPU has them, the tables elsewhere', () => {
    const cpuFlags = new Set(
      (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/),
    );
    const x86 = process.arch === 'x64';
    const carrylessMultiply = x86 && cpuFlags.has('pclmulqdq') && cpuFlags.has('ssse3');
    expect(native.checksumHardware).toEqual({
      crc16t10dif: carrylessMultiply,
      crc32c: x86 && cpuFlags.has('sse4_2'),
      crc64nvme: carrylessMultiply,
    });
  });

  it('give the initial value for empty data', () => {
    expect(crc16t10dif(new Uint8Array(0), 0x1234)).toBe(0x1234);
    expect(crc32c(new Uint8Array(0), 0xdeadbeef)).toBe(0xdeadbeef);
    expect(crc64nvme(new Uint8Array(0), 5n)).toBe(5n);
  });

  for (const algorithm of algorithms) {
    describe(algorithm.name, () => {
      it('matches a bitwise reference on the table path, the hardware path and the default, at random lengths and offsets', () => {
        const hardware = native.checksumHardware[algorithm.name];
        for (let round = 0; round < 24; round++) {
          const length = round < 4 ? [0, 1, 127, 70_000][round]! : random.int(0, 70_000);
          const offset = random.int(0, 63);
          const bytes = pool.subarray(offset, offset + length);
          const seed = algorithm.randomSeed();
          const expected = algorithm.reference(bytes, seed);
          expect(byPath(algorithm, NativeChecksumPath.table, bytes, seed), `table, ${length} bytes at ${offset}`).toBe(expected);
          const viaHardware = byPath(algorithm, NativeChecksumPath.hardware, bytes, seed);
          expect(viaHardware, `hardware, ${length} bytes at ${offset}`).toBe(hardware ? expected : null);
          expect(byPath(algorithm, NativeChecksumPath.best, bytes, seed)).toBe(expected);
        }
      });

      it('agrees between paths on every length around the block and fold sizes', () => {
        for (let length = 0; length <= 1_100; length += length < 300 ? 1 : 7) {
          const offset = length % 13;
          const bytes = pool.subarray(offset, offset + length);
          const seed = algorithm.randomSeed();
          const table = byPath(algorithm, NativeChecksumPath.table, bytes, seed);
          expect(byPath(algorithm, NativeChecksumPath.best, bytes, seed), `${length} bytes`).toBe(table);
        }
        for (const length of [12_287, 12_288, 12_289, 24_576 + 767, 24_576 + 768, 65_536]) {
          const bytes = pool.subarray(3, 3 + length);
          const seed = algorithm.randomSeed();
          expect(byPath(algorithm, NativeChecksumPath.best, bytes, seed), `${length} bytes`).toBe(algorithm.reference(bytes, seed));
        }
      });

      it('chains through the seed over data split anywhere', () => {
        const whole = pool.subarray(1, 9_001);
        const call = (bytes: Uint8Array, seed?: number | bigint) =>
          algorithm.name === 'crc64nvme' ? crc64nvme(bytes, seed as bigint | undefined) : algorithm.name === 'crc32c' ? crc32c(bytes, seed as number | undefined) : crc16t10dif(bytes, seed as number | undefined);
        const expected = call(whole);
        for (let round = 0; round < 20; round++) {
          const split = random.int(0, whole.length);
          expect(call(whole.subarray(split), call(whole.subarray(0, split)))).toBe(expected);
        }
      });
    });
  }

  it('read the bytes of any view: DataView, wider typed arrays, Buffers over a shared pool', () => {
    const bytes = pool.subarray(8, 8 + 4_096);
    const expected = crc32c(bytes);
    expect(crc32c(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toBe(expected);
    expect(crc32c(new Float64Array(bytes.buffer, bytes.byteOffset, 512))).toBe(expected);
    expect(crc32c(Buffer.from(bytes))).toBe(expected);
    expect(crc64nvme(new Uint32Array(bytes.buffer, bytes.byteOffset, 1_024))).toBe(crc64nvme(bytes));
  });

  it('reject what is not a view, and seeds out of range, the way Node does', () => {
    for (const call of [() => crc32c('123' as never), () => crc16t10dif([1, 2] as never), () => crc64nvme(null as never)]) {
      expect(thrownBy(call)).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
    for (const call of [() => crc32c(check, -1), () => crc32c(check, 2 ** 32), () => crc32c(check, 1.5), () => crc16t10dif(check, 0x10000)]) {
      expect(thrownBy(call)).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    }
    expect(thrownBy(() => crc64nvme(check, 1 as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrownBy(() => crc64nvme(check, -1n))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => crc64nvme(check, 1n << 64n))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(thrownBy(() => crc32c(check, '1' as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});
