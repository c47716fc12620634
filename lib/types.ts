// The library's public vocabulary: plain data types only. This file imports
// nothing, so every module may import it and no import cycle runs through it.

/** The engines a ring can run on (see lib/native-contract.ts engineNames). */
export type EngineName = 'libaio' | 'io_uring' | 'threadpool';
/** An engine, or 'auto' for the first one the kernel allows. */
export type EngineChoice = EngineName | 'auto';

export interface EngineAvailability {
  available: boolean;
  /** The errno name behind a refusal (ENOSYS, EPERM, EAGAIN, ENOMEM). */
  code?: string;
  errno?: number;
  reason: string;
}

/**
 * Memory a request reads into or writes from: a Buffer or any TypedArray (a
 * DataView is not accepted). For direct I/O it must be aligned: use
 * allocAligned() or ring.registerBuffers().
 */
export type IoBuffer = NodeJS.TypedArray;

export interface RingOptions {
  /** Most requests in flight at once; more wait in a queue. Default 128. */
  depth?: number;
  /** Default 'auto' (overridable by the AIORING_ENGINE environment variable). */
  engine?: EngineChoice;
  /**
   * With engine 'auto': the engine to try first, before the usual order
   * (libaio, io_uring, threadpool for direct I/O). A hint, not a demand: if
   * the kernel refuses it, 'auto' goes on down the usual order, and
   * AIORING_ENGINE still replaces 'auto' as a whole. For example
   * `prefer: 'io_uring'` for write-heavy direct I/O (see README, Engines).
   */
  prefer?: EngineName;
  /**
   * Busy polling, in microseconds: when the completions at hand are used up
   * and requests are still in flight, spin up to this long waiting for the
   * next one instead of letting the event loop sleep. Trades a spinning CPU
   * for shorter waits; each turn of the event loop spends at most this long
   * spinning, so timers and other I/O still run. 0 to 10000; default 0 (off).
   */
  busyPollUs?: number;
  /**
   * Adaptive polling's CPU budget, as a fraction of one core (0 to 1; default
   * 0.1, and 0 on the thread-pool engine, whose own threads need the CPU a
   * spin would take). While requests are in flight and the next completion
   * is expected within a short window (learned from the ring's own
   * submit-to-complete times, per kind of request), the ring checks the
   * completion ring without a system call instead of letting the event loop
   * sleep, spending at most this share of a core on it, averaged over time;
   * it never polls with nothing in flight, and each poll holds the loop for
   * at most 200 µs.
   * 0 turns adaptive polling off. A busyPollUs above 0 replaces it.
   */
  pollBudget?: number;
  /**
   * Accept only memory that allocAligned() or ring.registerBuffers() made, on
   * every file of the ring, rejecting anything else with ERR_AIO_ALIGNMENT.
   * A Buffer.alloc() buffer is sometimes aligned by chance; this makes code
   * that depends on such luck fail every time, in tests, rather than now and
   * then in production. Default false.
   */
  strictBuffers?: boolean;
  /**
   * Record each request's latency for stats().latencyUs, from its submission
   * to its reaping: native code reads the clock once per submission call and
   * once per wake-up (the readings adaptive polling takes anyway), and JS
   * makes one histogram update per request. false leaves latencyUs empty.
   * Default true.
   */
  latencyStats?: boolean;
}

export interface OpenOptions {
  /** Rejects the open with an AbortError when the signal aborts; a descriptor opened after that is closed. */
  signal?: AbortSignal;
  /** Open for reading and writing. Default false (read-only). */
  write?: boolean;
  /** Create the file if it does not exist (needs write: true). */
  create?: boolean;
  /** Fail with EEXIST if the file exists (needs create: true). */
  exclusive?: boolean;
  /** Truncate an existing file to zero length (needs write: true). */
  truncate?: boolean;
  /** O_DIRECT: bypass the page cache. Default true. */
  direct?: boolean;
  /** O_DSYNC: every write is durable when it completes. Default false. */
  dsync?: boolean;
  /** Permission bits for a created file. Default 0o644. */
  mode?: number;
  /** Protection information on every interval: generated on write, verified on read (see FileIntegrityOptions). */
  integrity?: FileIntegrityOptions;
}

