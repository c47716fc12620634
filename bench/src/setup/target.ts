// The bench's target: the temporary file of the default run, or a file or
// block device the user names. Creating, inspecting (kind, size, logical
// block size, storage under it), stamping with the pattern, and removing.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadAioring, tryLoadAioring } from './aioring-lib';
import { Pattern, SECTOR } from './pattern';
import { formatBytes, formatSize } from '../options/sizes';
import type { TrialIntegrity } from '../types';

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export interface StorageInfo {
  /** Block device under the target, e.g. "vda" or "loop0". */
  device: string | null;
  /** Whole disk when the device is a partition. */
  disk: string | null;
  model: string | null;
  rotational: boolean | null;
  scheduler: string | null;
  filesystem: string | null;
  mountPoint: string | null;
}

export interface TargetInfo {
  path: string;
  kind: 'file' | 'block';
  /** Created by the bench (and removed afterwards). */
  temporary: boolean;
  /** Size of the file or device in bytes. */
  size: number;
  logicalBlockSize: number;
  /** Where the logical block size came from. */
  blockSizeSource: string;
  storage: StorageInfo;
}

function readSys(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function majorMinor(dev: number): [number, number] {
  // Linux's encoding of dev_t (glibc gnu_dev_major/minor), safe for the numbers Node gives.
  const major = ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >>> 12) & ~0xff);
  return [major, minor];
}

/** /sys/dev/block/M:m resolved, and the queue directory (the disk's for a partition). */
function sysBlockDir(dev: number): { dir: string; queue: string; name: string; disk: string } | null {
  const [major, minor] = majorMinor(dev);
  const link = `/sys/dev/block/${major}:${minor}`;
  let dir: string;
  try {
    dir = fs.realpathSync(link);
  } catch {
    return null;
  }
  const name = path.basename(dir);
  const isPartition = fs.existsSync(path.join(dir, 'partition'));
  const diskDir = isPartition ? path.dirname(dir) : dir;
  return { dir, queue: path.join(diskDir, 'queue'), name, disk: path.basename(diskDir) };
}

function mountOf(realPath: string): { fs: string; mountPoint: string } | null {
  const text = readSys('/proc/self/mountinfo');
  if (!text) return null;
  let best: { fs: string; mountPoint: string } | null = null;
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    const sep = parts.indexOf('-');
    if (sep < 0 || parts.length < sep + 2) continue;
    const mountPoint = parts[4].replace(/\\040/g, ' ');
    const inside = realPath === mountPoint || realPath.startsWith(mountPoint.endsWith('/') ? mountPoint : mountPoint + '/');
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) best = { fs: parts[sep + 1], mountPoint };
  }
  return best;
}

export function storageInfo(targetPath: string, kind: 'file' | 'block'): StorageInfo {
  const info: StorageInfo = {
    device: null,
    disk: null,
    model: null,
    rotational: null,
    scheduler: null,
    filesystem: null,
    mountPoint: null,
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(targetPath);
  } catch {
    return info;
  }
  const sys = sysBlockDir(kind === 'block' ? st.rdev : st.dev);
  if (sys) {
    info.device = sys.name;
    info.disk = sys.disk;
    const diskDir = path.dirname(sys.queue);
    info.model = readSys(path.join(diskDir, 'device', 'model')) ?? readSys(path.join(diskDir, 'loop', 'backing_file'));
    const rot = readSys(path.join(sys.queue, 'rotational'));
    info.rotational = rot === null ? null : rot === '1';
    const sched = readSys(path.join(sys.queue, 'scheduler'));
    info.scheduler = sched ? (/\[([^\]]+)\]/.exec(sched)?.[1] ?? sched) : null;
  }
  if (kind === 'file') {
    const mount = mountOf(fs.realpathSync(targetPath));
    if (mount) {
      info.filesystem = mount.fs;
      info.mountPoint = mount.mountPoint;
    }
  }
  return info;
}

