// Dropping the page cache before a buffered reading run, so buffered drivers
// read from the device and not from memory left warm by an earlier trial; and
// how much of a file the page cache holds after a run (fincore, util-linux).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * fsync the target, then `echo LEVEL > /proc/sys/vm/drop_caches` (1: the page
 * cache; 3: also dentries and inodes). Returns a note for the report.
 */
export function dropPageCache(path: string, level: 1 | 3 = 1): { dropped: boolean; note: string } {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // fsync of a read-only opened file can fail on some file systems; dropping still helps
  }
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', String(level));
    return { dropped: true, note: level === 3 ? 'caches dropped before the run (drop_caches=3)' : 'page cache dropped before the run' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return { dropped: false, note: `could not drop the page cache (${code}): reads may be served from memory` };
  }
}

/** Bytes of `path` in the page cache (fincore's RES), or null and why not. */
export function pageCacheBytes(path: string): { bytes: number | null; note: string | null } {
  try {
    const out = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { bytes: Number(out.trim()), note: null };
  } catch (e) {
    return { bytes: null, note: `page-cache residency not measured: fincore failed (${(e as Error).message.split('\n')[0]})` };
  }
}
