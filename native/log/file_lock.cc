#include "file_lock.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

// Linux 3.15 and later; older C library headers lack the names.
#ifndef F_OFD_SETLK
#define F_OFD_SETLK 37
#endif

namespace aioring {
namespace logformat {

namespace {

constexpr off_t kLockByte = 0;
constexpr off_t kLifeByte = 1;

struct flock byteRange(short type, off_t byte) {
  struct flock lock = {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = byte;
  lock.l_len = 1;
  return lock;
}

int control(int fd, int command, struct flock* lock) {
  for (;;) {
    if (syscall(SYS_fcntl, fd, command, lock) == 0) return 0;
    if (errno != EINTR) return errno == EACCES ? EAGAIN : errno;
  }
}

}  // namespace

int lockExclusive(int fd) {
  struct flock lock = byteRange(F_WRLCK, kLockByte);
  const int result = control(fd, F_OFD_SETLK, &lock);
  if (result != 0) return result;
  // No other process can hold byte 1 while byte 0 was free, except one that
  // lost byte 0 without exiting; the OFD lock alone still keeps writers apart.
  struct flock life = byteRange(F_WRLCK, kLifeByte);
  control(fd, F_SETLK, &life);
  return 0;
}

int unlock(int fd) {
  struct flock life = byteRange(F_UNLCK, kLifeByte);
  control(fd, F_SETLK, &life);
  struct flock lock = byteRange(F_UNLCK, kLockByte);
  return control(fd, F_OFD_SETLK, &lock);
}

int lockHolder(int fd) {
  struct flock life = byteRange(F_WRLCK, kLifeByte);
  const int result = control(fd, F_GETLK, &life);
  if (result != 0) return -result;
  return life.l_type == F_UNLCK ? 0 : life.l_pid;
}

}  // namespace logformat
}  // namespace aioring
