// The data path on every available engine, on a disk file system and on tmpfs:
// what is written reads back byte for byte, through every API shape.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, Ring, allocAligned } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

const placeList = ['disk', 'tmpfs'];

describe.each(availableEngines)('engine %s', (engine) => {
  describe.each(placeList)('on %s', (placeName) => {
    let ring: Ring;
    let dir: string;
    let counter = 0;
    const newPath = () => path.join(dir, `${engine}-${counter++}.dat`);

    beforeAll(() => {
      const place = places.find((p) => p.name === placeName);
      if (!place) throw new Error(`no ${placeName} place on this machine`);
      dir = place.dir;
      ring = new Ring({ depth: 64, engine });
    });
    afterAll(() => ring.close());

    it('runs on the engine it was asked for', () => {
      expect(ring.engine).toBe(engine);
      expect(ring.engineReason).toContain(engine);
    });

    it('writes blocks and reads them back byte for byte, with many in flight', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const blocks = Array.from({ length: 100 }, (_, i) => randomAligned(4096 * ((i % 4) + 1)));
      const positions: number[] = [];
      let position = 0;
      for (const block of blocks) {
        positions.push(position);
        position += block.length;
      }
      const written = await Promise.all(blocks.map((block, i) => file.write(block, positions[i]!)));
      expect(written).toEqual(blocks.map((b) => b.length));
      const readBack = blocks.map((b) => allocAligned(b.length));
      const read = await Promise.all(readBack.map((buffer, i) => file.read(buffer, positions[i]!)));
      expect(read).toEqual(blocks.map((b) => b.length));
      readBack.forEach((buffer, i) => expect(firstDifference(buffer, blocks[i]!)).toBe(-1));
      // and the kernel agrees, read through plain fs
      const onDisk = fs.readFileSync(file.path);
      expect(firstDifference(onDisk, Buffer.concat(blocks))).toBe(-1);
      await file.close();
    });

    it('reads what plain fs wrote', async () => {
      const target = newPath();
      const content = randomAligned(64 * 1024);
      fs.writeFileSync(target, content);
      const file = await ring.open(target);
      expect(file.info.size).toBe(content.length);
      const buffer = allocAligned(content.length);
      expect(await file.read(buffer, 0)).toBe(content.length);
      expect(firstDifference(buffer, content)).toBe(-1);
      await file.close();
    });

    it('does vectored reads and writes', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const parts = [randomAligned(4096), randomAligned(8192), randomAligned(4096)];
      expect(await file.writev(parts, 8192)).toBe(16384);
      const targets = [allocAligned(8192), allocAligned(8192)];
      expect(await file.readv(targets, 8192)).toBe(16384);
      expect(firstDifference(Buffer.concat(targets), Buffer.concat(parts))).toBe(-1);
      await file.close();
    });

    // Native code keeps short vectors' iovecs in a compact table and longer
    // ones in a separate room per slot: several at once must not share one.
    it('does vectored reads and writes of 17 to 1024 buffers, several at once', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const counts = [17, 20, 31, 64, 100, 1024];
      let next = 0;
      const vectors = counts.map((count) => {
        const position = next;
        next += count * 4096;
        return { position, parts: Array.from({ length: count }, () => randomAligned(4096)), targets: Array.from({ length: count }, () => allocAligned(4096)) };
      });
      const bytes = counts.map((count) => count * 4096);
      expect(await Promise.all(vectors.map(({ parts, position }) => file.writev(parts, position)))).toEqual(bytes);
      expect(await Promise.all(vectors.map(({ targets, position }) => file.readv(targets, position)))).toEqual(bytes);
      for (const { parts, targets } of vectors) expect(firstDifference(Buffer.concat(targets), Buffer.concat(parts))).toBe(-1);
      await file.close();
    });

    it('submits a batch and resolves one entry per op, in order, keeping failures apart', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const readOnly = await ring.open(file.path);
      const a = randomAligned(4096);
      const b = randomAligned(4096);
      const results = await ring.submit([
        { op: 'write', file, buffer: a, position: 0 },
        { op: 'write', file: readOnly, buffer: b, position: 4096 }, // EBADF: not open for writing
        { op: 'write', file, buffer: b, position: 4096 },
        { op: 'fdatasync', file },
      ]);
      expect(results[0]).toBe(4096);
      expect(results[1]).toBeInstanceOf(AioError);
      expect((results[1] as AioError).code).toBe('EBADF');
      expect((results[1] as AioError).errno).toBe(-9);
      expect((results[1] as AioError).op).toBe('write');
      expect((results[1] as AioError).position).toBe(4096);
      expect((results[1] as AioError).length).toBe(4096);
      expect(results[2]).toBe(4096);
      expect(results[3]).toBe(0);
      const back = [allocAligned(4096), allocAligned(4096)];
      const reads = await ring.submit(back.map((buffer, i) => ({ op: 'read' as const, file: readOnly, buffer, position: i * 4096 })));
      expect(reads).toEqual([4096, 4096]);
      expect(firstDifference(back[0]!, a)).toBe(-1);
      expect(firstDifference(back[1]!, b)).toBe(-1);
      await readOnly.close();
      await file.close();
    });

    it('syncs: datasync, sync, dsync writes, and O_DSYNC files', async () => {
      const file = await ring.open(newPath(), { write: true, create: true, dsync: true });
      const block = randomAligned(4096);
      expect(await file.write(block, 0, { dsync: true })).toBe(4096);
      await expect(file.datasync()).resolves.toBeUndefined();
      await expect(file.sync()).resolves.toBeUndefined();
      expect(firstDifference(fs.readFileSync(file.path), block)).toBe(-1);
      await file.close();
    });

    it('resolves a short read at end of file with the byte count, and 0 past it', async () => {
      const target = newPath();
      fs.writeFileSync(target, randomAligned(4096 * 2 + 100));
      const file = await ring.open(target);
      expect(await file.read(allocAligned(8192), 4096)).toBe(4096 + 100);
      expect(await file.read(allocAligned(4096), 3 * 4096)).toBe(0);
      await file.close();
    });

    it('queues requests beyond the depth and completes every one with its own result', async () => {
      const small = new Ring({ depth: 8, engine });
      const file = await small.open(newPath(), { write: true, create: true });
      const count = 10_000;
      const blockCount = 256;
      const blocks = Array.from({ length: blockCount }, () => randomAligned(4096));
      const writes = await Promise.all(blocks.map((block, i) => file.write(block, i * 4096)));
      expect(writes.every((n) => n === 4096)).toBe(true);
      const buffers = Array.from({ length: count }, () => allocAligned(4096));
      const reads = await Promise.all(buffers.map((buffer, i) => file.read(buffer, (i % blockCount) * 4096)));
      expect(reads.every((n) => n === 4096)).toBe(true);
      buffers.forEach((buffer, i) => {
        if (firstDifference(buffer, blocks[i % blockCount]!) !== -1) throw new Error(`request ${i} got another block's data`);
      });
      const stats = small.stats();
      expect(stats.completed).toBe(count + blockCount);
      expect(stats.inflight).toBe(0);
      expect(stats.queued).toBe(0);
      expect(stats.bytesRead).toBe(count * 4096);
      await small.close();
    });

    it('rejects misaligned positions, lengths and buffer addresses before submitting', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const align = file.info.offsetAlign;
      expect(align).toBeGreaterThanOrEqual(512);
      const submittedBefore = ring.stats().submitted;
      await expect(file.read(allocAligned(4096), align / 2)).rejects.toMatchObject({ code: 'ERR_AIO_ALIGNMENT' });
      await expect(file.read(allocAligned(4096).subarray(0, align + 1), 0)).rejects.toMatchObject({ code: 'ERR_AIO_ALIGNMENT' });
      const misaligned = allocAligned(8192).subarray(file.info.memAlign / 2, file.info.memAlign / 2 + 4096);
      const error = await file.write(misaligned, 0).catch((e: AioError) => e);
      expect(error).toBeInstanceOf(AioError);
      expect((error as AioError).code).toBe('ERR_AIO_ALIGNMENT');
      expect((error as AioError).message).toContain(String(file.info.memAlign));
      expect(ring.stats().submitted).toBe(submittedBefore);
      await file.close();
    });

    it('rejects requests after close with ERR_AIO_CLOSED, and waits for in-flight ones', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const pending = Array.from({ length: 32 }, (_, i) => file.write(randomAligned(4096), i * 4096));
      const closing = file.close();
      await expect(file.read(allocAligned(4096), 0)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
      expect(await Promise.all(pending)).toEqual(new Array(32).fill(4096));
      await closing;
      expect(fs.statSync(file.path).size).toBe(32 * 4096);
    });
  });
});

describe('opening', () => {
  it('reports ENOENT as an AioError with the path', async () => {
    const ring = new Ring({ depth: 4 });
    const error = await ring.open('/nonexistent/aioring').catch((e: AioError) => e);
    expect(error).toBeInstanceOf(AioError);
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', path: '/nonexistent/aioring', op: 'open' });
    await ring.close();
  });

  it('reports EEXIST for an exclusive create of an existing file', async () => {
    const ring = new Ring({ depth: 4 });
    const target = path.join(places[0]!.dir, 'exists.dat');
    fs.writeFileSync(target, '');
    await expect(ring.open(target, { write: true, create: true, exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    await ring.close();
  });

  it('rejects operations after the ring is closed', async () => {
    const ring = new Ring({ depth: 4 });
    const file = await ring.open(path.join(places[0]!.dir, 'closed-ring.dat'), { write: true, create: true });
    await ring.close();
    expect(file.closed).toBe(true);
    await expect(file.write(allocAligned(4096), 0)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await expect(ring.open(file.path)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });
});
