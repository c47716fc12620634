// Protection information over one engine request: the tuples of a protected
// file's write are filled in before it is submitted, and a read's data is
// checked against its tuples when it completes, over a single buffer or every
// buffer of a readv/writev in turn. No Node-API; binding.cc calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../engine.h"
#include "protection.h"

namespace aioring {
namespace integrity {

// How one file is protected: its tuple profile for the interval at position 0
// (firstReferenceTag is the file's reference tag seed).
struct FileProtection {
  Profile profile;
  // The device carries PI in this format and the ring is io_uring: separate-
  // layout requests also hand their tuples to the kernel to check.
  bool kernelChecks = false;
};

// The protection of one request in flight.
struct ProtectedTransfer {
  Profile profile;                // firstReferenceTag is that of the request's first interval
  uint8_t* tuples = nullptr;      // separate layout: one tuple per interval of the request
  size_t tupleCapacity = 0;       // bytes at `tuples`
  bool kernelChecks = false;      // see FileProtection
};

// The transfer for a request at `position` on a file protected by `file`.
ProtectedTransfer transferFor(const FileProtection& file, uint64_t position, uint8_t* tuples, size_t tupleBytes);

// Whether the request is whole intervals in every buffer and, in the separate
// layout, the tuple buffer holds one tuple for each.
bool fits(const ProtectedTransfer& transfer, const Request& request);

void generateFor(const ProtectedTransfer& transfer, const Request& request);

// Checks the whole intervals among the first `bytes` transferred; appends a
// Fault per bad interval, its index counted from the request's start.
bool verifyFor(const ProtectedTransfer& transfer, const Request& request, size_t bytes, std::vector<Fault>* faults);

}  // namespace integrity
}  // namespace aioring
