// The known content of a bench target, a pure function of (seed, offset), so
// that any driver's reads can be checked and writes keep the target checkable.
//
// The target is cut into 512-byte sectors (the smallest block any O_DIRECT
// transfer can have, so every legal transfer covers whole sectors). Sector at
// byte offset `o` holds:
//   bytes 0..3    o mod 2^32            (u32, little-endian)
//   bytes 4..7    floor(o / 2^32)
//   bytes 8..11   the seed
//   bytes 12..15  a hash of (seed, o)
//   bytes 16..511 a body that depends on the seed only (same for all sectors)
// Because the body is the same everywhere, a write buffer is filled once and
// only the 16-byte headers are re-stamped per write: cheap, and equally cheap
// for every driver.

export const SECTOR = 512;
const HEADER = 16;
const TWO32 = 0x1_0000_0000;

export const DEFAULT_SEED = 0x5eed_a10;

export interface PatternMismatch {
  /** Absolute byte offset in the target of the first sector that differs. */
  offset: number;
  reason: string;
}

function mix32(x: number): number {
  // murmur3 fmix32
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function headerHash(seed: number, lo: number, hi: number): number {
  return mix32(mix32(seed ^ 0x9e37_79b9) ^ mix32(lo + 0x7f4a_7c15) ^ mix32(hi ^ 0x2545_f491));
}

export class Pattern {
  readonly seed: number;
  /** Bytes at the end of every `interval` that hold protection tuples, not the pattern (--integrity). */
  private readonly trailerBytes: number;
  private readonly interval: number;
  /** One whole sector's body bytes (the first 16 bytes are left zero). */
  private readonly sectorTemplate: Buffer;

  constructor(seed: number = DEFAULT_SEED, trailer: { interval: number; bytes: number } | null = null) {
    this.seed = seed >>> 0;
    this.interval = trailer?.interval ?? 0;
    this.trailerBytes = trailer?.bytes ?? 0;
    this.sectorTemplate = Buffer.alloc(SECTOR);
    let state = mix32(this.seed ^ 0xa5a5_a5a5) || 1;
    for (let i = HEADER; i < SECTOR; i += 4) {
      // xorshift32
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      this.sectorTemplate.writeUInt32LE(state >>> 0, i);
    }
  }

  /** Writes the complete pattern for [offset, offset + buf.length) into buf. */
  fill(buf: Buffer, offset: number): void {
    checkAligned(buf, offset);
    for (let pos = 0; pos < buf.length; pos += SECTOR) {
      this.sectorTemplate.copy(buf, pos, 0, SECTOR);
    }
    this.stamp(buf, offset);
  }

  /**
   * Rewrites only the sector headers of buf for `offset`. The bodies must
   * already hold the pattern (from fill()), which any buffer filled once keeps.
   */
  stamp(buf: Buffer, offset: number): void {
    checkAligned(buf, offset);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const seed = this.seed;
    for (let pos = 0; pos < buf.length; pos += SECTOR) {
      const o = offset + pos;
      const lo = o % TWO32;
      const hi = Math.floor(o / TWO32);
      view.setUint32(pos, lo, true);
      view.setUint32(pos + 4, hi, true);
      view.setUint32(pos + 8, seed, true);
      view.setUint32(pos + 12, headerHash(seed, lo, hi), true);
    }
  }

  /** Checks buf against the pattern at `offset`; null when it matches. */
  verify(buf: Buffer, offset: number): PatternMismatch | null {
    checkAligned(buf, offset);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const seed = this.seed;
    for (let pos = 0; pos < buf.length; pos += SECTOR) {
      const o = offset + pos;
      const lo = o % TWO32;
      const hi = Math.floor(o / TWO32);
      const gotLo = view.getUint32(pos, true);
      const gotHi = view.getUint32(pos + 4, true);
      if (gotLo !== lo || gotHi !== hi) {
        const got = gotHi * TWO32 + gotLo;
        return { offset: o, reason: `sector at ${o} is stamped with offset ${got}` };
      }
      if (view.getUint32(pos + 8, true) !== seed) {
        return { offset: o, reason: `sector at ${o} carries seed ${view.getUint32(pos + 8, true)}, expected ${seed}` };
      }
      if (view.getUint32(pos + 12, true) !== headerHash(seed, lo, hi)) {
        return { offset: o, reason: `sector at ${o} has a corrupt header hash` };
      }
      // A sector that ends an interval of a protected target ends in its tuple.
      const end = this.trailerBytes > 0 && (o + SECTOR) % this.interval === 0 ? SECTOR - this.trailerBytes : SECTOR;
      if (buf.compare(this.sectorTemplate, HEADER, end, pos + HEADER, pos + end) !== 0) {
        return { offset: o, reason: `sector at ${o} has wrong body bytes` };
      }
    }
    return null;
  }
}

function checkAligned(buf: Buffer, offset: number): void {
  if (offset % SECTOR !== 0 || buf.length % SECTOR !== 0) {
    throw new RangeError(`pattern works on whole ${SECTOR}-byte sectors (offset ${offset}, length ${buf.length})`);
  }
}
