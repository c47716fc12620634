// The public entry point: a ring of requests on one engine, the files opened
// through it, and batches of operations across them.
import * as fs from 'node:fs';
import { unwatchAbort, watchAbort } from './abort-watch';
import { runBatch } from './batch-run';
import { summarizeLatency } from './latency';
import { AbortError, abortedAlready, checkSignal, checkTimeoutMs } from './cancellation';
import type { Dispatcher, DispatcherOptions } from './dispatcher';
import { bufferedPreference, directPreference, openFirstAvailable, openForced, preferredEngine, preferring, requestedEngine } from './engines';
import type { Selection } from './engines';
import { AioError, LibraryCodes, closedError, fromNodeError, invalidArgType, invalidArgValue, libraryError, systemError } from './errors';
import { AioFile } from './file';
import { checkFileIntegrity, intervalMismatch } from './integrity';
import { kernelChecksFor, probeDescriptor } from './integrity-probe';
import type { AioLog } from './log/log';
import { openLog } from './log/open';
import { native } from './native';
import type { NativeRegistration } from './native';
import { checkRegistrationArguments, registerBuffers } from './registered-buffers';
import { optionKeys } from './option-keys';
import type { BatchOpOn, EngineName, FileInfo, FileProtection, LogOptions, OpenOptions, RingOptions, RingStats, SubmitOptions } from './types';
import { checkBoolean, checkFraction, checkInteger, checkOptions, checkString } from './validate';

const defaultDepth = 128;
const maxDepth = 4096;
// Beyond 10 ms a spin holds the event loop longer than any device here takes.
const maxBusyPollUs = 10_000;

/** One operation of ring.submit(); `file` must have been opened by the same ring. */
export type BatchOp = BatchOpOn<AioFile>;

export class Ring {
  /** Most requests in flight at once. */
  readonly depth: number;
  /** The engine direct I/O runs on. */
  readonly engine: EngineName;
  /** Why that engine was chosen (and why any preferred one was passed over). */
  readonly engineReason: string;
  /** Microseconds the ring may spin for a completion before the loop sleeps (0: never). */
  readonly busyPollUs: number;
  /** The share of a core adaptive polling may spend (0: off). */
  readonly pollBudget: number;
  /** Whether requests accept only memory from allocAligned() or registerBuffers(). */
  readonly strictBuffers: boolean;
  private readonly dispatcherOptions: DispatcherOptions;
  // The `prefer` hint, which 'auto' tries first for direct and buffered files.
  private readonly preferred: EngineName | undefined;
  private readonly direct: Dispatcher;
  private buffered: Selection | undefined;
  private readonly files = new Set<AioFile>();
  private readonly logs = new Set<AioLog>();
  // The files under logs, which stay open until their log has written its last group.
  private readonly logFiles = new WeakSet<AioFile>();
  // ring.openLog calls under way, which close() lets finish before it closes the logs.
  private readonly openingLogs = new Set<Promise<AioLog>>();
  private closing: Promise<void> | undefined;
  // Held for as long as the ring is open, as the kernel holds the memory.
  private registration: NativeRegistration | undefined;

  constructor(options?: RingOptions) {
    const opts = checkOptions('options', options, optionKeys.ring);
    this.depth = opts.depth === undefined ? defaultDepth : checkInteger('depth', opts.depth, 1, maxDepth);
    this.busyPollUs = opts.busyPollUs === undefined ? 0 : checkInteger('busyPollUs', opts.busyPollUs, 0, maxBusyPollUs);
    const pollBudget = opts.pollBudget === undefined ? undefined : checkFraction('pollBudget', opts.pollBudget);
    this.strictBuffers = checkBoolean('strictBuffers', opts.strictBuffers, false);
    this.dispatcherOptions = {
      depth: this.depth,
      busyPollUs: this.busyPollUs,
      pollBudget,
      latencyStats: checkBoolean('latencyStats', opts.latencyStats, true),
    };
    this.preferred = preferredEngine(opts.prefer, opts.engine);
    const requested = requestedEngine(opts.engine);
    const purpose = this.preferred ? `chosen for direct I/O, ${this.preferred} preferred` : 'chosen for direct I/O';
    const selection =
      requested === 'auto'
        ? openFirstAvailable(preferring(directPreference, this.preferred), this.dispatcherOptions, purpose)
        : openForced(requested, this.dispatcherOptions, `${requested} was requested`);
    this.direct = selection.dispatcher;
    this.engine = selection.dispatcher.engine;
    this.pollBudget = selection.dispatcher.pollBudget;
    this.engineReason = selection.reason;
  }

  /** Opens a file or block device; O_DIRECT unless `direct: false`. */
  open(path: string, options?: OpenOptions): Promise<AioFile> {
    return this.openFile(path, options, false);
  }

