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

int setLock(int fd, short type) {
  struct flock lock = {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end of the file, however far it grows
  for (;;) {
    if (syscall(SYS_fcntl, fd, F_OFD_SETLK, &lock) == 0) return 0;
    if (errno != EINTR) return errno == EACCES ? EAGAIN : errno;
  }
}

}  // namespace

int lockExclusive(int fd) { return setLock(fd, F_WRLCK); }

int unlock(int fd) { return setLock(fd, F_UNLCK); }

}  // namespace logformat
}  // namespace aioring
