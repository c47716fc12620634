#include "uring_aio_offload.h"

#include <algorithm>
#include <new>

#include "event_notifier.h"

namespace aioring {

std::unique_ptr<AioOffload> AioOffload::create(uint32_t capacity, int eventFd) {
  aio_context_t ctx = 0;
  if (capacity == 0 || aio::ioSetup(capacity, &ctx) < 0) return nullptr;
  std::unique_ptr<AioOffload> offload(new (std::nothrow) AioOffload(capacity, ctx, eventFd));
  if (!offload) aio::ioDestroy(ctx);
  return offload;
}

AioOffload::AioOffload(uint32_t capacity, aio_context_t ctx, int eventFd)
    : capacity_(capacity),
      ctx_(ctx),
      ring_(aio::userRingOf(ctx)),
      eventFd_(eventFd),
      iocbs_(new struct iocb[capacity]),
      iocbPointers_(new struct iocb*[capacity]),
      events_(new struct io_event[capacity]),
      parked_(capacity) {}

AioOffload::~AioOffload() {
  waitIdle();
  aio::ioDestroy(ctx_);
}

uint32_t AioOffload::submit(const Request* const* reqs, uint32_t count) {
  const uint32_t room = capacity_ - inFlight_;
  if (count > room) count = room;
  for (uint32_t i = 0; i < count; ++i) {
    struct iocb* cb = &iocbs_[i];
    aio::describe(*reqs[i], cb, eventFd_);
    iocbPointers_[i] = cb;
  }
  uint32_t started = 0;
  while (started < count) {
    ++syscalls_;
    const long accepted = aio::ioSubmit(ctx_, count - started, iocbPointers_.get() + started);
    if (accepted > 0) {
      started += static_cast<uint32_t>(accepted);
      continue;
    }
    if (accepted < 0 && errno == EINTR) continue;
    break;
  }
  inFlight_ += started;
  return started;
}

void AioOffload::fail(Completion completion) {
  parked_.push(completion);
  ++inFlight_;
  signalEventFd(eventFd_);
}

uint32_t AioOffload::reap(Completion* out, uint32_t max) {
  uint32_t taken = parked_.popInto(out, max);
  if (taken < max && inFlight_ > parked_.size()) {
    if (ring_) {
      taken += aio::reapRing(ring_, out + taken, max - taken);
    } else {
      ++syscalls_;
      const uint32_t want = std::min(max - taken, capacity_);
      taken += aio::reapSyscall(ctx_, events_.get(), out + taken, want, 0);
    }
  }
  inFlight_ -= taken;
  return taken;
}

void AioOffload::waitIdle() {
  while (inFlight_ > parked_.size()) {
    Completion batch[64];
    const uint32_t want = std::min<uint32_t>(inFlight_ - parked_.size(), 64);
    ++syscalls_;
    const uint32_t got = aio::reapSyscall(ctx_, events_.get(), batch, want, 1);
    // Waiting for at least one, only an error returns none: stop rather than
    // spin. Nothing is freed early for it: io_destroy, in the destructor,
    // waits for every request still in flight, writes included.
    if (got == 0) break;
    for (uint32_t i = 0; i < got; ++i) parked_.push(batch[i]);
  }
}

}  // namespace aioring
