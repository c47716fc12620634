import { describe, expect, it } from 'vitest';
import { Pattern, SECTOR } from '../../bench/src/setup/pattern';

describe('Pattern', () => {
  it('is a pure function of (seed, offset): any split of a range gives the same bytes', () => {
    const p = new Pattern(7);
    const whole = Buffer.alloc(64 * 1024);
    p.fill(whole, 1 << 20);
    const part = Buffer.alloc(4096);
    p.fill(part, (1 << 20) + 8192);
    expect(part.equals(whole.subarray(8192, 8192 + 4096))).toBe(true);
    expect(p.verify(whole, 1 << 20)).toBeNull();
    expect(p.verify(whole.subarray(512, 1024), (1 << 20) + 512)).toBeNull();
  });

  it('stamp() on a filled buffer equals fill() at the new offset', () => {
    const p = new Pattern(1234);
    const a = Buffer.alloc(8192);
    p.fill(a, 0);
    p.stamp(a, 5 * 2 ** 32 + 4096); // beyond 4 GiB, so both offset words matter
    const b = Buffer.alloc(8192);
    p.fill(b, 5 * 2 ** 32 + 4096);
    expect(a.equals(b)).toBe(true);
    expect(p.verify(a, 5 * 2 ** 32 + 4096)).toBeNull();
  });

  it('catches wrong offsets, other seeds, zeros and flipped body bits', () => {
    const p = new Pattern(42);
    const buf = Buffer.alloc(4096);
    p.fill(buf, 4096);
    expect(p.verify(buf, 8192)?.reason).toMatch(/stamped with offset 4096/);
    expect(new Pattern(43).verify(buf, 4096)?.reason).toMatch(/seed/);
    expect(p.verify(Buffer.alloc(4096), 4096)).not.toBeNull();
    const flipped = Buffer.from(buf);
    flipped[3 * SECTOR + 100] ^= 1;
    expect(p.verify(flipped, 4096)).toEqual({ offset: 4096 + 3 * SECTOR, reason: expect.stringMatching(/body/) });
    const badHash = Buffer.from(buf);
    badHash[12] ^= 0xff;
    expect(p.verify(badHash, 4096)?.reason).toMatch(/hash/);
  });

  it('refuses ranges that are not whole sectors', () => {
    const p = new Pattern(1);
    expect(() => p.fill(Buffer.alloc(100), 0)).toThrow(RangeError);
    expect(() => p.verify(Buffer.alloc(512), 100)).toThrow(RangeError);
  });
});
