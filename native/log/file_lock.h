// The single-writer lock of a log, kept apart from Node-API so engine_check
// can test it. Two locks on two bytes of the file:
// - byte 0: an open-file-description (OFD) write lock, the lock itself. It
//   belongs to the open file, so two opens in one process conflict just as two
//   processes do; the kernel drops it when the last reference to that open file
//   goes, which for a killed process can be a little after its exit (io_uring
//   may still hold the file while it finishes the process's requests).
// - byte 1: a process-owned (POSIX) write lock, the holder's sign of life. The
//   kernel drops it as the process exits, before its parent hears of it, and
//   F_GETLK names the holding process; a process cannot see its own.
#pragma once

namespace aioring {
namespace logformat {

// Takes both locks without waiting. Returns 0, EAGAIN when another open file
// holds the OFD lock, or the errno fcntl failed with.
int lockExclusive(int fd);

// Releases this open file's locks (a no-op where it holds none). Returns 0 or the errno.
int unlock(int fd);

// The process holding the sign-of-life lock: its pid, 0 when no other process
// holds it (none, or this process), or -errno.
int lockHolder(int fd);

}  // namespace logformat
}  // namespace aioring
