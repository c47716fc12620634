// Control over a log: `signal` and `timeoutMs` on log.append, the single-writer
// lock (in this process and against another process killed with SIGKILL), and
// ring.close() with logs still open. Every engine; records are checked byte for
// byte as recovery reads them back.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../lib/index';
import type { LogOptions } from '../lib/index';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { ensureDistFresh, fixturesDir, repoRoot } from './safety/child';

const { logRecord } = createRequire(__filename)('./fixtures/log-records.js') as {
  logRecord: (tag: string, id: number, seq: number) => Buffer;
};

const KiB = 1024;
const small: LogOptions = { create: true, preallocateBytes: 256 * KiB };
// Long enough that appends made together all wait in the queue, unwritten, for the test to act on them.
const holdQueue: LogOptions = { ...small, maxGroupWaitUs: 300_000 };

let places: Place[];
beforeAll(() => {
  ensureDistFresh();
  places = makePlaces();
});
afterAll(() => removePlaces(places));

let fileCount = 0;
function freshPath(): string {
  return path.join(places[0]!.dir, `control-${process.pid}-${fileCount++}.log`);
}

function record(tag: number, size: number): Buffer {
  const bytes = Buffer.alloc(size, tag & 0xff);
  bytes.writeUInt32LE(tag, 0);
  return bytes;
}

async function recovered(ring: Ring, file: string): Promise<Array<{ lsn: bigint; data: Buffer }>> {
  const log = await ring.openLog(file, { readOnly: true });
  const records: Array<{ lsn: bigint; data: Buffer }> = [];
  for await (const entry of log.read()) records.push(entry);
  expect(log.recovery.discarded).toBeNull();
  await log.close();
  return records;
}

/** The descriptors this process holds open on `file`. */
function descriptorsOn(file: string): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

const afterImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(availableEngines)('log.append signal and timeoutMs on %s', (engine) => {
  it('an abort before the record joins a group removes it: never written, later LSNs stay dense', async () => {
    const ring = new Ring({ engine });
    try {
      const file = freshPath();
      const log = await ring.openLog(file, holdQueue);
      const sizes = [7, 300, 41, 1000, 5, 64, 129, 4096, 11, 33];
      const controllers = sizes.map(() => new AbortController());
      const appends = sizes.map((size, i) => log.append(record(i, size), { signal: controllers[i]!.signal }));
      const reasons = [new Error('changed my mind'), 'plain reason'];
      controllers[3]!.abort(reasons[0]);
      controllers[7]!.abort(reasons[1]);
      const outcomes = await Promise.allSettled(appends);
      for (const i of [3, 7]) {
        expect(outcomes[i]).toMatchObject({ status: 'rejected', reason: { name: 'AbortError', code: 'ABORT_ERR', op: 'append', path: file } });
        expect((outcomes[i] as PromiseRejectedResult).reason.cause).toBe(reasons[i === 3 ? 0 : 1]);
      }
      const kept = sizes.map((_, i) => i).filter((i) => i !== 3 && i !== 7);
      expect(kept.map((i) => (outcomes[i] as PromiseFulfilledResult<bigint>).value)).toEqual(kept.map((_, n) => BigInt(n + 1)));
      expect(await log.append(record(99, 10))).toBe(9n);
      await log.close();
      const records = await recovered(ring, file);
      expect(records.map((r) => r.lsn)).toEqual(Array.from({ length: 9 }, (_, n) => BigInt(n + 1)));
      const expected = [...kept.map((i) => record(i, sizes[i]!)), record(99, 10)];
      records.forEach((r, n) => expect(r.data.equals(expected[n]!), `LSN ${r.lsn}`).toBe(true));
    } finally {
      await ring.close();
    }
  });

  it('a signal aborted already rejects at once and writes nothing; a deadline removes a queued record with ERR_AIO_TIMEOUT', async () => {
    const ring = new Ring({ engine });
    try {
      const file = freshPath();
      const log = await ring.openLog(file, holdQueue);
      const reason = new Error('before');
      await expect(log.append(record(1, 10), { signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
        name: 'AbortError',
        code: 'ABORT_ERR',
        cause: reason,
      });
      const started = Date.now();
      const late = log.append(record(2, 10), { timeoutMs: 20 });
      const kept = log.append(record(3, 10), { timeoutMs: 60_000 });
      await expect(late).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'append', path: file });
      expect(Date.now() - started).toBeLessThan(250);
      expect(await kept).toBe(1n);
      // The only queued record withdrawn: close() does not wait for a group that will never be written.
      const lone = new AbortController();
      const alone = log.append(record(4, 10), { signal: lone.signal });
      lone.abort();
      await expect(alone).rejects.toMatchObject({ code: 'ABORT_ERR' });
      await log.close();
      const records = await recovered(ring, file);
      expect(records.map((r) => [r.lsn, r.data.equals(record(3, 10))])).toEqual([[1n, true]]);
    } finally {
      await ring.close();
    }
  });

  it('an abort once the group is being written rejects at once, and the record still becomes durable with its LSN', async () => {
    const ring = new Ring({ engine });
    try {
      const file = freshPath();
      const log = await ring.openLog(file, small);
      const controller = new AbortController();
      const first = log.append(record(1, 100));
      const aborted = log.append(record(2, 100), { signal: controller.signal });
      // The group was taken and its write started in the immediate the appends scheduled, ahead of this one.
      await afterImmediate();
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', message: expect.stringContaining('may still become durable') });
      expect(await first).toBe(1n);
      expect(await log.append(record(3, 100))).toBe(3n);
      await log.close();
      const records = await recovered(ring, file);
      expect(records.map((r) => r.lsn)).toEqual([1n, 2n, 3n]);
      records.forEach((r, n) => expect(r.data.equals(record(n + 1, 100))).toBe(true));
    } finally {
      await ring.close();
    }
  });
});

