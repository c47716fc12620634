// How completions reach JS: how many one callback carries, how many one
// wake-up of the event loop may deliver, and what a wake-up does when the
// completions at hand run out (clear the eventfd, busy-poll, set it again).
// Node-free, so engine_check tests the decisions; binding.cc carries them out.
#pragma once

#include <time.h>

#include <cstdint>

namespace aioring {

// A wake-up delivers at most max(depth, this) completions before yielding to
// libuv, so that completions arriving inline (cached reads) cannot starve
// timers and other I/O, while small rings still take whole bursts at once
// instead of setting the eventfd again after every few.
constexpr uint32_t kMinCompletionsPerWake = 64;

// Completions per JS callback when requests complete later, from a device:
// an eighth of the depth, at least four, so the continuations of the first
// completions resubmit while the rest are still being settled.
uint32_t completionsPerCallbackFromDevice(uint32_t depth);

// Completions per JS callback after a submission that the engine took
// `accepted` requests from, `completedInline` of which finished inside the
// submission call: a whole ring's worth when at least half did (only the CPU
// is waiting), else completionsPerCallbackFromDevice.
uint32_t completionsPerCallback(uint32_t depth, uint32_t accepted, uint32_t completedInline);

// How many of a submission's requests surely finished inside the submission
// call, from the engine's ready completions before and after it and the
// requests that were in flight but not ready before it. Completions of those
// earlier requests can land during the call too (a fast device's interrupts
// arrive while io_submit runs), so only what exceeds them counts: a device
// that finishes writes within a few microseconds must not be taken for the
// page cache, whose whole-ring callbacks would turn its steady stream of
// resubmissions into bursts.
uint32_t completedInline(uint32_t readyBefore, uint32_t readyAfter, uint32_t pendingBefore);

// What a wake-up does once a reap came back empty, or after a busy poll.
enum class WakeStep {
  kReap,      // reap again
  kDrain,     // clear the eventfd, then reap again (a completion that landed meanwhile is still seen)
  kBusyPoll,  // spin for the next completion, then ask afterPoll()
  kRearm,     // set the eventfd so the next loop turn polls again, and stop
  kStop,      // stop; the eventfd wakes the loop when more complete
};

// The decisions of one wake-up. The eventfd is cleared only once the
// completions look used up, since that read is a system call on the path from
// a completion to the next submission. A busy poll runs at most once per
// wake-up; if it catches a completion, the wake-up ends by setting the eventfd,
// so each loop turn spends at most one poll's time spinning.
class WakeUp {
 public:
  WakeUp(uint32_t depth, bool busyPolling)
      : budget_(depth > kMinCompletionsPerWake ? depth : kMinCompletionsPerWake), busyPolling_(busyPolling) {}

  // False once the budget is spent: the caller sets the eventfd and stops.
  // (Set it even if this wake-up has not cleared it: an engine may have.)
  bool mayReap() const { return delivered_ < budget_; }
  void delivered(uint32_t count) {
    delivered_ += count;
    if (count > 0 && polled_) caught_ = true;
  }

  // A reap found nothing, with `inFlight` requests still in the engine.
  WakeStep onEmpty(uint32_t inFlight);
  // The busy poll onEmpty() asked for caught a completion, or did not.
  WakeStep afterPoll(bool caught, uint32_t inFlight);

 private:
  WakeStep finish(uint32_t inFlight) const;

  uint32_t budget_;
  uint32_t delivered_ = 0;
  bool busyPolling_;
  bool drained_ = false;
  bool polled_ = false;
  // The poll found something and the reaps after it delivered it. A poll can
  // see a completion waiting that no reap then yields (io_uring's
  // IORING_SQ_TASKRUN left raised with nothing to run); setting the eventfd
  // for that would spin the loop until a real completion cleared the flag.
  bool caught_ = false;
};

inline int64_t monotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// Spins until ready() or `ns` have passed; true if ready() was.
template <typename Ready>
bool spinUntil(int64_t ns, Ready ready) {
  const int64_t deadline = monotonicNs() + ns;
  do {
    if (ready()) return true;
  } while (monotonicNs() < deadline);
  return false;
}

}  // namespace aioring
