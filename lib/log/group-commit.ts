// Group commit, pipelined: one group is written at a time, and the appends
// that arrive while it is being written queue up as the next group, which is
// written the moment the previous one is durable. A group is one write
// starting at the block that holds the log's end: that block's acknowledged
// bytes (kept in memory) are rewritten unchanged, then the group's records,
// then zeros to the next block boundary.
import { allocAligned } from '../buffers';
import { AioError, LibraryCodes, libraryError, systemError } from '../errors';
import type { AioFile } from '../file';
import { type LogHeader, alignDown, alignUp, encodeRecord, frameBytes } from './format';
import type { ResolvedLogOptions } from './options';
import type { Preallocator } from './preallocator';
import { type LogMark, markSpacing } from './recovery';

interface PendingAppend {
  data: Uint8Array;
  resolve: (lsn: bigint) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitState {
  end: number;
  nextLsn: bigint;
  tail: Buffer;
  marks: LogMark[];
}

export interface GroupCommitStats {
  /** Groups written (successfully or not). */
  groups: number;
  /** Records made durable. */
  records: number;
}

export class GroupCommitter {
  /** Offset just past the last durable record. */
  end: number;
  /** The LSN the next record gets. */
  nextLsn: bigint;
  readonly marks: LogMark[];
  readonly stats: GroupCommitStats = { groups: 0, records: 0 };
  private readonly queue: PendingAppend[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private writing = false;
  private scheduled = false;
  private waitStarted = 0n;
  private buffer: Buffer;
  private failure: AioError | undefined;
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly file: AioFile,
    private readonly header: LogHeader,
    private readonly options: ResolvedLogOptions,
    private readonly space: Preallocator,
    private readonly unit: number,
    private readonly memAlign: number,
    /** Durably records a new session in the header after a failed write. */
    private readonly bumpSession: () => Promise<void>,
    state: GroupCommitState,
  ) {
    this.end = state.end;
    this.nextLsn = state.nextLsn;
    this.marks = state.marks;
    this.buffer = allocAligned(alignUp(options.maxGroupBytes, unit) + 2 * Math.max(unit, 4096), memAlign);
    state.tail.copy(this.buffer, 0);
  }

