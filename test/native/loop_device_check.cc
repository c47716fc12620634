// aioring/testing's loop-device helper (native/loop_device.cc) on its own,
// without Node: attach with the asked sector size and autoclear, read-only on
// and off, a refused sector size leaves nothing bound, and closing the one
// descriptor detaches the device. Needs root; exits 77 without it.
//   c++ -std=c++17 -Wall -Wextra -fno-exceptions -Inative test/native/loop_device_check.cc native/loop_device.cc -o /tmp/loop_device_check
// Usage: loop_device_check [--dir DIR] (where the backing file goes; default /tmp)

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "loop_device.h"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    failures++;
  }
}

std::string readSysfs(int index, const char* attribute) {
  char path[96];
  std::snprintf(path, sizeof path, "/sys/block/loop%d/%s", index, attribute);
  FILE* file = std::fopen(path, "r");
  if (!file) return "";
  char text[4096] = {0};
  size_t got = std::fread(text, 1, sizeof text - 1, file);
  std::fclose(file);
  std::string value(text, got);
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

bool boundTo(int index, const std::string& backing) { return readSysfs(index, "loop/backing_file") == backing; }

void sleepMs(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&pause, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::printf("loop_device_check: needs root, skipped\n");
    return 77;
  }
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[++i];
  }
  std::string backing = dir + "/aioring-loop-check-XXXXXX";
  int backingFd = mkstemp(&backing[0]);
  if (backingFd < 0 || ftruncate(backingFd, 8 << 20) != 0) {
    std::printf("FAIL: backing file in %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  close(backingFd);

  aioring::LoopAttachment refused = aioring::attachLoopDevice(backing.c_str(), 1000, true);
  check(refused.fd < 0 && refused.error == EINVAL, "a 1000-byte sector size is refused with EINVAL");
  for (int index = 0; index < 64; index++) check(!boundTo(index, backing), "a refused attachment leaves nothing bound");

  aioring::LoopAttachment loop = aioring::attachLoopDevice(backing.c_str(), 4096, true);
  check(loop.fd >= 0 && loop.index >= 0 && loop.error == 0, "attaches");
  if (loop.fd >= 0) {
    check(boundTo(loop.index, backing), "bound to the backing file");
    check(readSysfs(loop.index, "loop/autoclear") == "1", "autoclear is set");
    check(readSysfs(loop.index, "queue/logical_block_size") == "4096", "4096-byte logical sectors");
    check(loop.directIo == (readSysfs(loop.index, "loop/dio") == "1"), "directIo reports what the driver does");
    int readOnly = -1;
    check(aioring::setBlockDeviceReadOnly(loop.fd, true) == 0 && ioctl(loop.fd, BLKROGET, &readOnly) == 0 && readOnly == 1, "read-only on");
    check(aioring::setBlockDeviceReadOnly(loop.fd, false) == 0 && ioctl(loop.fd, BLKROGET, &readOnly) == 0 && readOnly == 0, "read-only off");
    close(loop.fd);
    bool detached = false;
    for (int tries = 0; tries < 200 && !detached; tries++, sleepMs(10)) detached = !boundTo(loop.index, backing);
    check(detached, "closing the descriptor detaches the device");
  }
  unlink(backing.c_str());
  if (failures) return 1;
  std::printf("all loop device checks passed\n");
  return 0;
}
