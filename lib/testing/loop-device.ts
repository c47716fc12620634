// createLoopDevice: a loop device over a sparse file, attached with
// LO_FLAGS_AUTOCLEAR and held open by this process, so the kernel detaches it
// the moment the process is gone, however it died.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { systemError } from '../errors';
import { native } from '../native';
import { checkBoolean, checkInteger, checkOptions, checkString } from '../validate';
import { TestkitCodes, testkitError } from './errors';
import { MiB, checkSectorSize, checkSizeMiB } from './options';
import type { LoopDeviceOptions, SectorSize } from './types';
import { optionKeys } from '../option-keys';
import { requirePrivilege } from './privilege';
import { type Fixture, register, unregister } from './registry';
import { sleep } from './sleep';
import { forget, journal } from './watchdog';


export interface LoopDevice extends AsyncDisposable {
  /** /dev/loopN. */
  readonly path: string;
  readonly sectorSize: SectorSize;
  readonly sizeBytes: number;
  /** The backing file. */
  readonly backing: string;
  /** Whether the kernel granted direct I/O on the backing file (tmpfs on old kernels cannot). */
  readonly directIo: boolean;
  /** Clears read-only mode, detaches the device, and removes the backing file if the kit made it. Safe to call twice. */
  close(): Promise<void>;
}

const detachTimeoutMs = 5_000;
const { EBUSY } = os.constants.errno;

/** Every loop device is in use (the driver offers none, or no node to open), or another process bound ours first. */
function noneFree(failure: { errno: number; syscall: string }): boolean {
  return failure.syscall === 'ioctl(LOOP_CTL_GET_FREE)' || failure.syscall === 'open(/dev/loopN)' || failure.errno === EBUSY;
}

function isAttachedTo(index: number, backing: string): boolean {
  try {
    const bound = fs.readFileSync(`/sys/block/loop${index}/loop/backing_file`, 'utf8').trim();
    return bound === backing || bound === `${backing} (deleted)`;
  } catch {
    return false;
  }
}

class TestLoopDevice implements LoopDevice, Fixture {
  readonly label: string;
  #fd: number;
  #closed = false;
  /** The watchdog's entry holding the device while it is read-only. */
  #readOnlyEntry: number | undefined;

  constructor(
    readonly path: string,
    readonly sectorSize: SectorSize,
    readonly sizeBytes: number,
    readonly backing: string,
    readonly directIo: boolean,
    fd: number,
    private readonly index: number,
    /** What to remove on close: the backing file, its directory, or nothing. */
    private readonly ownedPath: string | undefined,
    private readonly ownedPathEntry: number | undefined,
  ) {
    this.#fd = fd;
    this.label = `loop device ${path} over ${backing}`;
  }

