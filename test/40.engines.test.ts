// Engine selection: what 'auto' picks, forced engines, the operator override,
// and real refusals made by the kernel through sysctls (as root).
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AioError, Ring, allocAligned, probeEngines } from '../lib/index';
import { firstDifference, randomAligned } from './helpers/data';
import { Place, makePlaces, removePlaces } from './helpers/places';
import { rootSuiteSkipReason } from './helpers/root';
import { withSysctls } from './helpers/sysctl';
import { thrownBy } from './helpers/thrown';

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

const savedOverride = process.env.AIORING_ENGINE;
afterEach(() => {
  if (savedOverride === undefined) delete process.env.AIORING_ENGINE;
  else process.env.AIORING_ENGINE = savedOverride;
});

async function roundTrip(ring: Ring, name: string, direct = true): Promise<void> {
  const file = await ring.open(path.join(places[0]!.dir, name), { write: true, create: true, direct });
  const blocks = Array.from({ length: 16 }, () => randomAligned(4096));
  await ring.submit(blocks.map((buffer, i) => ({ op: 'write' as const, file, buffer, position: i * 4096 })));
  const back = blocks.map(() => allocAligned(4096));
  const results = await ring.submit(back.map((buffer, i) => ({ op: 'read' as const, file, buffer, position: i * 4096 })));
  expect(results).toEqual(new Array(16).fill(4096));
  back.forEach((buffer, i) => expect(firstDifference(buffer, blocks[i]!)).toBe(-1));
  await file.close();
}

describe('probeEngines', () => {
  it('reports every engine with its availability and reason', () => {
    const report = probeEngines();
    expect(Object.keys(report).sort()).toEqual(['io_uring', 'libaio', 'threadpool']);
    for (const entry of Object.values(report)) {
      expect(typeof entry.available).toBe('boolean');
      expect(entry.reason.length).toBeGreaterThan(0);
      if (!entry.available) expect(entry.code).toMatch(/^E[A-Z]+$/);
    }
    expect(report.threadpool.available).toBe(true);
  });
});

