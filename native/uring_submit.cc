// The io_uring engine's submission side: filling SQEs from requests, handing
// them to the kernel (and taking back what it did not consume), and cancels.
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "integrity/kernel_pi.h"
#include "uring_engine.h"
#include "uring_internal.h"

namespace aioring {
namespace {

using uring::kInternalUserData;
using uring::kLinkTimeoutUserData;

// Opcode numbers are 8 bits and the kernel answers -EINVAL for unknown ones,
// so a corrupt Request fails visibly instead of running as a zeroed NOP.
constexpr uint8_t kInvalidOpcode = 0xff;

// A request with a deadline takes a second SQE, its linked timeout, unless it
// links on to the next request: a chain's timeout would cover only its last.
uint32_t sqesFor(const Request& req) { return req.timeoutNs > 0 && !(req.flags & kFlagLinkNext) ? 2 : 1; }

uint64_t bytesOf(const Request& req) {
  if (req.op != OpCode::kReadv && req.op != OpCode::kWritev) return req.len;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < req.iovcnt; ++i) bytes += req.iov[i].iov_len;
  return bytes;
}

}  // namespace

void UringEngine::fillSqe(io_uring_sqe* sqe, const Request& req) const {
  std::memset(sqe, 0, sizeof *sqe);
  sqe->user_data = req.slot;
  const int32_t fileSlot = fileSlotOf(req.fd);
  if (fileSlot >= 0) {
    sqe->fd = fileSlot;
    sqe->flags = IOSQE_FIXED_FILE;
  } else {
    sqe->fd = req.fd;
  }
  switch (req.op) {
    case OpCode::kRead:
    case OpCode::kWrite: {
      const bool fixed = req.fixedBuffer >= 0 && static_cast<uint32_t>(req.fixedBuffer) < fixedBufferCount_;
      if (fixed) {
        sqe->opcode = req.op == OpCode::kRead ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
        sqe->buf_index = static_cast<uint16_t>(req.fixedBuffer);
      } else {
        sqe->opcode = req.op == OpCode::kRead ? IORING_OP_READ : IORING_OP_WRITE;
      }
      sqe->addr = reinterpret_cast<uintptr_t>(req.buf);
      sqe->len = req.len;
      break;
    }
    case OpCode::kReadv:
    case OpCode::kWritev:
      sqe->opcode = req.op == OpCode::kReadv ? IORING_OP_READV : IORING_OP_WRITEV;
      sqe->addr = reinterpret_cast<uintptr_t>(req.iov);
      sqe->len = req.iovcnt;
      break;
    case OpCode::kFsync:
    case OpCode::kFdatasync:
      // Offset and length stay zero, meaning the whole file as fsync(2) does;
      // rw_flags must stay clear too, since it shares storage with fsync_flags.
      sqe->opcode = IORING_OP_FSYNC;
      sqe->fsync_flags = req.op == OpCode::kFdatasync ? IORING_FSYNC_DATASYNC : 0;
      return;
    default:
      sqe->opcode = kInvalidOpcode;
      return;
  }
  sqe->off = static_cast<uint64_t>(req.offset);
  if (req.piAttribute) integrity::attachPiAttribute(sqe, req.piAttribute);
  // READ_FIXED and WRITE_FIXED take rw_flags like READ and WRITE do.
  sqe->rw_flags = rwFlagsFor(req.flags);
}

// Returns io_uring_enter's result or -errno, retrying EINTR: the kernel only
// reports EINTR when it submitted nothing, so repeating the call is exact.
int UringEngine::enter(uint32_t toSubmit, uint32_t minComplete, uint32_t flags) {
  for (;;) {
    ++syscalls_;
    const long result =
        syscall(__NR_io_uring_enter, ringFd_, toSubmit, minComplete, flags, nullptr, static_cast<size_t>(0));
    if (result >= 0) return static_cast<int>(result);
    if (errno != EINTR) return -errno;
  }
}

void UringEngine::fillLinkTimeout(io_uring_sqe* sqe, const Request& req) {
  // Slots are the caller's numbers; the binding's stay below the depth, which
  // init() sized this for, so only other callers make it grow.
  if (req.slot >= deadlines_.size()) deadlines_.resize(req.slot + 1);
  SlotDeadline& deadline = deadlines_[req.slot];
  deadline.timeout.seconds = static_cast<int64_t>(req.timeoutNs / 1000000000u);
  deadline.timeout.nanoseconds = static_cast<int64_t>(req.timeoutNs % 1000000000u);
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_LINK_TIMEOUT;
  sqe->fd = -1;
  // Relative, on CLOCK_MONOTONIC, timed from when the kernel issues the request.
  // The kernel copies the timespec while it takes the SQE.
  sqe->addr = reinterpret_cast<uintptr_t>(&deadline.timeout);
  sqe->len = 1;
  sqe->user_data = kInternalUserData | kLinkTimeoutUserData | req.slot;
}

