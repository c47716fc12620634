// A fixed-capacity FIFO of completions, allocated once. Engines park here the
// completions they have taken from the kernel but the caller has not reaped yet
// (submit-time refusals, events collected while waiting for idle).
#pragma once

#include <cstdint>
#include <memory>

#include "engine.h"

namespace aioring {

class ParkedCompletions {
 public:
  explicit ParkedCompletions(uint32_t capacity)
      : entries_(new Completion[capacity]), capacity_(capacity) {}

  bool empty() const { return count_ == 0; }
  uint32_t size() const { return count_; }

  // Callers never hold more completions than requests in flight, which the
  // engine bounds by capacity, so a push always has room.
  void push(Completion completion) {
    entries_[(head_ + count_) % capacity_] = completion;
    ++count_;
  }

  uint32_t popInto(Completion* out, uint32_t max) {
    uint32_t taken = 0;
    while (taken < max && count_ > 0) {
      out[taken++] = entries_[head_];
      head_ = (head_ + 1) % capacity_;
      --count_;
    }
    return taken;
  }

 private:
  std::unique_ptr<Completion[]> entries_;
  uint32_t capacity_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
};

}  // namespace aioring
