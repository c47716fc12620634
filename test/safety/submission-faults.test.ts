// The engines' answers to a kernel that takes only part of a submission,
// which only running out of kernel memory (or a full AIO context) brings
// about: a kernel chain cut short, a request taken without its linked
// timeout, an fsync Linux AIO refuses, an io_submit that starts fewer iocbs
// than offered. Each scenario runs in a child process
// (test/fixtures/submission-faults.js) with test/native/syscall_faults.c
// preloaded, which cuts exactly the chosen io_uring_enter or io_submit call;
// the test checks that the cut happened (the injector's stderr lines), then
// what the caller saw (results, error codes) and the file byte for byte.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxIdleRetries } from '../../lib/dispatcher';
import { availableEngines } from '../helpers/engines';
import { buildPreloadLibrary, preloading } from '../helpers/preload-library';
import { ensureDistFresh, expectCleanExit, runFixture, scratchDir } from './child';

interface Described {
  code?: string;
  errno?: number;
  syscall?: string;
  op?: string;
  position?: number;
  message?: string;
  causeCode?: string;
}
type Outcome = number | 'resolved' | Described;
type BlockState = 'untouched' | 'written' | 'roundTrip' | 'other';
interface FifoReport {
  result: Outcome;
  timeoutMs: number;
  elapsedMs: number;
  completed: boolean;
  linkTimeouts: number;
  linkTimeoutsFired: number;
  cancelled: number;
  cancelsAsked: number;
  cancelsHonoured: number;
  roundTripOk: boolean;
}
interface ChainReport {
  engine: string;
  results: Outcome[];
  read: Outcome;
  readMatches: boolean;
  roundTripOk: boolean;
  linkedSubmits: number;
  blocks: BlockState[];
}

const block = 4096;
const uring = availableEngines.includes('io_uring');
const libaio = availableEngines.includes('libaio');
for (const [engine, available] of [['io_uring', uring], ['libaio', libaio]] as const) {
  if (!available) console.log(`skipping the ${engine} submission faults: this kernel or process cannot run ${engine}`);
}

