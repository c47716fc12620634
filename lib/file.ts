// An open file or block device, and the checks every request on it passes
// before it is queued: types, ranges, and the direct-I/O alignment rules.
import type { FileHandle } from 'node:fs/promises';
import { Dispatcher, IoRequest, RequestTarget } from './dispatcher';
import { OpCodes, opNames } from './native-contract';
import { AioError, LibraryCodes, OpName, fromNodeError, libraryError } from './errors';
import type { FileInfo, WriteOptions } from './types';
import { checkBoolean, checkBuffer, checkBufferList, checkOptions, checkPosition } from './validate';

export class AioFile implements RequestTarget {
  readonly path: string;
  readonly fd: number;
  readonly info: FileInfo;
  readonly memAlign: number;
  /** @internal the ring that opened this file, for ring.submit's ownership check */
  readonly owner: object;
  private readonly handle: FileHandle;
  private readonly dispatcher: Dispatcher;
  private readonly onClosed: (file: AioFile) => void;
  private pending = 0;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  /** @internal files are made by Ring.open */
  constructor(owner: object, path: string, handle: FileHandle, info: FileInfo, dispatcher: Dispatcher, onClosed: (file: AioFile) => void) {
    this.owner = owner;
    this.path = path;
    this.handle = handle;
    this.fd = handle.fd;
    this.info = info;
    this.memAlign = info.direct ? info.memAlign : 0;
    this.dispatcher = dispatcher;
    this.onClosed = onClosed;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Reads into the whole buffer from `position`; resolves with the bytes read (fewer at end of file). */
  read(buffer: ArrayBufferView, position: number): Promise<number> {
    try {
      return this.start(this.transfer(OpCodes.read, checkBuffer('buffer', buffer), position, false));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes the whole buffer at `position`; resolves with the bytes written. */
  write(buffer: ArrayBufferView, position: number, options?: WriteOptions): Promise<number> {
    try {
      return this.start(this.transfer(OpCodes.write, checkBuffer('buffer', buffer), position, dsyncOption(options)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readv(buffers: ArrayBufferView[], position: number): Promise<number> {
    try {
      return this.start(this.transfer(OpCodes.readv, checkBufferList('buffers', buffers), position, false));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  writev(buffers: ArrayBufferView[], position: number, options?: WriteOptions): Promise<number> {
    try {
      return this.start(this.transfer(OpCodes.writev, checkBufferList('buffers', buffers), position, dsyncOption(options)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** fdatasync(2), asynchronously: completed writes' data (and the metadata needed to read it) are durable. */
  datasync(): Promise<void> {
    return this.start(this.flushRequest(OpCodes.fdatasync)).then(ignoreCount);
  }

  /** fsync(2), asynchronously: data and all metadata are durable. */
  sync(): Promise<void> {
    return this.start(this.flushRequest(OpCodes.fsync)).then(ignoreCount);
  }

  /**
   * Waits for every request already made on this file, then closes it.
   * Requests made after close() reject with ERR_AIO_CLOSED. Calling it again
   * returns the same promise.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.closeWhenDrained();
    return this.closing;
  }

  /** @internal checks, builds and queues a request; used by Ring.submit too */
  prepare(op: OpName, buffers: ArrayBufferView | ArrayBufferView[] | undefined, position: number, dsync: boolean): IoRequest | AioError {
    if (op === 'fsync' || op === 'fdatasync') return this.flushRequest(OpCodes[op]);
    if (op === 'readv' || op === 'writev') return this.transfer(OpCodes[op], checkBufferList('buffers', buffers), position, dsync);
    if (op === 'read' || op === 'write') return this.transfer(OpCodes[op], checkBuffer('buffer', buffers), position, dsync);
    throw Object.assign(new TypeError(`unknown op '${String(op)}'`), { code: 'ERR_INVALID_ARG_VALUE' });
  }

  /** @internal */
  closedError(op: OpName): AioError {
    return libraryError(LibraryCodes.closed, 'the file is closed', { op, path: this.path });
  }

  /** @internal counts requests so close() can wait for them */
  requestStarted(): void {
    this.pending++;
  }

  requestSettled(): void {
    if (--this.pending === 0 && this.drained) this.drained();
  }

  private start(request: IoRequest | AioError): Promise<number> {
    if (request instanceof AioError) return Promise.reject(request);
    if (this.closing) return Promise.reject(this.closedError(opNameOf(request.op)));
    this.pending++;
    return this.dispatcher.request(request);
  }

  private transfer(op: number, buffers: ArrayBufferView | ArrayBufferView[], position: number, dsync: boolean): IoRequest | AioError {
    checkPosition('position', position);
    const align = this.info.direct ? this.info.offsetAlign : 1;
    let length = 0;
    let lengthsAligned = true;
    if (Array.isArray(buffers)) {
      for (const buffer of buffers) {
        length += buffer.byteLength;
        if (buffer.byteLength % align !== 0) lengthsAligned = false;
      }
    } else {
      length = buffers.byteLength;
      lengthsAligned = length % align === 0;
    }
    if (!lengthsAligned) return this.misaligned(op, position, length, `each buffer's length must be a multiple of ${align} bytes`);
    if (position % align !== 0) return this.misaligned(op, position, length, `the position must be a multiple of ${align} bytes`);
    return newRequest(this, op, buffers, position, length, dsync);
  }

  private misaligned(op: number, position: number, length: number, rule: string): AioError {
    return libraryError(LibraryCodes.alignment, `direct I/O on this file needs ${this.info.offsetAlign}-byte alignment: ${rule}`, {
      op: opNameOf(op),
      path: this.path,
      position,
      length,
    });
  }

  private flushRequest(op: number): IoRequest {
    return newRequest(this, op, undefined, 0, 0, false);
  }

  private async closeWhenDrained(): Promise<void> {
    this.dispatcher.abandonIfForked();
    if (this.pending > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.onClosed(this);
    // Before the descriptor goes: once closed, its number can be reused by
    // another file, which requests must not reach through the old table entry.
    this.dispatcher.unregisterFile(this.fd);
    try {
      await this.handle.close();
    } catch (error) {
      throw fromNodeError(error as NodeJS.ErrnoException, { op: 'close', path: this.path });
    }
  }
}

// Every request object gets the same shape, so the hot paths that read them stay monomorphic.
function newRequest(
  target: AioFile,
  op: number,
  buffers: ArrayBufferView | ArrayBufferView[] | undefined,
  position: number,
  length: number,
  dsync: boolean,
): IoRequest {
  return { target, op, buffers, position, length, dsync, resolve: undefined, reject: undefined, batch: undefined, index: 0 };
}

function dsyncOption(options: WriteOptions | undefined): boolean {
  if (options === undefined) return false;
  return checkBoolean('dsync', checkOptions('options', options).dsync, false);
}

function ignoreCount(): void {}

function opNameOf(op: number): OpName {
  return opNames[op]!;
}
