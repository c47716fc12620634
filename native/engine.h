// The one interface every I/O engine implements. No Node-API in here: engines are
// plain C++ so they can be unit-built, sanitised and reasoned about on their own.
#pragma once

#include <sys/uio.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>

namespace aioring {

namespace integrity {
struct IoUringAttrPi;
}

enum class OpCode : uint8_t {
  kRead = 0,
  kWrite = 1,
  kReadv = 2,
  kWritev = 3,
  kFsync = 4,
  kFdatasync = 5,
};

inline bool isWrite(OpCode op) { return op == OpCode::kWrite || op == OpCode::kWritev; }

// Per-request flags, mapped by each engine onto its own interface.
constexpr uint32_t kFlagDsync = 1u << 0;   // RWF_DSYNC on this write alone
constexpr uint32_t kFlagAtomic = 1u << 1;  // RWF_ATOMIC (6.11): the write is never torn
// The next request in the same submit() call starts only after this one has
// completed in full; an error or a short transfer completes the rest of the
// chain with -ECANCELED. Only engines whose linksInKernel() is true honour it,
// and they take a chain whole or not at all.
constexpr uint32_t kFlagLinkNext = 1u << 2;
// A sync waits for this write (the next entry of an ordered batch): its
// completion latency paces the sync, not only its throughput. Engines may
// route it where completions reach the caller soonest.
constexpr uint32_t kFlagSyncNext = 1u << 3;

// A Completion with this result is not the request's own: it says that the
// request's deadline (Request::timeoutNs) passed and the kernel was asked to
// cancel it. The request's own Completion follows, and only it ends the request.
constexpr int32_t kResultDeadlinePassed = INT32_MIN + 1;

struct Request {
  uint32_t slot;     // caller's identifier, handed back unchanged in the completion
  int fd;
  OpCode op;
  uint32_t flags;
  int64_t offset;
  // For kRead/kWrite: one buffer. For kReadv/kWritev: `iov` points at `iovcnt`
  // entries that stay valid until the request completes (the caller owns them).
  void* buf;
  uint32_t len;
  const struct iovec* iov;
  uint32_t iovcnt;
  // For kRead/kWrite: the index, in the set given to registerBuffers(), of the
  // registered buffer that holds all of buf..buf+len; -1 when none does.
  int32_t fixedBuffer = -1;
  // io_uring only, for reads and writes: protection information for the
  // kernel to pass to the device and check (IORING_RW_ATTR_FLAG_PI). Set only
  // on rings whose engine reported IORING_FEAT_RW_ATTR, for files on devices
  // that carry PI; it must stay valid until the request completes.
  const integrity::IoUringAttrPi* piAttribute = nullptr;
  // Nanoseconds from submission after which the request is to be cancelled; 0
  // for none. Engines whose deadlineArmed() says so enforce it in the kernel
  // and report it with kResultDeadlinePassed; the others ignore it.
  uint64_t timeoutNs = 0;
};

struct Completion {
  uint32_t slot;
  int32_t result;  // bytes transferred, or -errno
};

// What Engine::cancel() managed for one request in flight.
enum class CancelOutcome : int32_t {
  kNotAsked = 0,  // the engine has no way to cancel it (Linux AIO)
  kAsked = 1,     // asked; the request's own completion says whether it was cancelled (-ECANCELED)
  kRefused = 2,   // asked and refused at once (already running): it runs to completion
  kAskLater = 3,  // the ask could not go to the kernel now (no room, or no kernel memory): ask again
};

// Result of an engine constructor: either an engine, or the errno and a sentence
// explaining why this engine cannot run here (used by probing and selection).
struct EngineRefusal {
  int error = 0;
  std::string reason;
};

class Engine {
 public:
  virtual ~Engine() = default;
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  virtual const char* name() const = 0;

  // An eventfd that becomes readable when completions may be waiting. The
  // owner polls it and calls reap() until empty, then drainNotifications(),
  // then reap() once more: a completion that lands in between is not missed.
  virtual int notifyFd() const = 0;

