#include "loop_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#ifndef LOOP_CONFIGURE
#define LOOP_CONFIGURE 0x4C0A
struct loop_config {
  __u32 fd;
  __u32 block_size;
  struct loop_info64 info;
  __u64 __reserved[8];
};
#endif
#ifndef LOOP_SET_BLOCK_SIZE
#define LOOP_SET_BLOCK_SIZE 0x4C09
#endif
#ifndef LOOP_SET_DIRECT_IO
#define LOOP_SET_DIRECT_IO 0x4C08
#endif
#ifndef LO_FLAGS_DIRECT_IO
#define LO_FLAGS_DIRECT_IO 16
#endif

namespace aioring {
namespace {

// How many devices to try when other processes keep taking the free one first.
constexpr int kRaces = 16;

LoopAttachment failure(int error, const char* syscall) {
  LoopAttachment result;
  result.error = error;
  result.syscall = syscall;
  return result;
}

bool directIoOn(int loopFd) {
  struct loop_info64 info = {};
  return ioctl(loopFd, LOOP_GET_STATUS64, &info) == 0 && (info.lo_flags & LO_FLAGS_DIRECT_IO) != 0;
}

// Kernels before 5.8 have no LOOP_CONFIGURE: bind first, then set autoclear,
// the sector size and direct I/O one by one, undoing the binding on failure.
int configureStepByStep(int loopFd, int backingFd, uint32_t sectorSize, bool directIo, const char** syscall) {
  if (ioctl(loopFd, LOOP_SET_FD, backingFd) < 0) {
    *syscall = "ioctl(LOOP_SET_FD)";
    return errno;
  }
  struct loop_info64 info = {};
  info.lo_flags = LO_FLAGS_AUTOCLEAR;
  int error = 0;
  if (ioctl(loopFd, LOOP_SET_STATUS64, &info) < 0) {
    error = errno;
    *syscall = "ioctl(LOOP_SET_STATUS64)";
  } else if (ioctl(loopFd, LOOP_SET_BLOCK_SIZE, static_cast<unsigned long>(sectorSize)) < 0) {
    error = errno;
    *syscall = "ioctl(LOOP_SET_BLOCK_SIZE)";
  }
  if (error) {
    ioctl(loopFd, LOOP_CLR_FD, 0);
    return error;
  }
  // Best effort, as with LOOP_CONFIGURE: the caller reads back what it got.
  if (directIo) ioctl(loopFd, LOOP_SET_DIRECT_IO, 1UL);
  return 0;
}

int configure(int loopFd, int backingFd, uint32_t sectorSize, bool directIo, const char** syscall) {
  struct loop_config config;
  std::memset(&config, 0, sizeof config);
  config.fd = static_cast<__u32>(backingFd);
  config.block_size = sectorSize;
  config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (directIo ? LO_FLAGS_DIRECT_IO : 0);
  if (ioctl(loopFd, LOOP_CONFIGURE, &config) == 0) return 0;
  int error = errno;
  if (error == EINVAL && directIo) {
    // Some kernels refuse direct I/O outright when the backing file cannot do
    // it (tmpfs before 6.6); the device still works without it.
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (ioctl(loopFd, LOOP_CONFIGURE, &config) == 0) return 0;
    error = errno;
  }
  if (error == ENOTTY) return configureStepByStep(loopFd, backingFd, sectorSize, directIo, syscall);
  *syscall = "ioctl(LOOP_CONFIGURE)";
  return error;
}

}  // namespace

LoopAttachment attachLoopDevice(const char* backingPath, uint32_t sectorSize, bool directIo) {
  int backingFd = open(backingPath, O_RDWR | O_CLOEXEC);
  if (backingFd < 0) return failure(errno, "open");
  int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (control < 0) {
    int error = errno;
    close(backingFd);
    return failure(error, "open(/dev/loop-control)");
  }
  LoopAttachment result = failure(EBUSY, "ioctl(LOOP_CONFIGURE)");  // if every race is lost
  for (int race = 0; race < kRaces; race++) {
    int index = ioctl(control, LOOP_CTL_GET_FREE);
    if (index < 0) {
      result = failure(errno, "ioctl(LOOP_CTL_GET_FREE)");
      break;
    }
    char path[32];
    std::snprintf(path, sizeof path, "/dev/loop%d", index);
    int loopFd = open(path, O_RDWR | O_CLOEXEC);
    if (loopFd < 0) {
      result = failure(errno, "open(/dev/loopN)");
      break;
    }
    const char* syscall = "";
    int error = configure(loopFd, backingFd, sectorSize, directIo, &syscall);
    if (error == 0) {
      result = LoopAttachment();
      result.fd = loopFd;
      result.index = index;
      result.directIo = directIoOn(loopFd);
      break;
    }
    close(loopFd);
    result = failure(error, syscall);
    if (error != EBUSY) break;  // EBUSY: another process bound this one first
  }
  close(control);
  // The loop driver holds its own reference to the backing file.
  close(backingFd);
  return result;
}

int setBlockDeviceReadOnly(int fd, bool readOnly) {
  int flag = readOnly ? 1 : 0;
  return ioctl(fd, BLKROSET, &flag) < 0 ? errno : 0;
}

}  // namespace aioring
