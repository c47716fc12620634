#include "file_space.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <cerrno>

namespace aioring {

int allocateSpace(int fd, bool keepSize, uint64_t offset, uint64_t length) {
  int mode = keepSize ? FALLOC_FL_KEEP_SIZE : 0;
  // fallocate(2), not posix_fallocate(3): where the file system cannot reserve
  // space, the latter writes zeros, which is what callers use this to avoid.
  while (fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

}  // namespace aioring
