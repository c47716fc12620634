// Frames a group of log records in place, with no Node-API: the group buffer
// already holds each record's length field and data; this fills in each
// frame's LSN, session and CRC32C. One call per group instead of one per record.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aioring {
namespace logformat {

// Frame layout (little-endian), followed by `length` bytes of data:
//   0 crc32c u32 (of bytes 4..20 and the data, seeded with the fileId)
//   4 length u32   8 lsn u64   16 session u32
constexpr size_t kFrameBytes = 20;

// Frames `count` records laid back to back from `start` in `buffer`, the
// first getting `firstLsn` and each next one the next LSN. Returns the offset
// just past the last record, or 0 when a length field runs past `size`
// (then the frames before it are written and the rest are not).
size_t frameRecords(uint8_t* buffer, size_t size, size_t start, uint32_t count, uint32_t fileId, uint32_t session,
                    uint64_t firstLsn);

}  // namespace logformat
}  // namespace aioring