  /**
   * @internal A log's file stays out of io_uring's table of registered files:
   * a table entry keeps the file open until the ring's teardown, which the
   * kernel finishes only after a killed process is gone, and the log's lock
   * must go with the process.
   */
  openLogFile(path: string, options: OpenOptions): Promise<AioFile> {
    return this.openFile(path, options, true);
  }

  private async openFile(path: string, options: OpenOptions | undefined, forLog: boolean): Promise<AioFile> {
    checkString('path', path);
    const opts = checkOptions('options', options, optionKeys.open);
    const write = checkBoolean('write', opts.write, false);
    const direct = checkBoolean('direct', opts.direct, true);
    const create = checkBoolean('create', opts.create, false);
    const exclusive = checkBoolean('exclusive', opts.exclusive, false);
    const truncate = checkBoolean('truncate', opts.truncate, false);
    if (create && !write) throw needs('create', 'write');
    if (truncate && !write) throw needs('truncate', 'write');
    if (exclusive && !create) throw needs('exclusive', 'create');
    const flags =
      (write ? fs.constants.O_RDWR : fs.constants.O_RDONLY) |
      (create ? fs.constants.O_CREAT : 0) |
      (exclusive ? fs.constants.O_EXCL : 0) |
      (truncate ? fs.constants.O_TRUNC : 0) |
      (direct ? fs.constants.O_DIRECT : 0) |
      (checkBoolean('dsync', opts.dsync, false) ? fs.constants.O_DSYNC : 0);
    const mode = opts.mode === undefined ? 0o644 : checkInteger('mode', opts.mode, 0, 0o7777);
    const integrity = checkFileIntegrity(opts.integrity);
    const signal = checkSignal('signal', opts.signal);
    const aborted = abortedAlready(signal, { op: 'open', path });
    if (aborted) throw aborted;
    if (this.closing) throw closedError('ring', { op: 'open', path });

    const handle = await openAbortably(path, flags, mode, direct, signal);
    // close() may have begun while open() waited on the file system.
    if (this.closing) {
      await handle.close();
      throw closedError('ring', { op: 'open', path });
    }
    const device = native.describeFd(handle.fd);
    if (device.errno !== 0) {
      await handle.close();
      throw systemError(device.errno, 'statx', { op: 'open', path });
    }
    const info: FileInfo = {
      size: device.size,
      logicalBlockSize: device.logicalBlockSize,
      physicalBlockSize: device.physicalBlockSize,
      memAlign: direct ? device.memAlign : 1,
      offsetAlign: direct ? device.offsetAlign : 1,
      blockDevice: device.blockDevice,
      direct,
      readOnly: !write || device.readOnly,
      atomicWriteMin: direct ? device.atomicWriteMin : 0,
      atomicWriteMax: direct ? device.atomicWriteMax : 0,
    };
    const mismatch = integrity && intervalMismatch(integrity, info.logicalBlockSize, info.offsetAlign);
    if (mismatch) {
      await handle.close();
      throw invalidArgValue(`${mismatch} ('${path}')`, RangeError);
    }
    const dispatcher = direct ? this.direct : this.bufferedDispatcher();
    if (!forLog) dispatcher.registerFile(handle.fd);
    const protection = integrity && Object.freeze({ ...integrity, kernelChecks: this.kernelChecks(handle.fd, path, integrity, info, dispatcher) });
    const access = {
      writable: write,
      strictBuffers: this.strictBuffers,
      dsyncCanStandForDatasync: direct && write && integrity === undefined && device.dsyncWriteDoesDatasync,
    };
    const file = new AioFile(this, path, handle, access, info, dispatcher, (closed) => this.files.delete(closed), protection);
    this.files.add(file);
    if (forLog) this.logFiles.add(file);
    return file;
  }

  /**
   * Opens (with `create`, makes) an append-only log with group commit on this
   * ring, recovering what an earlier writer left: see README "Log".
   */
  async openLog(path: string, options?: LogOptions): Promise<AioLog> {
    checkString('path', path);
    if (this.closing) throw closedError('ring', { op: 'openLog', path });
    const opening = this.registerLog(openLog(this, path, options, (closed) => this.logs.delete(closed)), path);
    this.openingLogs.add(opening);
    try {
      return await opening;
    } finally {
      this.openingLogs.delete(opening);
    }
  }

  private async registerLog(opening: Promise<AioLog>, path: string): Promise<AioLog> {
    const log = await opening.catch((error: { code?: string }) => {
      throw this.closing && error.code === LibraryCodes.closed ? closedError('ring', { op: 'openLog', path }) : error;
    });
    // close() may have begun while the log was being recovered.
    if (this.closing) {
      await log.close();
      throw closedError('ring', { op: 'openLog', path });
    }
    this.logs.add(log);
    return log;
  }

