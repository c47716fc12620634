#include "protected_io.h"

namespace aioring {
namespace integrity {
namespace {

// Calls visit(bytes, length) for each buffer of a read/write or readv/writev.
template <typename Visit>
void forEachBuffer(const Request& request, Visit visit) {
  if (request.iov == nullptr) {
    visit(static_cast<uint8_t*>(request.buf), static_cast<size_t>(request.len));
    return;
  }
  for (uint32_t i = 0; i < request.iovcnt; ++i) {
    visit(static_cast<uint8_t*>(request.iov[i].iov_base), request.iov[i].iov_len);
  }
}

}  // namespace

ProtectedTransfer transferFor(const FileProtection& file, uint64_t position, uint8_t* tuples, size_t tupleBytes) {
  ProtectedTransfer transfer;
  transfer.profile = file.profile;
  transfer.profile.firstReferenceTag = file.profile.firstReferenceTag + position / file.profile.interval;
  transfer.tuples = file.profile.trailer ? nullptr : tuples;
  transfer.tupleCapacity = file.profile.trailer ? 0 : tupleBytes;
  transfer.kernelChecks = file.kernelChecks && !file.profile.trailer;
  return transfer;
}

bool fits(const ProtectedTransfer& transfer, const Request& request) {
  const size_t interval = transfer.profile.interval;
  bool whole = true;
  size_t intervals = 0;
  forEachBuffer(request, [&](uint8_t*, size_t length) {
    if (length % interval != 0) whole = false;
    intervals += length / interval;
  });
  if (!whole) return false;
  return transfer.profile.trailer ||
         (transfer.tuples != nullptr && transfer.tupleCapacity >= intervals * tupleBytes(transfer.profile.format));
}

void generateFor(const ProtectedTransfer& transfer, const Request& request) {
  Profile profile = transfer.profile;
  uint8_t* tuples = transfer.tuples;
  forEachBuffer(request, [&](uint8_t* bytes, size_t length) {
    const size_t count = length / profile.interval;
    generate(profile, bytes, count, tuples);
    profile.firstReferenceTag += count;
    if (tuples) tuples += count * tupleBytes(profile.format);
  });
}

bool verifyFor(const ProtectedTransfer& transfer, const Request& request, size_t bytes, std::vector<Fault>* faults) {
  Profile profile = transfer.profile;
  const uint8_t* tuples = transfer.tuples;
  size_t remaining = bytes;
  uint64_t done = 0;
  bool intact = true;
  forEachBuffer(request, [&](uint8_t* data, size_t length) {
    const size_t count = (length < remaining ? length : remaining) / profile.interval;
    remaining -= length < remaining ? length : remaining;
    const size_t before = faults->size();
    if (!verify(profile, data, count, tuples, faults)) intact = false;
    for (size_t i = before; i < faults->size(); ++i) (*faults)[i].interval += done;
    done += count;
    profile.firstReferenceTag += count;
    if (tuples) tuples += count * tupleBytes(profile.format);
  });
  return intact;
}

}  // namespace integrity
}  // namespace aioring