/** 't10dif': 8-byte tuples with a CRC-16 guard; 'nvme64': NVMe's 16-byte tuples with a CRC-64 guard and 48-bit reference tag. */
export type ProtectionFormat = 't10dif' | 'nvme64';
/** Bytes of data one tuple covers. */
export type ProtectionInterval = 512 | 4096;
/** Where a protected file keeps its tuples. */
export type ProtectionLayout = 'trailer' | 'separate';

/** generateProtection / verifyProtection options. */
export interface ProtectionOptions {
  format: ProtectionFormat;
  interval: ProtectionInterval;
  /** Type 1 reference tag of the first interval; interval k gets refTag + k, truncated to the tuple's width. Default 0. */
  refTag?: number;
  /** Application tag, 0 to 0xFFFF; a tuple holding 0xFFFF is not checked at all. Default 0. */
  appTag?: number;
}

/** ring.open's `integrity` option. */
export interface FileIntegrityOptions {
  format: ProtectionFormat;
  /** Bytes per interval, 512 or 4096; a multiple of the file's logical block size. */
  interval: ProtectionInterval;
  /** Application tag written into every tuple and expected back. Default 0. */
  appTag?: number;
  /** Reference tag of the interval at position 0; the interval at byte p gets refTagSeed + p / interval. Default 0. */
  refTagSeed?: number;
  /**
   * 'trailer' (default): each interval's last 8 (t10dif) or 16 (nvme64) bytes hold
   * its tuple, and the guard covers the bytes before them. 'separate': every
   * read and write takes a `pi` buffer with one tuple per interval, kept
   * wherever the application likes.
   */
  layout?: ProtectionLayout;
}

/** The checked form of the options every protected transfer shares. */
export interface ProtectionProfile {
  format: ProtectionFormat;
  interval: number;
  tupleBytes: number;
  appTag: number;
}

/** A protected file's settings, as file.integrity reports them. */
export interface FileProtection extends ProtectionProfile {
  layout: ProtectionLayout;
  refTagSeed: number;
  /**
   * The kernel checks the tuples too: the separate layout on io_uring over a
   * device with protection information of the same format and interval
   * (see probeIntegrity). Always false where no such device exists.
   */
  kernelChecks: boolean;
}

/** What probeIntegrity found. */
export interface IntegrityProbe {
  path: string;
  blockDevice: boolean;
  /** FS_IOC_GETLBMD_CAP reports protection information on this device (LBMD_PI_CAP_INTEGRITY). */
  supported: boolean;
  /** Why (or why not), in a sentence. */
  reason: string;
  /** FS_IOC_GETLBMD_CAP's refusal: the errno name (ENOTTY, EOPNOTSUPP, EINVAL, ...) and negative errno. */
  code?: string;
  errno?: number;
  /** The kernel's block layer has integrity support for this disk (/sys/block/<disk>/integrity exists). */
  kernelIntegrity: boolean;
  /** FS_IOC_GETLBMD_CAP's fields, all 0 when refused: bytes of data per interval, of metadata, of PI and its offset. */
  interval: number;
  metadataSize: number;
  piSize: number;
  piOffset: number;
  guard: 'none' | 'ip' | 'crc16-t10dif' | 'crc64-nvme' | 'unknown';
  appTagSize: number;
  refTagSize: number;
  storageTagSize: number;
  /** LBMD_PI_CAP_REFTAG: the device checks reference tags. */
  refTagChecked: boolean;
  /** The library format whose tuples the device's PI has, if any. */
  format: ProtectionFormat | undefined;
  /** io_uring here takes read/write attributes (IORING_FEAT_RW_ATTR), so it can pass PI to the kernel. */
  ioUringRwAttributes: boolean;
  ioUringReason: string;
}

/** Cancelling one operation: see README "Cancellation and deadlines". */
export interface CancelOptions {
  /** Rejects the operation with an AbortError (code ABORT_ERR, cause: the signal's reason) when the signal aborts. */
  signal?: AbortSignal;
  /**
   * Rejects the operation with ERR_AIO_TIMEOUT if it has not completed after this
   * many milliseconds (1 to 2147483647). On io_uring a read or write in flight
   * carries its deadline into the kernel (IORING_OP_LINK_TIMEOUT); elsewhere, and
   * for syncs (which may share one call), a JS timer keeps it.
   */
  timeoutMs?: number;
}