let dir: string;
let injector: string;
beforeAll(() => {
  ensureDistFresh();
  dir = scratchDir('faults');
  injector = buildPreloadLibrary('syscall_faults', dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `scenario` with the injector's scripts (SYSCALL_FAULTS_* variables),
 * expects a clean exit and exactly the cuts `cuts` (the injector's stderr
 * lines, without their prefix), and returns the fixture's report.
 */
async function runScenario<T>(scenario: string, scripts: Record<string, string>, cuts: string[]): Promise<T> {
  const result = await runFixture('submission-faults.js', [scenario, dir], {
    env: { LD_PRELOAD: preloading(injector), ...scripts },
    timeoutMs: 20_000,
  });
  const report = expectCleanExit<T>(result);
  const seen = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('syscall_faults: '))
    .map((line) => line.slice('syscall_faults: '.length));
  expect(seen, 'the cuts the injector made').toEqual(cuts);
  return report;
}

const describeRequest = (position: number) => `ops[3] (write '${dir}/uring-chain-cut.data' at ${position})`;

describe.skipIf(!uring)('io_uring', () => {
  it('an ordered batch whose kernel chain the kernel takes only part of: the rest fails, naming the first entry cut', async () => {
    const report = await runScenario<ChainReport>('uring-chain-cut', { SYSCALL_FAULTS_URING_ENTER: '1:3' }, [
      'io_uring_enter call 1 offered 7, passing 3',
    ]);
    expect(report.engine).toBe('io_uring');
    const [first, second, third, cut, ...cancelled] = report.results;
    expect([first, second, third]).toEqual([block, block, block]);
    // never resubmitted: it must not start before the part the kernel took has completed
    expect(cut).toMatchObject({ code: 'EAGAIN', errno: -11, syscall: 'io_uring_enter', op: 'write', position: 3 * block });
    expect(cancelled).toHaveLength(2);
    cancelled.forEach((entry, i) => {
      expect(entry).toMatchObject({ code: 'ECANCELED', errno: -125, op: 'write', position: (4 + i) * block, causeCode: 'EAGAIN' });
      expect((entry as Described).message).toContain(`not started because ${describeRequest(3 * block)} failed with EAGAIN`);
    });
    // the links the kernel took: after entries 0, 1 and 2 (the last of them links to nothing it took)
    expect(report.linkedSubmits).toBe(3);
    expect(report.blocks).toEqual(['written', 'written', 'written', 'untouched', 'untouched', 'untouched', 'untouched', 'roundTrip']);
    // the read submitted behind the chain was not part of it: it went again and completed
    expect(report.read).toBe(block);
    expect(report.readMatches).toBe(true);
    expect(report.roundTripOk).toBe(true);
  });

  it('a kernel chain the kernel takes none of goes again whole', async () => {
    const report = await runScenario<ChainReport>('uring-chain-cut', { SYSCALL_FAULTS_URING_ENTER: '1:0' }, [
      'io_uring_enter call 1 offered 7, passing 0',
    ]);
    expect(report.results).toEqual(Array(6).fill(block));
    expect(report.read).toBe(block);
    expect(report.readMatches).toBe(true);
    expect(report.blocks).toEqual(['written', 'written', 'written', 'written', 'written', 'written', 'untouched', 'roundTrip']);
    expect(report.roundTripOk).toBe(true);
  });

  it('a read taken without its linked timeout completes, its deadline kept in JS', async () => {
    const report = await runScenario<{
      result: Outcome;
      bytesMatch: boolean;
      linkTimeoutsAfterCut: number;
      again: Outcome;
      linkTimeoutsAfterNormal: number;
    }>('uring-timeout-cut-file', { SYSCALL_FAULTS_URING_ENTER: '1:1' }, ['io_uring_enter call 1 offered 2, passing 1']);
    expect(report.result).toBe(block);
    expect(report.bytesMatch).toBe(true);
    expect(report.linkTimeoutsAfterCut).toBe(0);
    // the same read not cut: its deadline went to the kernel, so the counter does count
    expect(report.again).toBe(block);
    expect(report.linkTimeoutsAfterNormal).toBe(1);
  });

  it.each([
    ['', '1:1', []],
    [' and the kernel refuses its cancel twice', '1:1,2-3:0', ['io_uring_enter call 2 offered 1, passing 0', 'io_uring_enter call 3 offered 1, passing 0']],
  ])('a read that waits, taken without its linked timeout, times out through the JS timer%s', async (_, script, cancelCuts) => {
    const report = await runScenario<FifoReport>('uring-timeout-cut-fifo', { SYSCALL_FAULTS_URING_ENTER: script }, [
      'io_uring_enter call 1 offered 2, passing 1',
      ...cancelCuts,
    ]);
    expect(report.result).toMatchObject({ code: 'ERR_AIO_TIMEOUT', op: 'read' });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(report.timeoutMs - 5);
    expect(report.linkTimeouts).toBe(0);
    expect(report.linkTimeoutsFired).toBe(0);
    expect(report.cancelled).toBe(1);
    // the cancel reached the kernel once (refused asks are asked again) and stopped the read
    expect(report.cancelsAsked).toBe(1);
    expect(report.cancelsHonoured).toBe(1);
    // so the read completed, and the pipe's next bytes reach the next read
    expect(report.completed).toBe(true);
    expect(report.roundTripOk).toBe(true);
  });

  it('an fdatasync Linux AIO refuses runs on the ring instead', async () => {
    const report = await runScenario<{ sync: Outcome; syncAfter: Outcome; roundTripOk: boolean; blocks: BlockState[] }>(
      'uring-sync-refused',
      { SYSCALL_FAULTS_IO_SUBMIT: '1:0' },
      ['io_submit call 1 offered 1, passing 0'],
    );
    expect(report.sync).toBe('resolved');
    expect(report.roundTripOk).toBe(true);
    expect(report.syncAfter).toBe('resolved');
    expect(report.blocks[5]).toBe('roundTrip');
  });

  it('an fdatasync both Linux AIO and the ring refuse fails with EAGAIN, and the ring keeps working', async () => {
    const report = await runScenario<{ sync: Outcome; syncAfter: Outcome; roundTripOk: boolean; blocks: BlockState[] }>(
      'uring-sync-refused',
      { SYSCALL_FAULTS_IO_SUBMIT: '1:0', SYSCALL_FAULTS_URING_ENTER: '1:0' },
      ['io_submit call 1 offered 1, passing 0', 'io_uring_enter call 1 offered 1, passing 0'],
    );
    expect(report.sync).toMatchObject({ code: 'EAGAIN', errno: -11, op: 'fdatasync' });
    expect(report.roundTripOk).toBe(true);
    expect(report.syncAfter).toBe('resolved');
    expect(report.blocks[5]).toBe('roundTrip');
  });

  it.each([
    // Nothing else on an io_uring ring calls io_submit before the sync, so the
    // sync's io_submit being call 2 shows that the write's was call 1.
    ['runs on Linux AIO (the sync, refused there, then runs on the ring)', { SYSCALL_FAULTS_IO_SUBMIT: '2:0' }, ['io_submit call 2 offered 1, passing 0'], [block, 0], 'written'],
    ['runs on the ring when Linux AIO refuses it', { SYSCALL_FAULTS_IO_SUBMIT: '1:0' }, ['io_submit call 1 offered 1, passing 0'], [block, 0], 'written'],
    [
      'fails with EAGAIN when the ring refuses it too, and its sync is not started',
      { SYSCALL_FAULTS_IO_SUBMIT: '1:0', SYSCALL_FAULTS_URING_ENTER: '1:0' },
      ['io_submit call 1 offered 1, passing 0', 'io_uring_enter call 1 offered 1, passing 0'],
      [
        { code: 'EAGAIN', op: 'write', position: 3 * block },
        { code: 'ECANCELED', op: 'fsync', causeCode: 'EAGAIN' },
      ],
      'untouched',
    ],
  ] as const)('an ordered write + fsync on io_uring: the write %s', async (_, scripts, cuts, results, third) => {
    const report = await runScenario<{ results: Outcome[]; roundTripOk: boolean; blocks: BlockState[] }>(
      'uring-ordered-write-refused',
      scripts,
      cuts,
    );
    expect(report.results[0]).toEqual(typeof results[0] === 'number' ? results[0] : expect.objectContaining(results[0]));
    expect(report.results[1]).toEqual(typeof results[1] === 'number' ? results[1] : expect.objectContaining(results[1]));
    expect(report.blocks[3]).toBe(third);
    expect(report.roundTripOk).toBe(true);
    expect(report.blocks[5]).toBe('roundTrip');
  });

  it('an ordered append + fsync on io_uring: the append stays on the ring, and only the sync goes to Linux AIO', async () => {
    const report = await runScenario<{ results: Outcome[]; blocks: BlockState[] }>(
      'uring-ordered-append',
      { SYSCALL_FAULTS_IO_SUBMIT: '1:0' },
      ['io_submit call 1 offered 1, passing 0'],
    );
    expect(report.results).toEqual([block, 0]);
    expect(report.blocks).toEqual([...Array(8).fill('untouched'), 'written']);
  });

  it.each([
    ['runs on the ring', {}, [], 'resolved'],
    ['fails with EAGAIN when the ring refuses it too', { SYSCALL_FAULTS_URING_ENTER: '1:0' }, ['io_uring_enter call 1 offered 1, passing 0'], { code: 'EAGAIN', op: 'fdatasync' }],
  ])('of two fdatasyncs, the one Linux AIO refuses after starting the other %s', async (_, scripts, ringCuts, second) => {
    const report = await runScenario<{ syncs: Outcome[]; syncsAfter: Outcome[]; roundTripOk: boolean }>(
      'uring-two-syncs',
      { SYSCALL_FAULTS_IO_SUBMIT: '1:1,2:0', ...scripts },
      ['io_submit call 1 offered 2, passing 1', 'io_submit call 2 offered 1, passing 0', ...ringCuts],
    );
    expect(report.syncs[0]).toBe('resolved');
    if (typeof second === 'string') expect(report.syncs[1]).toBe(second);
    else expect(report.syncs[1]).toMatchObject(second);
    expect(report.roundTripOk).toBe(true);
    expect(report.syncsAfter).toEqual(['resolved', 'resolved']);
  });
});

describe.skipIf(!libaio)('libaio', () => {
  it('an io_submit that starts fewer than offered: the rest waits in JS and every write lands', async () => {
    const report = await runScenario<{ engine: string; results: Outcome[]; submitted: number; blocks: BlockState[] }>(
      'libaio-short-submit',
      { SYSCALL_FAULTS_IO_SUBMIT: '1:3,2:0' },
      ['io_submit call 1 offered 8, passing 3', 'io_submit call 2 offered 5, passing 0'],
    );
    expect(report.engine).toBe('libaio');
    expect(report.results).toEqual(Array(8).fill(block));
    expect(report.submitted).toBe(8);
    expect(report.blocks).toEqual(Array(8).fill('written'));
  });

  it('io_submit refusing a lone request: JS retries on a timer and the third call takes it', async () => {
    const report = await runScenario<{ result: Outcome; roundTripOk: boolean; blocks: BlockState[] }>(
      'libaio-refused-idle',
      { SYSCALL_FAULTS_IO_SUBMIT: '1-2:0' },
      ['io_submit call 1 offered 1, passing 0', 'io_submit call 2 offered 1, passing 0'],
    );
    expect(report.result).toBe(block);
    expect(report.roundTripOk).toBe(true);
    expect(report.blocks).toEqual(['written', 'untouched', 'untouched', 'untouched', 'untouched', 'untouched', 'roundTrip', 'untouched']);
  });

  it('io_submit refusing every retry: the request fails with EAGAIN from io_submit, and the ring keeps working', async () => {
    const retries = maxIdleRetries; // the first call and this many more
    const report = await runScenario<{ result: Outcome; roundTripOk: boolean; blocks: BlockState[] }>(
      'libaio-refused-idle',
      { SYSCALL_FAULTS_IO_SUBMIT: `1-${retries + 1}:0` },
      Array.from({ length: retries + 1 }, (_, i) => `io_submit call ${i + 1} offered 1, passing 0`),
    );
    expect(report.result).toMatchObject({ code: 'EAGAIN', errno: -11, syscall: 'io_submit', op: 'write', position: 0 });
    expect(report.roundTripOk).toBe(true);
    expect(report.blocks).toEqual(['untouched', 'untouched', 'untouched', 'untouched', 'untouched', 'untouched', 'roundTrip', 'untouched']);
  });
});
