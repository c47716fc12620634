// The contract between lib/ and the addon that no function signature carries:
// engine names, op codes, request flags, the submission record JS writes into
// memory shared with native code, the statuses native code writes back, the
// completion records it hands over, and submit()'s answers that are not a count.
// It mirrors native/contract.h, native/engine.h and native/probe.h; the addon
// exports its values as `contract` and test/25.contract.test.ts compares them.

import type { EngineName, OpName } from './types';

/** Every EngineName, in the order probeEngines() reports them. */
export const engineNames: readonly EngineName[] = ['libaio', 'io_uring', 'threadpool'];

/** engine.h's OpCode. */
export const OpCodes = { read: 0, write: 1, readv: 2, writev: 3, fsync: 4, fdatasync: 5 } as const;
/** Op names by OpCodes value. */
export const opNames: readonly (OpName & keyof typeof OpCodes)[] = ['read', 'write', 'readv', 'writev', 'fsync', 'fdatasync'];

/**
 * engine.h's kFlag* bits of a record's `flags` (linkNext: the next record starts
 * only once this one has completed in full, in the kernel; syncNext: a sync
 * waits for this write, so the engine may run it where its completion arrives
 * soonest), and contract.h's protectionTuples (one more buffer follows: the
 * request's tuples).
 */
export const RequestFlags = { dsync: 1, atomic: 2, linkNext: 4, syncNext: 8, protectionTuples: 256 } as const;

/** Bytes of one SubmissionRecord. */
export const recordBytes = 48;
/**
 * A record seen as an Int32Array: how many elements it spans, and where each
 * int32 field is. Native code writes `status` and `deadlineInKernel` (1 when
 * the engine took the record's deadline into the kernel) back.
 */
export const recordInts = recordBytes / 4;
export const RecordField = { slot: 0, fd: 1, op: 2, flags: 3, length: 4, memAlign: 5, status: 6, deadlineInKernel: 7 } as const;
/**
 * The record's `position`, and its `deadline` (milliseconds on process.hrtime()'s
 * clock, 0 for none), as elements of a Float64Array over the same memory.
 */
export const recordPositionDouble = 4;
export const recordDeadlineDouble = 5;
export const recordDoubles = recordBytes / 8;

/**
 * What native code writes into a record's `status`: why it refused the record
 * before the engine saw it. notStarted: it follows a refused record in a
 * kernel chain (RequestFlags.linkNext).
 */
export const RecordStatus = { ok: 0, misaligned: 1, tooSmall: 2, notStarted: 3 } as const;

/**
 * Bytes of one completion record, and its int32 fields: the record's slot,
 * then its byte count or -errno.
 */
export const completionBytes = 16;
export const completionInts = completionBytes / 4;
export const CompletionField = { slot: 0, result: 1 } as const;
/** The record's nanoseconds from submission to reaping (0 untimed), as an element of a Float64Array over the same memory. */
export const completionLatencyDouble = 1;
export const completionDoubles = completionBytes / 8;

/** submit()'s answers that are not a count of consumed records (registerBuffers() uses them too). */
export const SubmitAnswer = { closed: -1, forked: -2 } as const;

/** native/checksum/checksum.h's Algorithm and Path. */
export const NativeChecksumAlgorithm = { crc16t10dif: 0, crc32c: 1, crc64nvme: 2 } as const;
export type NativeChecksumAlgorithm = (typeof NativeChecksumAlgorithm)[keyof typeof NativeChecksumAlgorithm];
export const NativeChecksumPath = { best: 0, table: 1, hardware: 2 } as const;
export type NativeChecksumPath = (typeof NativeChecksumPath)[keyof typeof NativeChecksumPath];

/** native/integrity/protection.h's Format, and each format's tuple bytes. */
export const ProtectionFormats = { t10dif: 0, nvme64: 1 } as const;
export const tupleBytes = { t10dif: 8, nvme64: 16 } as const;

/** engine.h's CancelOutcome: what an engine's cancel() of a request in flight managed. */
export const CancelOutcome = { notAsked: 0, asked: 1, refused: 2, askLater: 3 } as const;

/**
 * contract.h's completion results that are neither a byte count nor -errno.
 * deadlinePassed is no request's end: the kernel's timer for the slot's
 * deadline fired and it was asked to cancel the request, whose own completion follows.
 */
export const CompletionResult = { integrityFault: -2147483648, deadlinePassed: -2147483647 } as const;
