// Opening a log: create its header or check the one there and recover the
// records; a writer first takes the log's lock, and last durably starts a new
// session before its first append, so that nothing the previous writer left
// half-written can ever be chained onto what this one writes.
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allocAligned } from '../buffers';
import { LibraryCodes, fromNodeError, libraryError } from '../errors';
import type { AioFile } from '../file';
import { GroupCommitter } from './group-commit';
import { AioLog } from './log';
import { alignUp } from '../align';
import { type LogHeader, decodeHeader, encodeHeader, frameBytes, headerBytes, minDataStart } from './format';
import { resolveLogOptions } from './options';
import { Preallocator } from './preallocator';
import { recoverLog } from './recovery';
import { type WriterLock, takeWriterLock } from './writer-lock';

interface FileOpener {
  openLogFile(path: string, options: { write: boolean; create: boolean; direct: boolean; mode: number }): Promise<AioFile>;
}

export async function openLog(ring: FileOpener, logPath: string, options: unknown, onClosed: (log: AioLog) => void): Promise<AioLog> {
  const opts = resolveLogOptions(options);
  const file = await ring.openLogFile(logPath, { write: !opts.readOnly, create: opts.create, direct: opts.direct, mode: opts.mode });
  let lock: WriterLock | undefined;
  try {
    // Before the header is read: recovery must see a file no other writer is changing.
    if (!opts.readOnly) lock = await takeWriterLock(file);
    const unit = opts.direct ? file.info.offsetAlign : 1;
    const memAlign = Math.max(file.info.memAlign, 4096);
    // The largest write this writer can make: a partial block, a group or one record alone, and padding.
    const maxWriteBytes = alignUp(Math.max(opts.maxGroupBytes, frameBytes + opts.maxRecordBytes), unit) + 2 * unit;
    const headerBlock = allocAligned(Math.max(unit, 4096), memAlign);
    const size = file.info.size;
    const read = size === 0 ? 0 : await file.read(headerBlock.subarray(0, alignUp(headerBytes, unit)), 0);
    // A writer that died between creating the file and writing its header leaves it empty (or a zero block).
    const blank = read === 0 || (size <= minDataStart && headerBlock.subarray(0, headerBytes).every((byte) => byte === 0));
    let header: LogHeader;
    if (blank) {
      if (!opts.create) {
        throw libraryError(LibraryCodes.logCorrupt, 'the file is empty, not a log; open it with create: true to make one', { op: 'openLog', path: logPath });
      }
      header = { fileId: randomInt(1, 2 ** 32 - 1), session: 1, firstLsn: 1n, dataStart: Math.max(minDataStart, unit), maxWriteBytes };
      await writeHeader(file, header, headerBlock, unit);
      await syncDirectory(logPath);
    } else {
      const decoded = decodeHeader(headerBlock);
      if (typeof decoded === 'string') {
        throw libraryError(LibraryCodes.logCorrupt, `the file is not a log this library can open: ${decoded}`, { op: 'openLog', path: logPath });
      }
      header = decoded;
    }
    const fileSize = blank ? header.dataStart : size;
    const recovered = await recoverLog(file, header, fileSize, unit, memAlign);
    if (opts.readOnly) {
      return new AioLog(file, header, opts, recovered.recovery, unit, memAlign, undefined, undefined, { end: recovered.end, marks: recovered.marks }, onClosed, undefined);
    }
    if (!blank) {
      header.session = Math.max(header.session, recovered.lastSession) + 1;
      header.maxWriteBytes = Math.max(header.maxWriteBytes, maxWriteBytes);
      await writeHeader(file, header, headerBlock, unit);
    }
    const space = new Preallocator(file, opts.preallocateBytes, opts.zeroFill, unit, memAlign, fileSize);
    const bumpSession = async () => {
      header.session++;
      await writeHeader(file, header, headerBlock, unit);
    };
    const committer = new GroupCommitter(file, header, opts, space, unit, memAlign, bumpSession, {
      end: recovered.end,
      nextLsn: recovered.recovery.endLsn + 1n,
      tail: recovered.tail,
      marks: recovered.marks,
    });
    space.ahead(recovered.end);
    return new AioLog(file, header, opts, recovered.recovery, unit, memAlign, committer, space, { end: recovered.end, marks: recovered.marks }, onClosed, lock);
  } catch (error) {
    lock?.release();
    await file.close().catch(() => undefined);
    throw error;
  }
}

// The header sits alone in the log's first block: rewriting it is one
// single-sector write, whole or not at all.
async function writeHeader(file: AioFile, header: LogHeader, block: Buffer, unit: number): Promise<void> {
  encodeHeader(header, block);
  const length = Math.min(block.length, Math.max(unit, headerBytes));
  await file.write(block.subarray(0, alignUp(length, unit)), 0, { dsync: true });
}

// A new file is durable only once its directory entry is.
async function syncDirectory(logPath: string): Promise<void> {
  let directory: fs.promises.FileHandle | undefined;
  try {
    directory = await fs.promises.open(path.dirname(logPath), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    await directory.sync();
  } catch (error) {
    throw fromNodeError(error as NodeJS.ErrnoException, { op: 'openLog', path: path.dirname(logPath) });
  } finally {
    await directory?.close();
  }
}