  // Clears the notification counter so the next completion wakes the poller again.
  virtual void drainNotifications() = 0;

  // Hands up to `count` requests to the kernel (or workers). Returns how many
  // were consumed from the front of `reqs`; every consumed request produces
  // exactly one Completion later, including those the kernel refused at
  // submission time (their -errno is delivered as a completion). A return
  // below `count` means the engine is temporarily full (EAGAIN, SQ full): the
  // caller keeps the rest and submits them again after some completions.
  // Never blocks on I/O.
  virtual uint32_t submit(const Request* reqs, uint32_t count) = 0;

  // Copies up to `max` finished requests into `out` without blocking.
  virtual uint32_t reap(Completion* out, uint32_t max) = 0;

  // Blocks until every consumed request has completed, discarding nothing:
  // completions stay available to reap(). Used by close paths that must not
  // free memory the kernel is still writing.
  virtual void waitIdle() = 0;

  // Requests consumed and not yet reaped.
  virtual uint32_t inFlight() const = 0;

  // Completions that reap() could return right now without asking the kernel.
  // Compared before and after submit(), it tells whether requests complete
  // inside the submission call (page cache, tmpfs) or later, from a device.
  virtual uint32_t readyCount() const = 0;

  // True when reap() would return a completion now, perhaps after entering the
  // kernel to run deferred work. Costs no system call: busy polling spins on it.
  virtual bool completionsWaiting() const = 0;

  // Number of system calls made so far (submission, reaping, waking), for stats.
  virtual uint64_t syscalls() const = 0;

  // Tries to stop the request in flight under `slot`. Whatever the outcome, the
  // request still produces exactly one Completion, and its memory must stay
  // valid until then: a cancelled one completes with -ECANCELED.
  virtual CancelOutcome cancel(uint32_t slot) {
    (void)slot;
    return CancelOutcome::kNotAsked;
  }

  // True when the request just submitted under `slot` carries its timeoutNs
  // into the kernel, so the caller need not keep a timer of its own for it.
  virtual bool deadlineArmed(uint32_t slot) const {
    (void)slot;
    return false;
  }

  // True when kFlagLinkNext chains run in the kernel, with no round trip
  // through the caller between their requests.
  virtual bool linksInKernel() const { return false; }

  // Registered ("fixed") buffers and files let the kernel pin memory and take
  // file references once instead of on every request. Engines without them
  // keep these defaults, and requests simply use plain addresses and fds.

  // Registers `count` buffers (each at most 1 GiB) as one set; requests name one
  // by Request::fixedBuffer. Returns 0, -EOPNOTSUPP where the engine has no such
  // thing, -EBUSY if a set is already registered, or the kernel's -errno. The
  // memory must stay valid until unregisterBuffers() or the engine's destruction.
  virtual int registerBuffers(const struct iovec* buffers, uint32_t count) {
    (void)buffers;
    (void)count;
    return -EOPNOTSUPP;
  }

  // Drops the registered set. Only with no request using it in flight; the
  // destructor calls it after draining.
  virtual void unregisterBuffers() {}

  // Best effort: true when requests on `fd` will use a registered file. Call
  // unregisterFile() after the fd's last request completed and before closing
  // it, or a reused descriptor number would reach the old file.
  virtual bool registerFile(int fd) {
    (void)fd;
    return false;
  }
  virtual void unregisterFile(int fd) { (void)fd; }
  // The file on `fd` may have shrunk other than through this engine (an
  // ftruncate): an engine that keeps what it saw of its size looks again.
  virtual void fileResized(int fd) { (void)fd; }

  // Requests submitted so far using a registered buffer, or a registered file.
  virtual uint64_t fixedBufferOps() const { return 0; }
  virtual uint64_t fixedFileOps() const { return 0; }

  // Requests submitted linked to the next one (kFlagLinkNext, in the kernel),
  // and requests whose deadline went to the kernel with them.
  virtual uint64_t linkedOps() const { return 0; }
  virtual uint64_t linkTimeouts() const { return 0; }
};

}  // namespace aioring
