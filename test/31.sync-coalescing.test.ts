// Sync coalescing: concurrent fsync/fdatasync requests on one file share one
// call, a request never rides on a call that had already started, the call's
// error reaches every member, and each member keeps its own signal and
// deadline. The rule itself is checked step by step against a port whose
// calls complete when the test says; the rest runs on every engine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AioFile, AioError, Ring, allocAligned } from '../lib/index';
import { syncCallsInFlight } from '../lib/dispatcher';
import { OpCodes } from '../lib/native-contract';
import { SyncCoalescer } from '../lib/sync-coalescer';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { toolSkipReason } from './helpers/tools';
import { drained } from './helpers/settle';

let places: Place[];
let dir: string;
let counter = 0;
const newPath = () => path.join(dir, `coalesce-${counter++}.dat`);
beforeAll(() => {
  places = makePlaces();
  dir = places[0]!.dir;
});
afterAll(() => removePlaces(places));

describe('the coalescing rule, one step at a time', () => {
  interface Call {
    op: number;
    started: boolean;
    done: (outcome: unknown) => void;
  }
  interface Member {
    target: object;
    op: number;
    name: string;
  }

  function harness(callsInFlight?: number | ((member: Member) => number)) {
    const calls: Call[] = [];
    const settled: Array<[string, unknown]> = [];
    const coalescer = new SyncCoalescer<Member, Call>(
      {
        issue: (_first, op, done) => {
          const call = { op, started: false, done };
          calls.push(call);
          return call;
        },
        started: (call) => call.started,
        settle: (member, outcome) => settled.push([member.name, outcome]),
      },
      typeof callsInFlight === 'number' ? () => callsInFlight : callsInFlight,
    );
    return { calls, settled, coalescer };
  }
  const file = {};
  const datasync = (name: string): Member => ({ target: file, op: OpCodes.fdatasync, name });
  const fsync = (name: string): Member => ({ target: file, op: OpCodes.fsync, name });

  it('a sync asked for after a write completed never settles from a call that started before', () => {
    const { calls, settled, coalescer } = harness();
    expect(coalescer.add(datasync('a'))).toBe(false);
    expect(coalescer.add(datasync('b'))).toBe(true); // same turn, call not yet handed over: joins
    calls[0]!.started = true;
    // Here a write completes, then its sync is asked for: the started call cannot cover it.
    expect(coalescer.add(datasync('c'))).toBe(false);
    expect(coalescer.add(datasync('d'))).toBe(true);
    expect(calls).toHaveLength(1);
    calls[0]!.done(0);
    expect(settled).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    // c and d's call is issued as the first completes, and settles only them.
    expect(calls).toHaveLength(2);
    expect(coalescer.add(datasync('e'))).toBe(true); // not yet started
    calls[1]!.started = true;
    const failure = new Error('EIO');
    calls[1]!.done(failure);
    expect(settled.slice(2)).toEqual([
      ['c', failure],
      ['d', failure],
      ['e', failure],
    ]);
    expect(calls).toHaveLength(2);
  });

  it('fsync covers fdatasync, not the other way round; a group with an fsync issues fsync', () => {
    const { calls, coalescer } = harness();
    coalescer.add(fsync('a'));
    expect(coalescer.add(datasync('b'))).toBe(true);
    calls[0]!.started = true;
    coalescer.add(datasync('c'));
    expect(coalescer.add(fsync('d'))).toBe(true);
    calls[0]!.done(0);
    expect(calls.map((call) => call.op)).toEqual([OpCodes.fsync, OpCodes.fsync]);
    calls[1]!.done(0);

    const second = harness();
    second.coalescer.add(datasync('a'));
    // An fsync cannot ride on an fdatasync call: it waits for the next.
    expect(second.coalescer.add(fsync('b'))).toBe(false);
    second.calls[0]!.done(0);
    expect(second.calls.map((call) => call.op)).toEqual([OpCodes.fdatasync, OpCodes.fsync]);
  });

  it('with room for several calls per file, a sync after a started call starts its own at once, never joining a started one', () => {
    const { calls, settled, coalescer } = harness(2);
    expect(coalescer.add(datasync('a'))).toBe(false);
    calls[0]!.started = true;
    expect(coalescer.add(datasync('b'))).toBe(false); // a second call, issued now
    expect(calls).toHaveLength(2);
    expect(coalescer.add(datasync('c'))).toBe(true); // joins it: not yet started
    calls[1]!.started = true;
    // Two calls in flight: the rest gather for the next one.
    expect(coalescer.add(datasync('d'))).toBe(false);
    expect(coalescer.add(datasync('e'))).toBe(true);
    expect(calls).toHaveLength(2);
    // The second call may return first: it settles only its own members and
    // makes room for the gathered group.
    calls[1]!.done(0);
    expect(settled).toEqual([
      ['b', 0],
      ['c', 0],
    ]);
    expect(calls).toHaveLength(3);
    // A request never joins a call that has started, even while another has room.
    calls[2]!.started = true;
    expect(coalescer.add(datasync('f'))).toBe(false);
    expect(calls).toHaveLength(3);
    const failure = new Error('EIO');
    calls[0]!.done(failure);
    expect(settled.slice(2)).toEqual([['a', failure]]);
    expect(calls).toHaveLength(4); // f's group, now that a call has returned
    calls[2]!.done(0);
    calls[3]!.done(0);
    expect(settled.slice(3)).toEqual([
      ['d', 0],
      ['e', 0],
      ['f', 0],
    ]);
    // Nothing outstanding: the next sync starts a call of its own at once.
    expect(coalescer.add(datasync('g'))).toBe(false);
    expect(calls).toHaveLength(5);
  });

  it('a limit given per request: each sync is held to its own when it asks', () => {
    const { calls, coalescer } = harness((member) => (member.name.startsWith('sole') ? 1 : 3));
    expect(coalescer.add(datasync('a'))).toBe(false);
    calls[0]!.started = true;
    // One call is in flight: a request held to one gathers for the next call...
    expect(coalescer.add(datasync('sole b'))).toBe(false);
    expect(calls).toHaveLength(1);
    // ...which a request allowed three then joins rather than overtakes.
    expect(coalescer.add(datasync('c'))).toBe(true);
    expect(calls).toHaveLength(1);
    calls[0]!.done(0);
    expect(calls).toHaveLength(2);
    calls[1]!.started = true;
    // With a call in flight and none gathering, one allowed three starts its own.
    expect(coalescer.add(datasync('d'))).toBe(false);
    expect(calls).toHaveLength(3);
  });

  it('with room for several calls, a member leaves whichever group it is in, and an fsync never joins an fdatasync call', () => {
    const { calls, settled, coalescer } = harness(3);
    const a = datasync('a');
    const b = fsync('b');
    const c = datasync('c');
    coalescer.add(a);
    expect(coalescer.add(b)).toBe(false); // cannot ride on a's fdatasync: its own call
    expect(coalescer.add(c)).toBe(true); // the fsync call covers it
    expect(calls.map((call) => call.op)).toEqual([OpCodes.fdatasync, OpCodes.fsync]);
    expect(coalescer.leave(c)).toBe(true);
    expect(coalescer.leave(a)).toBe(true);
    calls[1]!.done(0);
    calls[0]!.done(0);
    expect(settled).toEqual([['b', 0]]);
    expect(calls).toHaveLength(2);
  });

  it('a member that leaves settles no more; a next group left empty makes no call', () => {
    const { calls, settled, coalescer } = harness();
    const a = datasync('a');
    const b = datasync('b');
    const c = datasync('c');
    coalescer.add(a);
    coalescer.add(b);
    calls[0]!.started = true;
    coalescer.add(c);
    expect(coalescer.leave(b)).toBe(true);
    expect(coalescer.leave(c)).toBe(true);
    expect(coalescer.leave(c)).toBe(false);
    calls[0]!.done(0);
    expect(settled).toEqual([['a', 0]]);
    expect(calls).toHaveLength(1);
  });

  it('files are coalesced apart', () => {
    const { calls, coalescer } = harness();
    coalescer.add(datasync('a'));
    expect(coalescer.add({ target: {}, op: OpCodes.fdatasync, name: 'other file' })).toBe(false);
    expect(calls).toHaveLength(2);
  });
});