export type SyncOptions = CancelOptions;

export interface SubmitOptions extends CancelOptions {
  /**
   * Run the ops one after another, each only once the one before has
   * succeeded; a failed or short op cancels the rest (ECANCELED). On io_uring
   * consecutive reads and writes go to the kernel as one linked chain
   * (IOSQE_IO_LINK); elsewhere the library holds each op back. Default false.
   */
  ordered?: boolean;
}

export interface ReadOptions extends CancelOptions {
  /** A protected file's separate layout: the tuples to check the data against, one per interval. */
  pi?: ArrayBufferView;
}

export interface FileInfo {
  /**
   * Bytes: the file's size when it was opened, or the block device's
   * (BLKGETSIZE64). It is not updated as the file grows or shrinks; file.stat()
   * gives the current size.
   */
  size: number;
  logicalBlockSize: number;
  physicalBlockSize: number;
  /** Buffer addresses must be multiples of this (1 when not direct). */
  memAlign: number;
  /** Positions and lengths must be multiples of this (1 when not direct). */
  offsetAlign: number;
  blockDevice: boolean;
  direct: boolean;
  /** Opened without write, or the block device itself is read-only. */
  readOnly: boolean;
  /**
   * The smallest and largest write({ atomic: true }) (RWF_ATOMIC) the file
   * takes, in bytes, from statx STATX_WRITE_ATOMIC (Linux 6.11+). 0 when the
   * device or file system offers no atomic writes, or the file is not direct.
   */
  atomicWriteMin: number;
  atomicWriteMax: number;
}

export interface WriteOptions extends CancelOptions {
  /**
   * RWF_ATOMIC: after a crash the write is either wholly on the device or not
   * at all, never torn. Its length must be a power of two within
   * file.info.atomicWriteMin..atomicWriteMax and its position a multiple of
   * it; otherwise, or where unsupported, it rejects with ERR_AIO_ATOMIC.
   */
  atomic?: boolean;
  /** RWF_DSYNC on this write alone: durable when it completes. */
  dsync?: boolean;
  /** A protected file's separate layout: filled with the data's tuples, one per interval, before the write is submitted. */
  pi?: ArrayBufferView;
}

export interface ScrubOptions {
  /** Called after each chunk is checked. */
  onProgress?: (progress: ScrubProgress) => void;
}

export interface ScrubProgress {
  /** Bytes read and checked so far, and in all. */
  bytesScanned: number;
  totalBytes: number;
  /** Bad intervals found so far. */
  faults: number;
}

export interface ScrubReport {
  bytesScanned: number;
  intervals: number;
  /** Every bad interval, in file order. */
  faults: IntegrityFault[];
}

export interface AllocateOptions {
  /**
   * FALLOC_FL_KEEP_SIZE: reserve the blocks but leave the file's size as it
   * is, so space past the end is allocated without being readable. Default false.
   */
  keepSize?: boolean;
}

export interface StatOptions {
  /** Numbers in the result as bigint, as fs.Stats does with the same option. Default false. */
  bigint?: boolean;
}

/** ring.submit()'s operations on files of type File (ring.ts's BatchOp is BatchOpOn<AioFile>). */
export type BatchOpOn<File> =
  | { op: 'read' | 'write'; file: File; buffer: IoBuffer; position: number; dsync?: boolean; pi?: ArrayBufferView }
  | { op: 'readv' | 'writev'; file: File; buffers: IoBuffer[]; position: number; dsync?: boolean; pi?: ArrayBufferView }
  | { op: 'fsync' | 'fdatasync'; file: File };

/** Microseconds from a request's submission to the engine until its completion reached JS. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LatencyStats {
  /** read and readv */
  read: LatencySummary;
  /** write and writev */
  write: LatencySummary;
  /** fsync and fdatasync */
  sync: LatencySummary;
}

