// examples/kv.mjs under kill -9: a child process puts and deletes from 16
// clients and is killed at a random moment, again and again on the same store.
// After each kill the reopened store must hold, for every key, the last
// acknowledged write or a write made after it that was in flight, and nothing
// that was never written.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUntilKilled } from './helpers/kill';
import { seededRandom } from './helpers/random';
import { ensureDistFresh, fixturesDir, repoRoot } from './safety/child';

const random = seededRandom();
console.log(`kv crash: seed ${random.seed} (set AIORING_TEST_SEED to replay)`);
const kills = 10;

let dir: string;
beforeAll(() => {
  ensureDistFresh();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-kv-crash-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Write {
  key: string;
  /** The value put, or null for a delete. */
  outcome: string | null;
  lsn?: bigint;
}

async function writeUntilKilled(store: string, tag: string, killAfterMs: number): Promise<Write[]> {
  const run = await runUntilKilled('kv-writer.mjs', [store, tag], killAfterMs);
  if (run.signal !== 'SIGKILL' || run.lines[0] !== 'ready') {
    throw new Error(`the kv writer ended by itself (signal ${run.signal})\n${run.lines.slice(-20).join('\n')}\n${run.stderr}`);
  }
  const writes = new Map<string, Write>();
  for (const line of run.lines.slice(1)) {
    const [kind, id, a, b, c] = line.split(' ');
    if (kind === 'try') writes.set(id!, { key: b!, outcome: a === 'put' ? c! : null });
    else writes.get(id!)!.lsn = BigInt(a!);
  }
  return [...writes.values()];
}

function dump(store: string): Record<string, string> {
  const result = spawnSync(process.execPath, [path.join(fixturesDir, 'kv-dump.mjs'), store], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kv-dump failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { entries: Record<string, string> }).entries;
}

describe('examples/kv.mjs under kill -9', () => {
  it(`keeps every acknowledged write and invents none, over ${kills} kills`, async () => {
    const store = path.join(dir, 'kv.log');
    let before: Record<string, string> = {};
    let acknowledgedTotal = 0;
    for (let kill = 0; kill < kills; kill++) {
      const writes = await writeUntilKilled(store, `r${kill}`, random.int(30, 300));
      const after = dump(store);
      const problems: string[] = [];
      const keys = new Set([...Object.keys(before), ...Object.keys(after), ...writes.map((write) => write.key)]);
      for (const key of keys) {
        const mine = writes.filter((write) => write.key === key);
        const acknowledged = mine.filter((write) => write.lsn !== undefined).sort((x, y) => (x.lsn! < y.lsn! ? -1 : 1));
        acknowledgedTotal += acknowledged.length;
        const last = acknowledged.at(-1);
        // The last acknowledged write, or any unacknowledged one (it may have been made durable after it).
        const allowed = new Set<string | null>([last ? last.outcome : (before[key] ?? null), ...mine.filter((write) => write.lsn === undefined).map((write) => write.outcome)]);
        const found = after[key] ?? null;
        if (!allowed.has(found)) problems.push(`${key}: found ${found}, allowed ${[...allowed].join(' | ')}`);
      }
      expect(problems.slice(0, 20), `after kill ${kill + 1}`).toEqual([]);
      before = after;
    }
    expect(acknowledgedTotal).toBeGreaterThan(0);
    console.log(`kv crash: ${kills} kills, ${acknowledgedTotal} acknowledged writes`);
  }, 60_000);
});
