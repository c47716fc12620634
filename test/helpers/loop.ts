import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sh } from './root';

export interface LoopDevice {
  device: string;
  backingFile: string;
  sectorSize: number;
  size: number;
  /** False when the backing file was the caller's (attachLoopFile): detachLoop leaves it alone. */
  ownsBackingFile?: boolean;
}

export interface AttachOptions {
  /** Logical sector size (--sector-size). Default 512. */
  sectorSize?: number;
  /** The loop driver reads and writes its backing file with O_DIRECT (--direct-io=on). Default true. */
  directIo?: boolean;
}

// Loop devices are shared with every other process on the machine: two
// `losetup -f` racing for the same free device make one of them fail with
// EBUSY, so that one simply asks again.
function losetupAttach(backingFile: string, sectorSize: number, directIo: boolean): string {
  const args = ['-f', '--show', `--direct-io=${directIo ? 'on' : 'off'}`, '--sector-size', String(sectorSize), backingFile];
  for (let attempt = 1; ; attempt++) {
    try {
      return sh('losetup', args);
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '');
      if (attempt >= 5 || !/busy/i.test(stderr)) {
        throw new Error(`losetup ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`, { cause: error });
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 * attempt);
    }
  }
}

/**
 * Attaches a new loop device over a fresh sparse file, with direct I/O on and
 * the given logical sector size. Pair every call with detachLoop in a finally
 * or afterAll, so a failing test never leaks a device.
 */
export function attachLoop(size: number, sectorSize: number, dir: string = os.tmpdir()): LoopDevice {
  const backingFile = path.join(fs.mkdtempSync(path.join(dir, 'aioring-loop-')), 'backing.img');
  fs.writeFileSync(backingFile, '');
  fs.truncateSync(backingFile, size);
  try {
    const device = losetupAttach(backingFile, sectorSize, true);
    return { device, backingFile, sectorSize, size, ownsBackingFile: true };
  } catch (error) {
    fs.rmSync(path.dirname(backingFile), { recursive: true, force: true });
    throw error;
  }
}

/**
 * Attaches a loop device over an existing file the caller owns (for example a
 * file-system image to attach again after editing it). detachLoop detaches it
 * but keeps the file.
 */
export function attachLoopFile(backingFile: string, options: AttachOptions = {}): LoopDevice {
  const sectorSize = options.sectorSize ?? 512;
  const device = losetupAttach(backingFile, sectorSize, options.directIo ?? true);
  return { device, backingFile, sectorSize, size: fs.statSync(backingFile).size, ownsBackingFile: false };
}

export function detachLoop(loop: LoopDevice | undefined): void {
  if (!loop) return;
  try {
    // A device made read-only keeps that flag after detaching; clear it so the
    // next user of this loop number is not surprised.
    sh('blockdev', ['--setrw', loop.device]);
  } catch {
    // the device may already be gone
  }
  try {
    sh('losetup', ['-d', loop.device]);
  } finally {
    if (loop.ownsBackingFile !== false) fs.rmSync(path.dirname(loop.backingFile), { recursive: true, force: true });
  }
}

/** What `blockdev` says about a device, to hold the library's own answers against. */
export function blockdevInfo(device: string): { size: number; logicalBlockSize: number; physicalBlockSize: number } {
  const [size, logical, physical] = sh('blockdev', ['--getsize64', '--getss', '--getpbsz', device]).split(/\s+/).map(Number);
  return { size: size!, logicalBlockSize: logical!, physicalBlockSize: physical! };
}
