// CRC-16/T10-DIF, CRC-32C and CRC-64/NVME over byte ranges, with no Node-API.
// Each seed is a previous result, so the checksum of split data chains:
// crc(b, crc(a)) == crc(a ++ b).
#pragma once

#include <cstddef>
#include <cstdint>

namespace aioring {
namespace checksum {

uint16_t crc16t10dif(const uint8_t* data, size_t length, uint16_t seed);
uint32_t crc32c(const uint8_t* data, size_t length, uint32_t seed);
uint64_t crc64nvme(const uint8_t* data, size_t length, uint64_t seed);

// Which implementation runs: the best this CPU has, the portable tables, or
// the CPU instructions (available only where hardwareAvailable says so).
enum class Path { kBest, kTable, kHardware };

enum class Algorithm { kCrc16T10Dif, kCrc32C, kCrc64Nvme };

// What this CPU offers: the crc32 instruction (CRC-32C) and carry-less
// multiply (CRC-16/T10-DIF and CRC-64/NVME).
bool hardwareAvailable(Algorithm algorithm);

// The checksum by a named path, for tests that compare the paths. Returns
// false, computing nothing, when the path is the hardware one and the CPU
// lacks it. The seed and result are widened to 64 bits.
bool computeByPath(Algorithm algorithm, Path path, const uint8_t* data, size_t length, uint64_t seed,
                   uint64_t* result);

}  // namespace checksum
}  // namespace aioring
