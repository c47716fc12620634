// A forward-moving window over a file for scanning records: aligned reads of
// about `chunkBytes`, so O_DIRECT files are read in large requests, and any
// byte range up to the scan limit can be asked for, including ranges that
// straddle two reads. A view it returns is valid until the next call.
import { allocAligned } from '../buffers';
import type { AioFile } from '../file';
import { alignDown, alignUp } from '../align';

export class FileWindow {
  private buffer: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    private readonly file: AioFile,
    /** Bytes past this offset do not exist for the scan (the file's size, or the log's durable end). */
    public limit: number,
    private readonly unit: number,
    private readonly chunkBytes: number,
    private readonly memAlign: number,
  ) {
    this.buffer = allocAligned(chunkBytes, memAlign);
  }

  /** Bytes [position, position + length), or null if they run past the limit. */
  async bytes(position: number, length: number): Promise<Buffer | null> {
    if (position + length > this.limit) return null;
    if (length === 0) return this.buffer.subarray(0, 0);
    if (position < this.start || position + length > this.end) {
      await this.load(position, length);
      if (position + length > this.end) return null;
    }
    return this.buffer.subarray(position - this.start, position - this.start + length);
  }

  private async load(position: number, length: number): Promise<void> {
    const start = alignDown(position, this.unit);
    const size = Math.max(this.chunkBytes, alignUp(position + length, this.unit) - start);
    if (size > this.buffer.length) this.buffer = allocAligned(size, this.memAlign);
    const wanted = Math.min(size, alignUp(this.limit, this.unit) - start);
    const read = await this.file.read(this.buffer.subarray(0, wanted), start);
    this.start = start;
    // Bytes past the limit may change (the log's tail grows), so they are never served from this read.
    this.end = Math.min(start + read, this.limit);
  }
}
