// The log's bytes on disk: a header in the first block, then records packed
// back to back. Every record carries the log's identity, its writer's session
// and its LSN inside its checksum, so bytes left over from another file, an
// earlier incarnation of this one or a write that failed are never taken for
// records.
import { crc32c } from '../checksums';
import { native } from '../native';

export const magic = Buffer.from('AIORLOG\n', 'latin1');
export const formatVersion = 1;
/** Bytes of the header that mean anything; the rest of its block is zero. */
export const headerBytes = 64;
/** Records start at or after this offset (one page), whatever the device's block size. */
export const minDataStart = 4096;

export interface LogHeader {
  /** Random at creation: the seed of every record's checksum. */
  fileId: number;
  /** Bumped (durably) each time a writer opens the log or recovers from a failed write. */
  session: number;
  /** The LSN of the first record. */
  firstLsn: bigint;
  /** The offset of the first record. */
  dataStart: number;
  /** The largest write any writer of this log may have made: how far past the end stray bytes can lie. */
  maxWriteBytes: number;
}

// Header layout (little-endian):
//   0  magic (8)   8 version u32   12 crc32c of bytes 16..64 u32
//  16 fileId u32  20 session u32   24 firstLsn u64   32 dataStart u32   36 maxWriteBytes u32
export function encodeHeader(header: LogHeader, block: Buffer): void {
  block.fill(0, 0, headerBytes);
  magic.copy(block, 0);
  block.writeUInt32LE(formatVersion, 8);
  block.writeUInt32LE(header.fileId, 16);
  block.writeUInt32LE(header.session, 20);
  block.writeBigUInt64LE(header.firstLsn, 24);
  block.writeUInt32LE(header.dataStart, 32);
  block.writeUInt32LE(header.maxWriteBytes, 36);
  block.writeUInt32LE(crc32c(block.subarray(16, headerBytes)), 12);
}

/** The header, or why these bytes are not one. */
export function decodeHeader(block: Buffer): LogHeader | string {
  if (block.length < headerBytes || !block.subarray(0, 8).equals(magic)) return 'it does not start with the log magic';
  const version = block.readUInt32LE(8);
  if (version !== formatVersion) return `its format version is ${version}; this library reads version ${formatVersion}`;
  if (block.readUInt32LE(12) !== crc32c(block.subarray(16, headerBytes))) return "its header's checksum does not match";
  const header: LogHeader = {
    fileId: block.readUInt32LE(16),
    session: block.readUInt32LE(20),
    firstLsn: block.readBigUInt64LE(24),
    dataStart: block.readUInt32LE(32),
    maxWriteBytes: block.readUInt32LE(36),
  };
  if (header.dataStart < minDataStart || header.dataStart % 512 !== 0) return `its data start (${header.dataStart}) is not a valid offset`;
  return header;
}

// Record frame (little-endian), followed by `length` bytes of data:
//   0 crc32c u32 (of bytes 4..20 and the data, seeded with the fileId)
//   4 length u32   8 lsn u64   16 session u32
export const frameBytes = 20;
/** No record is longer than this, whatever the options: a longer length field is damage. */
export const maxRecordLimit = 256 * 1024 * 1024;

export function frameChecksum(fileId: number, frame: Buffer, data: Uint8Array): number {
  return crc32c(data, crc32c(frame.subarray(4, frameBytes), fileId));
}

/**
 * Fills in the frames of `count` records laid back to back from `start` in
 * `group`, each frame's length field and data already in place: their LSNs
 * (from `firstLsn`), session and checksums, in one native call. Returns the
 * offset just past the last record.
 */
export function frameRecords(group: Buffer, start: number, count: number, fileId: number, session: number, firstLsn: bigint): number {
  const end = native.frameLogRecords(group, start, count, fileId, session, Number(firstLsn & 0xffff_ffffn), Number(firstLsn >> 32n));
  if (end === 0) throw new Error(`log group framing ran past its buffer (${count} records from offset ${start})`);
  return end;
}

export type FrameFault = 'length' | 'sequence' | 'checksum' | 'truncated';

export interface FrameFields {
  crc: number;
  length: number;
  lsn: bigint;
  session: number;
}

export function decodeFrame(frame: Buffer): FrameFields {
  return { crc: frame.readUInt32LE(0), length: frame.readUInt32LE(4), lsn: frame.readBigUInt64LE(8), session: frame.readUInt32LE(16) };
}
