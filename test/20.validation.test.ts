// Bad arguments are refused in TypeScript, with Node's kinds of error and
// codes, before anything reaches native code.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioFile, Ring, allocAligned } from '../lib/index';
import { Place, makePlaces, removePlaces } from './helpers/places';

let places: Place[];
let ring: Ring;
let file: AioFile;

beforeAll(async () => {
  places = makePlaces();
  ring = new Ring({ depth: 8 });
  file = await ring.open(path.join(places[0]!.dir, 'validation.dat'), { write: true, create: true });
});
afterAll(async () => {
  await ring.close();
  removePlaces(places);
});

describe('ring options', () => {
  it('refuses a depth that is not a positive integer in range', () => {
    expect(() => new Ring({ depth: 0 })).toThrow(RangeError);
    expect(() => new Ring({ depth: 1.5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Ring({ depth: '8' as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('refuses a busyPollUs that is not an integer from 0 to 10000', async () => {
    expect(() => new Ring({ busyPollUs: -1 })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Ring({ busyPollUs: 10_001 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Ring({ busyPollUs: 2.5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Ring({ busyPollUs: '50' as unknown as number })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    const defaults = new Ring({ depth: 1 });
    expect(defaults.busyPollUs).toBe(0);
    await defaults.close();
  });

  it('refuses a pollBudget that is not a fraction from 0 to 1', async () => {
    for (const bad of [-0.01, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new Ring({ pollBudget: bad })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => new Ring({ pollBudget: '0.1' as unknown as number })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => new Ring({ pollbudget: 0.1 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    for (const [options, expected] of [[{}, 0.1], [{ pollBudget: 0 }, 0], [{ pollBudget: 1 }, 1], [{ pollBudget: 0.25 }, 0.25]] as const) {
      const ring = new Ring({ depth: 1, ...options });
      expect(ring.pollBudget).toBe(expected);
      await ring.close();
    }
  });

  it('refuses an unknown engine name', () => {
    expect(() => new Ring({ engine: 'posix' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('refuses options that are not an object', () => {
    expect(() => new Ring(5 as never)).toThrow(TypeError);
  });
});

describe('request arguments', () => {
  const submittedBefore = () => ring.stats().submitted;

  it('gives a TypeError for a buffer that is not a Buffer or TypedArray', async () => {
    const before = submittedBefore();
    for (const bad of ['text', 42, null, {}, [1, 2], new DataView(new ArrayBuffer(4096)), new ArrayBuffer(4096)]) {
      await expect(file.read(bad as never, 0)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
    expect(submittedBefore()).toBe(before);
  });

  it('gives a RangeError for an empty or detached buffer', async () => {
    await expect(file.read(Buffer.alloc(0), 0)).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    const detached = new Uint8Array(new ArrayBuffer(4096));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    await expect(file.write(detached, 0)).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  });

  it('gives a RangeError for a negative, fractional or unsafe position, and TypeError for a non-number', async () => {
    const buffer = allocAligned(4096);
    for (const bad of [-4096, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(file.read(buffer, bad)).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    }
    for (const bad of ['0', 0n, undefined, null]) {
      await expect(file.read(buffer, bad as never)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
  });

  it('checks vector arguments', async () => {
    await expect(file.readv([], 0)).rejects.toMatchObject({ name: 'RangeError' });
    await expect(file.readv('x' as never, 0)).rejects.toMatchObject({ name: 'TypeError' });
    await expect(file.readv([allocAligned(4096), 'x' as never], 0)).rejects.toMatchObject({ name: 'TypeError' });
    await expect(file.readv(new Array(1025).fill(allocAligned(4096)), 0)).rejects.toMatchObject({ name: 'RangeError' });
  });

  it('checks write options', async () => {
    await expect(file.write(allocAligned(4096), 0, { dsync: 'yes' as never })).rejects.toMatchObject({ name: 'TypeError' });
    await expect(file.write(allocAligned(4096), 0, 3 as never)).rejects.toMatchObject({ name: 'TypeError' });
  });

  it('checks batch entries', async () => {
    await expect(ring.submit('x' as never)).rejects.toMatchObject({ name: 'TypeError' });
    await expect(ring.submit([{ op: 'read', file: {} as never, buffer: allocAligned(4096), position: 0 }])).rejects.toMatchObject({
      name: 'TypeError',
    });
    await expect(ring.submit([{ op: 'erase' as never, file, buffer: allocAligned(4096), position: 0 }])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    expect(await ring.submit([])).toEqual([]);
  });

  it('refuses a file owned by another ring inside a batch', async () => {
    const other = new Ring({ depth: 2 });
    const foreign = await other.open(file.path);
    const [result] = await ring.submit([{ op: 'read', file: foreign, buffer: allocAligned(4096), position: 0 }]);
    expect(result).toMatchObject({ code: 'ERR_AIO_FOREIGN_FILE' });
    await other.close();
  });
});

describe('allocAligned', () => {
  it('checks its arguments', () => {
    expect(() => allocAligned(0)).toThrow(RangeError);
    expect(() => allocAligned(4096, 3000)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => allocAligned('1' as never)).toThrow(TypeError);
  });

  it('returns zero-filled memory of the size asked', () => {
    const buffer = allocAligned(12345, 512);
    expect(buffer.length).toBe(12345);
    expect(buffer.every((byte) => byte === 0)).toBe(true);
  });
});

describe('ring.registerBuffers', () => {
  it('gives a RangeError for a count that is not an integer from 1 to 16384', () => {
    for (const bad of [0, -1, 1.5, 16385, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => ring.registerBuffers(bad, 4096)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
  });

  it('gives a RangeError for a size that is not a positive multiple of 4096 up to 1 GiB', () => {
    for (const bad of [0, 512, 4095, 5000, 4096.5, 2 ** 30 + 4096, -4096]) {
      expect(() => ring.registerBuffers(1, bad)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
  });

  it('gives a TypeError for arguments that are not numbers', () => {
    for (const [count, size] of [['1', 4096], [1, '4096'], [undefined, 4096], [1, undefined], [1n, 4096]] as const) {
      expect(() => ring.registerBuffers(count as never, size as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
      );
    }
  });
});
