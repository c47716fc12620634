// examples/page-store.mjs on real devices and real faults (as root: npx vitest run)
import { describe, expect, it } from 'vitest';
import { allocAligned } from 'aioring';
import { corruptFileBlock, createFileSystem, createLoopDevice, fillFileSystem } from 'aioring/testing';
import { PageStore } from './page-store.mjs';

const pageSize = 4096;
// Page n holds n in every byte (direct I/O needs aligned memory: allocAligned).
const page = (n) => allocAligned(pageSize).fill(n);

async function storeWithPages(path, count) {
  const store = await PageStore.open(path, pageSize);
  for (let n = 0; n < count; n++) store.markDirty(n, page(n));
  await store.checkpoint();
  return store;
}

const skip = process.getuid() !== 0;
if (skip) console.log('skipping the page-store device tests: aioring/testing needs root');

describe.skipIf(skip)('page store on real devices', () => {
  it('works on a disk with 4096-byte sectors, and refuses pages smaller than a sector', async () => {
    const device = await createLoopDevice({ sizeMiB: 64, sectorSize: 4096 });
    try {
      await expect(PageStore.open(device.path, 2048)).rejects.toThrow(/multiple of 4096/);
      const store = await storeWithPages(device.path, 64);
      const pages = await store.readPages([0, 17, 63]);
      expect(pages.map((p) => p[0])).toEqual([0, 17, 63]);
      await store.close();
    } finally {
      await device.close(); // detaches even when an expectation failed
    }
  });

  it('fails a checkpoint with ENOSPC on a full disk, and completes it once space is back', async () => {
    const fs = await createFileSystem({ type: 'ext4', sizeMiB: 16, sectorSize: 4096 });
    try {
      const store = await storeWithPages(`${fs.mountPoint}/pages.db`, 16);
      const filler = await fillFileSystem(fs);
      store.markDirty(1000, page(200));
      await expect(store.checkpoint()).rejects.toMatchObject({ code: 'ENOSPC' });
      await filler.release();
      await store.checkpoint(); // the page stayed dirty, so nothing was lost
      const [back] = await store.readPages([1000]);
      expect(back.equals(page(200))).toBe(true);
      await store.close();
    } finally {
      await fs.close(); // unmounts even with the store's file still open
    }
  });

  it('reports EIO for a corrupted page, serves the others, and heals when the page is rewritten', async () => {
    const fs = await createFileSystem({ type: 'btrfs', sizeMiB: 128, sectorSize: 4096 });
    try {
      const store = await storeWithPages(`${fs.mountPoint}/pages.db`, 16);
      await corruptFileBlock(fs, 'pages.db', 3 * pageSize);
      await expect(store.readPages([3])).rejects.toMatchObject({ code: 'EIO', op: 'read', position: 3 * pageSize });
      const [two, four] = await store.readPages([2, 4]);
      expect([two.equals(page(2)), four.equals(page(4))]).toEqual([true, true]);
      store.markDirty(3, page(3)); // e.g. from a replica or the write-ahead log
      await store.checkpoint();
      const [three] = await store.readPages([3]);
      expect(three.equals(page(3))).toBe(true);
      await store.close();
    } finally {
      await fs.close();
    }
  });
});
