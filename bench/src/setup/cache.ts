// Dropping the page cache before a buffered reading run, so buffered drivers
// read from the device and not from memory left warm by an earlier trial.

import * as fs from 'node:fs';

/** fsync the target, then `echo 1 > /proc/sys/vm/drop_caches`. Returns a note for the report. */
export function dropPageCache(path: string): { dropped: boolean; note: string } {
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
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
    return { dropped: true, note: 'page cache dropped before the run' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return { dropped: false, note: `could not drop the page cache (${code}): reads may be served from memory` };
  }
}
