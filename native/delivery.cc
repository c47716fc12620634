#include "delivery.h"

namespace aioring {

uint32_t completionsPerCallbackFromDevice(uint32_t depth) { return depth / 8 > 4 ? depth / 8 : 4; }

uint32_t completionsPerCallback(uint32_t depth, uint32_t accepted, uint32_t completedInline) {
  return completedInline * 2 >= accepted ? depth : completionsPerCallbackFromDevice(depth);
}

uint32_t completedInline(uint32_t readyBefore, uint32_t readyAfter, uint32_t pendingBefore) {
  const uint64_t accountedFor = static_cast<uint64_t>(readyBefore) + pendingBefore;
  return readyAfter > accountedFor ? static_cast<uint32_t>(readyAfter - accountedFor) : 0;
}

WakeStep WakeUp::onEmpty(uint32_t inFlight) {
  if (!drained_) {
    drained_ = true;
    return WakeStep::kDrain;
  }
  if (!polled_ && busyPolling_ && inFlight > 0) {
    polled_ = true;
    return WakeStep::kBusyPoll;
  }
  return finish(inFlight);
}

WakeStep WakeUp::afterPoll(bool caught, uint32_t inFlight) {
  if (caught) {
    // They signalled the eventfd too: clear it again once they are used up.
    drained_ = false;
    return WakeStep::kReap;
  }
  return finish(inFlight);
}

WakeStep WakeUp::finish(uint32_t inFlight) const { return caught_ && inFlight > 0 ? WakeStep::kRearm : WakeStep::kStop; }

}  // namespace aioring
