// A page store: fixed-size pages addressed by number, read and written with
// O_DIRECT at queue depth 64, the way a B-tree's buffer pool talks to disk.
// Reads of many pages go out as one batch; a checkpoint flushes dirty pages
// in one batch and then makes them durable with one fdatasync.
//
//   node examples/page-store.mjs [path]
import { randomFillSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring, allocAligned } from 'aioring';

export class PageStore {
  static async open(path, pageSize = 8192) {
    const ring = new Ring({ depth: 64 });
    const file = await ring.open(path, { write: true, create: true });
    if (pageSize % file.info.offsetAlign !== 0) {
      await ring.close();
      throw new Error(`page size must be a multiple of ${file.info.offsetAlign}`);
    }
    return new PageStore(ring, file, pageSize);
  }

  constructor(ring, file, pageSize) {
    this.ring = ring;
    this.file = file;
    this.pageSize = pageSize;
    this.dirty = new Map();
  }

  newPage() {
    return allocAligned(this.pageSize);
  }

  async readPages(numbers) {
    const pages = numbers.map(() => this.newPage());
    const results = await this.ring.submit(
      numbers.map((n, i) => ({ op: 'read', file: this.file, buffer: pages[i], position: n * this.pageSize })),
    );
    results.forEach((r) => {
      if (typeof r !== 'number') throw r;
    });
    return pages;
  }

  markDirty(number, page) {
    this.dirty.set(number, page);
  }

  async checkpoint() {
    const ops = [...this.dirty].map(([n, buffer]) => ({ op: 'write', file: this.file, buffer, position: n * this.pageSize }));
    const results = await this.ring.submit(ops);
    results.forEach((r) => {
      if (typeof r !== 'number') throw r;
    });
    await this.file.datasync();
    this.dirty.clear();
  }

  close() {
    return this.ring.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? join(tmpdir(), `aioring-pages-${process.pid}.db`);
  const store = await PageStore.open(path);
  const written = new Map();
  for (let n = 0; n < 512; n++) {
    const page = randomFillSync(store.newPage());
    written.set(n, Buffer.from(page));
    store.markDirty(n, page);
  }
  await store.checkpoint();
  const sample = Array.from({ length: 200 }, () => Math.floor(Math.random() * 512));
  const pages = await store.readPages(sample);
  const ok = pages.every((page, i) => page.equals(written.get(sample[i])));
  console.log(`checkpointed 512 pages, re-read ${sample.length} at random: ${ok ? 'intact' : 'MISMATCH'} (engine ${store.ring.engine})`);
  await store.close();
  if (!process.argv[2]) rmSync(path, { force: true });
  process.exit(ok ? 0 : 1);
}
