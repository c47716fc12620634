// Buffered (non-O_DIRECT) files: any buffer, any position, and never through
// Linux AIO, whose io_submit would complete them synchronously on the loop thread.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../lib/index';
import { firstDifference } from './helpers/data';
import { availableEngines } from './helpers/engines';
import { Place, makePlaces, removePlaces } from './helpers/places';

let places: Place[];
beforeAll(() => {
  places = makePlaces();
});
afterAll(() => removePlaces(places));

describe.each(availableEngines)('buffered files on a %s ring', (engine) => {
  it('take unaligned buffers, positions and lengths, and read back what was written', async () => {
    const ring = new Ring({ depth: 16, engine });
    const target = path.join(places[0]!.dir, `buffered-${engine}.dat`);
    const file = await ring.open(target, { write: true, create: true, direct: false });
    expect(file.info).toMatchObject({ direct: false, memAlign: 1, offsetAlign: 1 });
    expect(ring.bufferedEngine).not.toBe('libaio');
    const pieces = Array.from({ length: 50 }, (_, i) => randomBytes(100 + i * 7));
    let position = 3;
    const positions = pieces.map((piece) => {
      const at = position;
      position += piece.length;
      return at;
    });
    expect(await Promise.all(pieces.map((piece, i) => file.write(piece, positions[i]!)))).toEqual(pieces.map((p) => p.length));
    await file.datasync();
    const back = pieces.map((piece) => Buffer.alloc(piece.length));
    expect(await Promise.all(back.map((buffer, i) => file.read(buffer, positions[i]!)))).toEqual(pieces.map((p) => p.length));
    back.forEach((buffer, i) => expect(firstDifference(buffer, pieces[i]!)).toBe(-1));
    expect(firstDifference(fs.readFileSync(target).subarray(3), Buffer.concat(pieces))).toBe(-1);
    await ring.close();
  });
});

describe.each(availableEngines)('the event loop under cached buffered reads on a %s ring', (engine) => {
  it('keeps running timers while reads complete inline from the page cache', async () => {
    const ring = new Ring({ depth: 8, engine });
    const target = path.join(places[0]!.dir, `cached-${engine}.dat`);
    fs.writeFileSync(target, randomBytes(1 << 20));
    const file = await ring.open(target, { direct: false });
    let stop = false;
    let reads = 0;
    const workers = Array.from({ length: 8 }, async () => {
      const buffer = Buffer.alloc(4096);
      while (!stop) {
        await file.read(buffer, Math.floor(Math.random() * 256) * 4096);
        reads++;
      }
    });
    const started = Date.now();
    // The timer can only fire if completions give the loop back between batches.
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    const waited = Date.now() - started;
    stop = true;
    await Promise.all(workers);
    await ring.close();
    expect(reads).toBeGreaterThan(0);
    expect(waited).toBeLessThan(2000);
  });
});