  /** Queues a record (already checked and copied); resolves with its LSN once it is durable. */
  append(data: Uint8Array): Promise<bigint> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      this.queuedBytes += frameBytes + data.byteLength;
      this.schedule();
    });
  }

  /** Resolves once every queued append has settled. */
  drain(): Promise<void> {
    if (!this.writing && this.queued() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private queued(): number {
    return this.queue.length - this.queueHead;
  }

  // Only an idle log waits maxGroupWaitUs for company: appends that queued
  // while a group was being written have waited for that write already, and go
  // out the moment it is durable (queuedDuringWrite).
  private schedule(queuedDuringWrite = false): void {
    if (this.writing || this.scheduled || this.queued() === 0) return;
    this.scheduled = true;
    // setImmediate rather than a microtask: the appends that the previous
    // group's acknowledgements set off (their awaits resume as microtasks) join this group.
    if (queuedDuringWrite || this.options.maxGroupWaitUs === 0 || this.queuedBytes >= this.options.maxGroupBytes) {
      setImmediate(() => this.writeGroup());
    } else {
      this.waitStarted = process.hrtime.bigint();
      this.waitForMore();
    }
  }

  private waitForMore(): void {
    const waitedUs = Number((process.hrtime.bigint() - this.waitStarted) / 1000n);
    const leftUs = this.options.maxGroupWaitUs - waitedUs;
    if (leftUs <= 0 || this.queuedBytes >= this.options.maxGroupBytes) setImmediate(() => this.writeGroup());
    else if (leftUs >= 1000) setTimeout(() => this.waitForMore(), Math.floor(leftUs / 1000));
    else setImmediate(() => this.waitForMore());
  }

  private takeGroup(): PendingAppend[] {
    const group: PendingAppend[] = [];
    let bytes = 0;
    while (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead]!;
      const size = frameBytes + next.data.byteLength;
      if (group.length > 0 && bytes + size > this.options.maxGroupBytes) break;
      group.push(next);
      bytes += size;
      this.queueHead++;
    }
    this.queuedBytes -= bytes;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return group;
  }

  private async writeGroup(): Promise<void> {
    this.scheduled = false;
    if (this.writing || this.queued() === 0) return;
    this.writing = true;
    const group = this.takeGroup();
    const position = alignDown(this.end, this.unit);
    const tailBytes = this.end - position;
    let groupBytes = 0;
    for (const record of group) groupBytes += frameBytes + record.data.byteLength;
    const newEnd = this.end + groupBytes;
    const length = alignUp(newEnd, this.unit) - position;
    if (length > this.buffer.length) {
      const larger = allocAligned(length, this.memAlign);
      this.buffer.copy(larger, 0, 0, tailBytes);
      this.buffer = larger;
    }
    let at = tailBytes;
    const firstLsn = Number(this.nextLsn);
    let lsn = firstLsn;
    for (const record of group) at = encodeRecord(this.buffer, at, this.header.fileId, this.header.session, lsn++, record.data);
    this.buffer.fill(0, at, length);

    try {
      await this.space.ensure(position + length);
      await this.writeDurably(this.buffer.subarray(0, length), position);
    } catch (error) {
      await this.groupFailed(group, error, position, tailBytes);
      return;
    }
    this.stats.groups++;
    this.stats.records += group.length;
    const last = this.marks[this.marks.length - 1];
    if (!last || this.end - last.position >= markSpacing) this.marks.push({ position: this.end, lsn: this.nextLsn });
    this.space.written(position + length);
    this.end = newEnd;
    const newTailStart = alignDown(newEnd, this.unit) - position;
    this.buffer.copy(this.buffer, 0, newTailStart, newEnd - position);
    this.nextLsn = BigInt(lsn);
    let acknowledged = firstLsn;
    for (const record of group) record.resolve(BigInt(acknowledged++));
    this.space.ahead(this.end);
    this.finishGroup();
  }

  // The whole buffer, durably: a short write (the kernel stops at a full file
  // system) goes on from where it stopped, so the error of what could not be
  // written is the one reported.
  private async writeDurably(bytes: Buffer, position: number): Promise<void> {
    const dsync = this.options.durability === 'dsync';
    for (let done = 0; done < bytes.length; ) {
      const written = await this.file.write(bytes.subarray(done), position + done, { dsync });
      if (written === 0) throw systemError(5, 'pwrite', { op: 'write', path: this.file.path, position: position + done, length: bytes.length - done });
      done += written;
    }
    if (!dsync) await this.file.datasync();
  }

  // What a failed write left past the end is unknown, and some of its records
  // may have reached the disk whole. Those are made unreachable at once: the
  // block holding the end is rewritten with its acknowledged bytes and zeros
  // after them. And the next group rewrites from the same place with the same
  // LSNs, so a new session number first goes to the header: recovery then
  // refuses the old session's stray records that may follow the new ones.
  private async groupFailed(group: PendingAppend[], error: unknown, position: number, tailBytes: number): Promise<void> {
    this.stats.groups++;
    for (const record of group) record.reject(error);
    try {
      await this.cutAfterEnd(position, tailBytes);
      await this.bumpSession();
    } catch (cleanupError) {
      this.failure = libraryError(
        LibraryCodes.logFailed,
        `the log cannot be written any more: a group write failed (${errorCode(error)}) and so did making its remains unreachable (${errorCode(cleanupError)}); reopen it to recover`,
        { op: 'append', path: this.file.path },
      );
      while (this.queued() > 0) for (const record of this.takeGroup()) record.reject(this.failure);
    }
    this.finishGroup();
  }

  private async cutAfterEnd(position: number, tailBytes: number): Promise<void> {
    const length = alignUp(tailBytes + frameBytes, this.unit);
    this.buffer.fill(0, tailBytes, length);
    try {
      await this.writeDurably(this.buffer.subarray(0, length), position);
    } catch (error) {
      // A block never allocated cannot be rewritten on a full file system, but then it holds nothing to cut off.
      const check = allocAligned(length, this.memAlign);
      const read = await this.file.read(check, position);
      if (!check.subarray(tailBytes, read).every((byte) => byte === 0)) throw error;
    }
  }

  private finishGroup(): void {
    this.writing = false;
    if (this.queued() > 0) this.schedule(true);
    else for (const resolve of this.idle.splice(0)) resolve();
  }
}

// The error's code (ENOSPC, EIO, ...), or its text when it has none.
function errorCode(error: unknown): string {
  return (error as { code?: string })?.code ?? String(error);
}
