#include "aio_engine.h"

#include <linux/aio_abi.h>

#include <cerrno>
#include <new>

#include "aio_ring.h"
#include "event_notifier.h"
#include "parked_completions.h"

namespace aioring {
namespace {

using aio::ioDestroy;
using aio::ioSetup;
using aio::ioSubmit;

class AioEngine final : public Engine {
 public:
  AioEngine(uint32_t depth, aio_context_t ctx)
      : depth_(depth),
        ctx_(ctx),
        iocbs_(new struct iocb[depth]),
        iocbPointers_(new struct iocb*[depth]),
        events_(new struct io_event[depth]),
        parked_(depth) {
    userRing_ = aio::userRingOf(ctx_);
  }

  ~AioEngine() override {
    waitIdle();
    ioDestroy(ctx_);
  }

  bool ready() const { return notifier_.valid(); }
  const char* name() const override { return "libaio"; }
  int notifyFd() const override { return notifier_.fd(); }
  void drainNotifications() override {
    ++syscalls_;
    notifier_.drain();
  }
  uint32_t inFlight() const override { return inFlight_; }
  uint64_t syscalls() const override { return syscalls_; }
  uint32_t readyCount() const override {
    return parked_.size() + (userRing_ ? aio::readyIn(userRing_) : 0);
  }

  bool completionsWaiting() const override { return readyCount() > 0; }

  uint32_t submit(const Request* reqs, uint32_t count) override {
    uint32_t room = depth_ - inFlight_;
    if (count > room) count = room;
    for (uint32_t i = 0; i < count; ++i) prepare(reqs[i], &iocbs_[i]);

    uint32_t consumed = 0;
    while (consumed < count) {
      ++syscalls_;
      long accepted = ioSubmit(ctx_, count - consumed, iocbPointers_.get() + consumed);
      if (accepted > 0) {
        consumed += static_cast<uint32_t>(accepted);
        inFlight_ += static_cast<uint32_t>(accepted);
        continue;
      }
      int error = accepted == 0 ? EAGAIN : errno;
      if (error == EINTR) continue;
      if (error == EAGAIN) break;  // the context is full: the caller resubmits later
      // The kernel refused the first remaining iocb outright (EBADF, EINVAL...).
      // Report it as that request's completion so one bad request never stalls
      // or loses the ones behind it.
      parked_.push(Completion{reqs[consumed].slot, -error});
      ++inFlight_;
      ++consumed;
      notifier_.signal();
    }
    return consumed;
  }

  uint32_t reap(Completion* out, uint32_t max) override {
    uint32_t taken = parked_.popInto(out, max);
    if (taken < max && inFlight_ > parked_.size()) {
      taken += userRing_ ? aio::reapRing(userRing_, out + taken, max - taken)
                         : reapSyscall(out + taken, max - taken, 0);
    }
    inFlight_ -= taken;
    return taken;
  }

  void waitIdle() override {
    while (inFlight_ > parked_.size()) {
      Completion batch[64];
      uint32_t want = inFlight_ - parked_.size();
      uint32_t got = reapSyscall(batch, want < 64 ? want : 64, 1);
      for (uint32_t i = 0; i < got; ++i) parked_.push(batch[i]);
    }
  }

 private:
  void prepare(const Request& req, struct iocb* cb) {
    aio::describe(req, cb, notifier_.fd());
    iocbPointers_[cb - iocbs_.get()] = cb;
  }

  uint32_t reapSyscall(Completion* out, uint32_t max, long minimum) {
    ++syscalls_;
    return aio::reapSyscall(ctx_, events_.get(), out, max, minimum);
  }

  uint32_t depth_;
  aio_context_t ctx_;
  aio::RingHeader* userRing_;
  std::unique_ptr<struct iocb[]> iocbs_;
  std::unique_ptr<struct iocb*[]> iocbPointers_;
  std::unique_ptr<struct io_event[]> events_;
  ParkedCompletions parked_;
  EventNotifier notifier_;
  uint32_t inFlight_ = 0;
  uint64_t syscalls_ = 0;
};

const char* refusalReason(int error) {
  switch (error) {
    case ENOSYS: return "io_setup failed with ENOSYS: the kernel was built without Linux AIO (CONFIG_AIO)";
    case EPERM: return "io_setup failed with EPERM: a seccomp profile (for example a container runtime's) forbids the AIO syscalls";
    case EAGAIN: return "io_setup failed with EAGAIN: fs.aio-max-nr is exhausted (see fs.aio-nr); raise it with sysctl";
    case ENOMEM: return "io_setup failed with ENOMEM: not enough kernel memory for the AIO ring";
    default: return "io_setup failed";
  }
}

}  // namespace

std::unique_ptr<Engine> createAioEngine(uint32_t depth, EngineRefusal* refusal) {
  aio_context_t ctx = 0;
  if (ioSetup(depth, &ctx) < 0) {
    refusal->error = errno;
    refusal->reason = refusalReason(errno);
    return nullptr;
  }
  std::unique_ptr<AioEngine> engine(new (std::nothrow) AioEngine(depth, ctx));
  if (!engine || !engine->ready()) {
    refusal->error = engine ? EMFILE : ENOMEM;
    refusal->reason = "could not create the eventfd that signals AIO completions";
    if (!engine) ioDestroy(ctx);
    return nullptr;
  }
  return engine;
}

}  // namespace aioring
