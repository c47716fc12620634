// Large I/O buffers backed by transparent huge pages where the kernel allows.
// A 1 MiB buffer in 4 KiB pages is 256 scattered pieces of memory, more than
// a virtio disk takes in one request (its queue/max_segments is often 254),
// so the block layer splits each 1 MiB transfer in two; inside one 2 MiB page
// it is one piece.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aioring {

// The huge page size this memory is aligned to and advised for.
constexpr size_t kHugePageBytes = size_t{2} << 20;

// `size` zeroed bytes starting on a huge page boundary, advised
// MADV_HUGEPAGE. Where the kernel has no transparent huge pages, or none free,
// the memory is ordinary pages and works just the same. nullptr when memory
// runs out. Free with std::free.
uint8_t* allocHugePageBacked(size_t size);

}  // namespace aioring
