// An owned, non-blocking eventfd: the one wake-up signal every engine hands to
// the event loop. Engines that post completions from elsewhere (worker threads,
// deferred submit-time failures) call signal(); the loop's poll callback calls
// drain(). signalEventFd and drainEventFd do the same for a descriptor someone
// else owns (the binding sets its engine's notifier again).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace aioring {

// Adds one to the counter. EAGAIN means it is already non-zero: the poller
// will wake anyway.
inline void signalEventFd(int fd) {
  uint64_t one = 1;
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

// Clears the counter. EAGAIN means nothing was pending; either way it is now zero.
inline void drainEventFd(int fd) {
  uint64_t count;
  while (read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

class EventNotifier {
 public:
  EventNotifier() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), error_(fd_ < 0 ? errno : 0) {}
  ~EventNotifier() {
    if (fd_ >= 0) close(fd_);
  }
  EventNotifier(const EventNotifier&) = delete;
  EventNotifier& operator=(const EventNotifier&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Why eventfd() failed, when it did.
  int error() const { return error_; }

  void signal() const { signalEventFd(fd_); }
  void drain() const { drainEventFd(fd_); }

 private:
  int fd_;
  int error_;
};

}  // namespace aioring
