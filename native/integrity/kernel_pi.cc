#include "kernel_pi.h"

#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aioring {
namespace integrity {

int queryMetadataCap(int fd, LogicalBlockMetadataCap* cap) {
  std::memset(cap, 0, sizeof *cap);
  return ioctl(fd, kFsIocGetLbmdCap, cap) == 0 ? 0 : -errno;
}

int queryUringFeatures(uint32_t* features) {
  io_uring_params params;
  std::memset(&params, 0, sizeof params);
  const int ring = static_cast<int>(syscall(__NR_io_uring_setup, 1, &params));
  if (ring < 0) return -errno;
  close(ring);
  *features = params.features;
  return 0;
}

IoUringAttrPi piAttribute(const uint8_t* tuples, size_t length, uint64_t firstReferenceTag, uint16_t applicationTag) {
  IoUringAttrPi attribute;
  std::memset(&attribute, 0, sizeof attribute);
  attribute.flags = kIntegrityCheckGuard | kIntegrityCheckRefTag | kIntegrityCheckAppTag;
  attribute.appTag = applicationTag;
  attribute.len = static_cast<uint32_t>(length);
  attribute.addr = reinterpret_cast<uintptr_t>(tuples);
  attribute.seed = firstReferenceTag;
  return attribute;
}

void attachPiAttribute(io_uring_sqe* sqe, const IoUringAttrPi* attribute) {
  const uint64_t pointer = reinterpret_cast<uintptr_t>(attribute);
  const uint64_t mask = kRwAttrFlagPi;
  auto* bytes = reinterpret_cast<uint8_t*>(sqe);
  std::memcpy(bytes + kSqeAttrPtrOffset, &pointer, sizeof pointer);
  std::memcpy(bytes + kSqeAttrTypeMaskOffset, &mask, sizeof mask);
}

}  // namespace integrity
}  // namespace aioring
