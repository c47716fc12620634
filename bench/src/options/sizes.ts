// Parsing and printing of byte sizes and durations in the vocabulary fio uses.
// Sizes use binary units: "4k" = 4096, "1m" = 1048576, "1g" = 2^30. A bare
// number is bytes. Suffixes may be written k/K, kb/KB, kib/KiB (all binary).

const UNIT_SHIFT: Record<string, number> = {
  '': 0,
  b: 0,
  k: 10,
  kb: 10,
  kib: 10,
  m: 20,
  mb: 20,
  mib: 20,
  g: 30,
  gb: 30,
  gib: 30,
  t: 40,
  tb: 40,
  tib: 40,
};

export class SizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SizeError';
  }
}

/** Parses "4k", "1m", "256MiB", "1.5g", "4096" into a whole number of bytes. */
export function parseSize(text: string): number {
  const trimmed = String(text).trim();
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(trimmed);
  if (!match) throw new SizeError(`malformed size "${text}" (expected e.g. 4k, 64k, 1m, 256m, 1g)`);
  const unit = match[2].toLowerCase();
  const shift = UNIT_SHIFT[unit];
  if (shift === undefined) {
    throw new SizeError(`malformed size "${text}": unknown unit "${match[2]}" (use k, m, g or t; binary units)`);
  }
  const bytes = Number(match[1]) * 2 ** shift;
  if (!Number.isFinite(bytes) || !Number.isSafeInteger(Math.round(bytes))) {
    throw new SizeError(`size "${text}" is too large`);
  }
  if (!Number.isInteger(bytes)) {
    throw new SizeError(`size "${text}" is not a whole number of bytes`);
  }
  if (bytes <= 0) throw new SizeError(`size "${text}" must be greater than zero`);
  return bytes;
}

/** Short fio-style label: 4096 -> "4k", 1048576 -> "1m", 1536 -> "1536". */
export function formatSize(bytes: number): string {
  const units: Array<[number, string]> = [
    [40, 't'],
    [30, 'g'],
    [20, 'm'],
    [10, 'k'],
  ];
  for (const [shift, suffix] of units) {
    const unit = 2 ** shift;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/** Human label with one decimal: 268435456 -> "256.0 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[i]}`;
}

/** Parses a duration: "5" or "5s" -> 5, "500ms" -> 0.5, "2m" -> 120. Returns seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$/i.exec(String(text).trim());
  if (!match) throw new SizeError(`malformed duration "${text}" (expected seconds, e.g. 5, 2.5, 500ms, 1m)`);
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const seconds = unit === 'ms' ? value / 1000 : unit === 's' ? value : value * 60;
  return seconds;
}

/** Parses a positive integer count; accepts "100000", "100_000" and "100k" (k = 1000 here). */
export function parseCount(text: string, what: string): number {
  const match = /^(\d[\d_]*)([kKmM]?)$/.exec(String(text).trim());
  if (!match) throw new SizeError(`malformed ${what} "${text}" (expected a positive whole number)`);
  const base = Number(match[1].replace(/_/g, ''));
  const mult = match[2] === '' ? 1 : match[2].toLowerCase() === 'k' ? 1000 : 1_000_000;
  const value = base * mult;
  if (!Number.isSafeInteger(value) || value <= 0) throw new SizeError(`${what} "${text}" must be a positive whole number`);
  return value;
}
