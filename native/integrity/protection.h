// T10 protection information, generated and checked in software: one tuple
// per interval of data, holding a guard CRC, an application tag and a Type 1
// reference tag. No Node-API; binding.cc calls it for generateProtection /
// verifyProtection and for the reads and writes of protected files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aioring {
namespace integrity {

// The tuple formats. Both are big-endian:
//   t10dif (8 bytes):  guard CRC-16/T10-DIF (2) | application tag (2) | reference tag (4)
//   nvme64 (16 bytes): guard CRC-64/NVME (8)    | application tag (2) | reference tag (6, 48 bits)
enum class Format : uint32_t { kT10Dif = 0, kNvme64 = 1 };

constexpr size_t tupleBytes(Format format) { return format == Format::kT10Dif ? 8 : 16; }

// Reference tags wrap at the tuple's width.
constexpr uint64_t referenceTagMask(Format format) {
  return format == Format::kT10Dif ? 0xffffffffull : 0xffffffffffffull;
}

// An application tag of all ones turns every check off for its interval, as T10 defines.
constexpr uint16_t kEscapeApplicationTag = 0xffff;

struct Profile {
  Format format = Format::kT10Dif;
  uint32_t interval = 512;  // bytes of data per tuple (trailer layout: including the tuple)
  // The trailer layout keeps each tuple in its interval's last bytes and the
  // guard covers the bytes before it; otherwise tuples are in their own buffer
  // and the guard covers the whole interval.
  bool trailer = false;
  uint16_t applicationTag = 0;
  uint64_t firstReferenceTag = 0;  // of the range's first interval; the k-th gets this + k
};

enum class FaultKind : uint32_t { kGuard = 1, kReference = 2, kApplication = 3 };

struct Fault {
  FaultKind kind;
  uint64_t interval;  // index within the range given
  uint64_t expected;
  uint64_t actual;
};

// Where interval k's tuple is: inside the data (trailer) or at tuples + k * tupleBytes.
template <typename Byte>
Byte* tupleOf(const Profile& profile, Byte* data, Byte* tuples, size_t k) {
  return profile.trailer ? data + (k + 1) * profile.interval - tupleBytes(profile.format)
                         : tuples + k * tupleBytes(profile.format);
}

// Fills the tuples of `count` intervals of `data`.
void generate(const Profile& profile, uint8_t* data, size_t count, uint8_t* tuples);

// Checks `count` intervals; appends one Fault per bad interval (its first
// failed check: guard, then application tag, then reference tag). Returns
// whether every interval passed.
bool verify(const Profile& profile, const uint8_t* data, size_t count, const uint8_t* tuples,
            std::vector<Fault>* faults);

}  // namespace integrity
}  // namespace aioring