function blockdevNumber(flag: string, device: string): number | null {
  try {
    const out = execFileSync('blockdev', [flag, device], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const n = Number(out.trim());
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The alignment O_DIRECT needs on a file, from aioring's statx (when built), sysfs, or 512. */
async function fileBlockSize(file: string, st: fs.Stats): Promise<{ size: number; source: string }> {
  const { mod } = tryLoadAioring();
  if (mod) {
    let ring: InstanceType<typeof mod.Ring> | null = null;
    try {
      ring = new mod.Ring({ depth: 1, engine: 'auto' });
      const handle = await ring.open(file, { direct: true });
      const { offsetAlign, logicalBlockSize } = handle.info;
      await handle.close();
      const size = offsetAlign || logicalBlockSize;
      if (size > 0) return { size, source: 'statx dio alignment (aioring)' };
    } catch {
      // fall through
    } finally {
      await ring?.close().catch(() => undefined);
    }
  }
  const sys = sysBlockDir(st.dev);
  const lbs = sys ? Number(readSys(path.join(sys.queue, 'logical_block_size'))) : NaN;
  if (lbs > 0) return { size: lbs, source: `logical block size of ${sys!.disk}` };
  return { size: SECTOR, source: 'fallback' };
}

/** Looks at an existing target: kind, size, logical block size. Throws TargetError. */
export async function inspectTarget(targetPath: string): Promise<TargetInfo> {
  let st: fs.Stats;
  try {
    st = fs.statSync(targetPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TargetError(`target ${targetPath} does not exist`);
    throw new TargetError(`cannot stat target ${targetPath}: ${code ?? e}`);
  }
  if (st.isBlockDevice()) {
    const sys = sysBlockDir(st.rdev);
    let lbs = blockdevNumber('--getss', targetPath);
    let source = 'blockdev --getss';
    if (lbs === null && sys) {
      lbs = Number(readSys(path.join(sys.queue, 'logical_block_size'))) || null;
      source = 'sysfs logical_block_size';
    }
    let size = blockdevNumber('--getsize64', targetPath);
    if (size === null && sys) size = (Number(readSys(path.join(sys.dir, 'size'))) || 0) * 512;
    if (!size) throw new TargetError(`cannot tell the size of block device ${targetPath} (empty loop device?)`);
    return {
      path: targetPath,
      kind: 'block',
      temporary: false,
      size,
      logicalBlockSize: lbs ?? SECTOR,
      blockSizeSource: lbs === null ? 'fallback' : source,
      storage: storageInfo(targetPath, 'block'),
    };
  }
  if (!st.isFile()) throw new TargetError(`target ${targetPath} is neither a regular file nor a block device`);
  const bsInfo = await fileBlockSize(targetPath, st);
  return {
    path: targetPath,
    kind: 'file',
    temporary: false,
    size: st.size,
    logicalBlockSize: bsInfo.size,
    blockSizeSource: bsInfo.source,
    storage: storageInfo(targetPath, 'file'),
  };
}

/** Throws TargetError unless every block size is a whole number of the target's blocks. */
export function checkBlockSizes(target: Pick<TargetInfo, 'path' | 'logicalBlockSize'>, sizes: number[], direct: boolean): void {
  const unit = direct ? Math.max(SECTOR, target.logicalBlockSize) : SECTOR;
  for (const bs of sizes) {
    if (bs % unit !== 0) {
      const why = direct
        ? `the logical block size of ${target.path} is ${target.logicalBlockSize} bytes (O_DIRECT transfers must be multiples of it)`
        : `the verification pattern works in ${SECTOR}-byte sectors`;
      throw new TargetError(`--bs ${formatSize(bs)} (${bs} bytes) is not a multiple of ${unit}: ${why}`);
    }
  }
}

/** Path for the default run's temporary target. */
export function tempTargetPath(): string {
  const rand = Math.floor(Math.random() * 0xffffffff).toString(16);
  return path.join(os.tmpdir(), `aioring-bench-${process.pid}-${rand}.dat`);
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Writes the pattern over [0, region) in chunks of up to 4 MiB, a few in
 * flight, each from its own buffer (made by `alloc`) through `write`.
 */
async function stampChunks(
  region: number,
  pattern: Pattern,
  alloc: (size: number) => Buffer,
  write: (view: Buffer, offset: number) => Promise<void>,
): Promise<void> {
  const inFlight = 4;
  const chunk = Math.min(CHUNK, region);
  let next = 0;
  const worker = async () => {
    const buf = alloc(chunk);
    pattern.fill(buf, 0);
    while (next < region) {
      const offset = next;
      const len = Math.min(chunk, region - offset);
      next += len;
      const view = buf.subarray(0, len);
      pattern.stamp(view, offset);
      await write(view, offset);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Writes the pattern over [0, region) of an open descriptor, then fsyncs. */
async function stampRegion(handle: fs.promises.FileHandle, region: number, pattern: Pattern): Promise<void> {
  await stampChunks(region, pattern, (size) => Buffer.allocUnsafe(size), async (view, offset) => {
    let done = 0;
    while (done < view.length) {
      const { bytesWritten } = await handle.write(view, done, view.length - done, offset + done);
      if (bytesWritten <= 0) throw new Error(`short write at ${offset + done}`);
      done += bytesWritten;
    }
  });
  await handle.sync();
}

/** Creates the temporary target: a new file of `size` bytes holding the pattern. */
export async function createTempTarget(file: string, size: number, pattern: Pattern): Promise<void> {
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    await stampRegion(handle, size, pattern);
  } finally {
    await handle.close();
  }
}

/** Writes the pattern over [0, region) of an existing file or block device. */
export async function stampTarget(file: string, region: number, pattern: Pattern): Promise<void> {
  const handle = await fs.promises.open(file, fs.constants.O_WRONLY);
  try {
    await stampRegion(handle, region, pattern);
  } finally {
    await handle.close();
  }
}

/** Whether [0, region) appears to carry the pattern: checks 64 sectors spread over it. */
export async function carriesPattern(file: string, region: number, pattern: Pattern): Promise<boolean> {
  const sectors = Math.floor(region / SECTOR);
  if (sectors < 1) return false;
  const samples = Math.min(64, sectors);
  const handle = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(SECTOR);
    for (let i = 0; i < samples; i++) {
      const sector = samples === 1 ? 0 : Math.floor((i * (sectors - 1)) / (samples - 1));
      const offset = sector * SECTOR;
      const { bytesRead } = await handle.read(buf, 0, SECTOR, offset);
      if (bytesRead !== SECTOR || pattern.verify(buf, offset) !== null) return false;
    }
    return true;
  } finally {
    await handle.close();
  }
}

/** Removes the temporary target; never throws. */
export function removeTargetSync(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

export function describeTarget(t: TargetInfo, region: number): string {
  const where =
    t.kind === 'block'
      ? `block device${t.storage.model ? `, ${t.storage.model}` : ''}`
      : `file${t.temporary ? ' (temporary)' : ''}${t.storage.filesystem ? ` on ${t.storage.filesystem}` : ''}${t.storage.device ? ` (${t.storage.device})` : ''}`;
  return `${t.path}: ${where}, ${formatBytes(region)} used, logical block ${t.logicalBlockSize}`;
}

/**
 * Writes the pattern over [0, region) through aioring with ring.open's
 * integrity option (trailer layout), so every interval ends in its protection
 * tuple: what --integrity's protected drivers read and the pattern checks skip.
 */
export async function stampProtectedTarget(file: string, region: number, pattern: Pattern, integrity: TrialIntegrity): Promise<void> {
  const { Ring, allocAligned } = loadAioring();
  const ring = new Ring({ depth: 8 });
  try {
    const target = await ring.open(file, { write: true, integrity: { format: integrity.format, interval: integrity.interval as 512 | 4096 } });
    await stampChunks(region, pattern, (size) => allocAligned(size, 4096), async (view, offset) => {
      await target.write(view, offset);
    });
    await target.sync();
    await target.close();
  } finally {
    await ring.close();
  }
}
