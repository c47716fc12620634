// The single-writer lock of a log: an open-file-description (OFD) write lock
// on the whole file, kept apart from Node-API so engine_check can test it.
// OFD locks belong to the open file, not the process, so two opens in the
// same process conflict just as two processes do; the kernel drops the lock
// when the last descriptor of that open file closes, including at a crash.
#pragma once

namespace aioring {
namespace logformat {

// Takes the exclusive lock without waiting. Returns 0, EAGAIN when another
// open file holds a lock on it, or the errno fcntl failed with.
int lockExclusive(int fd);

// Releases this open file's lock (a no-op if it holds none). Returns 0 or the errno.
int unlock(int fd);

}  // namespace logformat
}  // namespace aioring
