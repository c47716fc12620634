import { describe, expect, it } from 'vitest';
import { formatBytes, formatSize, parseCount, parseDuration, parseSize } from '../../bench/src/options/sizes';

describe('parseSize', () => {
  it.each([
    ['512', 512],
    ['4k', 4096],
    ['4K', 4096],
    ['4kb', 4096],
    ['4KiB', 4096],
    ['64k', 65536],
    ['1m', 1 << 20],
    ['256M', 256 * 2 ** 20],
    ['256MiB', 256 * 2 ** 20],
    ['1g', 2 ** 30],
    ['2t', 2 * 2 ** 40],
    ['1.5m', 1.5 * 2 ** 20],
    [' 8k ', 8192],
  ])('%s -> %d', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'k', '4x', '4 kk', '-4k', '4k4', 'abc', '0', '0k', '1.0001k', '1e3'])('rejects %j', (text) => {
    expect(() => parseSize(text)).toThrow(/size/);
  });

  it('names the bad input in the message', () => {
    expect(() => parseSize('12q')).toThrow(/"12q"/);
  });
});

describe('formatSize', () => {
  it.each([
    [4096, '4k'],
    [65536, '64k'],
    [1 << 20, '1m'],
    [2 ** 30, '1g'],
    [512, '512'],
    [1536, '1536'],
    [3 * 2 ** 20, '3m'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('round-trips through parseSize', () => {
    for (const n of [512, 4096, 12288, 1 << 20, 5 * 2 ** 30]) expect(parseSize(formatSize(n))).toBe(n);
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    expect(formatBytes(100)).toBe('100 B');
    expect(formatBytes(256 * 2 ** 20)).toBe('256.0 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
  });
});

describe('parseDuration', () => {
  it('reads seconds, ms and minutes', () => {
    expect(parseDuration('5')).toBe(5);
    expect(parseDuration('2.5s')).toBe(2.5);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('1m')).toBe(60);
  });
  it('rejects junk', () => {
    expect(() => parseDuration('fast')).toThrow(/duration/);
    expect(() => parseDuration('5h')).toThrow(/duration/);
  });
});

describe('parseCount', () => {
  it('reads plain and k/M suffixed counts', () => {
    expect(parseCount('1000', 'ops')).toBe(1000);
    expect(parseCount('100_000', 'ops')).toBe(100000);
    expect(parseCount('20k', 'ops')).toBe(20000);
    expect(parseCount('2M', 'ops')).toBe(2000000);
  });
  it('rejects zero, negatives and fractions', () => {
    expect(() => parseCount('0', 'ops')).toThrow();
    expect(() => parseCount('-1', 'ops')).toThrow();
    expect(() => parseCount('1.5', 'ops')).toThrow();
  });
});
