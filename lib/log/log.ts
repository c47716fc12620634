// The log object ring.openLog resolves to: append, read, close, and what
// recovery found when it was opened.
import { LibraryCodes, closedError, libraryError, outOfRange } from '../errors';
import type { AioFile } from '../file';
import { abortedAlready, checkSignal, checkTimeoutMs } from '../cancellation';
import type { LogAppendOptions, LogReadOptions } from '../types';
import { optionKeys } from '../option-keys';
import { checkOptions, checkView, describe, maxTransferBytes } from '../validate';
import { FileWindow } from './window';
import { type LogHeader, decodeFrame, frameBytes, frameChecksum } from './format';
import type { GroupCommitter } from './group-commit';
import type { WriterLock } from './writer-lock';
import type { ResolvedLogOptions } from './options';
import type { Preallocator } from './preallocator';
import type { LogMark, LogRecovery } from './recovery';

export interface LogRecord {
  lsn: bigint;
  data: Buffer;
}

export interface LogStats {
  /** Groups written since the log was opened. */
  groups: number;
  /** Records made durable since the log was opened. */
  records: number;
}

const readChunkBytes = 1024 * 1024;

export class AioLog {
  readonly path: string;
  /** What opening the log found: intact records, the last LSN, and any discarded tail. */
  readonly recovery: LogRecovery;
  readonly readOnly: boolean;
  /** Groups are written in whole blocks of this many bytes (the file's direct-I/O alignment; 1 without O_DIRECT). */
  readonly blockSize: number;
  private closing: Promise<void> | undefined;

  /** @internal logs are made by ring.openLog */
  constructor(
    private readonly file: AioFile,
    private readonly header: LogHeader,
    private readonly options: ResolvedLogOptions,
    recovery: LogRecovery,
    private readonly unit: number,
    private readonly memAlign: number,
    private readonly committer: GroupCommitter | undefined,
    private readonly space: Preallocator | undefined,
    private readonly readOnlyState: { end: number; marks: LogMark[] },
    private readonly onClosed: (log: AioLog) => void,
    private readonly lock: WriterLock | undefined,
  ) {
    this.path = file.path;
    this.recovery = recovery;
    this.readOnly = committer === undefined;
    this.blockSize = unit;
  }

  /** The LSN of the last durable record (the first LSN - 1 while there is none). */
  get lastLsn(): bigint {
    return this.committer ? this.committer.nextLsn - 1n : this.recovery.endLsn;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  stats(): LogStats {
    return this.committer ? { ...this.committer.stats } : { groups: 0, records: 0 };
  }

  /**
   * Appends one record; resolves with its LSN once the record is durable.
   * Records are durable, and acknowledged, in LSN order. `signal` and
   * `timeoutMs` cancel it: a record still queued is never written; one whose
   * group is being written may still become durable (see README "Log").
   */
  append(data: ArrayBufferView, options?: LogAppendOptions): Promise<bigint> {
    let signal: AbortSignal | undefined;
    let timeoutMs = 0;
    try {
      checkView('data', data);
      if (options !== undefined) {
        const opts = checkOptions('options', options, optionKeys.logAppend);
        signal = checkSignal('signal', opts.signal);
        timeoutMs = checkTimeoutMs('timeoutMs', opts.timeoutMs);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const limit = Math.min(this.options.maxRecordBytes, maxTransferBytes);
    if (data.byteLength === 0 || data.byteLength > limit) {
      return Promise.reject(outOfRange(`The "data" argument is ${data.byteLength} bytes; a record is 1 to ${limit} bytes (the log's maxRecordBytes)`));
    }
    if (this.closing) return Promise.reject(closedError('log', { op: 'append', path: this.path }));
    if (!this.committer) {
      return Promise.reject(
        libraryError(LibraryCodes.logReadOnly, 'the log was opened with readOnly: true; appending needs a writable log', {
          op: 'append',
          path: this.path,
        }),
      );
    }
    const aborted = abortedAlready(signal, { op: 'append', path: this.path });
    if (aborted) return Promise.reject(aborted);
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return this.committer.append(bytes, signal, timeoutMs);
  }

  /**
   * The durable records from `from` on, in LSN order. Records made durable
   * while the iteration runs are included; it ends at the durable end it
   * reaches. Every record's checksum is checked again as it is read.
   */
  read(options?: LogReadOptions): AsyncIterableIterator<LogRecord> {
    const from = readFrom(options, this.header.firstLsn);
    return this.records(from);
  }

  /**
   * Waits for every append already made to settle, releases the writer's lock
   * and closes the file. Later appends reject with ERR_AIO_CLOSED.
   */
  close(): Promise<void> {
    this.closing ??= this.closeWhenDrained();
    return this.closing;
  }

  private async closeWhenDrained(): Promise<void> {
    try {
      if (this.committer) await this.committer.drain();
      if (this.space) await this.space.settled();
      this.lock?.release();
      await this.file.close();
    } finally {
      this.lock?.release();
      this.onClosed(this);
    }
  }

  private durableEnd(): number {
    return this.committer ? this.committer.end : this.readOnlyState.end;
  }

  private startingPoint(from: bigint): LogMark {
    const marks = this.committer ? this.committer.marks : this.readOnlyState.marks;
    let low = 0;
    let high = marks.length - 1;
    let best: LogMark = { position: this.header.dataStart, lsn: this.header.firstLsn };
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (marks[middle]!.lsn <= from) {
        best = marks[middle]!;
        low = middle + 1;
      } else high = middle - 1;
    }
    return best;
  }

  private async *records(from: bigint): AsyncIterableIterator<LogRecord> {
    let { position, lsn } = this.startingPoint(from);
    const window = new FileWindow(this.file, this.durableEnd(), this.unit, readChunkBytes, this.memAlign);
    for (;;) {
      window.limit = this.durableEnd();
      const frame = await window.bytes(position, frameBytes);
      if (frame === null) return;
      const fields = decodeFrame(frame);
      const frameCopy = Buffer.from(frame);
      const data = fields.lsn === lsn ? await window.bytes(position + frameBytes, fields.length) : null;
      if (data === null || frameChecksum(this.header.fileId, frameCopy, data) !== fields.crc) {
        throw libraryError(LibraryCodes.logCorrupt, `the record with LSN ${lsn} no longer reads back intact (the file changed after recovery)`, {
          op: 'read',
          path: this.path,
          position,
        });
      }
      position += frameBytes + fields.length;
      if (lsn++ >= from) yield { lsn: lsn - 1n, data: Buffer.from(data) };
    }
  }
}

function readFrom(options: LogReadOptions | undefined, firstLsn: bigint): bigint {
  const from = checkOptions('options', options, optionKeys.logRead).from;
  if (from === undefined) return firstLsn;
  if (typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) return BigInt(from);
  if (typeof from === 'bigint' && from >= 0n) return from;
  throw outOfRange(`The "from" option must be a non-negative LSN (bigint or safe integer). Received ${describe(from)}`);
}
