// Recovery: walk the records from the first, accept each while its frame is
// whole, its checksum matches and its LSN and session follow on, and stop at
// the first that does not. Whatever non-zero bytes lie past that point were
// never acknowledged whole (a torn last write, a failed write) or are damage;
// they are reported and later overwritten, never returned.
import type { AioFile } from '../file';
import { FileWindow } from './window';
import { type FrameFault, type LogHeader, decodeFrame, frameBytes, frameChecksum, maxRecordLimit } from './format';

export interface DiscardedTail {
  /** Bytes from the end of the last intact record through the last non-zero byte that can belong to the log. */
  bytes: number;
  /** Why the record at `position` was not taken: 'checksum', 'length', 'sequence' or 'truncated'. */
  reason: FrameFault;
  /** File offset where recovery stopped: the end of the last intact record. */
  position: number;
}

export interface LogRecovery {
  /** Intact records found. */
  records: number;
  /** The LSN of the last intact record (firstLsn - 1 when there is none); the next append gets endLsn + 1. */
  endLsn: bigint;
  /** null when the log ends cleanly. */
  discarded: DiscardedTail | null;
}

/** A record's position, kept every `markSpacing` bytes so a read can start near any LSN. */
export interface LogMark {
  position: number;
  lsn: bigint;
}
export const markSpacing = 1024 * 1024;

export interface RecoveredLog {
  recovery: LogRecovery;
  /** Offset just past the last intact record. */
  end: number;
  /** The session of the last intact record (0 when there is none). */
  lastSession: number;
  marks: LogMark[];
  /** The bytes of the block holding `end`, up to `end`: a partial tail block the next write rewrites unchanged. */
  tail: Buffer;
}

const scanChunkBytes = 1024 * 1024;

export async function recoverLog(file: AioFile, header: LogHeader, fileSize: number, unit: number, memAlign: number): Promise<RecoveredLog> {
  const window = new FileWindow(file, fileSize, unit, scanChunkBytes, memAlign);
  const marks: LogMark[] = [];
  let position = header.dataStart;
  let lsn = header.firstLsn;
  let session = 0;
  let records = 0;
  let fault: FrameFault | undefined;
  for (;;) {
    const frame = await window.bytes(position, frameBytes);
    if (frame === null) {
      if (position < fileSize) fault = 'truncated';
      break;
    }
    const fields = decodeFrame(frame);
    if (fields.crc === 0 && fields.length === 0 && fields.lsn === 0n && fields.session === 0) break;
    if (fields.length === 0 || fields.length > maxRecordLimit) {
      fault = 'length';
      break;
    }
    if (fields.lsn !== lsn || fields.session < session || fields.session > header.session) {
      fault = 'sequence';
      break;
    }
    const frameCopy = Buffer.from(frame);
    const data = await window.bytes(position + frameBytes, fields.length);
    if (data === null) {
      fault = 'truncated';
      break;
    }
    if (frameChecksum(header.fileId, frameCopy, data) !== fields.crc) {
      fault = 'checksum';
      break;
    }
    if (marks.length === 0 || position - marks[marks.length - 1]!.position >= markSpacing) marks.push({ position, lsn });
    session = fields.session;
    position += frameBytes + fields.length;
    lsn++;
    records++;
  }
  const tailStart = position - (position % unit);
  const tail = Buffer.from((await window.bytes(tailStart, position - tailStart)) ?? Buffer.alloc(0));
  const strayEnd = await lastStrayByte(window, position, fileSize, header.maxWriteBytes);
  const discarded = strayEnd > position ? { bytes: strayEnd - position, reason: fault ?? 'length', position } : null;
  return { recovery: { records, endLsn: lsn - 1n, discarded }, end: position, lastSession: session, marks, tail };
}

/**
 * The offset just past the last non-zero byte at or after `from`, looking on
 * while a write could still have reached: no single write is longer than
 * `maxWriteBytes`, so a zero run that long ends the search.
 */
async function lastStrayByte(window: FileWindow, from: number, fileSize: number, maxWriteBytes: number): Promise<number> {
  let lastEnd = from;
  let position = from;
  while (position < fileSize && position < lastEnd + maxWriteBytes + scanChunkBytes) {
    const length = Math.min(scanChunkBytes - (position % scanChunkBytes), fileSize - position);
    const bytes = await window.bytes(position, length);
    if (bytes === null) break;
    const end = nonZeroEnd(bytes);
    if (end > 0) lastEnd = position + end;
    position += length;
  }
  return lastEnd;
}

const zeroPage = Buffer.alloc(4096);

function nonZeroEnd(bytes: Buffer): number {
  for (let pageEnd = bytes.length; pageEnd > 0; ) {
    const pageStart = Math.max(0, pageEnd - zeroPage.length);
    const page = bytes.subarray(pageStart, pageEnd);
    if (!page.equals(zeroPage.subarray(0, page.length))) {
      let end = page.length;
      while (page[end - 1] === 0) end--;
      return pageStart + end;
    }
    pageEnd = pageStart;
  }
  return 0;
}