describe('selection', () => {
  it("'auto' prefers Linux AIO for direct I/O and says why", async () => {
    const report = probeEngines();
    const ring = new Ring({ depth: 8 });
    const expected = report.libaio.available ? 'libaio' : report.io_uring.available ? 'io_uring' : 'threadpool';
    expect(ring.engine).toBe(expected);
    expect(ring.engineReason).toMatch(new RegExp(`^${expected} chosen for direct I/O`));
    await roundTrip(ring, 'auto.dat');
    await ring.close();
  });

  it('AIORING_ENGINE overrides auto but not an explicit engine', async () => {
    process.env.AIORING_ENGINE = 'threadpool';
    const overridden = new Ring({ depth: 4 });
    expect(overridden.engine).toBe('threadpool');
    const explicit = new Ring({ depth: 4, engine: 'libaio' });
    expect(explicit.engine).toBe('libaio');
    await overridden.close();
    await explicit.close();
  });

  it('refuses an AIORING_ENGINE value that names no engine', () => {
    process.env.AIORING_ENGINE = 'posix-aio';
    expect(() => new Ring({ depth: 4 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it("prefer puts one engine first for 'auto' and says so", async () => {
    delete process.env.AIORING_ENGINE;
    const report = probeEngines();
    for (const preferred of ['io_uring', 'threadpool'] as const) {
      if (!report[preferred].available) continue;
      const ring = new Ring({ depth: 8, prefer: preferred });
      expect(ring.engine).toBe(preferred);
      expect(ring.engineReason).toMatch(new RegExp(`^${preferred} chosen for direct I/O, ${preferred} preferred`));
      await roundTrip(ring, `prefer-${preferred}.dat`);
      await roundTrip(ring, `prefer-${preferred}-buffered.dat`, false);
      expect(ring.bufferedEngine).toBe(preferred);
      await ring.close();
    }
  });

  it("refuses prefer beside a forced engine, or naming no engine; AIORING_ENGINE still replaces 'auto'", async () => {
    delete process.env.AIORING_ENGINE;
    const beside = thrownBy(() => new Ring({ depth: 4, engine: 'libaio', prefer: 'io_uring' }));
    expect(beside).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((beside as Error).message).toContain("prefer applies only to engine 'auto'");
    const unknown = thrownBy(() => new Ring({ depth: 4, prefer: 'posix-aio' as never }));
    expect(unknown).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((unknown as Error).message).toContain('prefer');
    const auto = new Ring({ depth: 4, engine: 'auto', prefer: 'threadpool' });
    expect(auto.engine).toBe('threadpool');
    await auto.close();
    process.env.AIORING_ENGINE = 'threadpool';
    const overridden = new Ring({ depth: 4, prefer: 'io_uring' });
    expect(overridden.engine).toBe('threadpool');
    expect(overridden.engineReason).toBe('threadpool was requested');
    await overridden.close();
  });

  it('never sends buffered files through Linux AIO', async () => {
    const ring = new Ring({ depth: 8, engine: 'libaio' });
    await roundTrip(ring, 'buffered.dat', false);
    expect(ring.bufferedEngine).toBe(probeEngines().io_uring.available ? 'io_uring' : 'threadpool');
    await ring.close();
  });
});

const skipRoot = rootSuiteSkipReason('sysctl refusal tests');

describe.skipIf(skipRoot !== undefined)('real refusals (root)', () => {
  it('io_uring refused with EPERM when kernel.io_uring_disabled=2; auto still works', async () => {
    await withSysctls({ 'kernel.io_uring_disabled': '2' }, async () => {
      const report = probeEngines();
      expect(report.io_uring).toMatchObject({ available: false, code: 'EPERM', errno: -1 });
      expect(report.io_uring.reason).toContain('io_uring_disabled');
      const error = thrownBy(() => new Ring({ depth: 8, engine: 'io_uring' }));
      expect(error).toBeInstanceOf(AioError);
      expect(error).toMatchObject({ code: 'ERR_AIO_ENGINE_UNAVAILABLE', errno: -1 });
      expect((error as Error).message).toContain('EPERM');
      const ring = new Ring({ depth: 8 });
      expect(ring.engine).toBe('libaio');
      await roundTrip(ring, 'uring-disabled.dat');
      // buffered files fall back to the thread pool, not to blocking Linux AIO
      await roundTrip(ring, 'uring-disabled-buffered.dat', false);
      expect(ring.bufferedEngine).toBe('threadpool');
      await ring.close();
      const preferring = new Ring({ depth: 8, prefer: 'io_uring' });
      expect(preferring.engine).toBe('libaio');
      expect(preferring.engineReason).toMatch(/^libaio chosen for direct I\/O, io_uring preferred \(io_uring refused: /);
      await roundTrip(preferring, 'uring-disabled-preferred.dat');
      await preferring.close();
    });
  });

  it('Linux AIO refused with EAGAIN when fs.aio-max-nr is below what is in use; auto picks io_uring', async () => {
    await withSysctls({ 'fs.aio-max-nr': '0' }, async () => {
      const report = probeEngines();
      expect(report.libaio).toMatchObject({ available: false, code: 'EAGAIN', errno: -11 });
      expect(report.libaio.reason).toContain('aio-max-nr');
      expect(() => new Ring({ depth: 8, engine: 'libaio' })).toThrow(expect.objectContaining({ code: 'ERR_AIO_ENGINE_UNAVAILABLE', errno: -11 }));
      const ring = new Ring({ depth: 8 });
      expect(ring.engine).toBe('io_uring');
      expect(ring.engineReason).toContain('libaio refused');
      await roundTrip(ring, 'aio-exhausted.dat');
      await ring.close();
    });
  });

  it('with both kernel interfaces refused, auto runs on the thread pool and passes the data tests', async () => {
    await withSysctls({ 'kernel.io_uring_disabled': '2', 'fs.aio-max-nr': '0' }, async () => {
      const ring = new Ring({ depth: 8 });
      expect(ring.engine).toBe('threadpool');
      expect(ring.engineReason).toContain('libaio refused');
      expect(ring.engineReason).toContain('io_uring refused');
      await roundTrip(ring, 'both-refused.dat');
      await roundTrip(ring, 'both-refused-buffered.dat', false);
      await ring.close();
    });
  });
});
