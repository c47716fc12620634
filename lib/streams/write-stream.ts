// file.createWriteStream: a Writable that gathers writes of any size into
// aligned chunks and writes them with direct I/O, several in flight. Bytes of
// the file outside [start, start + bytes written) are left as they were: a
// partial first or last block is read and written back around the new bytes,
// and the padding an aligned tail write adds past the data is cut off again.
import { Writable, addAbortSignal } from 'node:stream';
import { notWritableAdvice } from '../dispatcher';
import { AioError, systemError } from '../errors';
import { optionKeys } from '../option-keys';
import { checkInteger, checkOneOf, checkOptions, checkPosition } from '../validate';
import type { FlushMode, WriteStreamOptions } from '../types';
import { alignDown, alignUp } from '../align';
import { type BlockLayout, MiB, StreamBuffers, allocFor, blockLayout } from './layout';
import type { StreamedFile } from './streamed-file';

export const defaultChunkSize = MiB;
export const maxChunkSize = 64 * MiB;
const flushModes: readonly FlushMode[] = ['none', 'datasync', 'sync'];
// Chunks in flight: as many as fio's iodepth 8 for chunks up to 8 MiB, fewer
// for larger ones so that the stream holds at most about 64 MiB.
const mostChunksInFlight = 8;
const inFlightBytes = 64 * MiB;
const eio = 5;
const ebadf = 9;

interface ChunkWrite {
  readonly position: number;
  readonly length: number;
  done: boolean;
}

interface ParkedWrite {
  chunk: Buffer;
  offset: number;
  callback: (error?: Error | null) => void;
}

export class AioWriteStream extends Writable {
  readonly path: string;
  readonly start: number;
  /** Bytes from `start` known to be in the file: every write up to there has completed. */
  bytesWritten = 0;
  private readonly file: StreamedFile;
  private readonly layout: BlockLayout;
  private readonly buffers: StreamBuffers;
  private readonly chunkSize: number;
  private readonly maxInFlight: number;
  private readonly flushMode: FlushMode;
  /** The file's size before the stream wrote anything, read in _construct. */
  private sizeBefore = 0;
  /** Bytes the stream has taken from write() calls. */
  private accepted = 0;
  private gather: Buffer | undefined;
  /** Bytes in `gather`, the first of them possibly old file bytes before `start`. */
  private gathered = 0;
  /** File position of gather[0]; always aligned. */
  private gatherPosition: number;
  private spare: Buffer[] = [];
  private inflight = 0;
  /** Chunks in file order, from the oldest not yet known written. */
  private issued: ChunkWrite[] = [];
  private failure: AioError | undefined;
  private parked: ParkedWrite | undefined;
  private finalCallback: ((error?: Error | null) => void) | undefined;
  /** end() is writing the tail and waiting for the chunks; it reports a failure itself. */
  private finishing = false;
  /** Someone waiting for the chunks in flight to drop below a count: end() for room, _destroy for none. */
  private waiter: { below: number; wake: () => void } | undefined;

