// Which registered buffer, if any, holds a given range of memory: what turns a
// read or write into IORING_OP_READ_FIXED / WRITE_FIXED with its buf_index.
// No Node-API here, so engine_check can test it on its own.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aioring {

class FixedBufferIndex {
 public:
  // Remembers `count` buffers, buffer i being registration index i.
  void assign(const struct iovec* buffers, uint32_t count) {
    ranges_.clear();
    ranges_.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      const auto start = reinterpret_cast<uintptr_t>(buffers[i].iov_base);
      ranges_.push_back(Range{start, start + buffers[i].iov_len, static_cast<int32_t>(i)});
    }
    std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
  }

  void clear() { ranges_.clear(); }
  bool empty() const { return ranges_.empty(); }

  // The registration index of the buffer holding all of [data, data + length),
  // or -1 when none does (outside every buffer, or straddling two). A binary
  // search: no allocation, and buffers never overlap (each is its own block).
  int32_t find(const void* data, size_t length) const {
    const auto start = reinterpret_cast<uintptr_t>(data);
    auto after = std::upper_bound(ranges_.begin(), ranges_.end(), start,
                                  [](uintptr_t address, const Range& range) { return address < range.start; });
    if (after == ranges_.begin()) return -1;
    const Range& holder = *(after - 1);
    return start < holder.end && length <= holder.end - start ? holder.index : -1;
  }

 private:
  struct Range {
    uintptr_t start;
    uintptr_t end;
    int32_t index;
  };
  std::vector<Range> ranges_;
};

}  // namespace aioring
