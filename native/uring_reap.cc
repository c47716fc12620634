// The io_uring engine's completion side: reading CQEs without a system call,
// entering the kernel only when it holds completions back, clearing the
// eventfd, and waiting until nothing is in flight.
#include <cstdio>
#include <cstdlib>

#include "uring_engine.h"
#include "uring_internal.h"

namespace aioring {

using uring::errnoName;
using uring::kInternalUserData;

void UringEngine::drainNotifications() {
  ++syscalls_;
  notifier_.drain();
}

uint32_t UringEngine::completionsReady() const {
  return __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE) - cqHeadLocal_;
}

uint32_t UringEngine::copyCompletions(Completion* out, uint32_t max) {
  const uint32_t ready = completionsReady();
  uint32_t seen = 0;
  uint32_t n = 0;
  for (; seen < ready && n < max; ++seen) {
    const io_uring_cqe& cqe = cqes_[(cqHeadLocal_ + seen) & cqMask_];
    // A cancel's own answer: the cancelled request's CQE is what tells the caller.
    if (cqe.user_data & kInternalUserData) {
      --internalInFlight_;
      continue;
    }
    out[n].slot = static_cast<uint32_t>(cqe.user_data);
    out[n].result = cqe.res;
    ++n;
  }
  if (seen > 0) {
    cqHeadLocal_ += seen;
    // Release: the kernel may refill these entries only after we have read them.
    __atomic_store_n(cqHead_, cqHeadLocal_, __ATOMIC_RELEASE);
    inFlight_ -= n;
  }
  return n;
}

// True when finished requests are held in the kernel until we enter it: with
// DEFER_TASKRUN (flagged by TASKRUN_FLAG, also when an earlier enter ran only
// part of the backlog), or after a CQ overflow that only GETEVENTS flushes.
bool UringEngine::kernelHoldsCompletions() const {
  return __atomic_load_n(sqFlags_, __ATOMIC_ACQUIRE) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

uint32_t UringEngine::reap(Completion* out, uint32_t max) {
  uint32_t n = copyCompletions(out, max);
  while (n < max && kernelHoldsCompletions()) {
    enter(0, 0, IORING_ENTER_GETEVENTS);
    const uint32_t more = copyCompletions(out + n, max - n);
    if (more == 0) break;  // the enter posted nothing (or failed): do not spin
    n += more;
    // Posting those CQEs signalled our own eventfd; clearing it spares the
    // owner a wakeup for completions it already has. Nothing is lost: the
    // kernel raises IORING_SQ_TASKRUN before it signals, so a completion whose
    // signal this read swallows is still seen by the loop condition.
    drainNotifications();
  }
  return n;
}

void UringEngine::waitIdle() {
  while (completionsReady() < inFlight_ + internalInFlight_) {
    // Waiting for all of them at once costs one sleep instead of one per CQE;
    // the kernel counts the CQEs already in the ring towards minComplete.
    const int result = enter(0, inFlight_ + internalInFlight_, IORING_ENTER_GETEVENTS);
    if (result < 0) {
      // Returning would let the caller free buffers the kernel is still
      // writing. Only misuse (a thread other than the issuer) or a ring torn
      // down under us gets here, so stop loudly rather than corrupt memory.
      std::fprintf(stderr, "aioring: io_uring_enter(GETEVENTS) failed with %s with %u requests in flight\n",
                   errnoName(-result).c_str(), inFlight_);
      std::abort();
    }
  }
}

}  // namespace aioring
