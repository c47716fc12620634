// kill -9 in the middle of appending: a child process appends to a log from 64
// concurrent appenders and prints each LSN it was given; it is killed with
// SIGKILL at a random moment, again and again on the same log (the next child
// recovers it and appends after what it found). After every kill, every
// acknowledged LSN must be recovered holding its record, every record exactly
// once and each appender's records in order, and nothing that was never
// appended may appear.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../lib/index';
import { availableEngines } from './helpers/engines';
import { runUntilKilled } from './helpers/kill';
import { seededRandom } from './helpers/random';
import { ensureDistFresh } from './safety/child';

const { logRecord, parseLogRecord } = createRequire(__filename)('./fixtures/log-records.js') as {
  logRecord: (tag: string, id: number, seq: number) => Buffer;
  parseLogRecord: (data: Buffer) => { tag: string; id: number; seq: number } | null;
};

const random = seededRandom();
console.log(`log crash: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);
const kills = 20;
const appenders = 64;

let dir: string;
beforeAll(() => {
  ensureDistFresh();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-log-crash-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  ready: bigint;
  acknowledged: Array<{ lsn: bigint; id: number; seq: number }>;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the appender, kills it `killAfterMs` after it has opened the log, and returns what it acknowledged. */
async function appendUntilKilled(file: string, engine: string, tag: string, killAfterMs: number): Promise<Run> {
  const run = await runUntilKilled('log-appender.js', [file, engine, String(appenders), tag], killAfterMs);
  const ready = /^ready (\d+)$/.exec(run.lines[0] ?? '');
  if (!ready) throw new Error(`the appender did not start: signal ${run.signal}\n${run.lines.slice(0, 20).join('\n')}\n${run.stderr}`);
  const acknowledged = run.lines.slice(1).map((line) => {
    const [lsn, id, seq] = line.split(' ');
    return { lsn: BigInt(lsn!), id: Number(id), seq: Number(seq) };
  });
  return { ready: BigInt(ready[1]!), acknowledged, signal: run.signal, stderr: run.stderr };
}

describe('log under kill -9', () => {
  it(`recovers every acknowledged record, once and in order, after ${kills} kills during appends from ${appenders} appenders`, async () => {
    const file = path.join(dir, 'crash.log');
    const ring = new Ring();
    const acknowledged = new Map<bigint, string>();
    let recovered = 0n;
    let totalAcknowledged = 0;
    try {
      for (let kill = 0; kill < kills; kill++) {
        const engine = availableEngines[kill % availableEngines.length]!;
        const tag = `r${kill}`;
        const run = await appendUntilKilled(file, engine, tag, random.int(20, 250));
        expect(run.signal, run.stderr).toBe('SIGKILL');
        // The child recovered exactly what the last check found.
        expect(run.ready).toBe(recovered);
        for (const { lsn, id, seq } of run.acknowledged) acknowledged.set(lsn, `${tag} ${id} ${seq}`);
        totalAcknowledged += run.acknowledged.length;

        const log = await ring.openLog(file, { readOnly: true });
        // Plain checks per record (hundreds of thousands over the run), one assertion on what they found.
        const problems: string[] = [];
        const seen = new Set<string>();
        const nextSeq = new Map<string, number>();
        let expectedLsn = 1n;
        for await (const { lsn, data } of log.read()) {
          if (lsn !== expectedLsn) problems.push(`LSN ${lsn} where ${expectedLsn} was due`);
          expectedLsn = lsn + 1n;
          const record = parseLogRecord(data);
          if (record === null) {
            problems.push(`LSN ${lsn} holds bytes nobody appended`);
            continue;
          }
          const key = `${record.tag} ${record.id} ${record.seq}`;
          if (seen.has(key)) problems.push(`${key} recovered twice`);
          seen.add(key);
          const writer = `${record.tag} ${record.id}`;
          if (record.seq !== (nextSeq.get(writer) ?? 0)) problems.push(`${writer}'s record ${record.seq} out of order`);
          nextSeq.set(writer, record.seq + 1);
          const promised = acknowledged.get(lsn);
          if (promised !== undefined && promised !== key) problems.push(`LSN ${lsn} holds ${key}, acknowledged as ${promised}`);
        }
        recovered = expectedLsn - 1n;
        for (const lsn of acknowledged.keys()) if (lsn > recovered) problems.push(`acknowledged LSN ${lsn} lost`);
        expect(problems.slice(0, 20), `after kill ${kill + 1} (${engine})`).toEqual([]);
        expect(log.recovery.endLsn).toBe(recovered);
        await log.close();
      }
      expect(totalAcknowledged).toBeGreaterThan(0);

      // Appending carries on after the last recovery.
      const log = await ring.openLog(file);
      const after = await Promise.all([0, 1, 2].map((seq) => log.append(logRecord('after', 0, seq))));
      expect(after).toEqual([recovered + 1n, recovered + 2n, recovered + 3n]);
      await log.close();
      const check = await ring.openLog(file, { readOnly: true });
      expect(check.recovery).toMatchObject({ records: Number(recovered) + 3, endLsn: recovered + 3n });
      let last: Buffer | undefined;
      for await (const { data } of check.read({ from: recovered + 3n })) last = data;
      expect(last?.equals(logRecord('after', 0, 2))).toBe(true);
      await check.close();
      console.log(`log crash: ${kills} kills, ${totalAcknowledged} acknowledged appends, ${recovered + 3n} records at the end`);
    } finally {
      await ring.close();
    }
  }, 60_000);
});
