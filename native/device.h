// What direct I/O on an open file or block device needs to know: its size and
// the alignments the kernel will accept.
#pragma once

#include <cstdint>

namespace aioring {

struct DeviceInfo {
  int error = 0;  // errno if the descriptor could not be examined
  uint64_t size = 0;
  uint32_t logicalBlockSize = 0;
  uint32_t physicalBlockSize = 0;
  uint32_t memAlign = 0;     // what buffer addresses must be aligned to
  uint32_t offsetAlign = 0;  // what positions and lengths must be multiples of
  bool blockDevice = false;
  bool readOnly = false;  // the device itself refuses writes (BLKROGET)
  // The sizes RWF_ATOMIC writes may have (statx STATX_WRITE_ATOMIC, 6.11+); 0 when unsupported.
  uint32_t atomicWriteMin = 0;
  uint32_t atomicWriteMax = 0;
  // An RWF_DSYNC write makes durable all that the write and an fdatasync after
  // it would, but for dirty pages of other ranges in the page cache: on a block
  // device, ext4 or XFS, whose device either has no volatile cache or lacks
  // FUA (so the kernel flushes the whole cache rather than write through).
  bool dsyncWriteDoesDatasync = false;
};

DeviceInfo describeDevice(int fd);

// 1 when the page cache holds no dirty or writeback pages of the file
// (cachestat, Linux 6.5+), 0 when it does, -errno when that cannot be told.
int pageCacheClean(int fd);

}  // namespace aioring
