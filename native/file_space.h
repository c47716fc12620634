// Reserving and releasing a file's space: fallocate(2), kept apart from
// Node-API so it can run on a worker thread and be tested without Node.
#pragma once

#include <cstdint>

namespace aioring {

// fallocate(fd, keepSize ? FALLOC_FL_KEEP_SIZE : 0, offset, length).
// Returns 0, or the errno it failed with (EINTR is retried).
int allocateSpace(int fd, bool keepSize, uint64_t offset, uint64_t length);

}  // namespace aioring
