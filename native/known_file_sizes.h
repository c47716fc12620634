// What the io_uring engine last saw of its files' sizes and block sizes, so
// that telling whether a write stays inside its file costs an fstat only when
// the write reaches past that. Files grow under it (the fstat then finds the
// new size); one that shrinks (ftruncate) must be reported through forget(),
// as must a descriptor about to be closed, whose number may come back.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <vector>

namespace aioring {

class KnownFileSizes {
 public:
  // Whether [offset, offset + length) lies inside the file on `fd` and on its
  // file system's block boundaries; always so on a block device.
  bool coversAligned(int fd, uint64_t offset, uint64_t length) {
    if (fd < 0) return false;
    if (static_cast<size_t>(fd) >= byFd_.size()) byFd_.resize(static_cast<size_t>(fd) + 1);
    Known& known = byFd_[static_cast<size_t>(fd)];
    if (known.block == 0 || offset + length > known.size) {
      struct stat status;
      if (fstat(fd, &status) != 0) return false;
      known.size = S_ISBLK(status.st_mode) ? UINT64_MAX : static_cast<uint64_t>(status.st_size);
      known.block = status.st_blksize > 0 ? static_cast<uint64_t>(status.st_blksize) : 4096;
    }
    return offset % known.block == 0 && length % known.block == 0 && offset + length <= known.size;
  }

  void forget(int fd) {
    if (fd >= 0 && static_cast<size_t>(fd) < byFd_.size()) byFd_[static_cast<size_t>(fd)] = Known{};
  }

 private:
  struct Known {
    uint64_t size = 0;
    uint64_t block = 0;  // 0: not looked at yet
  };
  std::vector<Known> byFd_;
};

}  // namespace aioring