uint32_t UringEngine::submit(const Request* reqs, uint32_t count) {
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  // Every consumed SQE must find a CQ entry, or a full CQ would push
  // completions onto the kernel's overflow list (or drop them before 5.5).
  // Requests on aioOffload_ count against the CQ too, which keeps what is in
  // flight within the ring's size; and those bound for it need room in both,
  // as they come back to the ring if AIO refuses them.
  const uint32_t onAio = aioOffload_ ? aioOffload_->inFlight() : 0;
  const uint32_t room = std::min(sqEntries_ - (sqTailLocal_ - head), cqEntries_ - cqesOwed_ - onAio);
  // Whole chains only: a chain cut short here would let its tail start, on
  // the next submit, before its head had completed.
  uint32_t taken = 0;
  uint32_t sqes = 0;
  while (taken < count) {
    uint32_t end = taken;
    uint32_t need = 0;
    do {
      need += sqesFor(reqs[end]);
    } while ((reqs[end++].flags & kFlagLinkNext) && end < count);
    if (sqes + need > room) break;
    sqes += need;
    taken = end;
  }
  if (taken == 0) return 0;

  uint32_t tail = sqTailLocal_;
  uint32_t aioBound = 0;
  bool linkedTo = false;
  for (uint32_t i = 0; i < taken; ++i) {
    const Request& req = reqs[i];
    const bool toAio = runsOnAio(req, linkedTo);
    linkedTo = req.flags & kFlagLinkNext;
    runsOnAio_[i] = toAio;
    if (toAio) {
      ++aioBound;
      continue;
    }
    io_uring_sqe* sqe = &sqes_[tail++ & sqMask_];
    fillSqe(sqe, req);
    if (req.flags & kFlagLinkNext) sqe->flags |= IOSQE_IO_LINK;
    if (sqesFor(req) == 2) {
      sqe->flags |= IOSQE_IO_LINK;
      fillLinkTimeout(&sqes_[tail++ & sqMask_], req);
    }
  }
  uint32_t consumedSqes = 0;
  if (tail != sqTailLocal_) {
    const bool overflowed = __atomic_load_n(sqFlags_, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW;
    consumedSqes = pushSqes(head, tail, overflowed ? IORING_ENTER_GETEVENTS : 0);
  }
  const uint32_t consumed = requestsConsumed(reqs, taken, consumedSqes);
  // Only now, so that nothing bound for AIO starts behind a request the kernel left.
  if (aioBound > 0) startOnAio(reqs, consumed);
  inFlight_ += consumed;
  return consumed;
}

uint32_t UringEngine::pushSqes(uint32_t head, uint32_t tail, uint32_t enterFlags) {
  const uint32_t filled = tail - sqTailLocal_;
  __atomic_store_n(sqTail_, tail, __ATOMIC_RELEASE);
  enter(filled, 0, enterFlags);
  // The SQ head, not enter's result, says what the kernel took. It is exact in
  // every case: EAGAIN (no memory for requests), EBUSY (old kernels with a CQ
  // backlog), or a stop at the first bad SQE on kernels without SUBMIT_ALL, whose
  // -errno still arrives as a CQE. What the kernel left is taken back by
  // rewinding the tail, safe because without SQPOLL the kernel reads the SQ only
  // inside our own io_uring_enter. The caller keeps those requests and offers
  // them again, so no SQE lingers in the ring that no one counts as in flight.
  const uint32_t consumed = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE) - head;
  countFixedOps(sqTailLocal_, consumed);
  sqTailLocal_ += consumed;
  if (consumed < filled) __atomic_store_n(sqTail_, sqTailLocal_, __ATOMIC_RELEASE);
  cqesOwed_ += consumed;
  return consumed;
}

