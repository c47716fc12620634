// Loads the compiled addon and describes its shape. The addon is deliberately
// small: everything that can be checked or decided in JS is done in lib/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeChecksumAlgorithm, NativeChecksumPath } from './native-contract';
import type { FileInfo } from './types';

/** One engine as native code hands it to JS (binding.cc's EngineBinding); lib/dispatcher.ts drives it. */
export interface EngineBinding {
  /** Submits the first `count` shared records; `buffers` holds their buffers in record order (later entries are ignored). */
  submit(count: number, buffers: ReadonlyArray<ArrayBufferView | undefined>): number;
  close(): void;
  counters(): NativeCounters;
  /** Microseconds to spin for completions before the loop sleeps; 0 is off. */
  setBusyPoll(microseconds: number): void;
  /** Adaptive polling's share of a core, 0 to 1; 0 is off. */
  setPollBudget(fraction: number): void;
  /** Whether completions carry their latency (completionLatencyDouble); off, they carry 0. */
  setLatencyTiming(on: boolean): void;
  /** A number is a SubmitAnswer (closed or forked). */
  registerBuffers(count: number, size: number): NativeRegistration | NativeRegistrationFailure | number;
  registerFile(fd: number): boolean;
  unregisterFile(fd: number): void;
  /** After the file on `fd` was truncated: an engine that keeps what it saw of its size looks again. */
  fileResized(fd: number): void;
  /** Asks the engine to stop the request in flight in `slot`; a CancelOutcome. Its completion still arrives. */
  cancel(slot: number): number;
  /** Whether RequestFlags.linkNext chains run in the kernel (io_uring). */
  linksInKernel(): boolean;
  /** Reads and writes on `fd` are protected from now on: tuples generated before writes, checked as reads complete. */
  setProtection(fd: number, ...args: [...NativeProtectionProfile, kernelChecks: boolean]): void;
  /** After fd's last request has settled, before it is closed. */
  clearProtection(fd: number): void;
  /** The faults of the read that completed in `slot` with CompletionResult.integrityFault. */
  takeIntegrityFaults(slot: number): NativeIntegrityFault[];
}

/** The engine's own counts; see RingStats. */
export interface NativeCounters {
  syscalls: number;
  fixedBufferOps: number;
  fixedFileOps: number;
  linkedSubmits: number;
  linkTimeouts: number;
  busyPolls: number;
  busyPollHits: number;
  adaptivePolls: number;
  adaptivePollHits: number;
  pollCpuUs: number;
}

/** The buffers, and whether the kernel took them as registered (fixed) buffers. */
export interface NativeRegistration {
  buffers: Buffer[];
  fixed: boolean;
}

export interface NativeRegistrationFailure {
  errno: number;
  syscall: string;
}

export interface NativeRefusal {
  errno: number;
  reason: string;
}

/** What native code learns about a descriptor; `readOnly` is the device's own flag only. */
export type NativeDeviceInfo = Omit<FileInfo, 'direct'> & {
  errno: number;
  /** An RWF_DSYNC write makes durable all an fdatasync after it would, but for dirty pages of the file (block devices, ext4, XFS, on a device without a volatile cache or without FUA). */
  dsyncWriteDoesDatasync: boolean;
};

/** (format, interval, trailer, refTag of the first interval, appTag) */
export type NativeProtectionProfile = [format: number, interval: number, trailer: boolean, refTag: number, appTag: number];

/** A loop device attached with LO_FLAGS_AUTOCLEAR: closing `fd` detaches it. */
export interface NativeLoopAttachment {
  fd: number;
  index: number;
  directIo: boolean;
}

/** struct logical_block_metadata_cap's fields, as native/integrity/kernel_pi.h names them. */
export interface NativeMetadataCap {
  errno: number;
  flags: number;
  interval: number;
  size: number;
  opaqueSize: number;
  opaqueOffset: number;
  piSize: number;
  piOffset: number;
  guardTagType: number;
  appTagSize: number;
  refTagSize: number;
  storageTagSize: number;
}

/** One bad interval; `interval` counts from the start of the data checked. */
export interface NativeIntegrityFault {
  kind: 'guard' | 'reference' | 'application';
  interval: number;
  expected: number | bigint;
  actual: number | bigint;
}

