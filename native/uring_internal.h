// What the io_uring engine's files share: uring_setup.cc (the ring's setup,
// its mappings and teardown), uring_register.cc (registered buffers and
// files), uring_submit.cc (filling SQEs, entering the kernel, cancels) and
// uring_reap.cc (reading CQEs, waiting for idle).
#pragma once

#include <cstdint>
#include <string>

#include "uapi_compat.h"

namespace aioring {
namespace uring {

// Marks the user_data of SQEs the engine makes for itself (cancels, link
// timeouts); request slots never reach these bits.
constexpr uint64_t kInternalUserData = 1ull << 63;
// With kInternalUserData: a request's IORING_OP_LINK_TIMEOUT, whose low 32
// bits are the request's slot.
constexpr uint64_t kLinkTimeoutUserData = 1ull << 62;

// The errno's symbolic name (strerrorname_np needs glibc 2.32; prebuilds
// target older ones).
std::string errnoName(int error);

}  // namespace uring
}  // namespace aioring
