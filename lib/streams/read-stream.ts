// file.createReadStream: a Readable that scans a byte range of an AioFile in
// aligned direct reads, several in flight, and hands the consumer exactly the
// bytes it asked for. The read-ahead window starts small, so a consumer that
// stops after a few bytes costs little, and doubles each time the consumer
// has taken a whole window, up to maxReadAhead.
import { Readable, addAbortSignal } from 'node:stream';
import { type AioError, outOfRange } from '../errors';
import { optionKeys } from '../option-keys';
import type { ReadStreamOptions } from '../types';
import type { StreamedFile } from './streamed-file';
import { checkInteger, checkOptions, checkPosition } from '../validate';
import { alignDown, alignUp } from '../align';
import { type BlockLayout, KiB, MiB, StreamBuffers, blockLayout } from './layout';

export const defaultMaxReadAhead = 8 * MiB;
export const maxReadAheadLimit = 64 * MiB;
const defaultHighWaterMark = MiB;
const initialWindow = 128 * KiB;
// A window is split into about four requests, so it stays busy while the
// consumer takes the oldest, within these bounds: smaller requests cost a
// system call for little data, larger ones gain nothing on the devices here.
const smallestRequest = 64 * KiB;
const largestRequest = MiB;

interface ReadRequest {
  readonly position: number;
  readonly length: number;
  readonly buffer: Buffer;
  /** Bytes read; -1 while in flight. */
  bytes: number;
  error: AioError | undefined;
}

export class AioReadStream extends Readable {
  readonly path: string;
  readonly start: number;
  /** The last byte asked for, inclusive; Infinity for the end of the file. */
  readonly end: number;
  /** Bytes delivered so far. */
  bytesRead = 0;
  private readonly file: StreamedFile;
  private readonly layout: BlockLayout;
  private readonly buffers: StreamBuffers;
  private readonly pieceSize: number;
  private readonly maxWindow: number;
  /** One past the last byte to deliver. */
  private readonly stopAt: number;
  /** stopAt rounded up to the alignment: no request reaches past it. */
  private readonly issueLimit: number;
  /** Where the file ended, once a short read has shown it. */
  private eof = Infinity;
  private nextPosition: number;
  /** The next byte to deliver. */
  private cursor: number;
  private window: number;
  private requestSize: number;
  private takenSinceGrowth = 0;
  /** Requests in file order, from the oldest not yet delivered. */
  private queue: ReadRequest[] = [];
  /** Bytes of the requests in the queue: in flight, or read and not yet delivered. */
  private bytesAhead = 0;
  private bytesInFlight = 0;
  private inflight = 0;
  private spare: Buffer[] = [];
  private wanted = false;
  /** A delivery is queued for after the consumer's current read() returns. */
  private deliveryQueued = false;
  private delivering = false;
  private ended = false;
  private whenQuiet: (() => void) | undefined;

  /** @internal made by AioFile.createReadStream */
  constructor(file: StreamedFile, options?: ReadStreamOptions) {
    const opts = checkOptions('options', options, optionKeys.readStream);
    const start = opts.start === undefined ? 0 : checkPosition('start', opts.start);
    const end = opts.end === undefined || opts.end === Infinity ? Infinity : checkPosition('end', opts.end);
    if (start > end) {
      throw outOfRange(`The value of "start" is out of range. It must be <= "end" (here: ${end}). Received ${start}`);
    }
    const highWaterMark = opts.highWaterMark === undefined ? defaultHighWaterMark : checkInteger('highWaterMark', opts.highWaterMark, 1, 2 ** 30);
    const maxReadAhead =
      opts.maxReadAhead === undefined ? defaultMaxReadAhead : checkInteger('maxReadAhead', opts.maxReadAhead, 4 * KiB, maxReadAheadLimit);
    if (file.closed) throw file.closedError('read');
    super({ highWaterMark });
    this.file = file;
    this.path = file.path;
    this.start = start;
    this.end = end;
    this.layout = blockLayout(file);
    this.buffers = new StreamBuffers(this.layout);
    this.pieceSize = highWaterMark;
    this.maxWindow = alignUp(maxReadAhead, this.layout.unit);
    this.stopAt = end + 1;
    this.issueLimit = end === Infinity ? Infinity : alignUp(this.stopAt, this.layout.unit);
    this.nextPosition = alignDown(start, this.layout.unit);
    this.cursor = start;
    this.window = Math.min(alignUp(initialWindow, this.layout.unit), this.maxWindow);
    this.requestSize = this.requestSizeFor(this.window);
    // Last: an aborted signal destroys the stream at once, which needs every field set.
    if (opts.signal !== undefined) addAbortSignal(opts.signal as AbortSignal, this);
  }

