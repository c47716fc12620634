// The io_uring engine's completion side: reading CQEs without a system call,
// entering the kernel only when it holds completions back, clearing the
// eventfd, and waiting until nothing is in flight.
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "uring_engine.h"
#include "uring_internal.h"

namespace aioring {

using uring::errnoName;
using uring::kInternalUserData;
using uring::kLinkTimeoutUserData;

void UringEngine::drainNotifications() {
  ++syscalls_;
  notifier_.drain();
}

uint32_t UringEngine::completionsReady() const {
  return __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE) - cqHeadLocal_ + (spilled_ ? 1 : 0) +
         (aioOffload_ ? aioOffload_->ready() : 0);
}

void UringEngine::emit(Completion completion, Completion* out, uint32_t max, uint32_t* n) {
  if (*n == max) {
    // Still in flight until handed out: the binding keeps the loop alive only
    // while something is, and this one's promise has yet to settle.
    spilled_ = true;
    spilledCompletion_ = completion;
    return;
  }
  if (completion.result != kResultDeadlinePassed) --inFlight_;
  out[(*n)++] = completion;
}

void UringEngine::takeCqe(const io_uring_cqe& cqe, Completion* out, uint32_t max, uint32_t* n) {
  --cqesOwed_;
  const uint32_t slot = static_cast<uint32_t>(cqe.user_data);
  if (!(cqe.user_data & kInternalUserData)) {
    if (armedFor(slot)) {
      deadlines_[slot].held = true;
      deadlines_[slot].result = cqe.res;
    } else {
      emit(Completion{slot, cqe.res}, out, max, n);
    }
    return;
  }
  // A cancel's own answer: the cancelled request's CQE is what tells the caller.
  if (!(cqe.user_data & kLinkTimeoutUserData)) return;
  SlotDeadline& deadline = deadlines_[slot];
  deadline.armed = false;
  // -ECANCELED: the request ended first and took its timeout down with it.
  // Anything else: the timer fired and the kernel tried to cancel the request
  // (-ETIME when it could, the cancel's error when not). That is news unless
  // the request had already ended on its own.
  const bool fired = cqe.res != -ECANCELED;
  if (fired && (!deadline.held || deadline.result == -ECANCELED)) {
    emit(Completion{slot, kResultDeadlinePassed}, out, max, n);
  }
  if (deadline.held) {
    deadline.held = false;
    emit(Completion{slot, deadline.result}, out, max, n);
  }
}

uint32_t UringEngine::copyCompletions(Completion* out, uint32_t max) {
  uint32_t n = 0;
  if (spilled_ && max > 0) {
    spilled_ = false;
    emit(spilledCompletion_, out, max, &n);
  }
  const uint32_t ready = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE) - cqHeadLocal_;
  uint32_t seen = 0;
  // A CQE can make two Completions; the second may spill, never a third.
  for (; seen < ready && n < max && !spilled_; ++seen) takeCqe(cqes_[(cqHeadLocal_ + seen) & cqMask_], out, max, &n);
  if (seen > 0) {
    cqHeadLocal_ += seen;
    // Release: the kernel may refill these entries only after we have read them.
    __atomic_store_n(cqHead_, cqHeadLocal_, __ATOMIC_RELEASE);
  }
  if (aioOffload_ && n < max && !spilled_) n += copyAioCompletions(out + n, max - n);
  return n;
}

uint32_t UringEngine::copyAioCompletions(Completion* out, uint32_t max) {
  const uint32_t got = aioOffload_->reap(out, max);
  for (uint32_t i = 0; i < got; ++i) onAio_[out[i].slot] = 0;
  inFlight_ -= got;
  return got;
}

// True when finished requests are held in the kernel until we enter it: with
// DEFER_TASKRUN (flagged by TASKRUN_FLAG, also when an earlier enter ran only
// part of the backlog), or after a CQ overflow that only GETEVENTS flushes.
// The flag is trusted even when every CQE owed is already in the ring: the
// kernel can hold task work of its own that posts none, and until that runs,
// work queued behind it signals no eventfd (the kernel signals only when work
// lands on an empty list), so a completion would wait for an unrelated wake-up.
// The price is a futile enter now and then, when the kernel leaves the flag up
// after a run that took the last of its work.
bool UringEngine::kernelHoldsCompletions() const {
  return __atomic_load_n(sqFlags_, __ATOMIC_ACQUIRE) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

uint32_t UringEngine::reap(Completion* out, uint32_t max) {
  uint32_t n = copyCompletions(out, max);
  while (n < max && kernelHoldsCompletions()) {
    enter(0, 0, IORING_ENTER_GETEVENTS);
    const uint32_t headBefore = cqHeadLocal_;
    const uint32_t more = copyCompletions(out + n, max - n);
    if (more == 0) {
      if (cqHeadLocal_ == headBefore) break;  // the enter posted nothing (or failed): do not spin
      // Only CQEs held for their deadline's CQE, which makes their Completions.
      // An enter runs a bounded share of the kernel's task work (20 items from
      // 6.13 on), and their deadlines' CQEs queue behind the rest: enter again
      // rather than leave the owner a wake-up that yields nothing.
      continue;
    }
    n += more;
    // Posting those CQEs signalled our own eventfd; clearing it spares the
    // owner a wakeup for completions it already has. Nothing is lost: the
    // kernel raises IORING_SQ_TASKRUN before it signals, so a completion whose
    // signal this read swallows is still seen by the loop condition; an
    // offloaded request's AIO event is seen by the next reap, which the owner
    // always makes after one that returned completions.
    drainNotifications();
  }
  return n;
}

void UringEngine::waitIdle() {
  if (aioOffload_) aioOffload_->waitIdle();
  while (__atomic_load_n(cqTail_, __ATOMIC_ACQUIRE) - cqHeadLocal_ < cqesOwed_) {
    // Waiting for all of them at once costs one sleep instead of one per CQE;
    // the kernel counts the CQEs already in the ring towards minComplete.
    const int result = enter(0, cqesOwed_, IORING_ENTER_GETEVENTS);
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
