// A small log-structured key-value store: every put and delete is appended to
// a log (ring.openLog) and applied to an in-memory index once it is durable;
// opening the store replays the log to rebuild the index. Concurrent writes
// share group commits, so many clients cost few disk writes.
//
//   node examples/kv.mjs [path]
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring } from 'aioring';

const PUT = 1;
const DELETE = 2;

// A record: op (1 byte), key length (2 bytes), key, value (the rest).
function encode(op, key, value = Buffer.alloc(0)) {
  const keyBytes = Buffer.from(key);
  const record = Buffer.alloc(3 + keyBytes.length + value.length);
  record[0] = op;
  record.writeUInt16LE(keyBytes.length, 1);
  keyBytes.copy(record, 3);
  value.copy(record, 3 + keyBytes.length);
  return record;
}

function decode(record) {
  const keyLength = record.readUInt16LE(1);
  return { op: record[0], key: record.subarray(3, 3 + keyLength).toString(), value: record.subarray(3 + keyLength) };
}

export class KvStore {
  #ring;
  #log;
  // key -> { value, lsn }: the latest durable write of each key (value undefined: deleted).
  #index = new Map();
  #live = 0;

  static async open(path) {
    const store = new KvStore();
    store.#ring = new Ring();
    try {
      store.#log = await store.#ring.openLog(path, { create: true, preallocateBytes: 4 * 1024 * 1024 });
      for await (const { lsn, data } of store.#log.read()) store.#apply(lsn, decode(data));
    } catch (error) {
      await store.#log?.close();
      await store.#ring.close();
      throw error;
    }
    return store;
  }

  /** What opening found in the log (see README, Log). */
  get recovery() {
    return this.#log.recovery;
  }

  get size() {
    return this.#live;
  }

  get(key) {
    return this.#index.get(key)?.value;
  }

  /** Resolves with the write's LSN once it is durable; only then does get() see it. */
  async put(key, value) {
    const record = encode(PUT, key, Buffer.from(value));
    const lsn = await this.#log.append(record);
    this.#apply(lsn, decode(record));
    return lsn;
  }

  async delete(key) {
    const lsn = await this.#log.append(encode(DELETE, key));
    this.#apply(lsn, { op: DELETE, key });
    return lsn;
  }

  *entries() {
    for (const [key, { value }] of this.#index) if (value !== undefined) yield [key, value];
  }

  async close() {
    await this.#log.close();
    await this.#ring.close();
  }

  // Acknowledgements arrive in LSN order, but a caller may apply them later than
  // that; the LSN keeps an older write from replacing a newer one.
  #apply(lsn, { op, key, value }) {
    const current = this.#index.get(key);
    if (current && current.lsn > lsn) return;
    const next = op === PUT ? Buffer.from(value) : undefined;
    this.#live += (next !== undefined ? 1 : 0) - (current?.value !== undefined ? 1 : 0);
    this.#index.set(key, { value: next, lsn });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? join(tmpdir(), `aioring-kv-${process.pid}.log`);
  rmSync(path, { force: true });
  const expected = new Map();
  let store = await KvStore.open(path);
  await Promise.all(
    Array.from({ length: 2000 }, async (_, i) => {
      const key = `user:${i % 300}`;
      if (i % 7 === 3) {
        await store.delete(key);
      } else {
        await store.put(key, `visits=${i}`);
      }
    }),
  );
  for (const [key, value] of store.entries()) expected.set(key, value.toString());
  await store.close();

  store = await KvStore.open(path);
  const reopened = new Map([...store.entries()].map(([key, value]) => [key, value.toString()]));
  const ok = reopened.size === expected.size && [...expected].every(([key, value]) => reopened.get(key) === value);
  console.log(`${expected.size} keys after 2000 writes; reopened with ${store.recovery.records} records replayed: ${ok ? 'intact' : 'MISMATCH'}`);
  await store.close();
  if (!process.argv[2]) rmSync(path, { force: true });
  process.exit(ok ? 0 : 1);
}
