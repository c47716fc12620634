// Test-only LD_PRELOAD libraries (test/native/*.c) are built at test time with
// the C compiler on PATH, the one node-gyp's build uses. A failed build
// throws: a test that needs the library fails rather than skips.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const nativeDir = path.resolve(__dirname, '..', 'native');

/** Compiles test/native/<name>.c into `dir` and returns the shared library's path. */
export function buildPreloadLibrary(name: string, dir: string): string {
  const library = path.join(dir, `${name}.so`);
  const args = ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-o', library, path.join(nativeDir, `${name}.c`), '-ldl'];
  const built = spawnSync('cc', args, { encoding: 'utf8' });
  if (built.status !== 0) {
    throw new Error(`building ${name}.so failed: cc ${args.join(' ')}\n${built.error ?? ''}${built.stderr}`);
  }
  return library;
}

/** LD_PRELOAD with `library` after whatever the process preloads already (a sanitizer's runtime must stay first). */
export function preloading(library: string): string {
  return [process.env.LD_PRELOAD, library].filter(Boolean).join(' ');
}
