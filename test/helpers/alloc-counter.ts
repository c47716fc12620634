// The allocation counter (test/native/alloc_counter.c): built at test time
// with the C compiler on PATH, preloaded into a child process, and its call
// sites turned back into function names for failure messages.
import { execFileSync } from 'node:child_process';
import { buildPreloadLibrary } from './preload-library';

/** Compiles the counter into `dir` and returns the shared library's path, for LD_PRELOAD. */
export function buildAllocCounter(dir: string): string {
  return buildPreloadLibrary('alloc_counter', dir);
}

/**
 * "function at file:line" for each call site (an offset into `addon`), via
 * addr2line where binutils is installed; otherwise the offsets, which
 * `addr2line -f -C -e <addon>` names later.
 */
export function describeCallSites(addon: string, offsets: number[]): string[] {
  // A call site is a return address, just past the call instruction; the call itself is the byte before.
  const addresses = offsets.map((offset) => `0x${(offset - 1).toString(16)}`);
  if (addresses.length === 0) return [];
  try {
    const lines = execFileSync('addr2line', ['-f', '-C', '-e', addon, ...addresses], { encoding: 'utf8' }).trim().split('\n');
    return addresses.map((address, i) => `${address}: ${lines[2 * i]} at ${lines[2 * i + 1]}`);
  } catch {
    return addresses;
  }
}
