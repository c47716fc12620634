// throttle: a slow device for deadline and cancellation tests, made by the
// kernel's block throttling. The process (by default the caller) moves into a
// fresh cgroup whose limits apply to that one device; close() moves it, and
// any children it forked meanwhile, back and removes the cgroup.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkInteger, checkOptions } from '../validate';
import { TestkitCodes, testkitError } from './errors';
import { removeCgroup } from './cgroup-removal';
import { type IoController, cgroupOf, findIoController } from './cgroups';
import type { LoopDevice } from './loop-device';
import { checkLimit } from './options';
import type { ThrottleLimits, ThrottleOptions } from './types';
import { optionKeys } from '../option-keys';
import { requirePrivilege } from './privilege';
import { type Fixture, register, unregister } from './registry';
import { forget, journal } from './watchdog';



export interface Throttle extends AsyncDisposable {
  /** The cgroup directory made for this throttle. */
  readonly cgroup: string;
  /** The throttled process. */
  readonly pid: number;
  /** 2 for cgroup v2 io.max, 1 for cgroup v1 blkio.throttle.* (hosts whose blkio controller is bound to v1). */
  readonly cgroupVersion: 2 | 1;
  /** Moves the processes back to the cgroup `pid` came from and removes the throttle's cgroup. Safe to call twice. */
  close(): Promise<void>;
}

const limitKeys = ['readBps', 'writeBps', 'readIops', 'writeIops'] as const;
const v2Keys = { readBps: 'rbps', writeBps: 'wbps', readIops: 'riops', writeIops: 'wiops' } as const;
const v1Files = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
} as const;
let made = 0;

function deviceNumbers(device: string): string {
  let stat: fs.BigIntStats;
  try {
    stat = fs.statSync(device, { bigint: true });
  } catch (error) {
    throw Object.assign(new TypeError(`The "device" argument must name a block device. ${(error as Error).message}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  if (!stat.isBlockDevice()) throw Object.assign(new TypeError(`The "device" argument must name a block device. Received '${device}'`), { code: 'ERR_INVALID_ARG_VALUE' });
  // glibc's encoding of dev_t (gnu_dev_major / gnu_dev_minor).
  const major = ((stat.rdev >> 8n) & 0xfffn) | ((stat.rdev >> 32n) & ~0xfffn);
  const minor = (stat.rdev & 0xffn) | ((stat.rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

class CgroupThrottle implements Throttle, Fixture {
  readonly label: string;
  #closed = false;

  constructor(
    readonly cgroup: string,
    readonly pid: number,
    readonly cgroupVersion: 2 | 1,
    private readonly home: string,
    private readonly entry: number,
  ) {
    this.label = `throttle cgroup ${cgroup}`;
  }

  undoSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    unregister(this);
    removeCgroup(this.cgroup, this.home);
    forget(this.entry);
  }

  async close(): Promise<void> {
    this.undoSync();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function writeLimits(controller: IoController, cgroup: string, numbers: string, limits: Partial<Record<(typeof limitKeys)[number], number>>): void {
  if (controller.version === 2) {
    const settings = limitKeys.filter((key) => limits[key] !== undefined).map((key) => `${v2Keys[key]}=${limits[key]}`);
    fs.writeFileSync(path.join(cgroup, 'io.max'), `${numbers} ${settings.join(' ')}`);
    return;
  }
  for (const key of limitKeys) {
    if (limits[key] !== undefined) fs.writeFileSync(path.join(cgroup, v1Files[key]), `${numbers} ${limits[key]}`);
  }
}

/**
 * Limits what one process may read from and write to `device`, per second, by
 * moving it into a fresh cgroup with those limits. Needs root and a kernel
 * with block throttling (cgroup v2 io.max, or v1 blkio.throttle where the
 * host binds blkio to v1).
 */
export async function throttle(device: LoopDevice | string, limits: ThrottleLimits, options?: ThrottleOptions): Promise<Throttle> {
  const devicePath = typeof device === 'string' ? device : device?.path;
  if (typeof devicePath !== 'string') {
    throw Object.assign(new TypeError('The "device" argument must be a LoopDevice or a block device path'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const given = checkOptions('limits', limits, optionKeys.throttleLimits);
  const checked = Object.fromEntries(limitKeys.map((key) => [key, checkLimit(key, given[key])]));
  if (limitKeys.every((key) => checked[key] === undefined)) {
    throw Object.assign(new TypeError(`The "limits" argument must set at least one of ${limitKeys.join(', ')}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const pid = checkInteger('pid', checkOptions('options', options, optionKeys.throttle).pid ?? process.pid, 1, 2 ** 22);
  const numbers = deviceNumbers(devicePath);
  requirePrivilege('throttle');
  const controller = findIoController();
  if (!fs.existsSync(`/proc/${pid}`)) throw testkitError(TestkitCodes.failed, `no process ${pid} to throttle`, { errno: -3, syscall: 'kill' });
  const home = cgroupOf(pid, controller);
  const cgroup = path.join(controller.root, `aioring-testkit-${process.pid}-${++made}`);
  const entry = await journal({ kind: 'cgroup', path: cgroup, home });
  fs.mkdirSync(cgroup);
  const fixture = new CgroupThrottle(cgroup, pid, controller.version, home, entry);
  register(fixture);
  try {
    writeLimits(controller, cgroup, numbers, checked);
    fs.writeFileSync(path.join(cgroup, 'cgroup.procs'), String(pid));
  } catch (error) {
    fixture.undoSync();
    throw error;
  }
  return fixture;
}
