// ring.registerBuffers on every available engine, on a disk file system and
// on tmpfs: what is written from registered buffers (whole, or subarrays) reads
// back byte for byte, into registered buffers and through plain fs; on io_uring
// those requests run as fixed-buffer operations (stats().fixedBufferOps), on
// the other engines they run plainly and are just as correct. Then arguments,
// the one-set rule, close, and lifecycles (workers, fork, GC, RLIMIT_MEMLOCK)
// in child processes. Argument checks are in 20.validation.test.ts.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AioError, AioFile, Ring, allocAligned } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { thrownBy } from './helpers/thrown';
import { ChildResult, buildForkAddon, ensureDistFresh, expectCleanExit, fixturesDir, repoRoot, runFixture, scratchDir } from './safety/child';

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

const bufferSize = 16 * 1024;
const bufferCount = 8;

describe.each(availableEngines)('engine %s', (engine) => {
  const fixedOnThisEngine = engine === 'io_uring';

  describe.each(['disk', 'tmpfs'])('on %s', (placeName) => {
    let ring: Ring;
    let buffers: Buffer[];
    let dir: string;
    let counter = 0;
    const newPath = () => path.join(dir, `fixed-${engine}-${counter++}.dat`);
    const openNew = () => ring.open(newPath(), { write: true, create: true });
    /** How many requests of `run` went out as fixed-buffer operations. */
    const fixedOpsOf = async (run: () => Promise<unknown>) => {
      const before = ring.stats().fixedBufferOps;
      await run();
      return ring.stats().fixedBufferOps - before;
    };

    beforeAll(() => {
      const place = places.find((p) => p.name === placeName);
      if (!place) throw new Error(`no ${placeName} place on this machine`);
      dir = place.dir;
      ring = new Ring({ depth: 32, engine });
      buffers = ring.registerBuffers(bufferCount, bufferSize);
    });
    afterAll(() => ring.close());

    it('returns zero-filled buffers of the size asked, registered with the kernel only on io_uring', () => {
      expect(buffers).toHaveLength(bufferCount);
      for (const buffer of buffers) {
        expect(Buffer.isBuffer(buffer)).toBe(true);
        expect(buffer.length).toBe(bufferSize);
        expect(buffer.every((byte) => byte === 0)).toBe(true);
      }
      expect(ring.usesFixedBuffers).toBe(fixedOnThisEngine);
    });

    it('writes from registered buffers and reads back into them, byte for byte, as fixed operations on io_uring', async () => {
      const file = await openNew();
      const sources = buffers.slice(0, 4);
      const targets = buffers.slice(4, 8);
      sources.forEach((buffer) => randomFillSync(buffer));
      const fixedFilesBefore = ring.stats().fixedFileOps;
      const fixedOps = await fixedOpsOf(async () => {
        expect(await Promise.all(sources.map((buffer, i) => file.write(buffer, i * bufferSize)))).toEqual(new Array(4).fill(bufferSize));
        expect(await Promise.all(targets.map((buffer, i) => file.read(buffer, i * bufferSize)))).toEqual(new Array(4).fill(bufferSize));
      });
      targets.forEach((buffer, i) => expect(firstDifference(buffer, sources[i]!)).toBe(-1));
      expect(firstDifference(fs.readFileSync(file.path), Buffer.concat(sources))).toBe(-1);
      expect(fixedOps).toBe(fixedOnThisEngine ? 8 : 0);
      // the files a ring opens are registered too, automatically
      const fixedFileOps = ring.stats().fixedFileOps - fixedFilesBefore;
      if (fixedOnThisEngine) expect(fixedFileOps).toBe(8);
      else expect(fixedFileOps).toBe(0);
      await file.close();
    });

    it('reads what plain fs wrote into a registered buffer', async () => {
      const target = newPath();
      const content = randomAligned(bufferSize);
      fs.writeFileSync(target, content);
      const file = await ring.open(target);
      const fixedOps = await fixedOpsOf(async () => expect(await file.read(buffers[2]!, 0)).toBe(bufferSize));
      expect(firstDifference(buffers[2]!, content)).toBe(-1);
      expect(fixedOps).toBe(fixedOnThisEngine ? 1 : 0);
      await file.close();
    });

    it('uses the fixed path for subarray views of a registered buffer', async () => {
      const file = await openNew();
      const source = buffers[0]!;
      randomFillSync(source);
      const fixedOps = await fixedOpsOf(async () => {
        // the middle half of one buffer, and its last block alone
        expect(await file.write(source.subarray(4096, 12288), 0)).toBe(8192);
        expect(await file.write(source.subarray(12288), 8192)).toBe(4096);
        const middle = buffers[1]!.subarray(8192, 16384);
        expect(await file.read(middle, 0)).toBe(8192);
        expect(firstDifference(middle, source.subarray(4096, 12288))).toBe(-1);
        const tail = buffers[1]!.subarray(0, 4096);
        expect(await file.read(tail, 8192)).toBe(4096);
        expect(firstDifference(tail, source.subarray(12288))).toBe(-1);
      });
      expect(fixedOps).toBe(fixedOnThisEngine ? 4 : 0);
      await file.close();
    });

    it('runs buffers from outside the registered set, and vectors of registered ones, on the plain path', async () => {
      const file = await openNew();
      const plain = randomAligned(8192);
      randomFillSync(buffers[3]!);
      const fixedOps = await fixedOpsOf(async () => {
        expect(await file.write(plain, 0)).toBe(8192);
        expect(await file.writev([buffers[3]!.subarray(0, 4096), buffers[3]!.subarray(8192)], 8192)).toBe(12288);
        const back = allocAligned(8192);
        expect(await file.read(back, 0)).toBe(8192);
        expect(firstDifference(back, plain)).toBe(-1);
        const pieces = [buffers[5]!.subarray(0, 4096), buffers[6]!.subarray(0, 8192)];
        expect(await file.readv(pieces, 8192)).toBe(12288);
        expect(firstDifference(Buffer.concat(pieces), Buffer.concat([buffers[3]!.subarray(0, 4096), buffers[3]!.subarray(8192)]))).toBe(-1);
      });
      expect(fixedOps).toBe(0);
      await file.close();
    });

    it('still rejects a misaligned subarray of a registered buffer with ERR_AIO_ALIGNMENT', async () => {
      const file = await openNew();
      const submittedBefore = ring.stats().submitted;
      const skew = file.info.memAlign / 2;
      const misaligned = buffers[0]!.subarray(skew, skew + 4096);
      const error = await file.write(misaligned, 0).catch((e: AioError) => e);
      expect(error).toBeInstanceOf(AioError);
      expect((error as AioError).code).toBe('ERR_AIO_ALIGNMENT');
      await expect(file.read(buffers[0]!.subarray(0, 4096 + file.info.offsetAlign / 2), 0)).rejects.toMatchObject({ code: 'ERR_AIO_ALIGNMENT' });
      expect(ring.stats().submitted).toBe(submittedBefore);
      await file.close();
    });

    it('keeps RWF_DSYNC on writes from registered buffers, and mixes them with plain ones in a batch', async () => {
      const file = await openNew();
      randomFillSync(buffers[0]!);
      const plain = randomAligned(4096);
      const fixedOps = await fixedOpsOf(async () => {
        expect(await file.write(buffers[0]!, 0, { dsync: true })).toBe(bufferSize);
        const results = await ring.submit([
          { op: 'write', file, buffer: plain, position: bufferSize },
          { op: 'write', file, buffer: buffers[0]!.subarray(0, 4096), position: bufferSize + 4096, dsync: true },
          { op: 'fdatasync', file },
          { op: 'read', file, buffer: buffers[7]!, position: 0 },
        ]);
        expect(results).toEqual([4096, 4096, 0, bufferSize]);
      });
      expect(firstDifference(buffers[7]!, buffers[0]!)).toBe(-1);
      const onDisk = fs.readFileSync(file.path);
      expect(firstDifference(onDisk, Buffer.concat([buffers[0]!, plain, buffers[0]!.subarray(0, 4096)]))).toBe(-1);
      expect(fixedOps).toBe(fixedOnThisEngine ? 3 : 0);
      await file.close();
    });

    it('keeps files apart when a closed file\'s descriptor number is reused', async () => {
      const first = await openNew();
      randomFillSync(buffers[0]!);
      await first.write(buffers[0]!, 0);
      const firstFd = first.fd;
      await first.close();
      const opened: AioFile[] = [];
      // the next open usually gets the same number; try a few in case another took it
      let second: AioFile | undefined;
      for (let i = 0; i < 8 && second === undefined; i++) {
        const file = await openNew();
        opened.push(file);
        if (file.fd === firstFd) second = file;
      }
      const target = second ?? opened[0]!;
      randomFillSync(buffers[1]!);
      expect(await target.write(buffers[1]!, 0)).toBe(bufferSize);
      expect(firstDifference(fs.readFileSync(first.path), buffers[0]!)).toBe(-1);
      expect(firstDifference(fs.readFileSync(target.path), buffers[1]!)).toBe(-1);
      await Promise.all(opened.map((file) => file.close()));
    });
  });

  describe('one set per ring, and close', () => {
    it('refuses a second registerBuffers call with ERR_AIO_BUFFERS_REGISTERED', async () => {
      const ring = new Ring({ depth: 4, engine });
      ring.registerBuffers(1, 4096);
      const error = thrownBy(() => ring.registerBuffers(1, 4096));
      expect(error).toBeInstanceOf(AioError);
      expect(error).toMatchObject({ code: 'ERR_AIO_BUFFERS_REGISTERED', op: 'registerBuffers' });
      await ring.close();
    });

    it('registers nothing when an argument is refused, so a good call still can', async () => {
      const ring = new Ring({ depth: 4, engine });
      expect(() => ring.registerBuffers(1, 1000)).toThrow(RangeError);
      expect(ring.registerBuffers(2, 8192)).toHaveLength(2);
      expect(ring.usesFixedBuffers).toBe(fixedOnThisEngine);
      await ring.close();
    });

    it('waits for reads in flight into registered buffers, then unregisters; buffers kept after close stay usable', async () => {
      const target = path.join(places[0]!.dir, `close-${engine}.dat`);
      const content = randomAligned(64 * 4096);
      fs.writeFileSync(target, content);
      const ring = new Ring({ depth: 8, engine });
      const pool = ring.registerBuffers(4, 4096);
      const file = await ring.open(target);
      const reads = Array.from({ length: 64 }, (_, i) => {
        const buffer = i < 4 ? pool[i]! : allocAligned(4096);
        return file.read(buffer, i * 4096).then((n) => n === 4096 && firstDifference(buffer, content.subarray(i * 4096, (i + 1) * 4096)) === -1);
      });
      const closing = ring.close();
      await expect(closing).resolves.toBeUndefined();
      expect((await Promise.all(reads)).every(Boolean)).toBe(true);
      expect(ring.usesFixedBuffers).toBe(false);
      expect(() => ring.registerBuffers(1, 4096)).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));

      // a new ring registers again, and the old ring's buffers are plain aligned memory now
      const next = new Ring({ depth: 8, engine });
      const again = next.registerBuffers(4, 4096);
      expect(next.usesFixedBuffers).toBe(fixedOnThisEngine);
      const reopened = await next.open(target);
      expect(await reopened.read(pool[0]!, 4096)).toBe(4096);
      expect(firstDifference(pool[0]!, content.subarray(4096, 8192))).toBe(-1);
      expect(await reopened.read(again[0]!, 8192)).toBe(4096);
      expect(firstDifference(again[0]!, content.subarray(8192, 12288))).toBe(-1);
      expect(next.stats().fixedBufferOps).toBe(fixedOnThisEngine ? 1 : 0);
      await next.close();
    });
  });
});

