// No silent misuse: options the library does not know, call shapes from other
// APIs, and option combinations that cannot mean what they say are refused
// before anything reaches the kernel, with a message that shows the fix.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, AioFile, Ring, allocAligned } from '../lib/index';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { thrownBy } from './helpers/thrown';

let places: Place[];
let dir: string;
let ring: Ring;
let file: AioFile;
let counter = 0;
const newPath = () => path.join(dir, `misuse-${counter++}.dat`);

beforeAll(async () => {
  places = makePlaces();
  dir = places[0]!.dir;
  ring = new Ring({ depth: 8 });
  file = await ring.open(newPath(), { write: true, create: true });
});
afterAll(async () => {
  await ring.close();
  removePlaces(places);
});

const unknownKey = (key: string) => expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining(`'${key}'`) });

describe('unknown option keys throw ERR_INVALID_ARG_VALUE naming the key', () => {
  it('on the Ring, suggesting the near miss', () => {
    const error = thrownBy(() => new Ring({ deph: 8 } as never));
    expect(error).toEqual(unknownKey('deph'));
    expect((error as Error).message).toContain("did you mean 'depth'?");
  });

  it('on open, with advice for an fs flags string', async () => {
    const target = newPath();
    const error = await ring.open(target, { flags: 'r+' } as never).catch((e: unknown) => e);
    expect(error).toEqual(unknownKey('flags'));
    expect((error as Error).message).toContain('{ write: true }');
    expect(fs.existsSync(target)).toBe(false);
  });

  it('on read, write and their vectored forms, stat and allocate, before anything is submitted', async () => {
    const before = ring.stats().submitted;
    const buffer = allocAligned(4096);
    await expect(file.write(buffer, 0, { timeout: 1 } as never)).rejects.toEqual(unknownKey('timeout'));
    await expect(file.writev([buffer], 0, { dsyncc: true } as never)).rejects.toEqual(unknownKey('dsyncc'));
    await expect(file.stat({ bigInt: true } as never)).rejects.toEqual(unknownKey('bigInt'));
    await expect(file.allocate(0, 4096, { keep: true } as never)).rejects.toEqual(unknownKey('keep'));
    expect(ring.stats().submitted).toBe(before);
  });

  it('on each entry of a batch, by its op', async () => {
    const buffer = allocAligned(4096);
    const before = ring.stats().submitted;
    await expect(ring.submit([{ op: 'read', file, buffer, position: 0, length: 4096 } as never])).rejects.toEqual(unknownKey('length'));
    await expect(ring.submit([{ op: 'readv', file, buffers: [buffer], position: 0, buffer } as never])).rejects.toEqual(unknownKey('buffer'));
    await expect(ring.submit([{ op: 'fdatasync', file, position: 0 } as never])).rejects.toEqual(unknownKey('position'));
    expect(ring.stats().submitted).toBe(before);
  });
});