const abortError = (reason: unknown) => expect.objectContaining({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });

describe.each(availableEngines)('engine %s', (engine) => {
  let ring: Ring;
  beforeAll(() => {
    // No polling: a completion reaches JS only in a later turn of the event
    // loop, so what one synchronous turn sees in flight stays in flight.
    ring = new Ring({ engine, depth: 64, pollBudget: 0 });
  });
  afterAll(() => ring.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  async function written(): Promise<AioFile> {
    const file = await ring.open(newPath(), { write: true, create: true });
    await file.write(allocAligned(4096).fill(1), 0);
    return file;
  }

  /** Lets the dispatcher's flush (a microtask) hand what is batched to the engine. */
  const flushed = () => new Promise<void>((resolve) => queueMicrotask(resolve));

  /**
   * Where the engine lets a file have several calls in flight, starts one
   * more call each up to that number (after the one already in flight), so
   * that later syncs gather for the next call as they do everywhere else.
   */
  async function fillCalls(file: AioFile, settledOrder: string[]): Promise<Array<Promise<unknown>>> {
    const fillers: Array<Promise<unknown>> = [];
    for (let i = 1; i < syncCallsInFlight[engine]; i++) {
      fillers.push(file.datasync().then(() => settledOrder.push('filler')));
      await flushed();
    }
    return fillers;
  }

  it('32 concurrent datasyncs on one file make one call', async () => {
    const file = await written();
    const before = ring.stats();
    await Promise.all(Array.from({ length: 32 }, (_, i) => (i % 2 ? file.datasync() : ring.submit([{ op: 'fdatasync', file }]))));
    const after = ring.stats();
    expect(after.submitted - before.submitted).toBe(1);
    expect(after.syncsCoalesced - before.syncsCoalesced).toBe(31);
    expect(after.latencyUs.sync.count - before.latencyUs.sync.count).toBe(1);
    await file.close();
  });

  it('a sync asked for while a call is in flight waits for the next call, which the others asked for then share', async () => {
    const file = await written();
    const before = ring.stats();
    const order: string[] = [];
    const first = file.datasync().then(() => order.push('first'));
    await flushed();
    expect(ring.stats().inflight).toBe(1); // the first call is with the engine
    const fillers = await fillCalls(file, order);
    expect(ring.stats().inflight).toBe(syncCallsInFlight[engine]);
    const later = [file.datasync(), file.sync(), file.datasync()].map((sync, i) => sync.then(() => order.push(`later ${i}`)));
    await Promise.all([first, ...fillers, ...later]);
    expect(order[0]).not.toMatch(/^later/);
    const after = ring.stats();
    expect(after.submitted - before.submitted).toBe(syncCallsInFlight[engine] + 1);
    expect(after.syncsCoalesced - before.syncsCoalesced).toBe(2);
    await file.close();
  });

  it("the shared call's error reaches every member, each naming its own op", async () => {
    // fsync and fdatasync on a pipe fail with EINVAL on every engine.
    const fifo = path.join(dir, `fifo-${counter++}`);
    spawnSync('mkfifo', [fifo]);
    const pipe = await ring.open(fifo, { write: true, direct: false });
    const before = ring.stats();
    const outcomes = await Promise.allSettled([pipe.datasync(), pipe.datasync(), pipe.sync(), ring.submit([{ op: 'fdatasync', file: pipe }])]);
    const batchEntry = (outcomes[3] as PromiseFulfilledResult<Array<number | AioError>>).value[0];
    const errors = [...outcomes.slice(0, 3).map((outcome) => (outcome as PromiseRejectedResult).reason), batchEntry];
    expect(errors.map((error) => [error.code, error.op, error.path])).toEqual([
      ['EINVAL', 'fdatasync', fifo],
      ['EINVAL', 'fdatasync', fifo],
      ['EINVAL', 'fsync', fifo],
      ['EINVAL', 'fdatasync', fifo],
    ]);
    for (const error of errors) expect(error).toBeInstanceOf(AioError);
    const after = ring.stats();
    // Three datasyncs share one call; the fsync cannot ride on it and makes its own.
    expect(after.syncsCoalesced - before.syncsCoalesced).toBe(2);
    expect(after.latencyUs.sync.count - before.latencyUs.sync.count).toBe(2);
    await pipe.close();
  });

  it('an aborted member rejects at once; the call goes on for the others, and a next group left empty makes none', async () => {
    const file = await written();
    const before = ring.stats();
    const inFlight = file.datasync();
    const unstarted = new AbortController();
    const leaving = file.datasync({ signal: unstarted.signal });
    const staying = file.datasync();
    unstarted.abort('not needed');
    await expect(leaving).rejects.toEqual(abortError('not needed'));
    await flushed();
    const fillers = await fillCalls(file, []);
    const waiting = new AbortController();
    const next = file.datasync({ signal: waiting.signal });
    waiting.abort('gave up');
    await expect(next).rejects.toEqual(abortError('gave up'));
    await Promise.all([inFlight, staying, ...fillers]);
    const after = ring.stats();
    expect(after.submitted - before.submitted).toBe(syncCallsInFlight[engine]);
    expect(after.cancelled - before.cancelled).toBe(2);
    expect(after.cancelsAsked - before.cancelsAsked).toBe(0);
    await file.close();
  });

  it('a member of a call in flight that is aborted rejects at once, without asking the engine; the call still runs', async () => {
    const file = await written();
    const before = ring.stats();
    const controller = new AbortController();
    const leaving = file.datasync({ signal: controller.signal });
    const staying = file.datasync();
    await flushed();
    expect(ring.stats().inflight).toBe(1);
    controller.abort('late');
    await expect(leaving).rejects.toEqual(abortError('late'));
    await staying;
    const after = ring.stats();
    expect(after.submitted - before.submitted).toBe(1);
    expect(after.completed - before.completed).toBe(1);
    expect(after.cancelsAsked - before.cancelsAsked).toBe(0);
    await file.close();
  });

  it('a member past its timeoutMs rejects with ERR_AIO_TIMEOUT; the others settle with the call', async () => {
    const file = await written();
    const before = ring.stats();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const first = file.datasync();
    await flushed();
    const late = file.datasync({ timeoutMs: 5 });
    const partner = file.datasync({ timeoutMs: 60_000 });
    vi.advanceTimersByTime(5);
    await expect(late).rejects.toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'fdatasync' });
    vi.useRealTimers();
    await Promise.all([first, partner]);
    // Kept in JS on every engine: a shared call carries no member's deadline to the kernel.
    expect(ring.stats().linkTimeouts - before.linkTimeouts).toBe(0);
    await file.close();
  });

  it('a batch cancelled as a whole takes its grouped sync out, and the file closes after the groups settle', async () => {
    const file = await written();
    const first = file.datasync();
    await flushed();
    const controller = new AbortController();
    const batch = ring.submit([{ op: 'fdatasync', file }], { signal: controller.signal });
    const kept = file.sync();
    controller.abort('stop');
    await expect(batch).rejects.toEqual(abortError('stop'));
    let keptDone = false;
    kept.then(() => (keptDone = true));
    await file.close();
    expect(keptDone).toBe(true);
    await first;
  });

  it('ordered write + fdatasync + commit batches share syncs and keep their order', async () => {
    const file = await ring.open(newPath(), { write: true, create: true });
    // A call an earlier case left running (its members cancelled) would count here.
    await drained(ring);
    const before = ring.stats();
    const pages = Array.from({ length: 16 }, () => randomAligned(4096));
    const commits = Array.from({ length: 16 }, () => randomAligned(4096));
    const results = await Promise.all(
      pages.map((page, i) =>
        ring.submit(
          [
            { op: 'write', file, buffer: page, position: (2 * i + 1) * 4096 },
            { op: 'fdatasync', file },
            { op: 'write', file, buffer: commits[i]!, position: 2 * i * 4096 },
          ],
          { ordered: true },
        ),
      ),
    );
    for (const result of results) expect(result).toEqual([4096, 0, 4096]);
    const after = ring.stats();
    const calls = after.latencyUs.sync.count - before.latencyUs.sync.count;
    // The sync after an ordered batch's write keeps to one call in flight on
    // every engine, so those that come while it runs share the next; where
    // the file system allows, it makes no call at all (test/32).
    expect(calls).toBeLessThan(16);
    const fused = after.syncsFused - before.syncsFused;
    expect(after.syncsCoalesced - before.syncsCoalesced).toBe(16 - calls - fused);
    const expected = Buffer.concat(pages.flatMap((page, i) => [commits[i]!, page]));
    expect(firstDifference(fs.readFileSync(file.path), expected)).toBe(-1);
    await file.close();
  });
});

describe('system calls, counted by strace', () => {
  it.skipIf(toolSkipReason('the fdatasync(2) count', ['strace']) !== undefined)('64 concurrent datasyncs on the thread pool make as many fdatasync(2) calls as stats() reports, and fewer than 64', () => {
    const fixture = path.join(__dirname, 'fixtures', 'concurrent-datasyncs.js');
    const traced = spawnSync('strace', ['-f', '-c', '-e', 'trace=fdatasync', process.execPath, fixture, path.join(dir, 'strace.dat'), '64'], {
      encoding: 'utf8',
    });
    expect(traced.status).toBe(0);
    const reported = JSON.parse(traced.stdout.trim().split('\n').pop()!) as { calls: number; coalesced: number };
    const row = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?fdatasync$/m.exec(traced.stderr);
    expect(row, traced.stderr).not.toBeNull();
    expect(Number(row![1])).toBe(reported.calls);
    expect(reported.calls).toBeLessThan(64);
    expect(reported.calls + reported.coalesced).toBe(64);
  });
});
