// An open file or block device, and the checks every request on it passes
// before it is queued: types, ranges, and the direct-I/O alignment rules.
import type { BigIntStats, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { CancelGuard, abortedAlready, checkSignal, checkTimeoutMs } from './cancellation';
import { isLibraryMemory } from './buffers';
import { type Dispatcher, type IoRequest, type RequestTarget, newControl, newRequest, notWritableAdvice } from './dispatcher';
import { AioError, LibraryCodes, type OperationContext, closedError, fromNodeError, invalidArgType, invalidArgValue, libraryError, systemError } from './errors';
import { native } from './native';
import { OpCodes, opNames } from './native-contract';
import { OptionKeys, optionKeys } from './option-keys';
import { checkTransferTuples } from './integrity';
import { scrubFile } from './scrub';
import { AioReadStream } from './streams/read-stream';
import { AioWriteStream } from './streams/write-stream';
import type {
  AllocateOptions,
  FileInfo,
  FileProtection,
  IoBuffer,
  OpName,
  ReadOptions,
  ReadStreamOptions,
  ScrubOptions,
  ScrubReport,
  StatOptions,
  SyncOptions,
  WriteOptions,
  WriteStreamOptions,
} from './types';
import { checkBoolean, checkBuffer, checkBufferList, checkInteger, checkOptions, checkPosition } from './validate';

/** How a file was opened, as far as the checks on its requests care. */
export interface FileAccess {
  /** Opened with write: true. */
  writable: boolean;
  /** The ring's strictBuffers option. */
  strictBuffers: boolean;
  /**
   * Direct, writable, unprotected, and NativeDeviceInfo.dsyncWriteDoesDatasync:
   * where a write with RWF_DSYNC can stand for the write and an fdatasync after it.
   */
  dsyncCanStandForDatasync: boolean;
}

export class AioFile implements RequestTarget {
  readonly path: string;
  readonly fd: number;
  readonly info: FileInfo;
  readonly memAlign: number;
  /** @internal opened with write: true */
  readonly writable: boolean;
  /** The protection information on this file's intervals, if it was opened with `integrity`. */
  readonly integrity: FileProtection | undefined;
  /** @internal the ring that opened this file, for ring.submit's ownership check */
  readonly owner: object;
  private readonly handle: FileHandle;
  private readonly access: FileAccess;
  private readonly dispatcher: Dispatcher;
  private readonly onClosed: (file: AioFile) => void;
  private pending = 0;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  /** @internal files are made by Ring.open */
  constructor(
    owner: object,
    path: string,
    handle: FileHandle,
    access: FileAccess,
    info: FileInfo,
    dispatcher: Dispatcher,
    onClosed: (file: AioFile) => void,
    integrity: FileProtection | undefined,
  ) {
    this.owner = owner;
    this.path = path;
    this.handle = handle;
    this.access = access;
    this.writable = access.writable;
    this.fd = handle.fd;
    this.info = info;
    this.memAlign = info.direct ? info.memAlign : 0;
    this.dispatcher = dispatcher;
    this.onClosed = onClosed;
    this.integrity = integrity;
    if (integrity) dispatcher.setProtection(this.fd, integrity);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * @internal Whether a write with RWF_DSYNC, made now, does all that the
   * write and then fdatasync() would: the file allows it (FileAccess) and no
   * page of it waits in the page cache to be written, which only fdatasync
   * would write back (a buffered write through another descriptor).
   */
  dsyncStandsForDatasync(): boolean {
    return this.access.dsyncCanStandForDatasync && native.pageCacheClean(this.fd) === 1;
  }

  /**
   * Reads into the whole buffer from `position`; resolves with the bytes read
   * (fewer at end of file). To read less, pass buffer.subarray(0, n).
   */
  read(buffer: IoBuffer, position: number, options?: ReadOptions): Promise<number> {
    try {
      if (arguments.length > 3 || typeof options === 'number') throw wrongShape('read', 'buffer', 'position', 'options');
      const opts = readOptions(options, optionKeys.read);
      return this.start(this.transfer(OpCodes.read, checkBuffer('buffer', buffer), position, false, opts.pi), opts);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes the whole buffer at `position`; resolves with the bytes written. */
  write(buffer: IoBuffer, position: number, options?: WriteOptions): Promise<number> {
    try {
      if (arguments.length > 3 || typeof options === 'number') throw wrongShape('write', 'buffer', 'position', 'options');
      const opts = readOptions(options, optionKeys.write);
      const buffers = checkBuffer('buffer', buffer);
      const request = this.transfer(OpCodes.write, buffers, position, checkBoolean('dsync', opts.dsync, false), opts.pi);
      if (checkBoolean('atomic', opts.atomic, false) && !(request instanceof AioError)) {
        const refusal = this.atomicRefusal(request.length, position);
        if (refusal !== undefined) return Promise.reject(refusal);
        request.atomic = true;
      }
      return this.start(request, opts);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readv(buffers: IoBuffer[], position: number, options?: ReadOptions): Promise<number> {
    try {
      if (arguments.length > 3 || typeof options === 'number') throw wrongShape('readv', 'buffers', 'position', 'options');
      const opts = readOptions(options, optionKeys.read);
      const list = checkBufferList('buffers', buffers);
      return this.start(this.transfer(OpCodes.readv, list, position, false, opts.pi), opts);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  writev(buffers: IoBuffer[], position: number, options?: WriteOptions): Promise<number> {
    try {
      if (arguments.length > 3 || typeof options === 'number') throw wrongShape('writev', 'buffers', 'position', 'options');
      const opts = readOptions(options, optionKeys.write);
      if (opts.atomic !== undefined) {
        throw Object.assign(new TypeError('The "atomic" option is for file.write() (one buffer), not writev'), { code: 'ERR_INVALID_ARG_VALUE' });
      }
      const list = checkBufferList('buffers', buffers);
      return this.start(this.transfer(OpCodes.writev, list, position, checkBoolean('dsync', opts.dsync, false), opts.pi), opts);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Reads the whole file at the ring's full queue depth and checks every
   * interval's protection information, like `zpool scrub`. Resolves with
   * every bad interval; only other I/O errors reject. Needs the trailer layout.
   */
  scrub(options?: ScrubOptions): Promise<ScrubReport> {
    try {
      return scrubFile(this, this.dispatcher.depth, checkOptions('options', options, optionKeys.scrub));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** fdatasync(2), asynchronously: completed writes' data (and the metadata needed to read it) are durable. */
  datasync(options?: SyncOptions): Promise<void> {
    try {
      return this.start(this.flushRequest(OpCodes.fdatasync), readOptions(options, optionKeys.sync)).then(ignoreCount);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** fsync(2), asynchronously: data and all metadata are durable. */
  sync(options?: SyncOptions): Promise<void> {
    try {
      return this.start(this.flushRequest(OpCodes.fsync), readOptions(options, optionKeys.sync)).then(ignoreCount);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** fstat(2): the file's current size, blocks, times and so on, as FileHandle.stat() gives them. */
  stat(options?: StatOptions & { bigint?: false }): Promise<Stats>;
  stat(options: StatOptions & { bigint: true }): Promise<BigIntStats>;
  stat(options?: StatOptions): Promise<Stats | BigIntStats>;
  stat(options?: StatOptions): Promise<Stats | BigIntStats> {
    try {
      const bigint = checkBoolean('bigint', checkOptions('options', options, optionKeys.stat).bigint, false);
      return this.track('stat', () => this.handle.stat({ bigint }));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** ftruncate(2): sets the file's size to `length` bytes, cutting it short or extending it with a hole. */
  truncate(length: number): Promise<void> {
    try {
      checkPosition('length', length);
      if (!this.writable) return Promise.reject(this.notWritableError('truncate'));
      return this.track('truncate', async () => {
        await this.handle.truncate(length);
        this.dispatcher.fileResized(this.fd);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * fallocate(2): reserves the blocks of [position, position + length) so that
   * later writes there cannot fail for want of space, without writing zeros.
   * Grows the file to cover the range unless `keepSize`. Runs on libuv's thread
   * pool. File systems that cannot reserve space (tmpfs before 2.6.36, some
   * network file systems) reject with EOPNOTSUPP.
   */
  allocate(position: number, length: number, options?: AllocateOptions): Promise<void> {
    try {
      checkPosition('position', position);
      checkInteger('length', length, 1, Number.MAX_SAFE_INTEGER - position);
      const keepSize = checkBoolean('keepSize', checkOptions('options', options, optionKeys.allocate).keepSize, false);
      if (!this.writable) return Promise.reject(this.notWritableError('allocate'));
      return this.track(
        'allocate',
        () =>
          new Promise<void>((resolve, reject) =>
            native.allocate(this.fd, keepSize, position, length, (errno) => {
              if (errno === 0) resolve();
              else reject(systemError(errno, 'fallocate', { op: 'allocate', path: this.path, position, length }));
            }),
          ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A Readable of bytes `start` to `end` inclusive, read with direct I/O in
   * aligned requests and an adaptive read-ahead window (see README, Streams).
   */
  createReadStream(options?: ReadStreamOptions): AioReadStream {
    return new AioReadStream(this, options);
  }

  /**
   * A Writable that gathers writes into aligned chunks written with direct
   * I/O; end() writes the tail and leaves the file exactly as long as written
   * (see README, Streams).
   */
  createWriteStream(options?: WriteStreamOptions): AioWriteStream {
    return new AioWriteStream(this, options);
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
  prepare(
    op: OpName,
    buffers: ArrayBufferView | ArrayBufferView[] | undefined,
    position: number,
    dsync: boolean,
    pi?: ArrayBufferView,
  ): IoRequest | AioError {
    if (op === 'fsync' || op === 'fdatasync') return this.flushRequest(OpCodes[op]);
    if (op === 'readv' || op === 'writev') return this.transfer(OpCodes[op], checkBufferList('buffers', buffers), position, dsync, pi);
    if (op === 'read' || op === 'write') return this.transfer(OpCodes[op], checkBuffer('buffer', buffers), position, dsync, pi);
    throw invalidArgValue(`unknown op '${String(op)}'`);
  }

  /** @internal */
  closedError(op: OpName): AioError {
    return closedError('file', { op, path: this.path });
  }

  /** @internal counts requests so close() can wait for them */
  requestStarted(): void {
    this.pending++;
  }

  requestSettled(): void {
    if (--this.pending === 0 && this.drained) this.drained();
  }

  // ftruncate and fallocate on a read-only descriptor fail with EINVAL and
  // EBADF respectively; both mean the same mistake, which EBADF names.
  private notWritableError(op: 'truncate' | 'allocate'): AioError {
    const error = systemError(ebadf, op === 'allocate' ? 'fallocate' : 'ftruncate', { op, path: this.path });
    error.message += notWritableAdvice;
    return error;
  }

  // Runs one of the calls that go through Node or libuv rather than the ring,
  // counted like a request so that close() waits for it.
  private async track<T>(op: OpName, work: () => Promise<T>): Promise<T> {
    if (this.closing) throw this.closedError(op);
    this.pending++;
    try {
      return await work();
    } catch (error) {
      throw error instanceof AioError ? error : fromNodeError(error as NodeJS.ErrnoException, { op, path: this.path });
    } finally {
      this.requestSettled();
    }
  }

  private start(request: IoRequest | AioError, options: Record<string, unknown>): Promise<number> {
    if (request instanceof AioError) return Promise.reject(request);
    if (options.signal !== undefined || options.timeoutMs !== undefined) return this.startCancellable(request, options);
    if (this.closing) return Promise.reject(this.closedError(opNameOf(request.op)));
    this.pending++;
    return this.dispatcher.request(request);
  }

  // RWF_ATOMIC's rules, checked here so that a refusal says which one: the
  // kernel answers every breach with a bare EINVAL.
  private atomicRefusal(length: number, position: number): AioError | undefined {
    const { atomicWriteMin: min, atomicWriteMax: max, direct } = this.info;
    let rule: string | undefined;
    if (!direct) rule = 'atomic writes need direct I/O (a file opened without direct: false)';
    else if (max === 0) {
      rule =
        "this file's device or file system offers no atomic writes (statx reports no STATX_WRITE_ATOMIC unit: it needs Linux 6.11+ " +
        'and a device or file system that supports them); file.info.atomicWriteMax is 0';
    } else if (length < min || length > max || (length & (length - 1)) !== 0) {
      rule = `an atomic write must be a power of two from ${min} to ${max} bytes (file.info.atomicWriteMin/Max)`;
    } else if (position % length !== 0) {
      rule = 'an atomic write must start at a multiple of its own length';
    }
    if (rule === undefined) return undefined;
    return libraryError(LibraryCodes.atomic, rule, { op: 'write', path: this.path, position, length });
  }

  private startCancellable(request: IoRequest, options: Record<string, unknown>): Promise<number> {
    const signal = checkSignal('signal', options.signal);
    const timeoutMs = checkTimeoutMs('timeoutMs', options.timeoutMs);
    const context = requestContext(request);
    const aborted = abortedAlready(signal, context);
    if (aborted) return Promise.reject(aborted);
    if (this.closing) return Promise.reject(this.closedError(context.op));
    this.pending++;
    const control = newControl();
    request.control = control;
    // Armed before the request is queued, so that its record carries the deadline.
    control.guard = CancelGuard.arm(signal, timeoutMs, context, (error) => this.dispatcher.withdraw(request, error));
    return this.dispatcher.request(request);
  }

  private transfer(
    op: number,
    buffers: ArrayBufferView | ArrayBufferView[],
    position: number,
    dsync: boolean,
    pi: unknown,
  ): IoRequest | AioError {
    checkPosition('position', position);
    if (this.access.strictBuffers && !allLibraryMemory(buffers)) {
      return libraryError(
        LibraryCodes.alignment,
        'strictBuffers: the buffer was not made by allocAligned() or ring.registerBuffers(), so its alignment is luck',
        { op: opNameOf(op), path: this.path, position },
      );
    }
    const align = this.info.direct ? this.info.offsetAlign : 1;
    const unit = this.integrity ? this.integrity.interval : align;
    let length = 0;
    let lengthsAligned = true;
    if (Array.isArray(buffers)) {
      for (const buffer of buffers) {
        length += buffer.byteLength;
        if (buffer.byteLength % unit !== 0) lengthsAligned = false;
      }
    } else {
      length = buffers.byteLength;
      lengthsAligned = length % unit === 0;
    }
    if (this.integrity) {
      if (!lengthsAligned) return this.notWholeIntervals(op, position, length, "each buffer's length");
      if (position % unit !== 0) return this.notWholeIntervals(op, position, length, 'the position');
    }
    if (!lengthsAligned) return this.misaligned(op, position, length, `each buffer's length must be a multiple of ${align} bytes`);
    if (position % align !== 0) return this.misaligned(op, position, length, `the position must be a multiple of ${align} bytes`);
    const tuples = checkTransferTuples(this.integrity, pi, length);
    return newRequest(this, op, buffers, position, length, dsync, tuples);
  }

  private notWholeIntervals(op: number, position: number, length: number, what: string): AioError {
    const interval = this.integrity!.interval;
    return libraryError(
      LibraryCodes.alignment,
      `this file is protected in ${interval}-byte intervals (integrity.interval), so requests cover whole intervals: ` +
        `${what} must be a multiple of ${interval} bytes`,
      { op: opNameOf(op), path: this.path, position, length },
    );
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
    return newRequest(this, op, undefined, 0, 0, false, undefined);
  }

  private async closeWhenDrained(): Promise<void> {
    this.dispatcher.abandonIfForked();
    if (this.pending > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.onClosed(this);
    // Before the descriptor goes: once closed, its number can be reused by
    // another file, which requests must not reach through the old table entry.
    this.dispatcher.unregisterFile(this.fd);
    if (this.integrity) this.dispatcher.clearProtection(this.fd);
    try {
      await this.handle.close();
    } catch (error) {
      throw fromNodeError(error as NodeJS.ErrnoException, { op: 'close', path: this.path });
    }
  }
}

const noOptions: Record<string, unknown> = Object.freeze({});

function readOptions(options: unknown, keys: OptionKeys): Record<string, unknown> {
  return options === undefined ? noOptions : checkOptions('options', options, keys);
}

/** What an error about this request names. */
export function requestContext(request: IoRequest): OperationContext {
  const op = opNameOf(request.op);
  return request.buffers === undefined
    ? { op, path: request.target.path }
    : { op, path: request.target.path, position: request.position, length: request.length };
}

function ignoreCount(): void {}

function allLibraryMemory(buffers: ArrayBufferView | ArrayBufferView[]): boolean {
  if (!Array.isArray(buffers)) return isLibraryMemory(buffers);
  for (const buffer of buffers) if (!isLibraryMemory(buffer)) return false;
  return true;
}

// aioring's calls are (buffer, position[, options]); fs.promises' are
// (buffer, offset, length, position). Rather than read the wrong place, say so.
function wrongShape(method: string, ...parameters: string[]): TypeError {
  const buffer = parameters[0]!;
  const vector = method.endsWith('v');
  const advice = vector
    ? `each of ${buffer} is transferred whole`
    : `for fs.promises' (buffer, offset, length, position) pass ${buffer}.subarray(offset, offset + length) and position`;
  return invalidArgType(`file.${method} takes (${parameters.join(', ')}${parameters.length === 2 ? '' : '?'}): ${advice}`);
}

const ebadf = 9;

function opNameOf(op: number): OpName {
  return opNames[op]!;
}
