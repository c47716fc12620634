// createFileSystem: a fresh file system on its own loop device (or a sized
// tmpfs), mounted on a new temporary directory, never on an existing path.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkOneOf, checkOptions } from '../validate';
import { TestkitCodes, testkitError } from './errors';
import { type LoopDevice, createLoopDevice } from './loop-device';
import { unmountAndRemoveSync } from './mounts';
import { MiB, checkSectorSize, checkSizeMiB } from './options';
import type { FileSystemOptions, FileSystemType } from './types';
import { optionKeys } from '../option-keys';
import { requirePrivilege } from './privilege';
import { type Fixture, register, unregister } from './registry';
import { debianPackages, run } from './run';
import { forget, journal } from './watchdog';

const fileSystemTypes: readonly FileSystemType[] = ['ext4', 'xfs', 'btrfs', 'tmpfs'];


export interface FileSystem extends AsyncDisposable {
  readonly type: FileSystemType;
  /** A directory made for this file system alone. */
  readonly mountPoint: string;
  /** The loop device it lives on; undefined for tmpfs. */
  readonly device: LoopDevice | undefined;
  /** Unmounts, removes the mount point and closes the device. Safe to call twice. */
  close(): Promise<void>;
}


// Explicit where the defaults could differ between versions: btrfs data has
// one copy, so a corrupted block has nothing to be repaired from; ext4 keeps
// no blocks back for root, so a full file system is full for root too.
const mkfsArguments: Record<Exclude<FileSystemType, 'tmpfs'>, string[]> = {
  ext4: ['-q', '-F', '-m', '0'],
  xfs: ['-q', '-f'],
  btrfs: ['-q', '-f', '--csum', 'crc32c', '-d', 'single', '-m', 'dup'],
};

function findTool(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function requireTool(command: string): string {
  const found = findTool(command);
  if (found) return found;
  const pkg = debianPackages[command];
  throw testkitError(TestkitCodes.missingTool, `${command} is not installed: install the ${pkg} package (apt-get install ${pkg})`, {
    errno: -2,
    syscall: 'spawn',
    path: command,
  });
}

class MountedFileSystem implements FileSystem, Fixture {
  readonly label: string;
  #closed = false;

  constructor(
    readonly type: FileSystemType,
    readonly mountPoint: string,
    readonly device: LoopDevice | undefined,
    private readonly entry: number,
  ) {
    this.label = `${type} mounted on ${mountPoint}`;
  }

  #unmount(tries?: number): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    unregister(this);
    unmountAndRemoveSync(this.mountPoint, tries);
    forget(this.entry);
    return true;
  }

  async close(): Promise<void> {
    if (this.#unmount()) await this.device?.close();
  }

  undoSync(): void {
    // At exit, files the process left open close only after this handler:
    // a busy mount is detached lazily at once and goes when they do. The
    // device is a fixture of its own, undone after this one (newest first).
    this.#unmount(1);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Makes a file system of `type` on a new loop device of `sizeMiB` (or a tmpfs
 * of that size) and mounts it on a fresh temporary directory. Needs root, and
 * mkfs.<type> (the message names the package when it is missing).
 */
export async function createFileSystem(options: FileSystemOptions): Promise<FileSystem> {
  const given = checkOptions('options', options, optionKeys.fileSystem);
  const type = checkOneOf('type', given.type, fileSystemTypes);
  const sizeMiB = checkSizeMiB('sizeMiB', given.sizeMiB);
  if (type === 'tmpfs' && given.sectorSize !== undefined) {
    throw Object.assign(new TypeError('The "sectorSize" option does not apply to tmpfs, which has no block device'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const sectorSize = checkSectorSize('sectorSize', given.sectorSize, 512);
  requirePrivilege('createFileSystem');
  if (type !== 'tmpfs') requireTool(`mkfs.${type}`);

  // By its real path, as /proc/self/mountinfo will name it.
  const mountPoint = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `aioring-${type}-`));
  let entry: number | undefined;
  let device: LoopDevice | undefined;
  try {
    entry = await journal({ kind: 'mount', path: mountPoint });
    if (type === 'tmpfs') {
      run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB * MiB},mode=0755`, 'aioring-testkit', mountPoint]);
    } else {
      device = await createLoopDevice({ sizeMiB, sectorSize });
      run(`mkfs.${type}`, [...mkfsArguments[type], device.path]);
      run('mount', ['-t', type, device.path, mountPoint]);
    }
  } catch (error) {
    unmountAndRemoveSync(mountPoint);
    if (entry !== undefined) forget(entry);
    await device?.close();
    throw error;
  }
  const fileSystem = new MountedFileSystem(type, mountPoint, device, entry);
  register(fileSystem);
  return fileSystem;
}

export { MountedFileSystem };
