// A write-ahead log on ring.openLog: each transaction appends its commit
// record and goes on once the record is durable. Transactions that commit at
// the same time share one durable write (group commit), and recovery replays
// the log in LSN order to rebuild the state.
//
//   node examples/wal.mjs [path]
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring } from 'aioring';

/** Commits every transaction concurrently; resolves with their LSNs and the number of writes they took. */
export async function commitAll(path, transactions) {
  const ring = new Ring();
  try {
    const log = await ring.openLog(path, { create: true, preallocateBytes: 1024 * 1024 });
    const lsns = await Promise.all(transactions.map((txn) => log.append(Buffer.from(JSON.stringify(txn)))));
    const { groups } = log.stats();
    await log.close();
    return { lsns, groups };
  } finally {
    await ring.close();
  }
}

/** Replays the log: applies each committed transaction, in LSN order, to a fresh state. */
export async function replay(path) {
  const ring = new Ring();
  try {
    const log = await ring.openLog(path, { readOnly: true });
    const state = new Map();
    let applied = 0;
    for await (const { data } of log.read()) {
      const txn = JSON.parse(data.toString());
      for (const [key, value] of Object.entries(txn.set)) state.set(key, value);
      applied++;
    }
    const { recovery } = log;
    await log.close();
    return { state, applied, recovery };
  } finally {
    await ring.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? join(tmpdir(), `aioring-wal-${process.pid}.log`);
  rmSync(path, { force: true });
  const transactions = Array.from({ length: 1000 }, (_, i) => ({ txn: i, set: { [`key${i % 97}`]: i * i } }));
  const { lsns, groups } = await commitAll(path, transactions);
  const { state, applied, recovery } = await replay(path);
  // Each key ends with the value of the last transaction (highest LSN) that set it.
  const expected = new Map();
  transactions.forEach((txn) => Object.entries(txn.set).forEach(([key, value]) => expected.set(key, value)));
  const ok =
    applied === transactions.length &&
    recovery.discarded === null &&
    lsns.every((lsn, i) => lsn === BigInt(i + 1)) &&
    [...expected].every(([key, value]) => state.get(key) === value);
  console.log(`committed ${transactions.length} transactions in ${groups} group writes; replayed ${applied}: ${ok ? 'intact' : 'MISMATCH'}`);
  if (!process.argv[2]) rmSync(path, { force: true });
  process.exit(ok ? 0 : 1);
}