  override _read(): void {
    this.wanted = true;
    // Readable.read() joins every chunk pushed during _read with those already
    // buffered into one new Buffer, a second copy; pushing after it has
    // returned hands each chunk over as it is.
    if (this.readableLength === 0) this.deliver();
    else this.queueDelivery();
    this.fill();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Buffers still in flight belong to the kernel until their reads
    // complete; the stream reports closed only once none is left.
    this.queue = [];
    this.spare = [];
    this.buffers.drop();
    if (this.inflight === 0) {
      callback(error);
      return;
    }
    this.whenQuiet = () => callback(error);
  }

  /**
   * Issues reads until the window is in flight or the range is covered. Data
   * read and not yet taken by the consumer may add up to one more window, so
   * a consumer that keeps up never leaves the device waiting for it.
   */
  private fill(): void {
    while (
      !this.destroyed &&
      !this.ended &&
      this.eof === Infinity &&
      this.nextPosition < this.issueLimit &&
      this.bytesInFlight < this.window &&
      this.bytesAhead < 2 * this.window
    ) {
      const position = this.nextPosition;
      const length = Math.min(this.requestSize, this.issueLimit - position);
      const buffer = this.spare.pop() ?? this.buffers.take(this.requestSize);
      const request: ReadRequest = { position, length, buffer, bytes: -1, error: undefined };
      this.queue.push(request);
      this.bytesAhead += length;
      this.bytesInFlight += length;
      this.nextPosition += length;
      this.inflight++;
      this.file.read(length === buffer.length ? buffer : buffer.subarray(0, length), position).then(
        (bytes) => this.settled(request, bytes, undefined),
        (error: AioError) => this.settled(request, 0, error),
      );
    }
  }

  private settled(request: ReadRequest, bytes: number, error: AioError | undefined): void {
    this.inflight--;
    this.bytesInFlight -= request.length;
    request.bytes = bytes;
    request.error = error;
    // A direct read comes back short only at the end of the file or device.
    if (error === undefined && bytes < request.length) this.eof = Math.min(this.eof, request.position + bytes);
    if (this.destroyed) {
      if (this.inflight === 0 && this.whenQuiet) this.whenQuiet();
      return;
    }
    // The next read goes out first: the engine submits once this turn's
    // completions have been handled, and copying data out to the consumer
    // before that would keep the device waiting.
    this.fill();
    this.queueDelivery();
  }

  /**
   * Pushes completed data in file order while the consumer wants more, and
   * releases each request as soon as its data is out, so that its buffer
   * reads again without waiting for the consumer's next turn.
   */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (!this.destroyed && !this.ended) {
        const request = this.queue[0];
        if (request === undefined || request.bytes < 0) return;
        if (request.error) {
          if (this.wanted) this.destroy(request.error);
          return;
        }
        const dataEnd = Math.min(request.position + request.bytes, this.stopAt);
        if (this.cursor < dataEnd) {
          if (!this.wanted) return;
          this.pushPiece(request, Math.min(this.pieceSize, dataEnd - this.cursor));
          continue;
        }
        this.release(request);
        if (this.cursor >= this.stopAt || request.bytes < request.length) {
          this.ended = true;
          this.push(null);
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private queueDelivery(): void {
    if (this.deliveryQueued) return;
    this.deliveryQueued = true;
    queueMicrotask(() => {
      this.deliveryQueued = false;
      this.deliver();
      this.fill();
    });
  }

  private pushPiece(request: ReadRequest, length: number): void {
    // The consumer may keep a chunk for as long as it likes, so it gets a copy:
    // the aligned buffer goes back to reading.
    const offset = this.cursor - request.position;
    const piece = Buffer.allocUnsafe(length);
    request.buffer.copy(piece, 0, offset, offset + length);
    this.cursor += length;
    this.bytesRead += length;
    if (!this.push(piece)) this.wanted = false;
  }

  /** The oldest request is used up: its buffer reads again, and the window may grow. */
  private release(request: ReadRequest): void {
    this.queue.shift();
    this.bytesAhead -= request.length;
    this.takenSinceGrowth += request.length;
    if (this.takenSinceGrowth >= this.window && this.window < this.maxWindow) {
      this.window = Math.min(this.window * 2, this.maxWindow);
      this.takenSinceGrowth = 0;
      const size = this.requestSizeFor(this.window);
      if (size !== this.requestSize) {
        this.requestSize = size;
        this.spare = [];
      }
    }
    if (request.buffer.length === this.requestSize) this.spare.push(request.buffer);
  }

  private requestSizeFor(window: number): number {
    const quarter = Math.min(largestRequest, Math.max(smallestRequest, window / 4));
    return alignUp(Math.min(quarter, window), this.layout.unit);
  }
}

/** @internal what the read-ahead is doing, for tests; not part of the public API */
export interface ReadAheadState {
  window: number;
  requestSize: number;
  inflight: number;
  bytesAhead: number;
  spareBuffers: number;
}

/** @internal */
export function readAheadState(stream: AioReadStream): ReadAheadState {
  return {
    window: stream['window'],
    requestSize: stream['requestSize'],
    inflight: stream['inflight'],
    bytesAhead: stream['bytesAhead'],
    spareBuffers: stream['spare'].length,
  };
}
