// file.stat(), file.truncate() and file.allocate(): the size and space of a
// file as it is now, not as it was when it was opened.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { Place, makePlaces, placeNames, removePlaces } from './helpers/places';

let places: Place[];
let ring: Ring;
beforeAll(() => {
  places = makePlaces();
  ring = new Ring({ depth: 16 });
});
afterAll(async () => {
  await ring.close();
  removePlaces(places);
});

describe.each(placeNames)('on %s', (placeName) => {
  let counter = 0;
  const newPath = () => path.join(places.find((p) => p.name === placeName)!.dir, `space-${counter++}.dat`);

  it('stat() reports the current size while info.size stays the size at open', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    expect(file.info.size).toBe(0);
    await file.write(randomAligned(8192), 0);
    const stats = await file.stat();
    expect(stats.size).toBe(8192);
    expect(stats.isFile()).toBe(true);
    expect(stats.ino).toBe(fs.statSync(file.path).ino);
    expect(file.info.size).toBe(0);
    const big = await file.stat({ bigint: true });
    expect(big.size).toBe(8192n);
    await file.close();
  });

  it('truncate() shrinks and extends, and the data before the cut survives', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    const data = randomAligned(16384);
    await file.write(data, 0);
    await file.truncate(4096);
    expect((await file.stat()).size).toBe(4096);
    await file.truncate(12288);
    expect((await file.stat()).size).toBe(12288);
    const back = allocAligned(12288);
    expect(await file.read(back, 0)).toBe(12288);
    expect(firstDifference(back.subarray(0, 4096), data.subarray(0, 4096))).toBe(-1);
    expect(back.subarray(4096).every((byte) => byte === 0)).toBe(true);
    await file.close();
  });

  it('allocate() reserves blocks, growing the file unless keepSize', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    await file.allocate(0, 1 << 20);
    let stats = await file.stat();
    expect(stats.size).toBe(1 << 20);
    expect(stats.blocks * 512).toBeGreaterThanOrEqual(1 << 20);
    await file.allocate(1 << 20, 1 << 20, { keepSize: true });
    stats = await file.stat();
    expect(stats.size).toBe(1 << 20);
    expect(stats.blocks * 512).toBeGreaterThanOrEqual(2 << 20);
    // Reserved space reads as zeros and takes writes.
    const back = allocAligned(4096);
    back.fill(1);
    expect(await file.read(back, 65536)).toBe(4096);
    expect(back.every((byte) => byte === 0)).toBe(true);
    const data = randomAligned(4096);
    await file.write(data, 65536);
    await file.read(back, 65536);
    expect(firstDifference(back, data)).toBe(-1);
    await file.close();
  });
});

describe('misuse', () => {
  let dir: string;
  beforeAll(() => {
    dir = places[0]!.dir;
  });

  it('truncate and allocate on a file opened without write reject with EBADF saying so', async () => {
    const target = path.join(dir, 'read-only.dat');
    fs.writeFileSync(target, Buffer.alloc(8192, 7));
    const file = await ring.open(target);
    for (const attempt of [() => file.truncate(0), () => file.allocate(0, 4096)]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EBADF', errno: -9, path: target });
      expect((error as Error).message).toContain('opened without write');
    }
    expect(fs.statSync(target).size).toBe(8192);
    await file.close();
  });

  it('checks arguments before anything runs', async () => {
    const file = await ring.open(path.join(dir, 'args.dat'), { write: true, create: true });
    await expect(file.truncate(-1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(file.truncate('1' as unknown as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(file.allocate(0, 0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(file.allocate(-4096, 4096)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(file.allocate(0, 4096, { keepSize: 1 as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(file.stat({ bigint: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect((await file.stat()).size).toBe(0);
    await file.close();
  });

  it('close() waits for an allocate in progress, and later calls reject with ERR_AIO_CLOSED', async () => {
    const file = await ring.open(path.join(dir, 'close.dat'), { write: true, create: true });
    const allocating = file.allocate(0, 8 << 20);
    const closing = file.close();
    await expect(allocating).resolves.toBeUndefined();
    await closing;
    expect(fs.statSync(file.path).size).toBe(8 << 20);
    await expect(file.stat()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'stat' });
    await expect(file.truncate(0)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'truncate' });
    await expect(file.allocate(0, 4096)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'allocate' });
  });

  it('allocate on a block-device-like target the file system cannot reserve reports the kernel error', async () => {
    const file = await ring.open('/dev/null', { write: true, direct: false });
    await expect(file.allocate(0, 4096)).rejects.toMatchObject({ syscall: 'fallocate', op: 'allocate', path: '/dev/null' });
    await file.close();
  });
});
