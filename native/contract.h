// The contract between lib/ and the addon that no function signature carries:
// the submission record JS writes into memory both sides share, the status
// native code writes back into it, the completion records it hands to JS, and
// submit()'s answers that are not a count. lib/native-contract.ts mirrors every
// value here; the addon exports them (binding.cc) and test/25.contract.test.ts
// compares the two. Op codes and request flags are engine.h's, engine names
// probe.h's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine.h"

namespace aioring {

// One request as JS writes it. Passing requests through shared memory costs no
// Node-API call per field; only the buffers themselves have to be looked up.
struct SubmissionRecord {
  int32_t slot;
  int32_t fd;
  int32_t op;        // OpCode
  int32_t flags;     // kFlag*
  int32_t length;    // bytes for read/write, buffer count for readv/writev
  int32_t memAlign;  // required buffer address alignment for this file
  int32_t status;    // written back by native code: RecordStatus
  // Written back by native code: 1 when the engine took the deadline into the
  // kernel (Engine::deadlineArmed), so JS need not time the request itself.
  int32_t deadlineInKernel;
  double position;
  // When the request is to be cancelled, in milliseconds on libuv's
  // uv_hrtime() clock (CLOCK_MONOTONIC; process.hrtime() in JS); 0 for never.
  double deadline;
};
constexpr uint32_t kRecordBytes = 48;
static_assert(sizeof(SubmissionRecord) == kRecordBytes, "the record size is part of the contract");
static_assert(offsetof(SubmissionRecord, position) % sizeof(double) == 0, "JS reads the position as a Float64Array element");
static_assert(offsetof(SubmissionRecord, deadline) % sizeof(double) == 0, "JS writes the deadline as a Float64Array element");

// Why a record was refused before it reached the engine. kStatusNotStarted:
// a record of a kernel chain (kFlagLinkNext) behind one that was refused.
enum RecordStatus : int32_t { kStatusOk = 0, kStatusMisaligned = 1, kStatusTooSmall = 2, kStatusNotStarted = 3 };

// One completion as JS reads it: the record's slot, bytes or -errno, and the
// nanoseconds from its submission to its reaping (0 when the binding does not
// time requests). Timing here costs no clock reading of JS's own: the binding
// reads the clock once per submission call and once per wake-up anyway.
struct CompletionRecord {
  int32_t slot;
  int32_t result;
  double latencyNs;
};
constexpr uint32_t kCompletionBytes = 16;
static_assert(sizeof(CompletionRecord) == kCompletionBytes, "the completion size is part of the contract");
static_assert(offsetof(CompletionRecord, latencyNs) % sizeof(double) == 0, "JS reads the latency as a Float64Array element");

// A record flag for the binding alone, never an engine: one more buffer
// follows the request's own in the buffer list, holding its protection tuples
// (a protected file's separate layout).
constexpr uint32_t kFlagProtectionTuples = 1u << 8;

// A completion's result for a read whose data failed its protection check; the
// binding's takeIntegrityFaults(slot) then says how.
constexpr int32_t kCompletionIntegrityFault = INT32_MIN;

// A completion's result that is no request's end: the slot's deadline passed in
// the kernel, which was asked to cancel the request; its own completion follows.
constexpr int32_t kCompletionDeadlinePassed = kResultDeadlinePassed;

// submit()'s answers that are not a count of consumed records.
constexpr int32_t kSubmitClosed = -1;
constexpr int32_t kSubmitForked = -2;

}  // namespace aioring
