// The io_uring engine's requests that run through Linux AIO instead: fsync and
// fdatasync, and a direct write that a sync is waiting on (kFlagSyncNext).
//
// Why syncs: io_uring has no way to run a sync without blocking, so
// IORING_OP_FSYNC always goes to an io-wq worker thread, and with
// IORING_SETUP_DEFER_TASKRUN its completion then waits as task work until the
// ring's thread enters the kernel. AIO's IOCB_CMD_FSYNC/FDSYNC run the same
// vfs_fsync_range on the kernel's system workqueue, which posts the event
// straight to a ring that user space reads. On a disk whose flush is fast,
// that difference is a large share of each call, and with sync coalescing
// (one call per file in flight) the call's latency paces every writer waiting
// for it (README, "Durable writes").
//
// Why those writes: in an ordered write + fdatasync, the sync is asked for
// only once the write's completion has reached JS, so the write's completion
// latency is on every such writer's critical path. A direct write's AIO event
// is in a ring user space reads as soon as the device is done; an io_uring
// CQE waits for the ring's thread to enter the kernel and run it. Throughput-
// bound writes, with nothing waiting on each one, gain nothing from this and
// stay on the ring.
//
// Best effort: where AIO cannot be set up (no CONFIG_AIO, fs.aio-max-nr used
// up, a seccomp filter) or refuses a request, the engine keeps the request on
// io_uring.
#pragma once

#include <linux/aio_abi.h>

#include <cstdint>
#include <memory>

#include "aio_ring.h"
#include "engine.h"
#include "parked_completions.h"

namespace aioring {

class AioOffload {
 public:
  // Room for `capacity` requests in flight, each announcing its completion on
  // `eventFd`; nullptr when Linux AIO is unavailable.
  static std::unique_ptr<AioOffload> create(uint32_t capacity, int eventFd);
  ~AioOffload();
  AioOffload(const AioOffload&) = delete;
  AioOffload& operator=(const AioOffload&) = delete;

  // Whether this is the kind of request it runs: an fsync or fdatasync, or a
  // write or writev a sync waits on, from ordinary memory (a registered
  // buffer needs the ring) and without protection information.
  static bool runs(const Request& req) {
    if (req.op == OpCode::kFsync || req.op == OpCode::kFdatasync) return true;
    return isWrite(req.op) && (req.flags & kFlagSyncNext) && req.fixedBuffer < 0 && req.piAttribute == nullptr;
  }

  // Starts the requests, each of which must satisfy runs(), in order until the
  // kernel refuses one. Returns how many it started; the caller runs the rest
  // some other way. Never more than the capacity may be in flight.
  uint32_t submit(const Request* const* reqs, uint32_t count);
  // Makes `completion` the outcome of a request that could not start, announced
  // on the eventfd like any other. Counts as one in flight until reaped.
  void fail(Completion completion);

  uint32_t inFlight() const { return inFlight_; }
  // Completions reap() would return now.
  uint32_t ready() const { return parked_.size() + (ring_ ? aio::readyIn(ring_) : 0); }
  uint32_t reap(Completion* out, uint32_t max);
  // Blocks until every request started has completed; their completions stay for reap().
  void waitIdle();
  uint64_t syscalls() const { return syscalls_; }

 private:
  AioOffload(uint32_t capacity, aio_context_t ctx, int eventFd);

  uint32_t capacity_;
  aio_context_t ctx_;
  aio::RingHeader* ring_;
  int eventFd_;
  std::unique_ptr<struct iocb[]> iocbs_;
  std::unique_ptr<struct iocb*[]> iocbPointers_;
  std::unique_ptr<struct io_event[]> events_;
  ParkedCompletions parked_;
  uint32_t inFlight_ = 0;
  uint64_t syscalls_ = 0;
};

}  // namespace aioring
