// Faults inside a kit file system: full (ENOSPC), and a btrfs data block
// whose checksum no longer matches (EIO).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allocAligned } from '../buffers';
import { checkPosition, checkString } from '../validate';
import { TestkitCodes, testkitError } from './errors';
import { flipBytes } from './faults';
import type { FileSystem } from './file-system';
import { MountedFileSystem, requireTool } from './file-system';
import { run } from './run';

export interface Filler {
  /** The file that takes up the space. */
  readonly path: string;
  readonly bytes: number;
  /** Deletes the filler and flushes the file system, so the space is free again. */
  release(): Promise<void>;
}

let fillers = 0;
/** What every file system here accepts for O_DIRECT: a 4096-byte block, 4096-aligned. */
const directBlock = 4096;

function kitFileSystem(value: unknown, name: string): MountedFileSystem {
  if (!(value instanceof MountedFileSystem)) {
    throw Object.assign(new TypeError(`The "${name}" argument must be a FileSystem made by createFileSystem`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  return value;
}

function isNoSpace(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOSPC';
}

/** Writes `chunk` at the end of the file until the file system refuses; the bytes written. */
async function writeUntilFull(handle: fs.promises.FileHandle, chunk: Buffer, at: number): Promise<number> {
  let written = 0;
  for (;;) {
    try {
      const { bytesWritten } = await handle.write(chunk, 0, chunk.length, at + written);
      if (bytesWritten === 0) return written;
      written += bytesWritten;
    } catch (error) {
      if (isNoSpace(error)) return written;
      throw error;
    }
  }
}

/**
 * The last blocks, with O_DIRECT: a buffered write must also reserve room for
 * the metadata its delayed allocation might need (xfs refuses it with a few
 * blocks still free), a direct write only takes the block itself.
 */
function writeDirectUntilFull(file: string, at: number): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_DIRECT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EINVAL') return 0; // no O_DIRECT here: the buffered rounds were all there is
    throw error;
  }
  const block = allocAligned(directBlock, directBlock).fill(0xa5);
  // From the first whole block past what the buffered rounds wrote.
  let position = Math.ceil(at / directBlock) * directBlock;
  try {
    while (fs.writeSync(fd, block, 0, directBlock, position) === directBlock) position += directBlock;
  } catch (error) {
    if (!isNoSpace(error)) throw error;
  } finally {
    fs.closeSync(fd);
  }
  return position - at;
}

/**
 * Fills the file system with one file until writes that need new blocks fail
 * with ENOSPC. Overwriting blocks a file already has still works, except on
 * btrfs, which writes every change to new blocks. release() undoes it; the
 * file system's close() removes it anyway.
 */
export async function fillFileSystem(fileSystem: FileSystem): Promise<Filler> {
  const target = kitFileSystem(fileSystem, 'fs');
  const file = path.join(target.mountPoint, `.aioring-fill-${process.pid}-${++fillers}`);
  const handle = await fs.promises.open(file, 'wx');
  let bytes = 0;
  try {
    // Large pieces first, then smaller ones for the space left between them.
    // A flush lets delayed allocation, xfs's speculative preallocation and
    // btrfs's reservations settle and give space back: go again until a
    // round finds none.
    for (let round = 0; round < 8; round++) {
      let added = 0;
      for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) added += await writeUntilFull(handle, Buffer.alloc(size, 0xa5), bytes + added);
      bytes += added;
      try {
        await handle.sync();
      } catch (error) {
        if (!isNoSpace(error)) throw error;
      }
      run('sync', ['-f', file]);
      if (added === 0) break;
    }
    bytes += writeDirectUntilFull(file, bytes);
  } catch (error) {
    await handle.close();
    await fs.promises.rm(file, { force: true });
    throw error;
  }
  await handle.close();
  let released = false;
  return {
    path: file,
    bytes,
    async release() {
      if (released) return;
      released = true;
      await fs.promises.rm(file, { force: true });
      run('sync', ['-f', target.mountPoint]);
    },
  };
}

interface Extent {
  logicalBlock: number;
  physicalBlock: number;
  blocks: number;
  flags: string[];
}

