// signal, timeoutMs and ordered batches on every engine: what never reached
// the kernel stays out of it, what was in flight rejects at once but keeps its
// slot and memory until the kernel's completion, and an ordered batch stops at
// the first failure with ECANCELED naming it.
import { execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, type AioFile, Ring, allocAligned } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { drained } from './helpers/settle';

let places: Place[];
let dir: string;
let counter = 0;
const newPath = () => path.join(dir, `cancel-${counter++}.dat`);
beforeAll(() => {
  places = makePlaces();
  dir = places[0]!.dir;
});
afterAll(() => removePlaces(places));

const abortError = (reason: unknown) => expect.objectContaining({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });

function filled(size: number, byte: number): Buffer {
  return allocAligned(size).fill(byte);
}

describe.each(availableEngines)('engine %s', (engine) => {
  let ring: Ring;
  beforeAll(() => {
    ring = new Ring({ engine, depth: 2 });
  });
  afterAll(() => ring.close());

  it('an already aborted signal rejects every kind of call before anything is queued', async () => {
    const target = newPath();
    fs.writeFileSync(target, Buffer.alloc(8192, 1));
    const file = await ring.open(target, { write: true });
    const reason = new Error('gone');
    const signal = AbortSignal.abort(reason);
    const before = ring.stats().submitted;
    const block = filled(4096, 9);
    const calls: Array<() => Promise<unknown>> = [
      () => file.read(allocAligned(4096), 0, { signal }),
      () => file.write(block, 0, { signal }),
      () => file.readv([allocAligned(4096)], 0, { signal }),
      () => file.writev([block], 4096, { signal }),
      () => file.datasync({ signal }),
      () => file.sync({ signal }),
      () => ring.submit([{ op: 'write', file, buffer: block, position: 0 }], { signal }),
      () => ring.open(target, { signal }),
    ];
    for (const call of calls) await expect(call()).rejects.toEqual(abortError(reason));
    expect(ring.stats().submitted).toBe(before);
    expect(ring.stats().cancelled).toBe(0);
    expect(fs.readFileSync(target)).toEqual(Buffer.alloc(8192, 1));
    await file.close();
  });

  it('requests aborted while queued in JS or batched for the next flush never reach the kernel', async () => {
    const target = newPath();
    fs.writeFileSync(target, Buffer.alloc(4 * 4096, 1));
    const file = await ring.open(target, { write: true });
    const before = ring.stats();
    const controllers = [0, 1, 2, 3].map(() => new AbortController());
    // depth 2: the first two take slots (batched until the flush), the others wait in JS.
    const writes = controllers.map((controller, i) => file.write(filled(4096, 0x40 + i), i * 4096, { signal: controller.signal }));
    controllers[1]!.abort('batched');
    controllers[3]!.abort('queued');
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(abortError('batched'));
    expect((outcomes[3] as PromiseRejectedResult).reason).toEqual(abortError('queued'));
    const after = ring.stats();
    expect(after.submitted - before.submitted).toBe(2);
    expect(after.cancelled - before.cancelled).toBe(2);
    expect(after.cancelsAsked - before.cancelsAsked).toBe(0);
    const onDisk = fs.readFileSync(target);
    expect([0, 1, 2, 3].map((i) => onDisk[i * 4096])).toEqual([0x40, 1, 0x42, 1]);
    await file.close();
  });

  it('a signal on a settled request does nothing, and its listener is gone', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    const controller = new AbortController();
    expect(await file.write(filled(4096, 3), 0, { signal: controller.signal, timeoutMs: 60_000 })).toBe(4096);
    const before = ring.stats().cancelled;
    controller.abort();
    expect(ring.stats().cancelled).toBe(before);
    await file.close();
  });

  it('one signal shared by 40 requests holds one listener, warns of no leak, aborts every request not yet done, and is left with none', async () => {
    const target = newPath();
    fs.writeFileSync(target, Buffer.alloc(40 * 4096, 3));
    const file = await ring.open(target);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const { signal } = controller;
      const reads = (buffers: Buffer[]) => buffers.map((buffer, i) => file.read(buffer, i * 4096, { signal }).catch((error: unknown) => error));
      const first = Array.from({ length: 40 }, () => allocAligned(4096));
      const reading = reads(first);
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      expect(await Promise.all(reading)).toEqual(first.map(() => 4096));
      for (const buffer of first) expect(buffer.every((byte) => byte === 3)).toBe(true);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);

      const second = Array.from({ length: 40 }, () => allocAligned(4096).fill(0xee));
      const aborting = reads(second);
      controller.abort('stop');
      const outcomes = await Promise.all(aborting);
      // depth 2: at most two had reached the kernel.
      expect(outcomes.filter((outcome) => outcome === 4096).length).toBeLessThanOrEqual(2);
      outcomes.forEach((outcome, i) => {
        if (outcome === 4096) expect(second[i]!.every((byte) => byte === 3)).toBe(true);
        else expect(outcome).toEqual(abortError('stop'));
      });
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      await drained(ring);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await file.close();
    }
  });

  it('checks signal and timeoutMs', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    const block = filled(4096, 3);
    await expect(file.write(block, 0, { signal: {} as AbortSignal })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(file.write(block, 0, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(file.write(block, 0, { timeoutMs: 1.5 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(ring.submit([], { timeoutMs: '5' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(ring.submit([], { order: true } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await file.close();
  });

  describe('ordered batches', () => {
    it('write pages, fdatasync, commit record: all run, in order', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const pages = [randomAligned(4096), randomAligned(4096), randomAligned(4096)];
      const commit = randomAligned(4096);
      const results = await ring.submit(
        [
          ...pages.map((buffer, i) => ({ op: 'write' as const, file, buffer, position: (i + 1) * 4096 })),
          { op: 'fdatasync' as const, file },
          { op: 'write' as const, file, buffer: commit, position: 0 },
        ],
        { ordered: true },
      );
      expect(results).toEqual([4096, 4096, 4096, 0, 4096]);
      expect(firstDifference(fs.readFileSync(file.path), Buffer.concat([commit, ...pages]))).toBe(-1);
      await file.close();
    });

    it('a failure cancels the rest of the chain, each entry ECANCELED naming the op that broke it', async () => {
      const target = newPath();
      fs.writeFileSync(target, Buffer.alloc(3 * 4096, 1));
      const file = await ring.open(target, { write: true });
      const readOnly = await ring.open(target);
      const before = ring.stats().submitted;
      const results = await ring.submit(
        [
          { op: 'write', file, buffer: filled(4096, 2), position: 0 },
          { op: 'write', file: readOnly, buffer: filled(4096, 3), position: 4096 },
          { op: 'fdatasync', file },
          { op: 'write', file, buffer: filled(4096, 4), position: 8192 },
        ],
        { ordered: true },
      );
      expect(results[0]).toBe(4096);
      expect(results[1]).toMatchObject({ code: 'EBADF' });
      for (const entry of results.slice(2)) {
        expect(entry).toBeInstanceOf(AioError);
        expect(entry).toMatchObject({ code: 'ECANCELED', errno: -125 });
        expect((entry as Error).message).toContain(`ops[1] (write '${target}' at 4096) failed with EBADF`);
        expect((entry as Error).cause).toBe(results[1]);
      }
      expect(ring.stats().submitted - before).toBe(2);
      const onDisk = fs.readFileSync(target);
      expect([onDisk[0], onDisk[4096], onDisk[8192]]).toEqual([2, 1, 1]);
      await readOnly.close();
      await file.close();
    });

    it('an entry refused before submission (misaligned) breaks the chain too; a short read does as well', async () => {
      const target = newPath();
      fs.writeFileSync(target, Buffer.alloc(4096, 5));
      const file = await ring.open(target, { write: true });
      const misaligned = await ring.submit(
        [
          { op: 'read', file, buffer: allocAligned(4096), position: 0 },
          { op: 'read', file, buffer: allocAligned(4096), position: 100 },
          { op: 'write', file, buffer: filled(4096, 6), position: 0 },
        ],
        { ordered: true },
      );
      expect(misaligned[0]).toBe(4096);
      expect(misaligned[1]).toMatchObject({ code: 'ERR_AIO_ALIGNMENT' });
      expect(misaligned[2]).toMatchObject({ code: 'ECANCELED' });
      const short = await ring.submit(
        [
          { op: 'read', file, buffer: allocAligned(8192), position: 0 },
          { op: 'write', file, buffer: filled(4096, 6), position: 0 },
        ],
        { ordered: true },
      );
      expect(short[0]).toBe(4096);
      expect(short[1]).toMatchObject({ code: 'ECANCELED' });
      expect((short[1] as Error).message).toContain('transferred 4096 of 8192 bytes');
      expect(fs.readFileSync(target)).toEqual(Buffer.alloc(4096, 5));
      await file.close();
    });

    it('an abort part-way stops the chain: later entries never start, the batch rejects', async () => {
      const file = await ring.open(newPath(), { write: true, create: true });
      const controller = new AbortController();
      const before = ring.stats().submitted;
      const batch = ring.submit(
        Array.from({ length: 6 }, (_, i) => ({ op: 'write' as const, file, buffer: filled(4096, 0x30 + i), position: i * 4096 })),
        { ordered: true, signal: controller.signal },
      );
      controller.abort('enough');
      await expect(batch).rejects.toEqual(abortError('enough'));
      await file.close();
      // The first entry was batched for the flush when the abort came: none reached the kernel.
      expect(ring.stats().submitted - before).toBe(0);
      expect(fs.statSync(file.path).size).toBe(0);
    });
  });
});

// On io_uring an ordered batch goes to the kernel as runs of linked requests
// (IOSQE_IO_LINK), so the kernel starts each after the one before with no turn
// through JS: stats().linkedSubmits counts the links, and the kernel's ECANCELED
// for the rest of a broken chain reads as the library's own.
describe.runIf(availableEngines.includes('io_uring'))('io_uring: ordered batches as kernel chains', () => {
  let ring: Ring;
  beforeAll(() => {
    ring = new Ring({ engine: 'io_uring', depth: 8 });
  });
  afterAll(() => ring.close());

  const writes = (file: AioFile, buffers: Buffer[], first = 0) =>
    buffers.map((buffer, i) => ({ op: 'write' as const, file, buffer, position: (first + i) * 4096 }));

  it('runs as linked runs of up to the free slots; the data reads back byte for byte', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    const pages = Array.from({ length: 20 }, () => randomAligned(4096));
    const before = ring.stats();
    const results = await ring.submit(writes(file, pages), { ordered: true });
    expect(results).toEqual(pages.map(() => 4096));
    const after = ring.stats();
    // Depth 8: runs of 8, 8 and 4, each linked but for its last entry.
    expect(after.linkedSubmits - before.linkedSubmits).toBe(17);
    expect(after.submitted - before.submitted).toBe(20);
    expect(firstDifference(fs.readFileSync(file.path), Buffer.concat(pages))).toBe(-1);
    await file.close();
  });

  it('op 2 fails in the kernel (EBADF): ops 3 and on get ECANCELED naming it, with its error as cause, and never write', async () => {
    const target = newPath();
    fs.writeFileSync(target, Buffer.alloc(6 * 4096, 1));
    const file = await ring.open(target, { write: true });
    const readOnly = await ring.open(target);
    const before = ring.stats();
    const ops = writes(file, Array.from({ length: 6 }, (_, i) => filled(4096, 0x20 + i)));
    ops[2] = { ...ops[2]!, file: readOnly };
    const results = await ring.submit(ops, { ordered: true });
    expect(results.slice(0, 2)).toEqual([4096, 4096]);
    expect(results[2]).toMatchObject({ code: 'EBADF' });
    for (const entry of results.slice(3)) {
      expect(entry).toMatchObject({ code: 'ECANCELED', errno: -125 });
      expect((entry as Error).message).toContain(`ops[2] (write '${target}' at 8192) failed with EBADF`);
      expect((entry as Error).cause).toBe(results[2]);
    }
    // One kernel chain of all six: the three after the failure reached the kernel and were cancelled there.
    expect(ring.stats().linkedSubmits - before.linkedSubmits).toBe(5);
    expect(ring.stats().submitted - before.submitted).toBe(6);
    const onDisk = fs.readFileSync(target);
    expect([0, 1, 2, 3, 4, 5].map((i) => onDisk[i * 4096])).toEqual([0x20, 0x21, 1, 1, 1, 1]);
    await readOnly.close();
    await file.close();
  });

  it('a short read breaks the chain in the kernel; a buffer refused for its address breaks it before the kernel', async () => {
    const target = newPath();
    fs.writeFileSync(target, Buffer.alloc(4096, 5));
    const file = await ring.open(target, { write: true });
    const before = ring.stats().linkedSubmits;
    const short = await ring.submit(
      [{ op: 'read', file, buffer: allocAligned(8192), position: 0 }, ...writes(file, [filled(4096, 6), filled(4096, 7)])],
      { ordered: true },
    );
    expect(short[0]).toBe(4096);
    for (const entry of short.slice(1)) {
      expect(entry).toMatchObject({ code: 'ECANCELED' });
      expect((entry as Error).message).toContain('ops[0]');
      expect((entry as Error).message).toContain('transferred 4096 of 8192 bytes');
    }
    expect(ring.stats().linkedSubmits - before).toBe(2);
    expect(fs.readFileSync(target)).toEqual(Buffer.alloc(4096, 5));

    // Misaligned by one byte: the binding refuses it and ends the kernel chain at the entry before.
    const misaligned = allocAligned(8192).subarray(1, 4097);
    const refused = await ring.submit(writes(file, [filled(4096, 8), misaligned, filled(4096, 9)]), { ordered: true });
    expect(refused[0]).toBe(4096);
    expect(refused[1]).toMatchObject({ code: 'ERR_AIO_ALIGNMENT' });
    expect(refused[2]).toMatchObject({ code: 'ECANCELED' });
    expect((refused[2] as Error).message).toContain('ops[1]');
    expect((refused[2] as Error).cause).toBe(refused[1]);
    expect(fs.readFileSync(target)).toEqual(Buffer.alloc(4096, 8));
    await file.close();
  });

  it('a sync ends a kernel run and goes through the library; the writes after it form the next run', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    const pages = Array.from({ length: 4 }, () => randomAligned(4096));
    const before = ring.stats().linkedSubmits;
    const results = await ring.submit([...writes(file, pages.slice(0, 2)), { op: 'fdatasync', file }, ...writes(file, pages.slice(2), 2)], {
      ordered: true,
    });
    expect(results).toEqual([4096, 4096, 0, 4096, 4096]);
    expect(ring.stats().linkedSubmits - before).toBe(2);
    expect(firstDifference(fs.readFileSync(file.path), Buffer.concat(pages))).toBe(-1);
    await file.close();
  });

  it('a read of a protected file ends its run: a failed check, found after the kernel is done, still stops what follows', async () => {
    const target = newPath();
    const protectedFile = await ring.open(target, { write: true, create: true, integrity: { format: 't10dif', interval: 4096 } });
    await protectedFile.write(randomAligned(4096), 0);
    // Damage the data under its tuple.
    const fd = fs.openSync(target, 'r+');
    fs.writeSync(fd, Buffer.alloc(16, 0xee), 0, 16, 100);
    fs.closeSync(fd);
    const plain = await ring.open(newPath(), { write: true, create: true });
    const before = ring.stats().linkedSubmits;
    const results = await ring.submit(
      [
        { op: 'write', file: plain, buffer: filled(4096, 1), position: 0 },
        { op: 'read', file: protectedFile, buffer: allocAligned(4096), position: 0 },
        ...writes(plain, [filled(4096, 2), filled(4096, 3)], 1),
      ],
      { ordered: true },
    );
    expect(results[0]).toBe(4096);
    expect(results[1]).toMatchObject({ code: 'ERR_AIO_INTEGRITY' });
    for (const entry of results.slice(2)) expect(entry).toMatchObject({ code: 'ECANCELED' });
    // The write and the read were one run; the two writes after the read never started.
    expect(ring.stats().linkedSubmits - before).toBe(1);
    expect(fs.readFileSync(plain.path)).toEqual(Buffer.alloc(4096, 1));
    await plain.close();
    await protectedFile.close();
  });
});

// io_uring can cancel a read that waits on a pipe; the cancel is honoured and// io_uring can cancel a read that waits on a pipe; the cancel is honoured and
// the data written later stays in the pipe for the next read.
describe.runIf(availableEngines.includes('io_uring'))('io_uring: in flight', () => {
  let ring: Ring;
  let fifo: string;
  beforeAll(() => {
    ring = new Ring({ engine: 'io_uring', depth: 4 });
    fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
  });
  afterAll(() => ring.close());

  it('abort sends IORING_OP_ASYNC_CANCEL; the promise rejects at once and the kernel honours it', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    const writer = fs.openSync(fifo, 'r+');
    try {
      const buffer = filled(4096, 0xaa);
      const controller = new AbortController();
      const reading = file.read(buffer, 0, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const before = ring.stats();
      expect(before.inflight).toBe(1);
      controller.abort('stop');
      await expect(reading).rejects.toEqual(abortError('stop'));
      const after = ring.stats();
      expect(after.cancelled - before.cancelled).toBe(1);
      expect(after.cancelsAsked - before.cancelsAsked).toBe(1);
      await drained(ring);
      expect(ring.stats().cancelsHonoured - before.cancelsHonoured).toBe(1);
      fs.writeSync(writer, Buffer.alloc(4096, 0x5c));
      // The cancelled read took nothing: the canary is intact and the data is there for the next read.
      expect(buffer.every((byte) => byte === 0xaa)).toBe(true);
      const next = allocAligned(4096);
      expect(await file.read(next, 0)).toBe(4096);
      expect(next.every((byte) => byte === 0x5c)).toBe(true);
    } finally {
      fs.closeSync(writer);
      await file.close();
    }
  });

  it('timeoutMs rejects with ERR_AIO_TIMEOUT and cancels the read; a batch deadline rejects the batch', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    try {
      const started = Date.now();
      await expect(file.read(allocAligned(4096), 0, { timeoutMs: 30 })).rejects.toMatchObject({
        code: 'ERR_AIO_TIMEOUT',
        op: 'read',
        path: fifo,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(25);
      await expect(ring.submit([{ op: 'read', file, buffer: allocAligned(4096), position: 0 }], { timeoutMs: 30 })).rejects.toMatchObject({
        code: 'ERR_AIO_TIMEOUT',
        op: 'submit',
      });
      await drained(ring);
    } finally {
      await file.close();
    }
  });

  it('timeoutMs goes to the kernel as IORING_OP_LINK_TIMEOUT: its timer rejects the read; a request done in time leaves nothing behind', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    const writer = fs.openSync(fifo, 'r+');
    try {
      const before = ring.stats();
      const buffer = filled(4096, 0xaa);
      await expect(file.read(buffer, 0, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'read', path: fifo });
      const timedOut = ring.stats();
      expect(timedOut.linkTimeouts - before.linkTimeouts).toBe(1);
      expect(timedOut.linkTimeoutsFired - before.linkTimeoutsFired).toBe(1);
      expect(timedOut.cancelled - before.cancelled).toBe(1);
      expect(timedOut.cancelsAsked - before.cancelsAsked).toBe(1);
      await drained(ring);
      expect(ring.stats().cancelsHonoured - before.cancelsHonoured).toBe(1);
      // The kernel's cancel took the read before it took any data: the next read gets all of it.
      fs.writeSync(writer, Buffer.alloc(4096, 0x3c));
      expect(buffer.every((byte) => byte === 0xaa)).toBe(true);
      const next = allocAligned(4096);
      expect(await file.read(next, 0, { timeoutMs: 60_000 })).toBe(4096);
      expect(next.every((byte) => byte === 0x3c)).toBe(true);
      const after = ring.stats();
      expect(after.linkTimeouts - before.linkTimeouts).toBe(2);
      expect(after.linkTimeoutsFired - before.linkTimeoutsFired).toBe(1);
      expect(after.cancelled - before.cancelled).toBe(1);
      expect(after.completed - before.completed).toBe(2);
    } finally {
      fs.closeSync(writer);
      await file.close();
    }
  });

  it('a signal on a request whose deadline is in the kernel cancels it; the distant timeout never fires', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    try {
      const before = ring.stats();
      const controller = new AbortController();
      const reading = file.read(allocAligned(4096), 0, { signal: controller.signal, timeoutMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(ring.stats().linkTimeouts - before.linkTimeouts).toBe(1);
      controller.abort('stop');
      await expect(reading).rejects.toEqual(abortError('stop'));
      await drained(ring);
      const after = ring.stats();
      expect(after.linkTimeoutsFired - before.linkTimeoutsFired).toBe(0);
      expect(after.cancelsAsked - before.cancelsAsked).toBe(1);
      expect(after.cancelsHonoured - before.cancelsHonoured).toBe(1);
    } finally {
      await file.close();
    }
  });

  it('a full ring of requests with deadlines reaches the kernel at once: the ring has room for each request and its timeout', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    try {
      const before = ring.stats();
      const reads = Array.from({ length: 4 }, () => file.read(allocAligned(4096), 0, { timeoutMs: 40 }));
      await new Promise((resolve) => setImmediate(resolve));
      expect(ring.stats().inflight).toBe(4);
      expect(ring.stats().linkTimeouts - before.linkTimeouts).toBe(4);
      for (const outcome of await Promise.allSettled(reads)) {
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_AIO_TIMEOUT' });
      }
      await drained(ring);
      const after = ring.stats();
      expect(after.linkTimeoutsFired - before.linkTimeoutsFired).toBe(4);
      expect(after.cancelsHonoured - before.cancelsHonoured).toBe(4);
    } finally {
      await file.close();
    }
  });

  it('a request still waiting in JS for a slot when its deadline passes times out in JS and never reaches the kernel', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    try {
      const controller = new AbortController();
      const holders = Array.from({ length: 4 }, () => file.read(allocAligned(4096), 0, { signal: controller.signal }));
      await new Promise((resolve) => setImmediate(resolve));
      const before = ring.stats();
      expect(before.inflight).toBe(4);
      await expect(file.read(allocAligned(4096), 0, { timeoutMs: 20 })).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT' });
      const after = ring.stats();
      expect(after.submitted - before.submitted).toBe(0);
      expect(after.linkTimeouts - before.linkTimeouts).toBe(0);
      expect(after.cancelled - before.cancelled).toBe(1);
      expect(after.cancelsAsked - before.cancelsAsked).toBe(0);
      controller.abort();
      for (const outcome of await Promise.allSettled(holders)) expect(outcome.status).toBe('rejected');
      await drained(ring);
    } finally {
      await file.close();
    }
  });

  it("a batch's signal or deadline cancels a kernel chain in flight: its head is cancelled, and the kernel cancels the rest", async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    const plain = await ring.open(newPath(), { write: true, create: true, direct: false });
    try {
      for (const cancel of ['signal', 'timeoutMs'] as const) {
        const controller = new AbortController();
        const before = ring.stats();
        const batch = ring.submit(
          [
            { op: 'read', file, buffer: filled(4096, 0xaa), position: 0 },
            { op: 'write', file: plain, buffer: filled(4096, 1), position: 0 },
            { op: 'write', file: plain, buffer: filled(4096, 2), position: 4096 },
          ],
          cancel === 'signal' ? { ordered: true, signal: controller.signal } : { ordered: true, timeoutMs: 30 },
        );
        await new Promise((resolve) => setTimeout(resolve, 10));
        // All three are in the kernel, the writes linked behind the read that waits on the pipe.
        expect(ring.stats().inflight).toBe(3);
        expect(ring.stats().linkedSubmits - before.linkedSubmits).toBe(2);
        controller.abort('stop');
        if (cancel === 'signal') await expect(batch).rejects.toEqual(abortError('stop'));
        else await expect(batch).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'submit' });
        await drained(ring);
        const after = ring.stats();
        expect(after.cancelled - before.cancelled).toBe(3);
        expect(after.cancelsHonoured - before.cancelsHonoured).toBe(3);
        expect(fs.statSync(plain.path).size).toBe(0);
      }
    } finally {
      await plain.close();
      await file.close();
    }
  });

  it('close() waits for the kernel to let go of an abandoned request', async () => {
    const file = await ring.open(fifo, { write: true, direct: false });
    const controller = new AbortController();
    const reading = file.read(filled(4096, 1), 0, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await file.close();
    expect(ring.stats().inflight).toBe(0);
  });
});
