// Group commit, pipelined: one group is written at a time, and the appends
// that arrive while it is being written queue up as the next group, which is
// written the moment the previous one is durable. A queued record waits in a
// staging buffer already laid out as its frame (length and data), so a group
// is one copy into the write buffer and one native call that fills in every
// frame's LSN, session and checksum. A group is one write
// starting at the block that holds the log's end: that block's acknowledged
// bytes (kept in memory) are rewritten unchanged, then the group's records,
// then zeros to the next block boundary.
import { allocAligned } from '../buffers';
import { CancelGuard } from '../cancellation';
import { AioError, LibraryCodes, libraryError, systemError } from '../errors';
import type { AioFile } from '../file';
import { alignDown, alignUp } from '../align';
import { type LogHeader, frameBytes, frameRecords } from './format';
import type { ResolvedLogOptions } from './options';
import type { Preallocator } from './preallocator';
import { type LogMark, markSpacing } from './recovery';

type Acknowledge = (lsn: bigint) => void;
type Refuse = (error: unknown) => void;

/** The appends of one group, in LSN order. */
interface TakenGroup {
  count: number;
  bytes: number;
  acknowledge: Acknowledge[];
  refuse: Refuse[];
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
  // The queue: parallel arrays from queueHead on, and the frames' bytes in
  // staging[stagedHead, stagedEnd).
  private acknowledge: Acknowledge[] = [];
  private refuse: Refuse[] = [];
  private frameSizes: number[] = [];
  private queueHead = 0;
  private staging: Buffer = Buffer.allocUnsafeSlow(64 * 1024);
  private stagingView = new DataView(this.staging.buffer, this.staging.byteOffset, this.staging.byteLength);
  private stagedHead = 0;
  private stagedEnd = 0;
  private writing = false;
  private scheduled = false;
  private scheduledWrite: NodeJS.Immediate | undefined;
  // Appenders the last group acknowledged that have not appended again yet.
  private awaitedReturns = 0;
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

  /**
   * Queues a record (already checked), copying it, so its buffer may be reused
   * at once; resolves with its LSN once it is durable. A signal or deadline
   * that fires while the record is still queued removes it unwritten; once its
   * group is being written the append rejects at once, but the write goes on.
   */
  append(data: Uint8Array, signal: AbortSignal | undefined, timeoutMs: number): Promise<bigint> {
    if (this.failure) return Promise.reject(this.failure);
    const size = frameBytes + data.byteLength;
    if (this.stagedEnd + size > this.staging.length) this.makeRoom(size);
    const at = this.stagedEnd;
    this.stagingView.setUint32(at + 4, data.byteLength, true);
    this.staging.set(data, at + frameBytes);
    this.stagedEnd = at + size;
    this.frameSizes.push(size);
    const acknowledged =
      signal === undefined && timeoutMs === 0 ? new Promise<bigint>(this.enqueue) : this.enqueueCancellable(signal, timeoutMs);
    this.schedule();
    return acknowledged;
  }

  // One executor for every append's promise, rather than a closure each.
  private readonly enqueue = (acknowledge: Acknowledge, refuse: Refuse): void => {
    this.acknowledge.push(acknowledge);
    this.refuse.push(refuse);
  };

