// Mount points the kit makes and removes: always a fresh mkdtemp directory,
// so no fixture ever mounts over a path that already meant something.
import * as fs from 'node:fs';
import { run } from './run';
import { sleepSync } from './sleep';

export function isMountPoint(target: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === target);
}

/**
 * Unmounts `target` if something is mounted there and removes the directory.
 * A mount still busy after `tries` tries (a file left open) is detached
 * lazily, so the tree disappears now and the file system goes when the last
 * file closes.
 */
export function unmountAndRemoveSync(target: string, tries = 10): void {
  for (let attempt = 1; isMountPoint(target); attempt++) {
    try {
      run('umount', attempt <= tries ? [target] : ['--lazy', target]);
    } catch (error) {
      if (attempt > tries) throw error;
      sleepSync(20 * attempt);
    }
  }
  try {
    fs.rmdirSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