  /**
   * Allocates `count` zero-filled, page-aligned buffers of `size` bytes (a
   * multiple of 4096, at most 1 GiB) and, on an io_uring ring, registers them
   * with the kernel in one call: a read or write whose memory lies inside one of
   * them (the whole buffer or any subarray) then runs as READ_FIXED/WRITE_FIXED,
   * which skips pinning and mapping the memory on every request. On libaio and
   * thread-pool rings nothing is registered and the buffers work as ordinary
   * aligned buffers; `usesFixedBuffers` tells the two apart. One set per ring;
   * ring.close() unregisters it once the requests in flight have completed.
   */
  registerBuffers(count: number, size: number): Buffer[] {
    checkRegistrationArguments(count, size);
    if (this.closing) throw closedError('ring', { op: 'registerBuffers' });
    // In a forked child the ring itself is what is wrong, which registering says (ERR_AIO_FORKED).
    if (this.registration && !this.direct.forked()) {
      throw libraryError(LibraryCodes.buffersRegistered, 'this ring already has registered buffers; a ring holds one set', {
        op: 'registerBuffers',
      });
    }
    this.registration = registerBuffers(this.direct, count, size);
    return this.registration.buffers;
  }

  /** Whether the kernel has the buffers from registerBuffers() as io_uring fixed buffers (until close() completes). */
  get usesFixedBuffers(): boolean {
    return this.registration?.fixed === true;
  }

  /**
   * Submits many operations as one batch. Resolves with one entry per
   * operation, in order: its byte count (0 for syncs), or its AioError. One
   * failed operation never loses the others' results. `ordered` runs them one
   * after another, each only once the one before has succeeded; `signal` and
   * `timeoutMs` cancel the batch as a whole (see README).
   */
  submit(ops: readonly BatchOp[], options?: SubmitOptions): Promise<Array<number | AioError>> {
    if (!Array.isArray(ops)) {
      return Promise.reject(invalidArgType('The "ops" argument must be an array'));
    }
    let prepared;
    let run;
    try {
      const opts = checkOptions('options', options, optionKeys.submit);
      run = {
        signal: checkSignal('signal', opts.signal),
        timeoutMs: checkTimeoutMs('timeoutMs', opts.timeoutMs),
        ordered: checkBoolean('ordered', opts.ordered, false),
      };
      prepared = ops.map((op, index) => this.prepareBatchOp(op, index));
    } catch (error) {
      return Promise.reject(error);
    }
    if (ops.length === 0) return Promise.resolve([]);
    return runBatch(prepared, run, (file) => (file.info.direct ? this.direct : this.bufferedDispatcher()));
  }

  stats(): RingStats {
    const dispatchers = this.dispatchers();
    const totals = dispatchers[0]!.counts();
    for (const extra of dispatchers.slice(1).map((dispatcher) => dispatcher.counts())) {
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += extra[key];
    }
    return {
      ...totals,
      bytes: totals.bytesRead + totals.bytesWritten,
      latencyUs: summarizeLatency(dispatchers.map((dispatcher) => dispatcher.latency)),
    };
  }

  /** Zeroes every count and latency in stats(); inflight and queued, which describe now, stay. */
  resetStats(): void {
    for (const dispatcher of this.dispatchers()) dispatcher.resetCounts();
  }

  private dispatchers(): Dispatcher[] {
    const buffered = this.buffered?.dispatcher;
    return buffered && buffered !== this.direct ? [this.direct, buffered] : [this.direct];
  }

