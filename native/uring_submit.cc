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

// Opcode numbers are 8 bits and the kernel answers -EINVAL for unknown ones,
// so a corrupt Request fails visibly instead of running as a zeroed NOP.
constexpr uint8_t kInvalidOpcode = 0xff;

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

uint32_t UringEngine::submit(const Request* reqs, uint32_t count) {
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  const uint32_t sqFree = sqEntries_ - (sqTailLocal_ - head);
  // Every consumed request must find a CQ entry, or a full CQ would push
  // completions onto the kernel's overflow list (or drop them before 5.5).
  const uint32_t cqFree = cqEntries_ - inFlight_ - internalInFlight_;
  const uint32_t n = std::min({count, sqFree, cqFree});
  if (n == 0) return 0;

  for (uint32_t i = 0; i < n; ++i) fillSqe(&sqes_[(sqTailLocal_ + i) & sqMask_], reqs[i]);
  __atomic_store_n(sqTail_, sqTailLocal_ + n, __ATOMIC_RELEASE);

  const bool overflowed = __atomic_load_n(sqFlags_, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW;
  enter(n, 0, overflowed ? IORING_ENTER_GETEVENTS : 0);

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
  if (consumed < n) __atomic_store_n(sqTail_, sqTailLocal_, __ATOMIC_RELEASE);
  inFlight_ += consumed;
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
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  const bool room = sqEntries_ - (sqTailLocal_ - head) > 0 && cqEntries_ - inFlight_ - internalInFlight_ > 0;
  if (!room) return CancelOutcome::kNotAsked;
  io_uring_sqe* sqe = &sqes_[sqTailLocal_ & sqMask_];
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = slot;  // the user_data of the request to cancel
  sqe->user_data = kInternalUserData | slot;
  __atomic_store_n(sqTail_, sqTailLocal_ + 1, __ATOMIC_RELEASE);
  enter(1, 0, 0);
  if (__atomic_load_n(sqHead_, __ATOMIC_ACQUIRE) == head) {
    __atomic_store_n(sqTail_, sqTailLocal_, __ATOMIC_RELEASE);
    return CancelOutcome::kNotAsked;
  }
  ++sqTailLocal_;
  ++internalInFlight_;
  return CancelOutcome::kAsked;
}

}  // namespace aioring