function extentsOf(file: string, blockSize: number): Extent[] {
  requireTool('filefrag');
  const extents: Extent[] = [];
  for (const line of run('filefrag', ['-v', `-b${blockSize}`, file]).split('\n')) {
    const match = /^\s*\d+:\s+(\d+)\.\.\s*\d+:\s+(\d+)\.\.\s*\d+:\s+(\d+):\s*(?:\d+:)?\s*(\S*)\s*$/.exec(line);
    if (match) extents.push({ logicalBlock: Number(match[1]), physicalBlock: Number(match[2]), blocks: Number(match[3]), flags: match[4]!.split(',') });
  }
  return extents;
}

/**
 * Corrupts the data block of `file` that holds byte `offset`, on disk, behind
 * btrfs's back: the block's checksum no longer matches, so the next direct
 * read of it fails with EIO (a buffered read too, once the page cache no
 * longer holds it). The file system stays mounted. Only btrfs checksums data;
 * on ext4 or xfs, flipBytes(fs.device, ...) makes silent corruption instead.
 */
export async function corruptFileBlock(fileSystem: FileSystem, file: string, offset: number): Promise<void> {
  const target = kitFileSystem(fileSystem, 'btrfsFs');
  checkString('file', file);
  checkPosition('offset', offset);
  if (target.type !== 'btrfs' || !target.device) {
    throw testkitError(
      TestkitCodes.unsupported,
      `corruptFileBlock needs a btrfs file system, whose data checksums turn corruption into EIO; this one is ${target.type}. ` +
        'For silent corruption on any file system, use flipBytes on its device',
    );
  }
  const absolute = path.resolve(target.mountPoint, file);
  const relative = path.relative(target.mountPoint, absolute);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw Object.assign(new RangeError(`The "file" argument must be inside ${target.mountPoint}. Received '${file}'`), { code: 'ERR_OUT_OF_RANGE' });
  }
  const stat = fs.statSync(absolute);
  if (offset >= stat.size) {
    throw Object.assign(new RangeError(`The "offset" argument is past the end of '${absolute}' (${stat.size} bytes). Received ${offset}`), { code: 'ERR_OUT_OF_RANGE' });
  }
  requireTool('btrfs-map-logical');
  const blockSize = stat.blksize;
  const block = Math.floor(offset / blockSize);
  // Commit the transaction, so the extent and its checksum are on disk where the tools look.
  run('sync', ['-f', absolute]);
  const extent = extentsOf(absolute, blockSize).find((candidate) => block >= candidate.logicalBlock && block < candidate.logicalBlock + candidate.blocks);
  const refusal = extent
    ? extent.flags.includes('inline')
      ? 'its data lives inline in the metadata (files smaller than about 2 KiB): write more'
      : extent.flags.includes('encoded')
        ? 'its extent is compressed'
        : extent.flags.some((flag) => flag === 'unwritten' || flag === 'delalloc' || flag === 'unknown_loc')
          ? 'that block has no data on disk (preallocated or not yet written)'
          : undefined
    : 'that block is a hole';
  if (refusal) throw testkitError(TestkitCodes.unsupported, `corruptFileBlock cannot corrupt byte ${offset} of '${absolute}': ${refusal}`);
  const logical = (extent!.physicalBlock + block - extent!.logicalBlock) * blockSize;
  const device = target.device.path;
  // btrfs writes around the block device's page cache: drop it so the tool reads what btrfs wrote.
  run('blockdev', ['--flushbufs', device]);
  const mapped = /physical (\d+) device (\S+)/.exec(run('btrfs-map-logical', ['-l', String(logical), '-b', String(blockSize), device]));
  if (!mapped || mapped[2] !== device) {
    throw testkitError(TestkitCodes.failed, `btrfs-map-logical did not place logical address ${logical} of '${absolute}' on ${device}`);
  }
  // In the backing file, since btrfs holds the device itself exclusively.
  await flipBytes(target.device.backing, Number(mapped[1]) + blockSize / 2 - 32, 64);
}
