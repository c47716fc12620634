// Where each slot's iovecs live while its readv or writev is in flight: the
// engines read them until the request completes (the thread pool only when a
// worker gets to it). All of it is set aside when the ring is made, so that no
// request allocates, however long its vector and whichever slot it lands in.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace aioring {

class IovecSpace {
 public:
  // The most buffers one vectored request may carry: the kernel's IOV_MAX,
  // which lib/validate.ts enforces before a request gets here.
  static constexpr uint32_t kMaxBuffers = 1024;

  // Nearly every vector fits in a compact table of this many entries a slot.
  // Each slot also gets room for the longest vector, 16 KiB of it; memory that
  // is never written is never made resident, so that room costs address space
  // until a long vector first uses it.
  static constexpr uint32_t kShortBuffers = 16;

  explicit IovecSpace(uint32_t slots)
      : short_(new iovec[size_t{slots} * kShortBuffers]), long_(new iovec[size_t{slots} * kMaxBuffers]) {}

  // Room for `count` (at most kMaxBuffers) iovecs of `slot`'s request.
  iovec* room(uint32_t slot, uint32_t count) {
    return count <= kShortBuffers ? &short_[size_t{slot} * kShortBuffers] : &long_[size_t{slot} * kMaxBuffers];
  }

 private:
  std::unique_ptr<iovec[]> short_;
  std::unique_ptr<iovec[]> long_;
};

}  // namespace aioring