export interface NativeAddon {
  openEngine(
    engine: string,
    depth: number,
    submissions: ArrayBuffer,
    completions: ArrayBuffer,
    onComplete: (count: number) => void,
  ): EngineBinding | NativeRefusal;
  probeEngine(engine: string): NativeRefusal;
  describeFd(fd: number): NativeDeviceInfo;
  /** 1 when the page cache holds no dirty or writeback page of the file (cachestat), 0 when it does, -errno when that cannot be told. */
  pageCacheClean(fd: number): number;
  /** With hugePages, the memory starts on a huge page and is advised (MADV_HUGEPAGE) to be backed by them. */
  allocAligned(size: number, alignment: number, hugePages?: boolean): Buffer | null;
  /** For aioring/testing. */
  attachLoopDevice(backingPath: string, sectorSize: number, directIo: boolean): NativeLoopAttachment | NativeRegistrationFailure;
  /** BLKROSET; returns errno, 0 on success. */
  setBlockDeviceReadOnly(fd: number, readOnly: boolean): number;
  crc16t10dif(data: ArrayBufferView, seed: number): number;
  crc32c(data: ArrayBufferView, seed: number): number;
  crc64nvme(data: ArrayBufferView, seed: bigint): bigint;
  /** Fills in the frames of `count` log records laid from `start`, whose length fields and data are in place; the offset past them, or 0 if a length runs past the view. */
  frameLogRecords(group: ArrayBufferView, start: number, count: number, fileId: number, session: number, firstLsnLow: number, firstLsnHigh: number): number;
  /** One named implementation (see NativeChecksumPath); null when this CPU lacks the hardware one. */
  checksumByPath(
    algorithm: NativeChecksumAlgorithm,
    path: NativeChecksumPath,
    data: ArrayBufferView,
    seed: number | bigint,
  ): number | bigint | null;
  readonly checksumHardware: Readonly<Record<'crc16t10dif' | 'crc32c' | 'crc64nvme', boolean>>;
  /** Fills the tuples of data's intervals: in `pi`, or (trailer) in each interval's last bytes. */
  generateProtection(data: ArrayBufferView, pi: ArrayBufferView | undefined, ...profile: NativeProtectionProfile): void;
  /** Null when every interval passes. */
  verifyProtection(data: ArrayBufferView, pi: ArrayBufferView | undefined, ...profile: NativeProtectionProfile): NativeIntegrityFault[] | null;
  /** FS_IOC_GETLBMD_CAP on fd: errno 0 and the capability fields, or the errno. */
  queryIntegrity(fd: number): NativeMetadataCap;
  /** Whether a fresh io_uring reports IORING_FEAT_RW_ATTR; errno when one cannot be set up. */
  queryUringAttributes(): { errno: number; rwAttributes: boolean };
  /** fallocate(2) on libuv's thread pool; `done` gets 0 or the errno. */
  allocate(fd: number, keepSize: boolean, offset: number, length: number, done: (errno: number) => void): void;
  /** The log's single-writer lock, without waiting (native/log/file_lock.h): 0, EAGAIN when another open file holds it, or the errno. */
  lockLog(fd: number): number;
  /** Releases the locks lockLog took on this open file: 0 or the errno. */
  unlockLog(fd: number): number;
  /** The pid of the live process holding the log's lock; 0 when none (or this process) does; or -errno. */
  logLockHolder(fd: number): number;
  /** The values lib/native-contract.ts mirrors, as native code has them. */
  readonly contract: NativeContract;
}

export interface NativeContract {
  engineNames: string[];
  opCodes: Record<string, number>;
  flags: Record<string, number>;
  recordBytes: number;
  /** Byte offset of each SubmissionRecord field. */
  recordOffsets: Record<string, number>;
  recordStatuses: Record<string, number>;
  completionBytes: number;
  /** Byte offset of each CompletionRecord field. */
  completionOffsets: Record<string, number>;
  submitAnswers: Record<string, number>;
  checksumAlgorithms: Record<string, number>;
  checksumPaths: Record<string, number>;
  protectionFormats: Record<string, number>;
  tupleBytes: Record<string, number>;
  completionResults: Record<string, number>;
  cancelOutcomes: Record<string, number>;
}

function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'binding.gyp'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '..', '..');
    dir = parent;
  }
  return dir;
}

function load(): NativeAddon {
  // Bundlers and packagers move files around; operators can point at the .node file directly.
  const override = process.env.AIORING_NATIVE_PATH;
  try {
    if (override) return require(path.resolve(override)) as NativeAddon;
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
    return nodeGypBuild(packageRoot());
  } catch (cause) {
    throw new Error(
      'aioring: could not load its native addon. It runs on Linux only, and needs either a ' +
        'prebuild in prebuilds/ matching this platform and libc, or a local build: run ' +
        '`npm rebuild aioring` with a C++ compiler, make and python3 installed. ' +
        'Set AIORING_NATIVE_PATH to the aioring.node file if a bundler moved it. ' +
        `Cause: ${(cause as Error).message}`,
      { cause },
    );
  }
}

export const native: NativeAddon = load();
