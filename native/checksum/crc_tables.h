// The portable, table-driven CRCs: eight bytes per step ("slicing by eight").
// The tables are computed from the polynomials when first used; the
// hardware paths use the same code for their last few bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aioring {
namespace checksum {

// The polynomials, without their leading term. T10-DIF is processed most
// significant bit first; CRC-32C and CRC-64/NVME least significant bit first,
// so theirs are written bit-reversed.
constexpr uint16_t kT10DifPolynomial = 0x8BB7;
constexpr uint32_t kCrc32CReflectedPolynomial = 0x82F63B78u;
constexpr uint64_t kCrc64NvmeReflectedPolynomial = 0x9A6C9329AC4BC9B5ull;

// These take and return the raw CRC register: no initial or final inversion.
uint16_t crc16TableRegister(uint16_t reg, const uint8_t* data, size_t length);
uint32_t crc32cTableRegister(uint32_t reg, const uint8_t* data, size_t length);
uint64_t crc64TableRegister(uint64_t reg, const uint8_t* data, size_t length);

}  // namespace checksum
}  // namespace aioring
