import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sh } from './root';

export interface LoopDevice {
  device: string;
  backingFile: string;
  sectorSize: number;
  size: number;
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
    const device = sh('losetup', ['-f', '--show', '--direct-io=on', '--sector-size', String(sectorSize), backingFile]);
    return { device, backingFile, sectorSize, size };
  } catch (error) {
    fs.rmSync(path.dirname(backingFile), { recursive: true, force: true });
    throw error;
  }
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
    fs.rmSync(path.dirname(loop.backingFile), { recursive: true, force: true });
  }
}
