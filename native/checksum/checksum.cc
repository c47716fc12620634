#include "checksum.h"

#include "crc_tables.h"
#include "crc_x86.h"

namespace aioring {
namespace checksum {
namespace {

struct CpuFeatures {
  bool crc32Instruction = false;
  bool carrylessMultiply = false;
};

CpuFeatures detect() {
  CpuFeatures features;
#if defined(__x86_64__)
  __builtin_cpu_init();
  features.crc32Instruction = __builtin_cpu_supports("sse4.2");
  features.carrylessMultiply = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3");
#endif
  return features;
}

const CpuFeatures& cpu() {
  static const CpuFeatures features = detect();
  return features;
}

// The CPU paths; elsewhere hardwareAvailable() is false and they are never asked for.
#if defined(__x86_64__)
constexpr auto crc16Hardware = crc16ClmulRegister;
constexpr auto crc32cHardware = crc32cInstructionRegister;
constexpr auto crc64Hardware = crc64ClmulRegister;
#else
constexpr auto crc16Hardware = crc16TableRegister;
constexpr auto crc32cHardware = crc32cTableRegister;
constexpr auto crc64Hardware = crc64TableRegister;
#endif

Path best(Algorithm algorithm) { return hardwareAvailable(algorithm) ? Path::kHardware : Path::kTable; }

// CRC-16/T10-DIF starts from zero and is not inverted, so the seed is the
// register; the other two start from all ones and invert their result, so the
// seed (a previous result) is inverted back into the register.
uint64_t run(Algorithm algorithm, Path path, const uint8_t* data, size_t length, uint64_t seed) {
  const bool table = path == Path::kTable;
  switch (algorithm) {
    case Algorithm::kCrc16T10Dif:
      return (table ? crc16TableRegister : crc16Hardware)(static_cast<uint16_t>(seed), data, length);
    case Algorithm::kCrc32C:
      return ~(table ? crc32cTableRegister : crc32cHardware)(~static_cast<uint32_t>(seed), data, length);
    case Algorithm::kCrc64Nvme:
      return ~(table ? crc64TableRegister : crc64Hardware)(~seed, data, length);
  }
  return 0;
}

}  // namespace

bool hardwareAvailable(Algorithm algorithm) {
  return algorithm == Algorithm::kCrc32C ? cpu().crc32Instruction : cpu().carrylessMultiply;
}

uint16_t crc16t10dif(const uint8_t* data, size_t length, uint16_t seed) {
  static const Path path = best(Algorithm::kCrc16T10Dif);
  return static_cast<uint16_t>(run(Algorithm::kCrc16T10Dif, path, data, length, seed));
}

uint32_t crc32c(const uint8_t* data, size_t length, uint32_t seed) {
  static const Path path = best(Algorithm::kCrc32C);
  return static_cast<uint32_t>(run(Algorithm::kCrc32C, path, data, length, seed));
}

uint64_t crc64nvme(const uint8_t* data, size_t length, uint64_t seed) {
  static const Path path = best(Algorithm::kCrc64Nvme);
  return run(Algorithm::kCrc64Nvme, path, data, length, seed);
}

bool computeByPath(Algorithm algorithm, Path path, const uint8_t* data, size_t length, uint64_t seed,
                   uint64_t* result) {
  if (path == Path::kBest) path = best(algorithm);
  if (path == Path::kHardware && !hardwareAvailable(algorithm)) return false;
  *result = run(algorithm, path, data, length, seed);
  return true;
}

}  // namespace checksum
}  // namespace aioring