export interface RingStats {
  /** Requests handed to the engine. */
  submitted: number;
  completed: number;
  inflight: number;
  /** Requests waiting in JS for room in the ring. */
  queued: number;
  /** System calls made by the engine (submission, reaping, wake-ups). */
  syscalls: number;
  bytesRead: number;
  bytesWritten: number;
  /** bytesRead + bytesWritten */
  bytes: number;
  /**
   * Reads and writes submitted as io_uring fixed-buffer operations
   * (READ_FIXED/WRITE_FIXED): those whose memory lies inside one buffer from
   * ring.registerBuffers(). Always 0 on libaio and thread-pool rings.
   */
  fixedBufferOps: number;
  /** Requests submitted on a registered file instead of its descriptor (io_uring only). */
  fixedFileOps: number;
  /** Times the ring spun waiting for a completion (busyPollUs), and the times that found one. */
  busyPolls: number;
  busyPollHits: number;
  /** Times adaptive polling (pollBudget) spun for a completion, and the times that found one. */
  adaptivePolls: number;
  adaptivePollHits: number;
  /** Microseconds of CPU spent spinning for completions, by adaptive polling and busyPollUs together. */
  pollCpuUs: number;
  /** Requests rejected by their signal or timeoutMs (ABORT_ERR, ERR_AIO_TIMEOUT). */
  cancelled: number;
  /**
   * Of those, the ones already in flight that the engine was asked to stop:
   * IORING_OP_ASYNC_CANCEL on io_uring, dequeueing on the thread pool. Linux
   * AIO cannot cancel file or block-device requests, so it is never asked.
   */
  cancelsAsked: number;
  /**
   * Of those, the ones the engine did stop: they completed with ECANCELED
   * instead of transferring (EINTR on io_uring for one the kernel had handed
   * to a worker thread of its own).
   */
  cancelsHonoured: number;
  /**
   * fsync/fdatasync requests that made no call of their own: each joined a
   * call another request on the same file had asked for and that had not yet
   * started (see README "Sync coalescing"). `submitted`, `completed` and
   * `latencyUs.sync` count the calls, not the requests.
   */
  syncsCoalesced: number;
  /**
   * fdatasync entries of ordered batches that made no call at all: the write
   * before them ran with RWF_DSYNC instead, which does the same for that file
   * (see README "Ordered batches"). Not in `submitted`, `completed` or
   * `latencyUs.sync`; the write counts there as a write.
   */
  syncsFused: number;
  /**
   * io_uring: requests whose timeoutMs went to the kernel with them, as a
   * linked IORING_OP_LINK_TIMEOUT carrying the time left at submission. Always
   * 0 on libaio and thread-pool rings, whose deadlines are timers in JS.
   */
  linkTimeouts: number;
  /**
   * Of those, the ones whose kernel timer fired first: they rejected with
   * ERR_AIO_TIMEOUT and count in cancelled and cancelsAsked too.
   */
  linkTimeoutsFired: number;
  /**
   * io_uring: entries of ordered batches submitted linked to the next entry
   * (IOSQE_IO_LINK), which the kernel then starts with no turn through JS.
   * Always 0 on libaio and thread-pool rings, where JS holds each entry back.
   */
  linkedSubmits: number;

  /**
   * Per kind of request, microseconds from its submission to the engine until
   * its completion reached JS (time waiting in JS for a slot is not included):
   * count, mean, p50, p99, p999 and max, from fixed-memory log-linear
   * histograms (within 0.4% of the true quantile).
   */
  latencyUs: LatencyStats;
}

/** The operations an error can be about. */
export type OpName =
  | 'read'
  | 'write'
  | 'readv'
  | 'writev'
  | 'fsync'
  | 'fdatasync'
  | 'open'
  | 'close'
  | 'registerBuffers'
  | 'stat'
  | 'truncate'
  | 'allocate'
  | 'verifyProtection'
  | 'scrub'
  | 'openLog'
  | 'append'
  | 'submit';

/** Which check of a protection-information tuple failed. */
export type IntegrityFaultKind = 'guard' | 'reference' | 'application';

