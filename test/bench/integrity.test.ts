// The bench's --integrity and --checksums: option parsing, the protected
// drivers' availability, and pattern checks that skip protection trailers.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../bench/src/options/args';
import { findDriver } from '../../bench/src/drivers/registry';
import { Pattern } from '../../bench/src/setup/pattern';
import { integrityInterval } from '../../bench/src/types';

const library = { probe: { libaio: { available: true, reason: '' }, io_uring: { available: true, reason: '' }, threadpool: { available: true, reason: '' } }, auto: 'libaio' as const, error: null };

describe('bench --integrity and --checksums', () => {
  it('parses the format and refuses what it cannot run', () => {
    expect(parseArgs(['--integrity', 't10dif']).integrity).toBe('t10dif');
    expect(parseArgs(['--integrity', 'nvme64', '--rw', 'randwrite']).integrity).toBe('nvme64');
    expect(parseArgs([]).integrity).toBeNull();
    expect(() => parseArgs(['--integrity', 'crc'])).toThrow(UsageError);
    expect(() => parseArgs(['--integrity', 't10dif', '--rw', 'randrw'])).toThrow(/not randrw/);
    expect(parseArgs(['--checksums'])).toMatchObject({ checksums: true, runtimeS: 0.25, repeat: 9 });
    expect(parseArgs(['--checksums', '--runtime', '1', '--repeat', '3'])).toMatchObject({ runtimeS: 1, repeat: 3 });
  });

  it('offers the -pi drivers only with --integrity, protected in their spec', () => {
    const driver = findDriver('aioring-io_uring-pi')!;
    expect(driver.unavailableReason({ library, fio: null, integrity: false })).toMatch(/needs --integrity/);
    expect(driver.unavailableReason({ library, fio: null, integrity: true })).toBeNull();
    expect(driver.specFields(32)).toEqual({ engine: 'io_uring', protect: true });
    expect(findDriver('aioring-io_uring')!.specFields(32)).toEqual({ engine: 'io_uring' });
  });

  it('uses 4096-byte intervals where the block size allows, else 512', () => {
    expect([integrityInterval(4096), integrityInterval(65536), integrityInterval(512), integrityInterval(6144)]).toEqual([4096, 4096, 512, 512]);
  });

  it('checks the pattern up to each interval trailer and no further', () => {
    const plain = new Pattern(7);
    const protectedPattern = new Pattern(7, { interval: 4096, bytes: 8 });
    const buf = Buffer.alloc(8192);
    plain.fill(buf, 4096);
    buf.fill(0xee, 4096 - 8, 4096);
    buf.fill(0xee, 8192 - 8);
    expect(plain.verify(buf, 4096)).not.toBeNull();
    expect(protectedPattern.verify(buf, 4096)).toBeNull();
    buf[4096 - 9] ^= 1;
    expect(protectedPattern.verify(buf, 4096)?.reason).toMatch(/wrong body bytes/);
  });
});
