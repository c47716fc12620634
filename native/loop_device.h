// Loop devices for aioring/testing: attached with LO_FLAGS_AUTOCLEAR through
// the loop ioctls, so the kernel detaches a device as soon as its last opener
// closes it, even when that opener was killed. losetup cannot ask for that.
#pragma once

#include <cstdint>

namespace aioring {

struct LoopAttachment {
  int fd = -1;     // the attached device, open read-write; closing it detaches
  int index = -1;  // N in /dev/loopN
  bool directIo = false;  // the loop driver reads its backing file with O_DIRECT
  int error = 0;   // errno when the attachment failed
  const char* syscall = "";
};

// Finds a free loop device, binds `backingPath` to it with the given logical
// sector size and asks for direct I/O on the backing file. A device another
// process takes between the lookup and the binding is skipped for the next
// free one. `syscall` names the step that failed; a failure of
// ioctl(LOOP_CTL_GET_FREE), of open(/dev/loopN) or EBUSY from the binding means
// no device is free now, while open(/dev/loop-control) failing means the loop
// driver is missing.
LoopAttachment attachLoopDevice(const char* backingPath, uint32_t sectorSize, bool directIo);

// BLKROSET on an open block device; returns 0 or errno.
int setBlockDeviceReadOnly(int fd, bool readOnly);

}  // namespace aioring