/** One interval whose tuple did not match its data. */
export interface IntegrityFault {
  kind: IntegrityFaultKind;
  /** The interval's index, counted from the start of the request (or of verifyProtection's data). */
  interval: number;
  /** The interval's first byte: a file position, or an offset into verifyProtection's data. */
  position: number;
  /** What the check computed and what the tuple holds: bigint for an nvme64 guard, else a number. */
  expected: number | bigint;
  actual: number | bigint;
}

export interface AioErrorDetails {
  code: string;
  /** Negative errno, as Node's own system errors carry it. */
  errno?: number;
  syscall?: string;
  op?: OpName;
  position?: number;
  length?: number;
  path?: string;
  engine?: string;
  /** ERR_AIO_INTEGRITY: the first bad interval and, in `faults`, every bad interval. */
  integrity?: { first: IntegrityFault; faults: IntegrityFault[] };
}

/** ring.openLog()'s options. */
export type LogDurability = 'dsync' | 'fdatasync';

export interface LogOptions {
  /** Create the log if the file does not exist (or is empty). Default false. */
  create?: boolean;
  /** Open for reading only: recovery runs, nothing is written, append() rejects. Default false. */
  readOnly?: boolean;
  /** O_DIRECT: groups are written in aligned blocks past the page cache. Default true. */
  direct?: boolean;
  /**
   * How a group is made durable: 'dsync' (default) writes it with RWF_DSYNC, one
   * system call; 'fdatasync' writes it and then calls fdatasync.
   */
  durability?: LogDurability;
  /** A group holds records totalling at most this many bytes (a single larger record goes alone). 4 KiB to 64 MiB; default 1 MiB. */
  maxGroupBytes?: number;
  /**
   * Microseconds an idle log waits for more appends before it writes a group
   * (appends arriving while a group is being written never wait longer than it
   * takes). 0 to 1000000; default 0: write at once.
   */
  maxGroupWaitUs?: number;
  /** The largest record append() accepts, in bytes. 1 to 256 MiB; default 4 MiB. */
  maxRecordBytes?: number;
  /** Bytes the file is extended by ahead of the appends, so an append never also commits a size change. 0 (off) or a multiple of 4096 up to 1 GiB; default 64 MiB. */
  preallocateBytes?: number;
  /**
   * Preallocate by writing zeros (default true), so that appends overwrite
   * written blocks and commit no extent change either; false reserves the space
   * with fallocate(2) alone, which is cheaper but leaves unwritten extents whose
   * first write some file systems must also journal.
   */
  zeroFill?: boolean;
  /** Permission bits for a created file. Default 0o644. */
  mode?: number;
}

/**
 * log.append()'s options. An abort or deadline before the record joins a
 * group removes it unwritten; once its group is being written the append still
 * rejects at once, but the record may become durable (see README "Log").
 */
export type LogAppendOptions = CancelOptions;

/** log.read()'s options. */
export interface LogReadOptions {
  /** The first LSN to return (default: the log's first record). */
  from?: bigint | number;
}

/** file.createReadStream()'s options. */
export interface ReadStreamOptions {
  /** First byte to deliver. Default 0. */
  start?: number;
  /** Last byte to deliver, inclusive (as in fs.createReadStream). Default: to the end of the file. */
  end?: number;
  /** The most bytes in one chunk the stream emits, and its buffering threshold. Default 1 MiB. */
  highWaterMark?: number;
  /** The largest read-ahead window, in bytes. Default 8 MiB, at most 64 MiB. */
  maxReadAhead?: number;
  /** Aborting it destroys the stream with an AbortError. */
  signal?: AbortSignal;
}

/** What a write stream's 'finish' waits for beyond the writes. */
export type FlushMode = 'none' | 'datasync' | 'sync';

/** file.createWriteStream()'s options. */
export interface WriteStreamOptions {
  /** File position of the first byte written. Default 0. */
  start?: number;
  /** Bytes per aligned write. Default 1 MiB, at most 64 MiB; a multiple of the file's alignment. */
  chunkSize?: number;
  /** What 'finish' waits for beyond the writes: 'datasync' (fdatasync), 'sync' (fsync), or 'none' (default). */
  flush?: FlushMode;
  /** Bytes write() may hold before it returns false. Default chunkSize. */
  highWaterMark?: number;
  /** Aborting it destroys the stream with an AbortError. */
  signal?: AbortSignal;
}
