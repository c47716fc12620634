// Linux AIO's raw system calls and its completion ring, which the kernel maps
// at the address io_setup returns: shared by the AIO engine and by the io_uring
// engine's requests it runs on AIO (uring_aio_offload.h).
#pragma once

#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "engine.h"
#include "uapi_compat.h"

namespace aioring {
namespace aio {

// The header the kernel maps at the address io_setup returns. It is not in the
// uapi headers, but its layout and magic are stable ABI that user-space reapers
// (libaio's fast path, fio) rely on.
struct RingHeader {
  unsigned id;
  unsigned nr;
  unsigned head;
  unsigned tail;
  unsigned magic;
  unsigned compat_features;
  unsigned incompat_features;
  unsigned header_length;
  struct io_event events[];
};
constexpr unsigned kRingMagic = 0xa10a10a1;

inline uint16_t opcodeFor(OpCode op) {
  switch (op) {
    case OpCode::kRead: return IOCB_CMD_PREAD;
    case OpCode::kWrite: return IOCB_CMD_PWRITE;
    case OpCode::kReadv: return IOCB_CMD_PREADV;
    case OpCode::kWritev: return IOCB_CMD_PWRITEV;
    case OpCode::kFsync: return IOCB_CMD_FSYNC;
    case OpCode::kFdatasync: return IOCB_CMD_FDSYNC;
  }
  return IOCB_CMD_NOOP;
}

// Fills `cb` for `req`, its completion announced on `eventFd`. A sync's
// offset and flags stay 0, which aio_fsync requires.
inline void describe(const Request& req, struct iocb* cb, int eventFd) {
  std::memset(cb, 0, sizeof *cb);
  cb->aio_data = req.slot;
  cb->aio_lio_opcode = opcodeFor(req.op);
  cb->aio_fildes = static_cast<uint32_t>(req.fd);
  cb->aio_flags = IOCB_FLAG_RESFD;
  cb->aio_resfd = static_cast<uint32_t>(eventFd);
  cb->aio_offset = req.offset;
  cb->aio_rw_flags = rwFlagsFor(req.flags);
  if (req.op == OpCode::kReadv || req.op == OpCode::kWritev) {
    cb->aio_buf = reinterpret_cast<uintptr_t>(req.iov);
    cb->aio_nbytes = req.iovcnt;
  } else if (req.op == OpCode::kRead || req.op == OpCode::kWrite) {
    cb->aio_buf = reinterpret_cast<uintptr_t>(req.buf);
    cb->aio_nbytes = req.len;
  }
}

inline long ioSetup(unsigned nr, aio_context_t* ctx) { return syscall(__NR_io_setup, nr, ctx); }
inline long ioDestroy(aio_context_t ctx) { return syscall(__NR_io_destroy, ctx); }
inline long ioSubmit(aio_context_t ctx, long n, struct iocb** iocbs) { return syscall(__NR_io_submit, ctx, n, iocbs); }
inline long ioGetevents(aio_context_t ctx, long min, long max, struct io_event* events, struct timespec* timeout) {
  return syscall(__NR_io_getevents, ctx, min, max, events, timeout);
}

// The context's ring when it has the layout we know, else nullptr (then
// io_getevents with a zero timeout does the same job with one system call).
inline RingHeader* userRingOf(aio_context_t ctx) {
  auto* header = reinterpret_cast<RingHeader*>(ctx);
  return header->magic == kRingMagic && header->incompat_features == 0 ? header : nullptr;
}

inline Completion toCompletion(const struct io_event& event) {
  return Completion{static_cast<uint32_t>(event.data), static_cast<int32_t>(event.res)};
}

// Events waiting in the ring.
inline uint32_t readyIn(const RingHeader* ring) {
  const unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
  return (tail + ring->nr - ring->head) % ring->nr;
}

// The kernel publishes events by storing tail after writing them; acquiring
// tail makes those writes visible, and releasing head tells the kernel (which
// reads head when refilling its free-slot count) that the slots are reusable.
inline uint32_t reapRing(RingHeader* ring, Completion* out, uint32_t max) {
  unsigned head = ring->head;
  const unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
  uint32_t taken = 0;
  while (head != tail && taken < max) {
    out[taken++] = toCompletion(ring->events[head]);
    head = (head + 1) % ring->nr;
  }
  if (taken > 0) __atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
  return taken;
}

// io_getevents for at least `minimum` events (0: return at once), retrying
// EINTR; `events` holds `max`. Returns how many it copied to `out`.
inline uint32_t reapSyscall(aio_context_t ctx, struct io_event* events, Completion* out, uint32_t max, long minimum) {
  struct timespec immediately = {0, 0};
  long got;
  do {
    got = ioGetevents(ctx, minimum, max, events, minimum ? nullptr : &immediately);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return 0;
  for (long i = 0; i < got; ++i) out[i] = toCompletion(events[i]);
  return static_cast<uint32_t>(got);
}

}  // namespace aio
}  // namespace aioring