  private enqueueCancellable(signal: AbortSignal | undefined, timeoutMs: number): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      let guard: CancelGuard | undefined;
      const acknowledge = (lsn: bigint) => {
        guard?.dispose();
        resolve(lsn);
      };
      const refuse = (error: unknown) => {
        guard?.dispose();
        reject(error);
      };
      this.enqueue(acknowledge, refuse);
      guard = CancelGuard.arm(signal, timeoutMs, { op: 'append', path: this.file.path }, (error) => {
        if (!this.withdraw(acknowledge)) error.message += inFlightNote;
        reject(error);
      });
    });
  }

  // Takes a record that has not joined a group out of the queue and its bytes
  // out of staging; false if it has joined one (or settled) already. LSNs are
  // given when a group is written, so the records after it keep them dense.
  private withdraw(acknowledge: Acknowledge): boolean {
    const index = this.acknowledge.indexOf(acknowledge, this.queueHead);
    if (index < 0) return false;
    let offset = this.stagedHead;
    for (let i = this.queueHead; i < index; i++) offset += this.frameSizes[i]!;
    const size = this.frameSizes[index]!;
    this.staging.copyWithin(offset, offset + size, this.stagedEnd);
    this.stagedEnd -= size;
    this.acknowledge.splice(index, 1);
    this.refuse.splice(index, 1);
    this.frameSizes.splice(index, 1);
    if (this.queued() === 0) {
      this.acknowledge.length = this.refuse.length = this.frameSizes.length = this.queueHead = 0;
      this.stagedHead = this.stagedEnd = 0;
      if (!this.writing) this.releaseIdle();
    }
    return true;
  }

  private makeRoom(size: number): void {
    const live = this.stagedEnd - this.stagedHead;
    if (live + size > this.staging.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(2 * this.staging.length, live + size));
      this.staging.copy(larger, 0, this.stagedHead, this.stagedEnd);
      this.staging = larger;
      this.stagingView = new DataView(larger.buffer, larger.byteOffset, larger.byteLength);
    } else {
      this.staging.copyWithin(0, this.stagedHead, this.stagedEnd);
    }
    this.stagedHead = 0;
    this.stagedEnd = live;
  }

  /** Resolves once every queued append has settled. */
  drain(): Promise<void> {
    if (!this.writing && this.queued() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private queued(): number {
    return this.acknowledge.length - this.queueHead;
  }

  private queuedBytes(): number {
    return this.stagedEnd - this.stagedHead;
  }

  // Only an idle log waits maxGroupWaitUs for company: appends that queued
  // while a group was being written have waited for that write already, and go
  // out the moment it is durable (queuedDuringWrite).
  private schedule(queuedDuringWrite = false): void {
    if (this.writing || this.queued() === 0) return;
    if (this.scheduled) {
      this.writeIfAllReturned();
      return;
    }
    this.scheduled = true;
    // setImmediate rather than a microtask: the appends that the previous
    // group's acknowledgements set off (their awaits resume as microtasks) join this group.
    if (queuedDuringWrite || this.options.maxGroupWaitUs === 0 || this.queuedBytes() >= this.options.maxGroupBytes) {
      this.scheduledWrite = setImmediate(this.writeScheduled);
      if (!queuedDuringWrite) this.writeIfAllReturned();
    } else {
      this.waitStarted = process.hrtime.bigint();
      this.waitForMore();
    }
  }

  // Once every appender the last group acknowledged has appended again, no one
  // the group is waiting for is left: it goes out now rather than a turn of the
  // event loop later, which a lone appender would pay on every record.
  private writeIfAllReturned(): void {
    if (this.awaitedReturns === 0 || --this.awaitedReturns > 0 || this.scheduledWrite === undefined) return;
    clearImmediate(this.scheduledWrite);
    this.scheduledWrite = undefined;
    queueMicrotask(this.writeScheduled);
  }

  private readonly writeScheduled = (): void => {
    void this.writeGroup();
  };

  private waitForMore(): void {
    const waitedUs = Number((process.hrtime.bigint() - this.waitStarted) / 1000n);
    const leftUs = this.options.maxGroupWaitUs - waitedUs;
    if (leftUs <= 0 || this.queuedBytes() >= this.options.maxGroupBytes) setImmediate(this.writeScheduled);
    else if (leftUs >= 1000) setTimeout(() => this.waitForMore(), Math.floor(leftUs / 1000));
    else setImmediate(() => this.waitForMore());
  }

  /** Takes the next group off the queue, moving the staging head past its frames. */
  private takeGroup(): TakenGroup {
    const head = this.queueHead;
    let count = 0;
    let bytes = 0;
    while (head + count < this.frameSizes.length) {
      const size = this.frameSizes[head + count]!;
      if (count > 0 && bytes + size > this.options.maxGroupBytes) break;
      bytes += size;
      count++;
    }
    const group: TakenGroup = {
      count,
      bytes,
      acknowledge: this.acknowledge.slice(head, head + count),
      refuse: this.refuse.slice(head, head + count),
    };
    this.queueHead = head + count;
    this.stagedHead += bytes;
    if (this.queueHead === this.frameSizes.length) {
      this.acknowledge.length = this.refuse.length = this.frameSizes.length = this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.frameSizes.length) {
      this.acknowledge.splice(0, this.queueHead);
      this.refuse.splice(0, this.queueHead);
      this.frameSizes.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return group;
  }

  private async writeGroup(): Promise<void> {
    this.scheduled = false;
    this.scheduledWrite = undefined;
    this.awaitedReturns = 0;
    if (this.writing) return;
    if (this.queued() === 0) return this.releaseIdle();
    this.writing = true;
    const position = alignDown(this.end, this.unit);
    const tailBytes = this.end - position;
    const stagedAt = this.stagedHead;
    const group = this.takeGroup();
    const newEnd = this.end + group.bytes;
    const length = alignUp(newEnd, this.unit) - position;
    if (length > this.buffer.length) {
      const larger = allocAligned(length, this.memAlign);
      this.buffer.copy(larger, 0, 0, tailBytes);
      this.buffer = larger;
    }
    this.staging.copy(this.buffer, tailBytes, stagedAt, stagedAt + group.bytes);
    if (this.stagedHead === this.stagedEnd) this.stagedHead = this.stagedEnd = 0;
    const firstLsn = this.nextLsn;
    const at = frameRecords(this.buffer, tailBytes, group.count, this.header.fileId, this.header.session, firstLsn);
    this.buffer.fill(0, at, length);

    try {
      await this.space.ensure(position + length);
      await this.writeDurably(this.buffer.subarray(0, length), position);
    } catch (error) {
      await this.groupFailed(group, error, position, tailBytes);
      return;
    }
    this.stats.groups++;
    this.stats.records += group.count;
    const last = this.marks[this.marks.length - 1];
    if (!last || this.end - last.position >= markSpacing) this.marks.push({ position: this.end, lsn: this.nextLsn });
    this.space.written(position + length);
    this.end = newEnd;
    const newTailStart = alignDown(newEnd, this.unit) - position;
    this.buffer.copy(this.buffer, 0, newTailStart, newEnd - position);
    this.nextLsn = firstLsn + BigInt(group.count);
    const acknowledge = group.acknowledge;
    let lsn = firstLsn;
    for (let i = 0; i < acknowledge.length; i++, lsn++) acknowledge[i]!(lsn);
    this.awaitedReturns = acknowledge.length;
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
  private async groupFailed(group: TakenGroup, error: unknown, position: number, tailBytes: number): Promise<void> {
    this.stats.groups++;
    for (const refuse of group.refuse) refuse(error);
    try {
      await this.cutAfterEnd(position, tailBytes);
      await this.bumpSession();
    } catch (cleanupError) {
      this.failure = libraryError(
        LibraryCodes.logFailed,
        `the log cannot be written any more: a group write failed (${errorCode(error)}) and so did making its remains unreachable (${errorCode(cleanupError)}); reopen it to recover`,
        { op: 'append', path: this.file.path },
      );
      while (this.queued() > 0) for (const refuse of this.takeGroup().refuse) refuse(this.failure);
      this.stagedHead = this.stagedEnd = 0;
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
    else this.releaseIdle();
  }

  private releaseIdle(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }
}

const inFlightNote = '; its record had already joined a group being written, so it may still become durable, with the LSN it was given';

// The error's code (ENOSPC, EIO, ...), or its text when it has none.
function errorCode(error: unknown): string {
  return (error as { code?: string })?.code ?? String(error);
}