  /**
   * Waits for every request already made (queued or in flight), closes every
   * log (as log.close() does: every append already made settles, then its lock
   * is released) and every file opened through the ring, and releases the
   * engine. Later requests and appends reject with ERR_AIO_CLOSED.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    // The engines are released even if closing some log or file fails; that
    // failure is still reported. Logs first: their last groups need their files.
    // Closing each log and every other file at once makes appends and
    // requests from here on reject.
    const closingLogs = [...this.logs].map((log) => log.close());
    const closingFiles = [...this.files].filter((file) => !this.logFiles.has(file)).map((file) => file.close());
    await Promise.allSettled([...this.openingLogs]);
    const logs = await Promise.allSettled(closingLogs);
    const files = [...logs, ...(await Promise.allSettled([...closingFiles, ...[...this.files].map((file) => file.close())]))];
    const dispatchers = new Set([this.direct, this.buffered?.dispatcher]);
    await Promise.all([...dispatchers].map((dispatcher) => dispatcher?.close()));
    this.registration = undefined;
    const failed = files.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private prepareBatchOp(op: BatchOp, index: number) {
    const entry = checkOptions(`ops[${index}]`, op, batchKeys(op)) as Partial<BatchOp> & Record<string, unknown>;
    const file = entry.file;
    if (!(file instanceof AioFile)) {
      throw invalidArgType(`ops[${index}].file must be a file opened by Ring.open`);
    }
    if (file.owner !== this) {
      return libraryError(LibraryCodes.foreignFile, 'the file was opened by another ring', { op: 'open', path: file.path });
    }
    const kind = entry.op as BatchOp['op'];
    if (kind === 'fsync' || kind === 'fdatasync') {
      return file.closed ? file.closedError(kind) : file.prepare(kind, undefined, 0, false);
    }
    const buffers = kind === 'readv' || kind === 'writev' ? entry.buffers : entry.buffer;
    const dsync = checkBoolean(`ops[${index}].dsync`, entry.dsync, false);
    const request = file.prepare(kind, buffers as ArrayBufferView, entry.position as number, dsync, entry.pi as ArrayBufferView | undefined);
    return file.closed && !(request instanceof AioError) ? file.closedError(kind) : request;
  }

  // Only the separate layout on io_uring, over a block device, can hand its tuples to the kernel.
  private kernelChecks(fd: number, path: string, integrity: Omit<FileProtection, 'kernelChecks'>, info: FileInfo, dispatcher: Dispatcher): boolean {
    if (integrity.layout !== 'separate' || dispatcher.engine !== 'io_uring' || !info.blockDevice || !info.direct) return false;
    const protection = { ...integrity, kernelChecks: false };
    return kernelChecksFor(probeDescriptor(fd, path, true, fs.fstatSync(fd).rdev), protection, dispatcher.engine);
  }

  // Buffered files must not go through Linux AIO, which completes them
  // synchronously inside io_submit and would block the event loop.
  private bufferedDispatcher(): Dispatcher {
    if (this.engine !== 'libaio') return this.direct;
    // Buffered requests complete inside the submission or take a disk's
    // milliseconds, so a second engine for them polls only when asked to
    // (busyPollUs); the ring's pollBudget stays with its direct I/O.
    if (!this.buffered) {
      this.buffered = openFirstAvailable(preferring(bufferedPreference, this.preferred), { ...this.dispatcherOptions, pollBudget: 0 }, 'chosen for buffered files');
    }
    return this.buffered.dispatcher;
  }

  /** The engine buffered (non-O_DIRECT) files use, once one has been opened. */
  get bufferedEngine(): EngineName | undefined {
    return this.engine === 'libaio' ? this.buffered?.dispatcher.engine : this.engine;
  }
}

function needs(option: string, required: string): TypeError {
  return invalidArgValue(`The "${option}" option needs ${required}: true`);
}

// A batch entry's allowed keys depend on its op; an unknown op is reported by
// file.prepare, after the entry's file has been checked.
function batchKeys(op: unknown) {
  const kind = typeof op === 'object' && op !== null ? (op as { op?: unknown }).op : undefined;
  if (kind === 'fsync' || kind === 'fdatasync') return optionKeys.batchFlush;
  if (kind === 'readv' || kind === 'writev') return optionKeys.batchVector;
  return optionKeys.batchTransfer;
}

// The kernel answers O_DIRECT on a directory with EINVAL, which alone reads as
// "this file system cannot do direct I/O"; say what is really wrong.
async function openFailure(error: NodeJS.ErrnoException, path: string, direct: boolean): Promise<AioError> {
  const wrapped = fromNodeError(error, { op: 'open', path });
  if (!direct || wrapped.code !== 'EINVAL') return wrapped;
  const isDirectory = await fs.promises.stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (isDirectory) return systemError(eisdir, 'open', { op: 'open', path });
  wrapped.message += '; this file system may not support O_DIRECT (open with direct: false)';
  return wrapped;
}

const eisdir = 21;

// fs.promises.open takes no signal: an abort rejects at once, and a descriptor
// the open still delivers afterwards is closed, never handed out.
function openAbortably(path: string, flags: number, mode: number, direct: boolean, signal: AbortSignal | undefined): Promise<fs.promises.FileHandle> {
  const opening = fs.promises.open(path, flags, mode).catch(async (error: NodeJS.ErrnoException) => {
    throw await openFailure(error, path, direct);
  });
  if (signal === undefined) return opening;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(new AbortError(signal.reason, { op: 'open', path }));
      opening.then((late) => late.close()).catch(() => {});
    };
    watchAbort(signal, onAbort);
    opening.then(
      (handle) => {
        unwatchAbort(signal, onAbort);
        if (signal.aborted) return;
        resolve(handle);
      },
      (error: unknown) => {
        unwatchAbort(signal, onAbort);
        reject(error);
      },
    );
  });
}
