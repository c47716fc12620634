import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AioError, generateProtection, verifyProtection } from '../lib/index';
import type { ProtectionOptions } from '../lib/index';
import { type Format, referenceTuple, tupleSize } from './helpers/protection-reference';
import { seededRandom } from './helpers/random';
import { thrownBy } from './helpers/thrown';

const random = seededRandom();
console.log(`protection: seed ${random.seed}`);

const formats: Format[] = ['t10dif', 'nvme64'];
const intervals = [512, 4096] as const;

function protect(format: Format, interval: 512 | 4096, count: number, extra: Partial<ProtectionOptions> = {}) {
  const data = random.fill(Buffer.alloc(count * interval));
  const pi = Buffer.alloc(count * tupleSize[format]);
  const options: ProtectionOptions = { format, interval, ...extra };
  generateProtection(data, pi, options);
  return { data, pi, options };
}

function integrityFailure(call: () => unknown): AioError {
  const error = thrownBy(call);
  expect(error).toBeInstanceOf(AioError);
  expect(error).toMatchObject({ code: 'ERR_AIO_INTEGRITY' });
  return error as AioError;
}

describe('generateProtection / verifyProtection', () => {
  for (const format of formats) {
    for (const interval of intervals) {
      it(`${format}/${interval}: writes the documented tuples, which then verify`, () => {
        const refTag = random.int(0, 2 ** 31);
        const appTag = random.int(0, 0xfffe);
        const { data, pi, options } = protect(format, interval, 5, { refTag, appTag });
        const size = tupleSize[format];
        for (let k = 0; k < 5; k++) {
          const expected = referenceTuple(format, data.subarray(k * interval, (k + 1) * interval), appTag, refTag + k);
          expect(pi.subarray(k * size, (k + 1) * size).equals(expected), `tuple ${k}`).toBe(true);
        }
        expect(() => verifyProtection(data, pi, options)).not.toThrow();
      });

      it(`${format}/${interval}: names each failed check with the interval, its position and both values`, () => {
        const { data, pi, options } = protect(format, interval, 6, { refTag: 100, appTag: 7 });
        const size = tupleSize[format];
        const guardBytes = format === 't10dif' ? 2 : 8;
        data[1 * interval + random.int(0, interval - 1)] ^= 1 << random.int(0, 7);
        pi.writeUInt16BE(8, 3 * size + guardBytes);
        pi[4 * size + size - 1] ^= 0x04;
        const error = integrityFailure(() => verifyProtection(data, pi, options));
        expect(error).toMatchObject({ kind: 'guard', interval: 1, position: interval });
        expect(error.expected).not.toEqual(error.actual);
        expect(typeof error.expected).toBe(format === 'nvme64' ? 'bigint' : 'number');
        expect(error.faults).toEqual([
          expect.objectContaining({ kind: 'guard', interval: 1, position: interval }),
          { kind: 'application', interval: 3, position: 3 * interval, expected: 7, actual: 8 },
          { kind: 'reference', interval: 4, position: 4 * interval, expected: 104, actual: 104 ^ 0x04 },
        ]);
      });
    }

    it(`${format}: an interval and its tuple moved elsewhere fail the reference check (a misdirected write)`, () => {
      const { data, pi, options } = protect(format, 512, 4, { refTag: 9 });
      const size = tupleSize[format];
      data.copy(data, 2 * 512, 0, 512);
      pi.copy(pi, 2 * size, 0, size);
      const error = integrityFailure(() => verifyProtection(data, pi, options));
      expect(error).toMatchObject({ kind: 'reference', interval: 2, position: 1024, expected: 11, actual: 9 });
    });

    it(`${format}: a stored application tag of 0xFFFF turns the interval's checks off`, () => {
      const { data, pi, options } = protect(format, 512, 3, { appTag: 0xffff });
      data[700] ^= 0xff;
      expect(() => verifyProtection(data, pi, { ...options, appTag: 3 })).not.toThrow();
    });
  }

  it('truncates reference tags to the tuple width: 32 bits for t10dif, 48 for nvme64', () => {
    const narrow = protect('t10dif', 512, 3, { refTag: 2 ** 32 - 2 });
    expect([0, 1, 2].map((k) => narrow.pi.readUInt32BE(k * 8 + 4))).toEqual([2 ** 32 - 2, 2 ** 32 - 1, 0]);
    expect(() => verifyProtection(narrow.data, narrow.pi, narrow.options)).not.toThrow();
    const wide = protect('nvme64', 512, 3, { refTag: 2 ** 32 - 1 });
    expect([0, 1, 2].map((k) => wide.pi.readUIntBE(k * 16 + 10, 6))).toEqual([2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1]);
    const wrap = protect('nvme64', 512, 2, { refTag: 2 ** 48 - 1 });
    expect([0, 1].map((k) => wrap.pi.readUIntBE(k * 16 + 10, 6))).toEqual([2 ** 48 - 1, 0]);
  });

  it('refuses bad input with a clear error before any native work', () => {
    const data = Buffer.alloc(1024);
    const pi = Buffer.alloc(16);
    const cases: [() => unknown, object, RegExp][] = [
      [() => generateProtection(data, pi, { format: 'crc32' as never, interval: 512 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, /format/],
      [() => generateProtection(data, pi, { format: 't10dif', interval: 1024 as never }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }, /512 or 4096/],
      [() => generateProtection(Buffer.alloc(1000), pi, { format: 't10dif', interval: 512 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }, /whole number of 512-byte intervals/],
      [() => verifyProtection(data, Buffer.alloc(24), { format: 't10dif', interval: 512 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }, /need exactly 16/],
      [() => verifyProtection(data, pi, { format: 'nvme64', interval: 512 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }, /need exactly 32/],
      [() => generateProtection(data, pi, { format: 't10dif', interval: 512, appTag: 0x10000 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, /appTag/],
      [() => generateProtection(data, pi, { format: 't10dif', interval: 512, refTag: -1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, /refTag/],
      [() => generateProtection('x' as never, pi, { format: 't10dif', interval: 512 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, /data/],
      [() => generateProtection(data, pi, undefined as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, /format/],
    ];
    for (const [call, shape, message] of cases) {
      const error = thrownBy(call) as Error;
      expect(error).toMatchObject(shape);
      expect(error.message).toMatch(message);
    }
    expect(pi.equals(Buffer.alloc(16))).toBe(true);
  });

  it('property: generate then verify passes, and any single-bit change in data or tuple is caught', () => {
    // A tag one bit away from 0xFFFF could be flipped into the escape value, which T10 defines as "do not check".
    const appTag = fc.integer({ min: 0, max: 0xfffe }).filter((tag) => tag.toString(2).split('1').length - 1 < 15);
    fc.assert(
      fc.property(
        fc.constantFrom(...formats),
        fc.constantFrom(...intervals),
        fc.integer({ min: 1, max: 4 }),
        appTag,
        fc.integer({ min: 0, max: 2 ** 48 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (format, interval, count, tag, refTag, inTuple, where, bit) => {
          const { data, pi, options } = protect(format, interval, count, { appTag: tag, refTag });
          verifyProtection(data, pi, options);
          const target = inTuple ? pi : data;
          target[where % target.length] ^= 1 << bit;
          const error = integrityFailure(() => verifyProtection(data, pi, options));
          const flipped = where % target.length;
          expect(error.interval).toBe(inTuple ? Math.floor(flipped / tupleSize[format]) : Math.floor(flipped / interval));
        },
      ),
      { numRuns: 300 },
    );
  });
});
