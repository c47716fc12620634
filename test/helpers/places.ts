import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface Place {
  name: string;
  dir: string;
}

function onTmpfs(dir: string): boolean {
  try {
    return fs.statfsSync(dir).type === 0x01021994;
  } catch {
    return false;
  }
}

/**
 * Fresh directories on the kinds of file system the unit suites cover: the
 * temp dir's (ext4 on the project's machine) and tmpfs (/dev/shm). Each call
 * makes new ones; remove them with removePlaces.
 */
export function makePlaces(): Place[] {
  const places: Place[] = [{ name: 'disk', dir: fs.mkdtempSync(path.join(os.tmpdir(), 'aioring-test-')) }];
  if (onTmpfs('/dev/shm')) places.push({ name: 'tmpfs', dir: fs.mkdtempSync('/dev/shm/aioring-test-') });
  return places;
}

export function removePlaces(places: Place[]): void {
  for (const place of places) fs.rmSync(place.dir, { recursive: true, force: true });
}

/** Names the places the suites will run on, without creating anything. */
export const placeNames: string[] = ['disk', ...(onTmpfs('/dev/shm') ? ['tmpfs'] : [])];

/** Makes fresh places before a file's tests and removes them after; call at the top level. */
export function usePlaces(): () => Place[] {
  let places: Place[] = [];
  beforeAll(() => {
    places = makePlaces();
  });
  afterAll(() => removePlaces(places));
  return () => places;
}
