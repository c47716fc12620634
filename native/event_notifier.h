// An owned, non-blocking eventfd: the one wake-up signal every engine hands to
// the event loop. Engines that post completions from elsewhere (worker threads,
// deferred submit-time failures) call signal(); the loop's poll callback calls drain().
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace aioring {

class EventNotifier {
 public:
  EventNotifier() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~EventNotifier() {
    if (fd_ >= 0) close(fd_);
  }
  EventNotifier(const EventNotifier&) = delete;
  EventNotifier& operator=(const EventNotifier&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  void signal() const {
    uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the poller will wake anyway.
    while (write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  void drain() const {
    uint64_t count;
    while (read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
  }

 private:
  int fd_;
};

}  // namespace aioring
