// A write-ahead log: records are packed into 4 KiB pages and appended with
// O_DIRECT; a group commit makes a batch durable with one RWF_DSYNC write per
// page, and recovery reads the log back and checks each page's checksum.
//
//   node examples/wal.mjs [path]
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring, allocAligned } from 'aioring';

const pageSize = 4096;
const headerSize = 40; // sequence (8), bytes used (4), reserved (4), first 24 bytes of the body's SHA-256

function sealPage(page, sequence, used) {
  page.writeBigUInt64LE(BigInt(sequence), 0);
  page.writeUInt32LE(used, 8);
  createHash('sha256').update(page.subarray(headerSize, headerSize + used)).digest().copy(page, 16, 0, 24);
}

function pageIsIntact(page) {
  const used = page.readUInt32LE(8);
  if (used > pageSize - headerSize) return false;
  const digest = createHash('sha256').update(page.subarray(headerSize, headerSize + used)).digest();
  return digest.subarray(0, 24).equals(page.subarray(16, 40));
}

export async function writeAheadLog(path, records) {
  const ring = new Ring({ depth: 32 });
  const log = await ring.open(path, { write: true, create: true, truncate: true });
  const pages = [];
  let page = allocAligned(pageSize);
  let used = 0;
  for (const record of records) {
    if (headerSize + used + 2 + record.length > pageSize) {
      sealPage(page, pages.length, used);
      pages.push(page);
      page = allocAligned(pageSize);
      used = 0;
    }
    page.writeUInt16LE(record.length, headerSize + used);
    record.copy(page, headerSize + used + 2);
    used += 2 + record.length;
  }
  sealPage(page, pages.length, used);
  pages.push(page);

  // Group commit: every page in one batch, each write durable on completion.
  const results = await ring.submit(
    pages.map((buffer, i) => ({ op: 'write', file: log, buffer, position: i * pageSize, dsync: true })),
  );
  for (const result of results) if (typeof result !== 'number') throw result;
  await ring.close();
  return pages.length;
}

export async function recover(path) {
  const ring = new Ring({ depth: 32 });
  const log = await ring.open(path);
  const pageCount = log.info.size / pageSize;
  const pages = Array.from({ length: pageCount }, () => allocAligned(pageSize));
  await ring.submit(pages.map((buffer, i) => ({ op: 'read', file: log, buffer, position: i * pageSize })));
  await ring.close();
  const records = [];
  for (const page of pages) {
    if (!pageIsIntact(page)) break; // a torn tail ends recovery
    const used = page.readUInt32LE(8);
    for (let at = headerSize; at < headerSize + used; ) {
      const length = page.readUInt16LE(at);
      records.push(page.subarray(at + 2, at + 2 + length).toString());
      at += 2 + length;
    }
  }
  return records;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? join(tmpdir(), `aioring-wal-${process.pid}.log`);
  const records = Array.from({ length: 1000 }, (_, i) => Buffer.from(`txn ${i}: set key${i % 97} = ${i * i}`));
  const pages = await writeAheadLog(path, records);
  const recovered = await recover(path);
  const ok = recovered.length === records.length && recovered.every((r, i) => r === records[i].toString());
  console.log(`wrote ${records.length} records in ${pages} pages; recovered ${recovered.length}: ${ok ? 'intact' : 'MISMATCH'}`);
  if (!process.argv[2]) rmSync(path, { force: true });
  process.exit(ok ? 0 : 1);
}
