// Faults injected into kit devices: a read-only device and bytes flipped
// behind the back of whatever reads them.
import * as fs from 'node:fs';
import { systemError } from '../errors';
import { native } from '../native';
import { checkInteger, checkPosition } from '../validate';
import type { LoopDevice } from './loop-device';
import { TestLoopDevice } from './loop-device';
import { run } from './run';

/** The most bytes one flipBytes call changes: enough for any block, small enough to read in one go. */
const maxFlipBytes = 1024 * 1024;

function kitDevice(device: unknown): TestLoopDevice {
  if (!(device instanceof TestLoopDevice)) {
    throw Object.assign(new TypeError('The "device" argument must be a LoopDevice made by createLoopDevice (or a file system\'s .device)'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  return device;
}

/**
 * Makes the device read-only (BLKROSET, what `blockdev --setro` does) or
 * writable again. Opening it for writing still works; every write then fails
 * with EPERM, while reads and syncs go on working. The device's close()
 * clears it, since the flag would otherwise outlive the device; should this
 * process die first, the watchdog clears it before the device detaches.
 */
export async function setReadOnly(device: LoopDevice, on: boolean): Promise<void> {
  const loop = kitDevice(device);
  if (typeof on !== 'boolean') throw Object.assign(new TypeError('The "on" argument must be of type boolean'), { code: 'ERR_INVALID_ARG_TYPE' });
  await loop.setReadOnly(on);
}

/** XORs `count` bytes at `position` of the file or device at `target` with 0xff, flushed; returns them as they were. */
async function flipInPlace(target: string, position: number, count: number): Promise<Buffer> {
  const handle = await fs.promises.open(target, 'r+');
  try {
    const stat = await handle.stat();
    const size = stat.isBlockDevice() ? native.describeFd(handle.fd).size : stat.size;
    if (position + count > size) {
      throw Object.assign(new RangeError(`flipBytes: ${count} bytes at ${position} run past the end of '${target}' (${size} bytes)`), {
        code: 'ERR_OUT_OF_RANGE',
      });
    }
    const original = Buffer.alloc(count);
    const { bytesRead } = await handle.read(original, 0, count, position);
    if (bytesRead !== count) throw systemError(5, 'read', { op: 'read', path: target, position, length: count });
    await handle.write(Buffer.from(original.map((byte) => byte ^ 0xff)), 0, count, position);
    await handle.sync();
    return original;
  } finally {
    await handle.close();
  }
}

/**
 * Inverts `count` bytes at `position` of a device or file (each byte XOR
 * 0xff) and flushes them, so the next read of that range, direct or not,
 * sees the damage. Resolves to the bytes as they were; flipping the same
 * range again restores them. On a kit device the bytes change in its backing
 * file, which works while a file system on it is mounted (kernels built
 * without CONFIG_BLK_DEV_WRITE_MOUNTED refuse writes to a mounted device).
 */
export async function flipBytes(device: LoopDevice | string, position: number, count: number): Promise<Buffer> {
  const loop = typeof device === 'string' ? undefined : kitDevice(device);
  checkPosition('position', position);
  checkInteger('count', count, 1, maxFlipBytes);
  if (!loop) return flipInPlace(device as string, position, count);
  // Write back what the device's own cache holds first, and drop that cache
  // after, so neither hides or undoes the change made beneath it.
  run('blockdev', ['--flushbufs', loop.path]);
  const original = await flipInPlace(loop.backing, position, count);
  run('blockdev', ['--flushbufs', loop.path]);
  return original;
}