describe('registered buffers across lifecycles', () => {
  let dir: string;
  beforeAll(() => {
    ensureDistFresh();
    dir = scratchDir('fixed');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const lifecycle = (scenario: string, engine: string, extra: string[] = [], options: { nodeArgs?: string[]; timeoutMs?: number } = {}) =>
    runFixture('fixed-buffers-lifecycle.js', [scenario, engine, fs.mkdtempSync(path.join(dir, `${scenario}-${engine}-`)), ...extra], options);


  describe.each(availableEngines)('engine %s', (engine) => {
    it('workers terminated, exiting or returning with reads into registered buffers in flight leave the process running', async () => {
      expectCleanExit(await lifecycle('workers', engine, [], { timeoutMs: 40_000 }));
    });

    it('rings and registered buffers dropped and collected in every order: no crash, buffers that outlive their ring still work', async () => {
      expectCleanExit(await lifecycle('gc', engine, [], { nodeArgs: ['--expose-gc'] }));
    });

    describe('fork()', () => {
      let addon: string;
      beforeAll(() => {
        addon = buildForkAddon();
      });

      // --single-threaded: see test/safety/lifecycle.test.ts
      it("the child gets ERR_AIO_FORKED and its close leaves the parent's registration in place", async () => {
        expectCleanExit(await lifecycle('fork', engine, [addon], { nodeArgs: ['--single-threaded'], timeoutMs: 20_000 }));
      });
    });
  });

  // Root has CAP_IPC_LOCK, which exempts it from RLIMIT_MEMLOCK; the child
  // drops it (from its bounding and inheritable sets, so node runs without it)
  // and gets a 64 KiB limit, which 4 MiB of registered buffers exceed.
  const canDropIpcLock = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0 && spawnSync('prlimit', ['--version']).status === 0;
  it.skipIf(!availableEngines.includes('io_uring') || !canDropIpcLock)(
    'turns the kernel refusing to lock more memory into an AioError ENOMEM from io_uring_register',
    () => {
      const script = path.join(fixturesDir, 'fixed-buffers-lifecycle.js');
      const child = spawnSync(
        'prlimit',
        ['--memlock=65536:65536', 'setpriv', '--inh-caps=-ipc_lock', '--bounding-set=-ipc_lock', '--', process.execPath, script, 'memlock', 'io_uring', dir],
        { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 },
      );
      const result: ChildResult = {
        code: child.status,
        signal: child.signal,
        stdout: child.stdout,
        stderr: child.stderr,
        ms: 0,
        timedOut: child.error !== undefined,
      };
      const outcome = expectCleanExit<{ code: string; errno: number; syscall: string; message: string; smallAfter: number }>(result);
      expect(outcome).toMatchObject({ code: 'ENOMEM', errno: -12, syscall: 'io_uring_register', smallAfter: 1 });
      expect(outcome.message).toContain('RLIMIT_MEMLOCK');
    },
  );
});