describe('call shapes', () => {
  it("fs.promises' (buffer, offset, length, position) throws a TypeError showing the right call, reading nothing", async () => {
    const before = ring.stats().submitted;
    const buffer = allocAligned(8192);
    for (const call of [
      () => (file.read as (...args: unknown[]) => Promise<number>)(buffer, 0, 4096, 8192),
      () => (file.write as (...args: unknown[]) => Promise<number>)(buffer, 0, 4096, 8192),
      () => (file.write as (...args: unknown[]) => Promise<number>)(buffer, 0, 4096),
      () => (file.readv as (...args: unknown[]) => Promise<number>)([buffer], 0, 4096),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      expect((error as Error).message).toMatch(/takes \((buffer|buffers), position/);
    }
    const error = await (file.read as (...args: unknown[]) => Promise<number>)(buffer, 0, 4096, 8192).catch((e: Error) => e);
    expect((error as Error).message).toContain('subarray(offset, offset + length)');
    expect(ring.stats().submitted).toBe(before);
  });
});

describe('open options that cannot mean what they say', () => {
  it('truncate or create without write, and exclusive without create, throw and leave the file alone', async () => {
    const target = newPath();
    fs.writeFileSync(target, Buffer.alloc(8192, 1));
    for (const [options, option, needed] of [
      [{ truncate: true }, 'truncate', 'write'],
      [{ create: true }, 'create', 'write'],
      [{ write: true, exclusive: true }, 'exclusive', 'create'],
    ] as const) {
      const error = await ring.open(target, options).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
      expect((error as Error).message).toBe(`The "${option}" option needs ${needed}: true`);
    }
    expect(fs.readFileSync(target)).toEqual(Buffer.alloc(8192, 1));
  });

  it('a directory is EISDIR, not a hint that the file system lacks O_DIRECT', async () => {
    for (const options of [{}, { write: true }]) {
      const error = await ring.open(dir, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AioError);
      expect(error).toMatchObject({ code: 'EISDIR', op: 'open', path: dir });
      expect((error as Error).message).not.toContain('O_DIRECT');
    }
  });
});

describe.each(availableEngines)('engine %s', (engine) => {
  it('a write on a file opened without write is EBADF saying so, singly and in a batch', async () => {
    const local = new Ring({ depth: 4, engine });
    try {
      const target = newPath();
      fs.writeFileSync(target, Buffer.alloc(8192, 2));
      const readOnly = await local.open(target);
      const buffer = allocAligned(4096);
      const single = await readOnly.write(buffer, 0).catch((e: unknown) => e);
      const [batched] = await local.submit([{ op: 'writev', file: readOnly, buffers: [buffer], position: 4096 }]);
      for (const error of [single, batched]) {
        expect(error).toMatchObject({ code: 'EBADF', errno: -9, path: target });
        expect((error as Error).message).toContain('opened without write: true');
      }
      expect(fs.readFileSync(target)).toEqual(Buffer.alloc(8192, 2));
    } finally {
      await local.close();
    }
  });
});

describe('strictBuffers', () => {
  it('accepts allocAligned and registerBuffers memory, and subarrays of it', async () => {
    const strict = new Ring({ depth: 4, strictBuffers: true });
    try {
      expect(strict.strictBuffers).toBe(true);
      const target = await strict.open(newPath(), { write: true, create: true });
      const [registered] = strict.registerBuffers(1, 8192);
      const aligned = allocAligned(8192);
      aligned.fill(3);
      expect(await target.write(aligned, 0)).toBe(8192);
      expect(await target.read(registered!.subarray(4096), 4096)).toBe(4096);
      expect(registered!.subarray(4096).every((byte) => byte === 3)).toBe(true);
      expect(await target.readv([new Uint32Array(aligned.buffer, 0, 1024)], 0)).toBe(4096);
    } finally {
      await strict.close();
    }
  });

  it('refuses other memory every time, even where no alignment is needed', async () => {
    const strict = new Ring({ depth: 4, strictBuffers: true });
    try {
      const buffered = await strict.open(newPath(), { write: true, create: true, direct: false });
      const before = strict.stats().submitted;
      for (const call of [
        () => buffered.write(Buffer.alloc(4096), 0),
        () => buffered.readv([allocAligned(4096), Buffer.alloc(4096)], 0),
        () => strict.submit([{ op: 'read', file: buffered, buffer: new Uint8Array(4096), position: 0 }]).then(([entry]) => Promise.reject(entry)),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'ERR_AIO_ALIGNMENT' });
        expect((error as Error).message).toContain('strictBuffers');
      }
      expect(strict.stats().submitted).toBe(before);
      // the same call on an ordinary ring works
      const plain = await ring.open(newPath(), { write: true, create: true, direct: false });
      expect(await plain.write(Buffer.alloc(4096), 0)).toBe(4096);
      await plain.close();
    } finally {
      await strict.close();
    }
  });

  it('must be a boolean', () => {
    expect(() => new Ring({ strictBuffers: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