describe('log.append options', () => {
  it('refuses unknown keys and bad values, and writes nothing for them', async () => {
    const ring = new Ring({ engine: availableEngines[0] });
    try {
      const file = freshPath();
      const log = await ring.openLog(file, small);
      await expect(log.append(record(1, 10), { timeout: 5 } as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining("'timeout'"),
      });
      await expect(log.append(record(1, 10), { signal: {} } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(log.append(record(1, 10), { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(log.append(record(1, 10), null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      expect(await log.append(record(2, 10), {})).toBe(1n);
      await log.close();
      expect((await recovered(ring, file)).length).toBe(1);
    } finally {
      await ring.close();
    }
  });
});

describe.each(availableEngines)('the single-writer lock on %s', (engine) => {
  it('refuses a second writer in this process, on the same ring or another, while readers read beside the writer', async () => {
    const ring = new Ring({ engine });
    const other = new Ring({ engine: availableEngines.find((name) => name !== engine) ?? engine });
    try {
      const file = freshPath();
      const writer = await ring.openLog(file, small);
      await writer.append(record(1, 50));
      for (const opener of [ring, other]) {
        const started = performance.now();
        const refused = await opener.openLog(file).catch((error: unknown) => error);
        expect(refused).toMatchObject({ code: 'ERR_AIO_LOG_LOCKED', op: 'openLog', path: file });
        expect((refused as Error).message).toContain(file);
        expect((refused as Error).message).toContain('another openLog in this process');
        // At once: a holder known to be alive is not waited for.
        expect(performance.now() - started).toBeLessThan(100);
      }
      // Refused writers keep no descriptor: only the writer's is open.
      expect(descriptorsOn(file)).toBe(1);
      const reader = await other.openLog(file, { readOnly: true });
      await writer.append(record(2, 50));
      const seen: Buffer[] = [];
      for await (const { data } of reader.read()) seen.push(data);
      expect(seen.map((data) => data.equals(record(1, 50)))).toEqual([true]);
      await reader.close();
      await writer.close();
      expect(descriptorsOn(file)).toBe(0);
      const next = await other.openLog(file);
      expect(await next.append(record(3, 50))).toBe(3n);
      await next.close();
      const records = await recovered(ring, file);
      records.forEach((r, n) => expect(r.data.equals(record(n + 1, 50))).toBe(true));
    } finally {
      await Promise.all([ring.close(), other.close()]);
    }
  });

  it('a writer in another process is refused, naming this process, and still refused once this process has dropped its sign of life', async () => {
    const ring = new Ring({ engine });
    try {
      const file = freshPath();
      const log = await ring.openLog(file, small);
      await log.append(record(1, 10));
      const tryFromChild = () => {
        const run = spawnSync(process.execPath, [path.join(fixturesDir, 'log-open-writer.js'), file, engine], { cwd: repoRoot, encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        const [outcome, code, ms] = run.stdout.trim().split(' ');
        return { outcome, code, ms: Number(ms), line: run.stdout.trim() };
      };
      const named = tryFromChild();
      expect(named).toMatchObject({ outcome: 'refused', code: 'ERR_AIO_LOG_LOCKED' });
      expect(named.line).toContain(`process ${process.pid}`);
      // A refused opener in this process closes its descriptor, and closing any
      // descriptor of a file drops the process's POSIX locks on it: the other
      // process can no longer see who holds the lock, waits out the grace period, and is refused all the same.
      await expect(ring.openLog(file)).rejects.toMatchObject({ code: 'ERR_AIO_LOG_LOCKED' });
      const unnamed = tryFromChild();
      expect(unnamed).toMatchObject({ outcome: 'refused', code: 'ERR_AIO_LOG_LOCKED' });
      expect(unnamed.ms).toBeGreaterThanOrEqual(400);
      expect(await log.append(record(2, 10))).toBe(2n);
      await log.close();
      expect(tryFromChild()).toMatchObject({ outcome: 'opened', code: '2' });
    } finally {
      await ring.close();
    }
  });

  it('refuses a writer while another process holds the log, and frees it when that process is killed with SIGKILL', async () => {
    const ring = new Ring({ engine });
    try {
      const file = freshPath();
      const tag = `lock-${engine}`;
      const child = spawn(process.execPath, [path.join(fixturesDir, 'log-appender.js'), file, engine, '4', tag], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
      try {
        // Wait until the child has acknowledged a few records, so it is appending when refused and killed.
        for (let waited = 0; stdout.split('\n').length < 20; waited += 10) {
          if (waited > 10_000 || child.exitCode !== null) throw new Error(`the appender did not get going:\n${stdout}\n${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await expect(ring.openLog(file)).rejects.toMatchObject({
          code: 'ERR_AIO_LOG_LOCKED',
          path: file,
          message: expect.stringContaining(`process ${child.pid}`),
        });
        const reader = await ring.openLog(file, { readOnly: true });
        expect(reader.recovery.records).toBeGreaterThan(0);
        await reader.close();
      } finally {
        child.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
      // The killed writer's lock can outlive its exit for some milliseconds
      // (io_uring finishing its requests); openLog waits for that, briefly.
      const started = performance.now();
      const log = await ring.openLog(file);
      console.log(`lock on ${engine}: the writer opened ${(performance.now() - started).toFixed(1)} ms after the killed one exited`);
      const acknowledged = stdout
        .split('\n')
        .slice(1, -1)
        .map((line) => line.split(' ').map(Number) as [number, number, number]);
      const end = log.recovery.endLsn;
      expect(end).toBeGreaterThanOrEqual(BigInt(acknowledged.length));
      expect(await log.append(Buffer.from('after the kill'))).toBe(end + 1n);
      await log.close();
      const records = await recovered(ring, file);
      for (const [lsn, id, seq] of acknowledged) {
        expect(records[lsn - 1]!.data.equals(logRecord(tag, id, seq)), `LSN ${lsn}`).toBe(true);
      }
      expect(records.at(-1)!.data.toString()).toBe('after the kill');
    } finally {
      await ring.close();
    }
  }, 20_000);
});

describe.each(availableEngines)('ring.close() with logs open on %s', (engine) => {
  it('lets every append already made become durable, then closes each log and its descriptor and frees its lock', async () => {
    const ring = new Ring({ engine });
    const file = freshPath();
    const readOnlyFile = freshPath();
    const seed = await ring.openLog(readOnlyFile, small);
    await seed.append(record(0, 20));
    await seed.close();
    const log = await ring.openLog(file, { ...small, maxGroupBytes: 4 * KiB });
    const reader = await ring.openLog(readOnlyFile, { readOnly: true });
    // Enough appends for several groups: one in flight, the rest queued, when close() begins.
    const appends = Array.from({ length: 100 }, (_, i) => log.append(record(i, 200)));
    await afterImmediate();
    const closing = ring.close();
    await expect(log.append(record(1000, 10))).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'append' });
    await expect(ring.openLog(freshPath(), small)).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'openLog' });
    await closing;
    expect(await Promise.all(appends)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
    expect(log.stats().groups).toBeGreaterThan(2);
    expect(log.closed && reader.closed).toBe(true);
    expect(descriptorsOn(file) + descriptorsOn(readOnlyFile)).toBe(0);
    await log.close();

    const next = new Ring({ engine });
    try {
      const records = await recovered(next, file);
      expect(records.length).toBe(100);
      records.forEach((r, i) => expect(r.data.equals(record(i, 200)), `LSN ${r.lsn}`).toBe(true));
      const reopened = await next.openLog(file);
      expect(await reopened.append(record(100, 200))).toBe(101n);
    } finally {
      await next.close();
    }
    expect(descriptorsOn(file)).toBe(0);
  });

  it.each(['before its file is open', 'while it recovers'])(
    'an openLog under way when close() begins (%s) rejects with ERR_AIO_CLOSED and leaves no descriptor or lock behind',
    async (moment) => {
      const ring = new Ring({ engine });
      const file = freshPath();
      const seed = await ring.openLog(file, small);
      await Promise.all(Array.from({ length: 2000 }, (_, i) => seed.append(record(i, 100))));
      await seed.close();
      let settled = false;
      const opening = ring.openLog(file);
      opening.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Recovery's reads are in flight (its header read first).
      if (moment === 'while it recovers') while (ring.stats().inflight === 0 && !settled) await afterImmediate();
      await ring.close();
      await expect(opening).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED', op: 'openLog', path: file });
      expect(descriptorsOn(file)).toBe(0);
      const next = new Ring({ engine });
      try {
        const log = await next.openLog(file);
        expect(log.recovery).toEqual({ records: 2000, endLsn: 2000n, discarded: null });
        await log.close();
      } finally {
        await next.close();
      }
    },
  );
});
