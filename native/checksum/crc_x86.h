// The x86-64 paths: the SSE4.2 crc32 instruction for CRC-32C and carry-less
// multiplication (PCLMULQDQ) for CRC-16/T10-DIF and CRC-64/NVME. Compiled with
// per-function target attributes, so the rest of the addon needs no -m flags;
// callers must check the CPU first (see checksum.cc).
#pragma once

#if defined(__x86_64__)

#include <cstddef>
#include <cstdint>

namespace aioring {
namespace checksum {

// Raw registers in and out, as in crc_tables.h.
uint32_t crc32cInstructionRegister(uint32_t reg, const uint8_t* data, size_t length);
// Fall back to the tables below one fold's worth of input (128 bytes).
uint16_t crc16ClmulRegister(uint16_t reg, const uint8_t* data, size_t length);
uint64_t crc64ClmulRegister(uint64_t reg, const uint8_t* data, size_t length);

}  // namespace checksum
}  // namespace aioring

#endif
