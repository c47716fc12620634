#include "protection.h"

#include "../checksum/checksum.h"

namespace aioring {
namespace integrity {
namespace {

void storeBigEndian(uint8_t* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
}

uint64_t loadBigEndian(const uint8_t* in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

// Byte widths of a tuple's three fields, in order.
struct Fields {
  size_t guard;
  size_t application;
  size_t reference;
};

constexpr Fields fieldsOf(Format format) { return format == Format::kT10Dif ? Fields{2, 2, 4} : Fields{8, 2, 6}; }

size_t guardedBytes(const Profile& profile) {
  return profile.trailer ? profile.interval - tupleBytes(profile.format) : profile.interval;
}

uint64_t guardOf(Format format, const uint8_t* bytes, size_t length) {
  return format == Format::kT10Dif ? checksum::crc16t10dif(bytes, length, 0) : checksum::crc64nvme(bytes, length, 0);
}

}  // namespace

void generate(const Profile& profile, uint8_t* data, size_t count, uint8_t* tuples) {
  const Fields fields = fieldsOf(profile.format);
  const size_t guarded = guardedBytes(profile);
  for (size_t k = 0; k < count; ++k) {
    uint8_t* interval = data + k * profile.interval;
    uint8_t* tuple = tupleOf(profile, data, tuples, k);
    storeBigEndian(tuple, guardOf(profile.format, interval, guarded), fields.guard);
    storeBigEndian(tuple + fields.guard, profile.applicationTag, fields.application);
    storeBigEndian(tuple + fields.guard + fields.application,
                   (profile.firstReferenceTag + k) & referenceTagMask(profile.format), fields.reference);
  }
}

bool verify(const Profile& profile, const uint8_t* data, size_t count, const uint8_t* tuples,
            std::vector<Fault>* faults) {
  const Fields fields = fieldsOf(profile.format);
  const size_t guarded = guardedBytes(profile);
  bool intact = true;
  for (size_t k = 0; k < count; ++k) {
    const uint8_t* interval = data + k * profile.interval;
    const uint8_t* tuple = tupleOf(profile, data, tuples, k);
    const uint64_t application = loadBigEndian(tuple + fields.guard, fields.application);
    if (application == kEscapeApplicationTag) continue;
    const uint64_t guard = loadBigEndian(tuple, fields.guard);
    const uint64_t reference = loadBigEndian(tuple + fields.guard + fields.application, fields.reference);
    const uint64_t expectedGuard = guardOf(profile.format, interval, guarded);
    const uint64_t expectedReference = (profile.firstReferenceTag + k) & referenceTagMask(profile.format);
    Fault fault;
    if (guard != expectedGuard) {
      fault = Fault{FaultKind::kGuard, k, expectedGuard, guard};
    } else if (application != profile.applicationTag) {
      fault = Fault{FaultKind::kApplication, k, profile.applicationTag, application};
    } else if (reference != expectedReference) {
      fault = Fault{FaultKind::kReference, k, expectedReference, reference};
    } else {
      continue;
    }
    intact = false;
    if (faults) faults->push_back(fault);
  }
  return intact;
}

}  // namespace integrity
}  // namespace aioring