bool UringEngine::runsOnAio(const Request& req, bool linkedTo) {
  // A request in a kernel chain, or with a deadline for the kernel to keep,
  // needs the ring's links.
  if (!AioOffload::runs(req) || linkedTo || (req.flags & kFlagLinkNext) || req.timeoutNs > 0) return false;
  // Linux AIO would hold io_submit until a write that extends its file, or is
  // not on the file system's blocks, has completed (ext4 waits so; XFS
  // serialises unaligned ones), stalling the loop for the device's time; the
  // ring hands such a write to a worker thread instead.
  if (isWrite(req.op) && !knownSizes_.coversAligned(req.fd, static_cast<uint64_t>(req.offset), bytesOf(req))) return false;
  if (!aioOffloadTried_) {
    aioOffloadTried_ = true;
    aioOffload_ = AioOffload::create(static_cast<uint32_t>(onAio_.size()), notifier_.fd());
  }
  return aioOffload_ != nullptr;
}

void UringEngine::startOnAio(const Request* reqs, uint32_t consumed) {
  aioBatch_.clear();
  for (uint32_t i = 0; i < consumed; ++i) {
    if (runsOnAio_[i]) aioBatch_.push_back(&reqs[i]);
  }
  const uint32_t count = static_cast<uint32_t>(aioBatch_.size());
  const uint32_t started = aioOffload_->submit(aioBatch_.data(), count);
  for (uint32_t i = 0; i < started; ++i) markOnAio(aioBatch_[i]->slot);
  if (started == count) return;
  // AIO refused the rest (its context full, or no kernel memory): the ring
  // kept room for them.
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  uint32_t tail = sqTailLocal_;
  for (uint32_t i = started; i < count; ++i) fillSqe(&sqes_[tail++ & sqMask_], *aioBatch_[i]);
  const uint32_t consumedSqes = pushSqes(head, tail, 0);
  // Neither would take the rest, and requests after them have started, so they
  // cannot go back to the caller: they fail as io_submit refused them.
  for (uint32_t i = started + consumedSqes; i < count; ++i) {
    const uint32_t slot = aioBatch_[i]->slot;
    markOnAio(slot);
    aioOffload_->fail(Completion{slot, -EAGAIN});
  }
}

void UringEngine::markOnAio(uint32_t slot) {
  if (slot >= onAio_.size()) onAio_.resize(slot + 1);
  onAio_[slot] = 1;
}

uint32_t UringEngine::requestsConsumed(const Request* reqs, uint32_t taken, uint32_t consumedSqes) {
  uint32_t sqe = 0;
  uint32_t consumed = 0;
  for (; consumed < taken; ++consumed) {
    if (runsOnAio_[consumed]) continue;
    if (sqe == consumedSqes) break;
    const Request& req = reqs[consumed];
    ++sqe;
    if (req.flags & kFlagLinkNext) ++linkedOps_;
    if (sqesFor(req) == 1) continue;
    // The kernel stops between a request and its timeout only when it runs out
    // of memory; the request then runs without one, and deadlineArmed() tells
    // the caller to keep its own timer.
    const bool armed = sqe < consumedSqes;
    deadlines_[req.slot].armed = armed;
    deadlines_[req.slot].held = false;
    if (armed) {
      ++sqe;
      ++linkTimeouts_;
    }
  }
  return consumed;
}

void UringEngine::countFixedOps(uint32_t firstSqe, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    const io_uring_sqe& sqe = sqes_[(firstSqe + i) & sqMask_];
    if (sqe.flags & IOSQE_FIXED_FILE) ++fixedFileOps_;
    if (sqe.opcode == IORING_OP_READ_FIXED || sqe.opcode == IORING_OP_WRITE_FIXED) ++fixedBufferOps_;
  }
}

CancelOutcome UringEngine::cancel(uint32_t slot) {
  // AIO cannot cancel what runs on it (io_cancel answers EINVAL for files).
  if (onAio(slot)) return CancelOutcome::kNotAsked;
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  const bool room = sqEntries_ - (sqTailLocal_ - head) > 0 && cqEntries_ - cqesOwed_ > 0;
  if (!room) return CancelOutcome::kAskLater;
  io_uring_sqe* sqe = &sqes_[sqTailLocal_ & sqMask_];
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = slot;  // the user_data of the request to cancel
  sqe->user_data = kInternalUserData | slot;
  __atomic_store_n(sqTail_, sqTailLocal_ + 1, __ATOMIC_RELEASE);
  enter(1, 0, 0);
  // The kernel took no SQE (out of memory): the request runs on, and a read
  // on a pipe or socket would never end, so the caller asks again.
  if (__atomic_load_n(sqHead_, __ATOMIC_ACQUIRE) == head) {
    __atomic_store_n(sqTail_, sqTailLocal_, __ATOMIC_RELEASE);
    return CancelOutcome::kAskLater;
  }
  ++sqTailLocal_;
  ++cqesOwed_;
  return CancelOutcome::kAsked;
}

}  // namespace aioring
