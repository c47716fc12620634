// Loads the aioring library at run time, so the parts of the bench that do
// not need it (fs.promises and fio drivers, reports, tests) work even when the
// native addon is not built.
//
// The bench measures the library of the checkout it lives in, not a published
// copy: it loads the repository's own build (dist/lib). bench/src/setup and
// bench/dist/setup both sit three levels below the repository root.

import * as path from 'node:path';
import type * as Aioring from '../../../dist/lib/index';

export type AioringModule = typeof Aioring;

export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..', '..');
const LIBRARY_ENTRY = path.join(REPOSITORY_ROOT, 'dist', 'lib', 'index.js');

let cached: { mod: AioringModule | null; error: string | null } | null = null;

/** The library, or null and the reason it could not be loaded. */
export function tryLoadAioring(): { mod: AioringModule | null; error: string | null } {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(LIBRARY_ENTRY) as AioringModule;
    cached = { mod, error: null };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const first = String(err?.message ?? err).split('\n')[0];
    cached = { mod: null, error: `aioring library not loadable (${first})` };
  }
  return cached;
}

export function loadAioring(): AioringModule {
  const { mod, error } = tryLoadAioring();
  if (!mod) throw new Error(error ?? 'aioring library not loadable');
  return mod;
}
