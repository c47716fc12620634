// File systems made and mounted by the device suites: always under a fresh
// mkdtemp directory, and always unmounted and removed by the caller's finally
// or afterAll, whatever the test did.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sh } from './root';

/** Throws a clear error when a tool the suite needs is not installed (.ci/run installs them). */
export function requireCommand(command: string, debianPackage: string): void {
  try {
    sh('sh', ['-c', `command -v ${command}`]);
  } catch {
    throw new Error(`${command} is not installed: apt-get install ${debianPackage}`);
  }
}

/** A new, empty directory to mount on. */
export function makeMountPoint(prefix = 'aioring-mnt-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function mount(source: string, target: string, options: { type?: string; options?: string } = {}): void {
  const args: string[] = [];
  if (options.type) args.push('-t', options.type);
  if (options.options) args.push('-o', options.options);
  sh('mount', [...args, source, target]);
}

export function isMountPoint(target: string): boolean {
  const resolved = fs.realpathSync(target);
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === resolved);
}

/**
 * Unmounts `target` if something is mounted there (retrying briefly while it is
 * busy) and removes the directory. Safe to call on a path never mounted or
 * already gone, so teardown code can call it unconditionally.
 */
export function unmountAndRemove(target: string | undefined): void {
  if (!target || !fs.existsSync(target)) return;
  for (let attempt = 1; isMountPoint(target); attempt++) {
    try {
      sh('umount', [target]);
    } catch (error) {
      if (attempt >= 10) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100 * attempt);
    }
  }
  fs.rmSync(target, { recursive: true, force: true });
}
