// Cancellation and deadlines on a genuinely slow device: a loop device
// throttled with cgroup io.max (aioring/testing throttle) so that requests stay
// in flight for tens of milliseconds. On every engine an aborted or timed-out
// request rejects at once while the kernel still holds it, and its memory is
// neither freed nor handed to another request until the completion arrives:
// the kernel's late write lands in the caller's buffer (which aioring kept
// pinned), never in memory allocated afterwards (canaries). Run under ASan by
// scripts/sanitize.sh.
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring, allocAligned } from '../../lib/index';
import { LoopDevice, Throttle, createLoopDevice, throttle } from '../../lib/testing/index';
import { availableEngines } from '../helpers/engines';
import { rootSuiteSkipReason } from '../helpers/root';
import { drained } from '../helpers/settle';

const skipReason = rootSuiteSkipReason('cancellation on a throttled device');
const block = 4096;
const pattern = 0x5c;
const canary = 0x11;

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

describe.skipIf(skipReason !== undefined)('on a throttled loop device', () => {
  let device: LoopDevice;
  let slow: Throttle;
  beforeAll(async () => {
    device = await createLoopDevice({ sizeMiB: 8, sectorSize: 4096 });
    const fd = fs.openSync(device.path, 'r+');
    fs.writeSync(fd, Buffer.alloc(8 * 1024 * 1024, pattern), 0, 8 * 1024 * 1024, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    // 25 reads a second: each request waits about 40 ms in the throttle.
    slow = await throttle(device, { readIops: 25, writeIops: 25 });
  });
  afterAll(async () => {
    await slow?.close();
    await device?.close();
  });

  describe.runIf(availableEngines.includes('io_uring'))('io_uring: deadlines in the kernel', () => {
    it("the linked timeout rejects while the read is on the device; the ring's one slot is reused only after the read's own completion", async () => {
      const ring = new Ring({ engine: 'io_uring', depth: 1 });
      try {
        const file = await ring.open(device.path);
        // The throttle lets its first slice through at once: read until one waits.
        let late: Buffer | undefined;
        for (let i = 0; i < 16 && late === undefined; i++) {
          const buffer = allocAligned(block).fill(canary);
          try {
            await file.read(buffer, i * block, { timeoutMs: 5 });
          } catch (error) {
            expect(error).toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'read' });
            late = buffer;
          }
        }
        expect(late).toBeDefined();
        // Rejected with the read still in the kernel, its slot (the only one) still taken.
        const rejected = ring.stats();
        expect(rejected.inflight).toBe(1);
        expect(rejected.linkTimeoutsFired).toBe(1);
        expect(rejected.cancelsAsked).toBe(1);
        const next = allocAligned(block).fill(canary);
        const reading = file.read(next, 0);
        expect(ring.stats().queued).toBe(1);
        expect(ring.stats().submitted).toBe(rejected.submitted);
        expect(await reading).toBe(block);
        expect(next.every((byte) => byte === pattern)).toBe(true);
        // The late read either landed in its own pinned buffer or was cancelled; nothing in between.
        const stats = ring.stats();
        if (stats.cancelsHonoured === 0) expect(late!.every((byte) => byte === pattern)).toBe(true);
        else expect(late!.every((byte) => byte === canary)).toBe(true);
        expect(stats.completed).toBe(rejected.completed + 2);
        await file.close();
      } finally {
        await ring.close();
      }
    });
  });

  describe.runIf(availableEngines.includes('io_uring'))('io_uring: an ordered batch as a kernel chain', () => {
    it('a batch deadline rejects while the chain is on the device; what reached the disk is a prefix of the chain', async () => {
      const ring = new Ring({ engine: 'io_uring', depth: 8 });
      try {
        const file = await ring.open(device.path, { write: true });
        // Far from the blocks the other cases read.
        const first = 1024;
        const ops = Array.from({ length: 6 }, (_, i) => ({
          op: 'write' as const,
          file,
          buffer: allocAligned(block).fill(0x70 + i),
          position: (first + i) * block,
        }));
        await expect(ring.submit(ops, { ordered: true, timeoutMs: 10 })).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'submit' });
        const rejected = ring.stats();
        expect(rejected.linkedSubmits).toBe(5);
        expect(rejected.inflight).toBeGreaterThan(0);
        expect(rejected.cancelled).toBeGreaterThan(0);
        await drained(ring);
        // Read back through the ring (O_DIRECT): each block holds its write or the device's old data,
        // and no write landed unless every write before it in the chain had. A write the device had
        // started cannot be cancelled, and the ones linked behind it then run too (README).
        const landed: boolean[] = [];
        for (let i = 0; i < ops.length; i++) {
          const back = allocAligned(block);
          expect(await file.read(back, (first + i) * block)).toBe(block);
          const wrote = back.every((byte) => byte === 0x70 + i);
          expect(wrote || back.every((byte) => byte === pattern)).toBe(true);
          landed.push(wrote);
        }
        expect(landed.indexOf(false) === -1 || !landed.slice(landed.indexOf(false)).includes(true)).toBe(true);
        await file.close();
      } finally {
        await ring.close();
      }
    });
  });

  describe.each(availableEngines)('engine %s', (engine) => {
    it('timeoutMs rejects with ERR_AIO_TIMEOUT while the read is in flight; the late data lands only in the pinned buffer', async () => {
      const ring = new Ring({ engine, depth: 8 });
      try {
        const file = await ring.open(device.path);
        const buffers = Array.from({ length: 4 }, () => allocAligned(block).fill(canary));
        const started = process.hrtime.bigint();
        const outcomes = await Promise.allSettled(buffers.map((buffer, i) => file.read(buffer, i * block, { timeoutMs: 5 })));
        const waitedMs = Number(process.hrtime.bigint() - started) / 1e6;
        const timedOut = outcomes.filter((o) => o.status === 'rejected');
        expect(timedOut.length).toBeGreaterThan(0);
        for (const outcome of timedOut) expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'read' });
        // They rejected long before the throttle let the last of them through (4 x 40 ms).
        expect(waitedMs).toBeLessThan(120);
        const stats = ring.stats();
        expect(stats.cancelled).toBe(timedOut.length);
        if (engine === 'libaio') expect(stats.cancelsAsked).toBe(0);
        else expect(stats.cancelsAsked).toBeGreaterThan(0);
        // io_uring's kernel timers rejected them; elsewhere JS timers did.
        expect(stats.linkTimeouts).toBe(engine === 'io_uring' ? 4 : 0);
        expect(stats.linkTimeoutsFired).toBe(engine === 'io_uring' ? timedOut.length : 0);
        // Memory allocated now must never receive the late completions.
        collectGarbage();
        const later = Array.from({ length: 32 }, () => allocAligned(block).fill(canary));
        await drained(ring);
        for (const buffer of later) expect(buffer.every((byte) => byte === canary)).toBe(true);
        // Each buffer either got the device's data, or kept its canary because the engine cancelled the read.
        let honoured = 0;
        for (const buffer of buffers) {
          if (buffer.every((byte) => byte === pattern)) continue;
          expect(buffer.every((byte) => byte === canary)).toBe(true);
          honoured++;
        }
        expect(honoured).toBe(ring.stats().cancelsHonoured);
        await file.close();
      } finally {
        await ring.close();
      }
    });

    it('aborted reads whose buffers the caller dropped: completions never reach memory allocated afterwards', async () => {
      const ring = new Ring({ engine, depth: 16 });
      try {
        const file = await ring.open(device.path);
        const controller = new AbortController();
        const reads = Array.from({ length: 16 }, (_, i) => file.read(allocAligned(block).fill(canary), i * block, { signal: controller.signal }));
        await new Promise((resolve) => setImmediate(resolve));
        expect(ring.stats().inflight).toBe(16);
        controller.abort();
        const outcomes = await Promise.allSettled(reads);
        // The throttle lets its first slice through at once; the rest were still in flight.
        expect(outcomes.filter((o) => o.status === 'rejected').length).toBeGreaterThan(8);
        collectGarbage();
        collectGarbage();
        const later = Array.from({ length: 64 }, () => allocAligned(block).fill(canary));
        await drained(ring);
        for (const buffer of later) expect(buffer.every((byte) => byte === canary)).toBe(true);
        // The ring still works, and reads the device's data.
        const check = allocAligned(block);
        expect(await file.read(check, 0)).toBe(block);
        expect(check.every((byte) => byte === pattern)).toBe(true);
        if (engine === 'threadpool') {
          // Eight workers were busy with the first reads: the rest waited in the pool's queue and left it.
          expect(ring.stats().cancelsHonoured).toBeGreaterThan(0);
        }
        await file.close();
      } finally {
        await ring.close();
      }
    });

    it('a batch with timeoutMs rejects as a whole; close() waits for the kernel', async () => {
      const ring = new Ring({ engine, depth: 8 });
      const file = await ring.open(device.path);
      const ops = Array.from({ length: 6 }, (_, i) => ({ op: 'read' as const, file, buffer: allocAligned(block), position: i * block }));
      await expect(ring.submit(ops, { timeoutMs: 10 })).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'submit' });
      expect(ring.stats().inflight).toBeGreaterThan(0);
      await ring.close();
      expect(ring.stats().inflight).toBe(0);
    });
  });
});
