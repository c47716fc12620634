#include "frame.h"

#include <cstring>

#include "../checksum/checksum.h"

namespace aioring {
namespace logformat {

namespace {

void storeLe32(uint8_t* at, uint32_t value) {
  for (int i = 0; i < 4; i++) at[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t loadLe32(const uint8_t* at) {
  return static_cast<uint32_t>(at[0]) | static_cast<uint32_t>(at[1]) << 8 | static_cast<uint32_t>(at[2]) << 16 |
         static_cast<uint32_t>(at[3]) << 24;
}

}  // namespace

size_t frameRecords(uint8_t* buffer, size_t size, size_t start, uint32_t count, uint32_t fileId, uint32_t session,
                    uint64_t firstLsn) {
  size_t at = start;
  for (uint32_t i = 0; i < count; i++) {
    if (at > size || size - at < kFrameBytes) return 0;
    uint8_t* frame = buffer + at;
    const uint32_t length = loadLe32(frame + 4);
    if (size - at - kFrameBytes < length) return 0;
    const uint64_t lsn = firstLsn + i;
    storeLe32(frame + 8, static_cast<uint32_t>(lsn));
    storeLe32(frame + 12, static_cast<uint32_t>(lsn >> 32));
    storeLe32(frame + 16, session);
    storeLe32(frame, checksum::crc32c(frame + 4, kFrameBytes - 4 + length, fileId));
    at += kFrameBytes + length;
  }
  return at;
}

}  // namespace logformat
}  // namespace aioring
