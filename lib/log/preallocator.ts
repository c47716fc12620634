// Keeps the file allocated ahead of the log's end in large chunks, so a group
// write lands inside the file's size and its durability commits no size change
// (and, with zero fill, no extent conversion either). Extending runs in the
// background while groups are written below the allocated end; a group that
// needs more waits for it. If extending fails (ENOSPC, or a file system that
// cannot reserve space) the group is written past the end anyway and the write
// itself reports whether the space exists.
import type { AioFile } from '../file';
import { allocAligned } from '../buffers';
import { alignUp } from '../align';

const zeroWriteBytes = 1024 * 1024;
const zeroWritesInFlight = 4;

export class Preallocator {
  private extending: Promise<void> | undefined;
  private zeros: Buffer | undefined;
  private chunkBytes: number;

  constructor(
    private readonly file: AioFile,
    chunkBytes: number,
    private readonly zeroFill: boolean,
    private readonly unit: number,
    private readonly memAlign: number,
    /** The file's size: every byte below it is allocated. */
    public allocatedEnd: number,
  ) {
    this.chunkBytes = chunkBytes;
  }

  /** Resolves once [.., writeEnd) is allocated, or once extending has been tried and failed. */
  async ensure(writeEnd: number): Promise<void> {
    if (writeEnd <= this.allocatedEnd || this.chunkBytes === 0) return;
    if (this.extending) await this.extending;
    if (writeEnd > this.allocatedEnd) {
      this.extending = this.extend(writeEnd);
      await this.extending;
    }
  }

  /** Called after each group: starts the next chunk once the log has used half of the last. */
  ahead(end: number): void {
    if (this.chunkBytes === 0 || this.extending) return;
    if (end + this.chunkBytes / 2 > this.allocatedEnd) this.extending = this.extend(end);
  }

  /** Records that a write reached `writeEnd` (past the allocated end when extending had failed). */
  written(writeEnd: number): void {
    if (writeEnd > this.allocatedEnd) this.allocatedEnd = writeEnd;
  }

  /** Waits for a background extension (close() does, before closing the file). */
  async settled(): Promise<void> {
    if (this.extending) await this.extending;
  }

  private extend(needed: number): Promise<void> {
    const start = alignUp(this.allocatedEnd, this.unit);
    const target = Math.max(start + this.chunkBytes, alignUp(needed, this.chunkBytes));
    return this.allocate(start, target).then(
      () => {
        this.allocatedEnd = Math.max(this.allocatedEnd, target);
        this.extending = undefined;
      },
      (error: { code?: string }) => {
        if (error.code === 'EOPNOTSUPP' || error.code === 'ENOTSUP') this.chunkBytes = 0;
        this.extending = undefined;
      },
    );
  }

  private async allocate(start: number, end: number): Promise<void> {
    if (this.zeroFill) {
      const zeros = (this.zeros ??= allocAligned(zeroWriteBytes, Math.max(this.memAlign, 4096)));
      // A few writes at a time: a chunk's worth at once would fill the device's
      // queue (Linux AIO's io_submit then blocks the event loop) and delay the
      // group writes queued behind it.
      let next = start;
      const writer = async () => {
        for (let position = next; position < end; position = next) {
          next = position + zeroWriteBytes;
          await this.file.write(zeros.subarray(0, Math.min(zeroWriteBytes, end - position)), position);
        }
      };
      const outcomes = await Promise.allSettled(Array.from({ length: zeroWritesInFlight }, writer));
      const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      await this.file.allocate(start, end - start);
    }
    await this.file.datasync();
  }
}
