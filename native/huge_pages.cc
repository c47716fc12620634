#include "huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace aioring {

uint8_t* allocHugePageBacked(size_t size) {
  void* memory = nullptr;
  if (posix_memalign(&memory, kHugePageBytes, size) != 0) return nullptr;
  // Advice only: the zeroing below faults the pages in, as huge ones if the
  // kernel grants them.
  madvise(memory, size, MADV_HUGEPAGE);
  std::memset(memory, 0, size);
  return static_cast<uint8_t*>(memory);
}

}  // namespace aioring