  /** The descriptor that keeps the device attached; for the fault helpers. */
  get fd(): number {
    if (this.#closed) throw testkitError(TestkitCodes.failed, `${this.path} is closed`, { path: this.path });
    return this.#fd;
  }

  /** BLKROSET, what `blockdev --setro` does. While it is on, the watchdog holds the device. */
  async setReadOnly(on: boolean): Promise<void> {
    const fd = this.fd;
    if (on && this.#readOnlyEntry === undefined) {
      this.#readOnlyEntry = await journal({ kind: 'readOnly', device: this.path, backing: this.backing });
    }
    const errno = native.setBlockDeviceReadOnly(fd, on);
    if (errno !== 0) throw systemError(errno, 'ioctl(BLKROSET)', { op: 'open', path: this.path });
    if (!on) this.#forgetReadOnly();
  }

  #forgetReadOnly(): void {
    if (this.#readOnlyEntry === undefined) return;
    forget(this.#readOnlyEntry);
    this.#readOnlyEntry = undefined;
  }

  #release(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    unregister(this);
    // The read-only flag belongs to the block device and survives detaching:
    // clear it, or the next user of this loop number gets a read-only device.
    native.setBlockDeviceReadOnly(this.#fd, false);
    this.#forgetReadOnly();
    fs.closeSync(this.#fd);
    return true;
  }

  #removeBacking(): void {
    if (!this.ownedPath) return;
    fs.rmSync(this.ownedPath, { recursive: true, force: true });
    if (this.ownedPathEntry !== undefined) forget(this.ownedPathEntry);
  }

  #stillAttachedError(): Error {
    return testkitError(
      TestkitCodes.failed,
      `${this.path} is still attached ${detachTimeoutMs} ms after close(): something else holds it open ` +
        '(a mount of it, or an open file); the kernel detaches it when that is closed',
      { path: this.path },
    );
  }

  async close(): Promise<void> {
    if (!this.#release()) return;
    try {
      const deadline = Date.now() + detachTimeoutMs;
      while (isAttachedTo(this.index, this.backing)) {
        if (Date.now() > deadline) throw this.#stillAttachedError();
        await sleep(10);
      }
    } finally {
      this.#removeBacking();
    }
  }

  undoSync(): void {
    // At exit, whatever else holds the device (a lazily detached mount, a file
    // still open on it) lets go when the process is gone: no waiting here.
    if (this.#release()) this.#removeBacking();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

interface Backing {
  file: string;
  sizeBytes: number;
  owned: string | undefined;
}

function prepareBacking(backing: string | undefined, sizeMiB: number | undefined, sectorSize: number): Backing {
  if (backing !== undefined && fs.existsSync(backing)) {
    const stat = fs.statSync(backing);
    if (!stat.isFile()) throw Object.assign(new TypeError(`The "backing" option must name a regular file. Received '${backing}'`), { code: 'ERR_INVALID_ARG_VALUE' });
    if (sizeMiB !== undefined && stat.size !== sizeMiB * MiB) {
      throw Object.assign(new RangeError(`The backing file '${backing}' holds ${stat.size} bytes, not the ${sizeMiB} MiB asked for`), { code: 'ERR_OUT_OF_RANGE' });
    }
    if (stat.size === 0 || stat.size % sectorSize !== 0) {
      throw Object.assign(new RangeError(`The backing file '${backing}' holds ${stat.size} bytes, not a whole number of ${sectorSize}-byte sectors`), {
        code: 'ERR_OUT_OF_RANGE',
      });
    }
    return { file: fs.realpathSync(backing), sizeBytes: stat.size, owned: undefined };
  }
  if (sizeMiB === undefined) {
    throw Object.assign(new TypeError('The "sizeMiB" option is required unless "backing" names an existing file'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const sizeBytes = sizeMiB * MiB;
  if (backing !== undefined) {
    // The kernel reports the backing file by its real path (sysfs backing_file).
    const file = path.join(fs.realpathSync(path.dirname(path.resolve(backing))), path.basename(backing));
    // 'wx': never truncate a file that appeared meanwhile.
    fs.closeSync(fs.openSync(file, 'wx'));
    try {
      fs.truncateSync(file, sizeBytes);
    } catch (error) {
      fs.rmSync(file, { force: true });
      throw error;
    }
    return { file, sizeBytes, owned: file };
  }
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'aioring-loop-'));
  const file = path.join(dir, 'backing.img');
  try {
    fs.writeFileSync(file, '');
    fs.truncateSync(file, sizeBytes);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { file, sizeBytes, owned: dir };
}

/**
 * Attaches a loop device over a sparse backing file with the given logical
 * sector size. Needs root. When all loop devices are in use it waits for one
 * (up to `waitMs`), because other test processes release theirs all the time.
 */
export async function createLoopDevice(options: LoopDeviceOptions): Promise<LoopDevice> {
  const given = checkOptions('options', options, optionKeys.loopDevice);
  const sizeMiB = given.sizeMiB === undefined ? undefined : checkSizeMiB('sizeMiB', given.sizeMiB);
  const sectorSize = checkSectorSize('sectorSize', given.sectorSize, 512);
  const directIo = checkBoolean('directIo', given.directIo, true);
  const backingPath = given.backing === undefined ? undefined : checkString('backing', given.backing);
  const waitMs = given.waitMs === undefined ? 60_000 : checkInteger('waitMs', given.waitMs, 0, 3_600_000);
  requirePrivilege('createLoopDevice');

  const backing = prepareBacking(backingPath, sizeMiB, sectorSize);
  let backingEntry: number | undefined;
  try {
    if (backing.owned) backingEntry = await journal({ kind: 'path', path: backing.owned });
    const deadline = Date.now() + waitMs;
    for (let attempt = 1; ; attempt++) {
      const attached = native.attachLoopDevice(backing.file, sectorSize, directIo);
      if ('fd' in attached) {
        // A device someone left read-only (the flag outlives detaching) must not pass for a fresh one.
        native.setBlockDeviceReadOnly(attached.fd, false);
        const device = new TestLoopDevice(
          `/dev/loop${attached.index}`,
          sectorSize,
          backing.sizeBytes,
          backing.file,
          attached.directIo,
          attached.fd,
          attached.index,
          backing.owned,
          backingEntry,
        );
        register(device);
        return device;
      }
      if (attached.syscall === 'open(/dev/loop-control)') {
        throw testkitError(
          TestkitCodes.unsupported,
          `cannot open /dev/loop-control (errno ${attached.errno}): the loop driver is not loaded (modprobe loop), ` +
            'or this container has no access to loop devices (docker run --privileged, or --device /dev/loop-control and /dev/loopN)',
          { errno: -attached.errno, syscall: 'open', path: '/dev/loop-control' },
        );
      }
      if (!noneFree(attached)) throw systemError(attached.errno, attached.syscall, { op: 'open', path: backing.file });
      if (Date.now() >= deadline) {
        throw testkitError(
          TestkitCodes.noLoopDevice,
          `no loop device became free in ${waitMs} ms (${attached.syscall}: errno ${attached.errno}); ` +
            '`losetup -l` shows who holds them. Raise the waitMs option, or the loop module\'s max_loop parameter',
          { errno: -attached.errno, syscall: attached.syscall },
        );
      }
      // Back off, with jitter so that processes waiting together do not retry in step.
      await sleep(Math.min(1_000, 25 * attempt) + Math.random() * 25);
    }
  } catch (error) {
    if (backing.owned) fs.rmSync(backing.owned, { recursive: true, force: true });
    if (backingEntry !== undefined) forget(backingEntry);
    throw error;
  }
}

export { TestLoopDevice };