  /** @internal made by AioFile.createWriteStream */
  constructor(file: StreamedFile, options?: WriteStreamOptions) {
    const opts = checkOptions('options', options, optionKeys.writeStream);
    const start = opts.start === undefined ? 0 : checkPosition('start', opts.start);
    const layout = blockLayout(file);
    const chunkSize = opts.chunkSize === undefined ? defaultChunkSize : checkInteger('chunkSize', opts.chunkSize, layout.unit, maxChunkSize);
    if (chunkSize % layout.unit !== 0) {
      throw Object.assign(
        new RangeError(`The value of "chunkSize" is out of range. It must be a multiple of this file's ${layout.unit}-byte alignment. Received ${chunkSize}`),
        { code: 'ERR_OUT_OF_RANGE' },
      );
    }
    const flushMode = opts.flush === undefined ? 'none' : checkOneOf('flush', opts.flush, flushModes);
    const highWaterMark = opts.highWaterMark === undefined ? chunkSize : checkInteger('highWaterMark', opts.highWaterMark, 1, 2 ** 30);
    if (file.closed) throw file.closedError('write');
    if (!file.writable) throw notWritable(file);
    super({ highWaterMark });
    this.file = file;
    this.path = file.path;
    this.start = start;
    this.layout = layout;
    this.buffers = new StreamBuffers(layout);
    this.chunkSize = chunkSize;
    this.maxInFlight = Math.max(2, Math.min(mostChunksInFlight, Math.floor(inFlightBytes / chunkSize)));
    this.flushMode = flushMode;
    this.gatherPosition = alignDown(start, layout.unit);
    // Last: an aborted signal destroys the stream at once, which needs every field set.
    if (opts.signal !== undefined) addAbortSignal(opts.signal as AbortSignal, this);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.prepareHead().then(() => callback(), callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.accept(chunk, 0, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.failure) {
      this.failWhenQuiet(() => (this.finalCallback = callback));
      return;
    }
    this.finishing = true;
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Chunks in flight belong to the kernel until their writes complete; the
    // stream reports closed only once none is left.
    this.parked = undefined;
    this.spare = [];
    this.buffers.drop();
    this.gather = undefined;
    this.inFlightBelow(1).then(() => callback(error));
  }

  /** The file's size, and the old bytes of a first block the stream writes only part of. */
  private async prepareHead(): Promise<void> {
    this.sizeBefore = this.file.info.blockDevice ? this.file.info.size : (await this.file.stat()).size;
    const prefix = this.start - this.gatherPosition;
    if (prefix === 0) return;
    const gather = this.takeBuffer();
    gather.fill(0, 0, this.layout.unit);
    if (this.gatherPosition < this.sizeBefore) await this.file.read(gather.subarray(0, this.layout.unit), this.gatherPosition);
    this.gather = gather;
    this.gathered = prefix;
  }

  /**
   * Copies `chunk` from `offset` into chunks, writing each one that fills.
   * Parks (holding back the callback, which is the backpressure) while a full
   * chunk waits for room among the chunks in flight.
   */
  private accept(chunk: Buffer, offset: number, callback: (error?: Error | null) => void): void {
    for (;;) {
      if (this.failure) {
        this.failWhenQuiet(() => (this.parked = { chunk, offset, callback }));
        return;
      }
      if (this.gathered === this.chunkSize) {
        if (this.inflight >= this.maxInFlight) {
          this.parked = { chunk, offset, callback };
          return;
        }
        this.issueGathered(this.chunkSize);
      }
      if (offset === chunk.length) break;
      this.gather ??= this.takeBuffer();
      const length = Math.min(this.chunkSize - this.gathered, chunk.length - offset);
      chunk.copy(this.gather, this.gathered, offset, offset + length);
      this.gathered += length;
      this.accepted += length;
      offset += length;
    }
    callback();
  }

  // At most one buffer more than the chunks in flight: the one gathering.
  private takeBuffer(): Buffer {
    return this.spare.pop() ?? this.buffers.take(this.chunkSize);
  }

  /** Writes the first `length` bytes of the gather buffer and starts a new one. */
  private issueGathered(length: number): void {
    const buffer = this.gather!;
    const chunk: ChunkWrite = { position: this.gatherPosition, length, done: false };
    this.issued.push(chunk);
    this.gather = undefined;
    this.gathered = 0;
    this.gatherPosition += length;
    this.inflight++;
    this.writePart(chunk, buffer, 0);
  }

  // A direct write comes back short when the file system runs out of room
  // part-way; writing the rest again from the last aligned byte written turns
  // that into the kernel's own error, at the position where it happened.
  private writePart(chunk: ChunkWrite, buffer: Buffer, from: number): void {
    const part = from === 0 && chunk.length === buffer.length ? buffer : buffer.subarray(from, chunk.length);
    this.file.write(part, chunk.position + from).then(
      (bytes) => {
        const done = from + bytes;
        if (done >= chunk.length) {
          this.chunkWritten(chunk, buffer);
          return;
        }
        const next = alignDown(done, this.layout.unit);
        // Once the stream has failed or been destroyed nothing more is written.
        if (next > from && this.failure === undefined && !this.destroyed) {
          this.writePart(chunk, buffer, next);
          return;
        }
        this.chunkFailed(shortWrite(this.file, chunk.position + done, chunk.length - done));
      },
      (error: AioError) => this.chunkFailed(error),
    );
  }

  private chunkWritten(chunk: ChunkWrite, buffer: Buffer): void {
    this.inflight--;
    chunk.done = true;
    while (this.issued.length > 0 && this.issued[0]!.done) {
      const oldest = this.issued.shift()!;
      if (this.failure === undefined) {
        this.bytesWritten = Math.max(0, Math.min(oldest.position + oldest.length, this.start + this.accepted) - this.start);
      }
    }
    if (!this.destroyed) {
      this.spare.push(buffer);
      if (this.failure) {
        if (this.inflight === 0 && !this.finishing) this.failNow();
      } else if (this.parked) {
        const parked = this.parked;
        this.parked = undefined;
        this.accept(parked.chunk, parked.offset, parked.callback);
      }
    }
    this.wakeWaiter();
  }

  private chunkFailed(error: AioError): void {
    this.inflight--;
    // With several chunks in flight, the one nearest the start decides where
    // the file stops being what was written.
    if (this.failure === undefined || (error.position ?? Infinity) < (this.failure.position ?? Infinity)) this.failure = error;
    if (!this.destroyed && !this.finishing && this.inflight === 0) this.failNow();
    this.wakeWaiter();
  }

  /** Runs `wait` (which parks a callback) and fails the stream once nothing is in flight. */
  private failWhenQuiet(wait: () => void): void {
    wait();
    if (this.inflight === 0) this.failNow();
  }

  private failNow(): void {
    const failure = this.failure!;
    const parked = this.parked;
    const finalCallback = this.finalCallback;
    this.parked = undefined;
    this.finalCallback = undefined;
    if (parked) parked.callback(failure);
    else if (finalCallback) finalCallback(failure);
    else this.destroy(failure);
  }

  private wakeWaiter(): void {
    const waiter = this.waiter;
    if (waiter !== undefined && this.inflight < waiter.below) {
      this.waiter = undefined;
      waiter.wake();
    }
  }

  private inFlightBelow(below: number): Promise<void> {
    if (this.inflight < below) return Promise.resolve();
    return new Promise((wake) => (this.waiter = { below, wake }));
  }

  /** end(): the unaligned tail, the file's exact length, and the flush asked for. */
  private async finish(): Promise<void> {
    const dataEnd = this.start + this.accepted;
    if (this.gather !== undefined && this.accepted > 0) {
      await this.inFlightBelow(this.maxInFlight);
      if (this.failure === undefined) await this.writeTail(dataEnd);
    }
    await this.inFlightBelow(1);
    if (this.failure) throw this.failure;
    const writtenEnd = alignUp(dataEnd, this.layout.unit);
    const length = Math.max(this.sizeBefore, dataEnd);
    if (this.accepted > 0 && !this.file.info.blockDevice && writtenEnd > length) await this.file.truncate(length);
    if (this.flushMode === 'datasync') await this.file.datasync();
    else if (this.flushMode === 'sync') await this.file.sync();
  }

  private async writeTail(dataEnd: number): Promise<void> {
    const gather = this.gather!;
    const unit = this.layout.unit;
    const length = alignUp(this.gathered, unit);
    if (length > this.gathered) {
      gather.fill(0, this.gathered, length);
      // Old bytes after the new ones in the last block stay as they were.
      if (dataEnd < this.sizeBefore) {
        const block = allocFor(this.layout, unit);
        const blockStart = length - unit;
        await this.file.read(block, this.gatherPosition + blockStart);
        block.copy(gather, this.gathered, this.gathered - blockStart, unit);
      }
    }
    this.issueGathered(length);
  }
}

function notWritable(file: StreamedFile): AioError {
  const error = systemError(ebadf, 'write', { op: 'write', path: file.path });
  error.message += notWritableAdvice;
  return error;
}

function shortWrite(file: StreamedFile, position: number, length: number): AioError {
  const error = systemError(eio, 'write', { op: 'write', path: file.path, position, length });
  error.message += ': the device took none of the remaining bytes';
  return error;
}
