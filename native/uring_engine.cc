#include "uring_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <string>

#include "integrity/kernel_pi.h"

// Build hosts may carry older uapi headers than the kernels we run on. These
// values are kernel ABI and never change; defining them after the include also
// covers names that newer headers declare as enumerators rather than macros.
#ifndef IORING_SETUP_CQSIZE
#define IORING_SETUP_CQSIZE (1U << 3)
#endif
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_TASKRUN_FLAG
#define IORING_SETUP_TASKRUN_FLAG (1U << 9)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef IORING_FEAT_SINGLE_MMAP
#define IORING_FEAT_SINGLE_MMAP (1U << 0)
#endif
#ifndef IORING_FEAT_RW_CUR_POS
#define IORING_FEAT_RW_CUR_POS (1U << 3)
#endif
#ifndef IORING_SQ_CQ_OVERFLOW
#define IORING_SQ_CQ_OVERFLOW (1U << 1)
#endif
#ifndef IORING_SQ_TASKRUN
#define IORING_SQ_TASKRUN (1U << 2)
#endif
#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS (1U << 0)
#endif
#ifndef IORING_FSYNC_DATASYNC
#define IORING_FSYNC_DATASYNC (1U << 0)
#endif
#ifndef IORING_REGISTER_EVENTFD
#define IORING_REGISTER_EVENTFD 4
#endif
#ifndef IORING_REGISTER_BUFFERS
#define IORING_REGISTER_BUFFERS 0
#endif
#ifndef IORING_UNREGISTER_BUFFERS
#define IORING_UNREGISTER_BUFFERS 1
#endif
#ifndef IORING_REGISTER_FILES
#define IORING_REGISTER_FILES 2
#endif
#ifndef IORING_REGISTER_FILES_UPDATE
#define IORING_REGISTER_FILES_UPDATE 6
#endif
#ifndef IOSQE_FIXED_FILE
#define IOSQE_FIXED_FILE (1U << 0)
#endif
#ifndef IORING_OP_READ_FIXED
#define IORING_OP_READ_FIXED 4
#endif
#ifndef IORING_OP_WRITE_FIXED
#define IORING_OP_WRITE_FIXED 5
#endif
#ifndef IORING_OP_READ
#define IORING_OP_READ 22
#endif
#ifndef IORING_OP_WRITE
#define IORING_OP_WRITE 23
#endif
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x00000002
#endif

namespace aioring {
namespace {

// Marks the user_data of SQEs the engine makes for itself (cancels); request
// slots never reach this bit.
constexpr uint64_t kInternalUserData = 1ull << 63;

// IORING_MAX_ENTRIES: the kernel refuses larger submission queues.
constexpr uint32_t kMaxSqEntries = 32768;

// TASKRUN_FLAG makes the kernel raise IORING_SQ_TASKRUN while deferred
// completions wait for us, which is how reap() knows when entering is needed.
constexpr uint32_t kDeferredTaskrun = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;

constexpr uint32_t kWantedSetupFlags = kDeferredTaskrun | IORING_SETUP_SINGLE_ISSUER |
                                       IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL |
                                       IORING_SETUP_CQSIZE;

// Dropped one at a time while io_uring_setup answers EINVAL, newest feature
// first: 6.1 added DEFER_TASKRUN (which needs SINGLE_ISSUER, so it must go
// before it), 6.0 SINGLE_ISSUER, 5.19 COOP_TASKRUN, 5.18 SUBMIT_ALL, 5.5 CQSIZE.
constexpr uint32_t kFallbackOrder[] = {
    kDeferredTaskrun,
    IORING_SETUP_SINGLE_ISSUER,
    IORING_SETUP_COOP_TASKRUN,
    IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_CQSIZE,
};

// Opcode numbers are 8 bits and the kernel answers -EINVAL for unknown ones,
// so a corrupt Request fails visibly instead of running as a zeroed NOP.
constexpr uint8_t kInvalidOpcode = 0xff;

bool refuse(EngineRefusal* refusal, int error, std::string reason) {
  if (refusal != nullptr) {
    refusal->error = error;
    refusal->reason = std::move(reason);
  }
  return false;
}

// strerrorname_np needs glibc 2.32; prebuilds target older ones.
std::string errnoName(int error) {
  switch (error) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    default: return "errno " + std::to_string(error);
  }
}

// For failures past io_uring_setup, which need no more explanation than the call and errno.
bool refuseErrno(EngineRefusal* refusal, const char* what) {
  const int error = errno;
  return refuse(refusal, error, std::string(what) + " failed with " + errnoName(error));
}

// The sysctl decides which of several EPERM causes applies, and naming the
// right one saves the operator a search.
int ioUringDisabledSysctl() {
  const int fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[8] = {};
  const ssize_t got = read(fd, text, sizeof text - 1);
  close(fd);
  return got > 0 ? std::atoi(text) : -1;
}

std::string setupFailureReason(int error) {
  const std::string prefix = "io_uring_setup failed with " + errnoName(error) + ": ";
  switch (error) {
    case EPERM:
      switch (ioUringDisabledSysctl()) {
        case 2: return prefix + "kernel.io_uring_disabled is 2, which forbids io_uring to every process";
        case 1:
          return prefix +
                 "kernel.io_uring_disabled is 1 and this process is neither privileged nor in "
                 "kernel.io_uring_group";
        default:
          return prefix +
                 "a seccomp filter (such as a container runtime's default profile) or a security module "
                 "forbids io_uring";
      }
    case ENOSYS:
      return prefix +
             "the kernel predates 5.1, was built without CONFIG_IO_URING, or a sandbox hides the system call";
    case ENOMEM:
      return prefix +
             "no memory for the rings, or RLIMIT_MEMLOCK too low for them (kernels before 5.12 charge it)";
    case EMFILE:
    case ENFILE: return prefix + "no file descriptor left for the ring";
    case EINVAL: return prefix + "the kernel rejected even the plainest ring setup";
    default: return prefix + "unexpected error";
  }
}

uint32_t roundUpToPowerOfTwo(uint32_t value) {
  uint32_t power = 1;
  while (power < value) power <<= 1;
  return power;
}

// Returns the ring fd, or -errno.
int setupRing(uint32_t entries, io_uring_params* params) {
  uint32_t flags = kWantedSetupFlags;
  for (size_t dropped = 0;; ++dropped) {
    std::memset(params, 0, sizeof *params);
    params->flags = flags;
    params->cq_entries = entries * 2;
    const long fd = syscall(__NR_io_uring_setup, entries, params);
    if (fd >= 0) return static_cast<int>(fd);
    const int error = errno;
    if (error != EINVAL || dropped == std::size(kFallbackOrder)) return -error;
    flags &= ~kFallbackOrder[dropped];
  }
}

// The argument of IORING_REGISTER_FILES_UPDATE (the uapi's io_uring_files_update,
// which headers before 5.5 lack): `fds` points at the descriptors for the slots
// from `offset` on, -1 emptying a slot.
struct FileTableUpdate {
  uint32_t offset;
  uint32_t reserved;
  uint64_t fds;
};

// Slots in a ring's table of registered files. Each costs the kernel a pointer,
// and a file that finds the table full simply keeps using its descriptor.
constexpr uint32_t kFileTableSlots = 4096;
// Descriptors above this use plain fds, which bounds fileSlotOfFd_.
constexpr int kHighestFixedFd = 1 << 16;

// Returns io_uring_register's result or -errno, retrying EINTR (older kernels
// wait for the ring to go quiet before some registrations, interruptibly).
int registerCall(int ringFd, unsigned opcode, const void* arg, unsigned count) {
  for (;;) {
    const long result = syscall(__NR_io_uring_register, ringFd, opcode, arg, count);
    if (result >= 0) return static_cast<int>(result);
    if (errno != EINTR) return -errno;
  }
}

}  // namespace

std::unique_ptr<Engine> createUringEngine(uint32_t depth, EngineRefusal* refusal) {
  std::unique_ptr<UringEngine> engine(new (std::nothrow) UringEngine());
  if (!engine) {
    refuse(refusal, ENOMEM, "no memory for the io_uring engine");
    return nullptr;
  }
  // On failure the destructor releases whatever init() had acquired.
  if (!engine->init(depth, refusal)) return nullptr;
  return engine;
}

bool UringEngine::init(uint32_t depth, EngineRefusal* refusal) {
  if (depth == 0 || depth > kMaxSqEntries) {
    return refuse(refusal, EINVAL,
                  "io_uring depth must be between 1 and " + std::to_string(kMaxSqEntries) + ", not " +
                      std::to_string(depth));
  }
  io_uring_params params;
  const int fd = setupRing(roundUpToPowerOfTwo(depth), &params);
  if (fd < 0) return refuse(refusal, -fd, setupFailureReason(-fd));
  ringFd_ = fd;
  setupFlags_ = params.flags;

  // IORING_OP_READ and IORING_OP_WRITE arrived in 5.6 together with this
  // feature bit; older rings would fail every plain read and write.
  if (!(params.features & IORING_FEAT_RW_CUR_POS)) {
    return refuse(refusal, ENOSYS,
                  "io_uring on this kernel predates 5.6 and lacks IORING_OP_READ and IORING_OP_WRITE");
  }
  if (!mapRings(params, refusal)) return false;

  eventFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) return refuseErrno(refusal, "eventfd");
  if (syscall(__NR_io_uring_register, ringFd_, IORING_REGISTER_EVENTFD, &eventFd_, 1) < 0) {
    return refuseErrno(refusal, "IORING_REGISTER_EVENTFD");
  }
  return true;
}

void UringEngine::fillSqe(io_uring_sqe* sqe, const Request& req) const {
  std::memset(sqe, 0, sizeof *sqe);
  sqe->user_data = req.slot;
  const int32_t fileSlot = fileSlotOf(req.fd);
  if (fileSlot >= 0) {
    sqe->fd = fileSlot;
    sqe->flags = IOSQE_FIXED_FILE;
  } else {
    sqe->fd = req.fd;
  }
  switch (req.op) {
    case OpCode::kRead:
    case OpCode::kWrite: {
      const bool fixed = req.fixedBuffer >= 0 && static_cast<uint32_t>(req.fixedBuffer) < fixedBufferCount_;
      if (fixed) {
        sqe->opcode = req.op == OpCode::kRead ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
        sqe->buf_index = static_cast<uint16_t>(req.fixedBuffer);
      } else {
        sqe->opcode = req.op == OpCode::kRead ? IORING_OP_READ : IORING_OP_WRITE;
      }
      sqe->addr = reinterpret_cast<uintptr_t>(req.buf);
      sqe->len = req.len;
      break;
    }
    case OpCode::kReadv:
    case OpCode::kWritev:
      sqe->opcode = req.op == OpCode::kReadv ? IORING_OP_READV : IORING_OP_WRITEV;
      sqe->addr = reinterpret_cast<uintptr_t>(req.iov);
      sqe->len = req.iovcnt;
      break;
    case OpCode::kFsync:
    case OpCode::kFdatasync:
      // Offset and length stay zero, meaning the whole file as fsync(2) does;
      // rw_flags must stay clear too, since it shares storage with fsync_flags.
      sqe->opcode = IORING_OP_FSYNC;
      sqe->fsync_flags = req.op == OpCode::kFdatasync ? IORING_FSYNC_DATASYNC : 0;
      return;
    default:
      sqe->opcode = kInvalidOpcode;
      return;
  }
  sqe->off = static_cast<uint64_t>(req.offset);
  if (req.piAttribute) integrity::attachPiAttribute(sqe, req.piAttribute);
  // READ_FIXED and WRITE_FIXED take rw_flags like READ and WRITE do.
  if (req.flags & kFlagDsync) sqe->rw_flags = RWF_DSYNC;
}

int UringEngine::registerBuffers(const struct iovec* buffers, uint32_t count) {
  if (fixedBufferCount_ > 0) return -EBUSY;
  const int result = registerCall(ringFd_, IORING_REGISTER_BUFFERS, buffers, count);
  if (result < 0) return result;
  fixedBufferCount_ = count;
  return 0;
}

void UringEngine::unregisterBuffers() {
  if (fixedBufferCount_ == 0) return;
  // Closing the ring would drop them too, but only later, from a kernel worker;
  // unregistering now unpins the memory (and its RLIMIT_MEMLOCK charge) at once.
  registerCall(ringFd_, IORING_UNREGISTER_BUFFERS, nullptr, 0);
  fixedBufferCount_ = 0;
}

// Made on first use, so rings that never open a file (probes) cost the kernel
// nothing. A kernel without sparse tables (before 5.5) or a low RLIMIT_NOFILE
// refuses it, and every file keeps using its plain descriptor.
bool UringEngine::ensureFileTable() {
  if (fileTable_ != FileTable::kUntried) return fileTable_ == FileTable::kActive;
  fileTable_ = FileTable::kRefused;
  uint32_t slots = kFileTableSlots;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < slots) slots = static_cast<uint32_t>(files.rlim_cur);
  if (slots == 0) return false;
  const std::vector<int32_t> empty(slots, -1);
  if (registerCall(ringFd_, IORING_REGISTER_FILES, empty.data(), slots) < 0) return false;
  freeFileSlots_.reserve(slots);
  for (uint32_t slot = slots; slot-- > 0;) freeFileSlots_.push_back(slot);
  fileTable_ = FileTable::kActive;
  return true;
}

// Returns 1 when the kernel updated the slot, or -errno.
int UringEngine::updateFileSlot(uint32_t slot, int fd) {
  int32_t descriptor = fd;
  FileTableUpdate update{slot, 0, reinterpret_cast<uintptr_t>(&descriptor)};
  return registerCall(ringFd_, IORING_REGISTER_FILES_UPDATE, &update, 1);
}

bool UringEngine::registerFile(int fd) {
  if (fd < 0 || fd > kHighestFixedFd || !ensureFileTable()) return false;
  if (fileSlotOf(fd) >= 0) return true;
  if (freeFileSlots_.empty()) return false;
  const uint32_t slot = freeFileSlots_.back();
  if (updateFileSlot(slot, fd) != 1) return false;
  freeFileSlots_.pop_back();
  if (fileSlotOfFd_.size() <= static_cast<size_t>(fd)) fileSlotOfFd_.resize(static_cast<size_t>(fd) + 1, -1);
  fileSlotOfFd_[fd] = static_cast<int32_t>(slot);
  return true;
}

void UringEngine::unregisterFile(int fd) {
  const int32_t slot = fileSlotOf(fd);
  if (slot < 0) return;
  fileSlotOfFd_[fd] = -1;
  // A slot the kernel would not empty still holds its file, so it is never
  // handed out again; the file stays open until the ring closes.
  if (updateFileSlot(static_cast<uint32_t>(slot), -1) == 1) freeFileSlots_.push_back(static_cast<uint32_t>(slot));
}

bool UringEngine::mapRings(const io_uring_params& params, EngineRefusal* refusal) {
  sqRingSize_ = params.sq_off.array + params.sq_entries * sizeof(uint32_t);
  cqRingSize_ = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  const bool singleMmap = params.features & IORING_FEAT_SINGLE_MMAP;
  if (singleMmap) sqRingSize_ = cqRingSize_ = std::max(sqRingSize_, cqRingSize_);

  auto map = [this](size_t size, off_t offset) -> void* {
    void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ringFd_, offset);
    return addr == MAP_FAILED ? nullptr : addr;
  };
  sqRing_ = map(sqRingSize_, IORING_OFF_SQ_RING);
  if (sqRing_ == nullptr) return refuseErrno(refusal, "mmap of the io_uring SQ ring");
  cqRing_ = singleMmap ? sqRing_ : map(cqRingSize_, IORING_OFF_CQ_RING);
  if (cqRing_ == nullptr) return refuseErrno(refusal, "mmap of the io_uring CQ ring");
  sqesSize_ = params.sq_entries * sizeof(io_uring_sqe);
  sqes_ = static_cast<io_uring_sqe*>(map(sqesSize_, IORING_OFF_SQES));
  if (sqes_ == nullptr) return refuseErrno(refusal, "mmap of the io_uring SQEs");

  char* sq = static_cast<char*>(sqRing_);
  sqHead_ = reinterpret_cast<uint32_t*>(sq + params.sq_off.head);
  sqTail_ = reinterpret_cast<uint32_t*>(sq + params.sq_off.tail);
  sqFlags_ = reinterpret_cast<uint32_t*>(sq + params.sq_off.flags);
  sqMask_ = *reinterpret_cast<uint32_t*>(sq + params.sq_off.ring_mask);
  sqEntries_ = params.sq_entries;
  sqTailLocal_ = *sqTail_;
  // SQE i always sits in array slot i, so the indirection is set up once.
  uint32_t* array = reinterpret_cast<uint32_t*>(sq + params.sq_off.array);
  for (uint32_t i = 0; i < sqEntries_; ++i) array[i] = i;

  char* cq = static_cast<char*>(cqRing_);
  cqHead_ = reinterpret_cast<uint32_t*>(cq + params.cq_off.head);
  cqTail_ = reinterpret_cast<uint32_t*>(cq + params.cq_off.tail);
  cqes_ = reinterpret_cast<io_uring_cqe*>(cq + params.cq_off.cqes);
  cqMask_ = *reinterpret_cast<uint32_t*>(cq + params.cq_off.ring_mask);
  cqEntries_ = params.cq_entries;
  cqHeadLocal_ = *cqHead_;
  return true;
}

UringEngine::~UringEngine() {
  if (inFlight_ > 0) waitIdle();
  unregisterBuffers();
  if (sqes_ != nullptr) munmap(sqes_, sqesSize_);
  if (cqRing_ != nullptr && cqRing_ != sqRing_) munmap(cqRing_, cqRingSize_);
  if (sqRing_ != nullptr) munmap(sqRing_, sqRingSize_);
  if (ringFd_ >= 0) close(ringFd_);
  if (eventFd_ >= 0) close(eventFd_);
}

// Returns io_uring_enter's result or -errno, retrying EINTR: the kernel only
// reports EINTR when it submitted nothing, so repeating the call is exact.
int UringEngine::enter(uint32_t toSubmit, uint32_t minComplete, uint32_t flags) {
  for (;;) {
    ++syscalls_;
    const long result =
        syscall(__NR_io_uring_enter, ringFd_, toSubmit, minComplete, flags, nullptr, static_cast<size_t>(0));
    if (result >= 0) return static_cast<int>(result);
    if (errno != EINTR) return -errno;
  }
}

void UringEngine::drainNotifications() {
  uint64_t count;
  ++syscalls_;
  // EAGAIN only means nothing was pending; either way the counter is now zero.
  const ssize_t ignored = read(eventFd_, &count, sizeof count);
  (void)ignored;
}

uint32_t UringEngine::submit(const Request* reqs, uint32_t count) {
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  const uint32_t sqFree = sqEntries_ - (sqTailLocal_ - head);
  // Every consumed request must find a CQ entry, or a full CQ would push
  // completions onto the kernel's overflow list (or drop them before 5.5).
  const uint32_t cqFree = cqEntries_ - inFlight_ - internalInFlight_;
  const uint32_t n = std::min({count, sqFree, cqFree});
  if (n == 0) return 0;

  for (uint32_t i = 0; i < n; ++i) fillSqe(&sqes_[(sqTailLocal_ + i) & sqMask_], reqs[i]);
  __atomic_store_n(sqTail_, sqTailLocal_ + n, __ATOMIC_RELEASE);

  const bool overflowed = __atomic_load_n(sqFlags_, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW;
  enter(n, 0, overflowed ? IORING_ENTER_GETEVENTS : 0);

  // The SQ head, not enter's result, says what the kernel took. It is exact in
  // every case: EAGAIN (no memory for requests), EBUSY (old kernels with a CQ
  // backlog), or a stop at the first bad SQE on kernels without SUBMIT_ALL, whose
  // -errno still arrives as a CQE. What the kernel left is taken back by
  // rewinding the tail, safe because without SQPOLL the kernel reads the SQ only
  // inside our own io_uring_enter. The caller keeps those requests and offers
  // them again, so no SQE lingers in the ring that no one counts as in flight.
  const uint32_t consumed = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE) - head;
  countFixedOps(sqTailLocal_, consumed);
  sqTailLocal_ += consumed;
  if (consumed < n) __atomic_store_n(sqTail_, sqTailLocal_, __ATOMIC_RELEASE);
  inFlight_ += consumed;
  return consumed;
}

void UringEngine::countFixedOps(uint32_t firstSqe, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    const io_uring_sqe& sqe = sqes_[(firstSqe + i) & sqMask_];
    if (sqe.flags & IOSQE_FIXED_FILE) ++fixedFileOps_;
    if (sqe.opcode == IORING_OP_READ_FIXED || sqe.opcode == IORING_OP_WRITE_FIXED) ++fixedBufferOps_;
  }
}

uint32_t UringEngine::completionsReady() const {
  return __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE) - cqHeadLocal_;
}

uint32_t UringEngine::copyCompletions(Completion* out, uint32_t max) {
  const uint32_t ready = completionsReady();
  uint32_t seen = 0;
  uint32_t n = 0;
  for (; seen < ready && n < max; ++seen) {
    const io_uring_cqe& cqe = cqes_[(cqHeadLocal_ + seen) & cqMask_];
    // A cancel's own answer: the cancelled request's CQE is what tells the caller.
    if (cqe.user_data & kInternalUserData) {
      --internalInFlight_;
      continue;
    }
    out[n].slot = static_cast<uint32_t>(cqe.user_data);
    out[n].result = cqe.res;
    ++n;
  }
  if (seen > 0) {
    cqHeadLocal_ += seen;
    // Release: the kernel may refill these entries only after we have read them.
    __atomic_store_n(cqHead_, cqHeadLocal_, __ATOMIC_RELEASE);
    inFlight_ -= n;
  }
  return n;
}

CancelOutcome UringEngine::cancel(uint32_t slot) {
  const uint32_t head = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  const bool room = sqEntries_ - (sqTailLocal_ - head) > 0 && cqEntries_ - inFlight_ - internalInFlight_ > 0;
  if (!room) return CancelOutcome::kNotAsked;
  io_uring_sqe* sqe = &sqes_[sqTailLocal_ & sqMask_];
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = slot;  // the user_data of the request to cancel
  sqe->user_data = kInternalUserData | slot;
  __atomic_store_n(sqTail_, sqTailLocal_ + 1, __ATOMIC_RELEASE);
  enter(1, 0, 0);
  if (__atomic_load_n(sqHead_, __ATOMIC_ACQUIRE) == head) {
    __atomic_store_n(sqTail_, sqTailLocal_, __ATOMIC_RELEASE);
    return CancelOutcome::kNotAsked;
  }
  ++sqTailLocal_;
  ++internalInFlight_;
  return CancelOutcome::kAsked;
}

// True when finished requests are held in the kernel until we enter it: with
// DEFER_TASKRUN (flagged by TASKRUN_FLAG, also when an earlier enter ran only
// part of the backlog), or after a CQ overflow that only GETEVENTS flushes.
bool UringEngine::kernelHoldsCompletions() const {
  return __atomic_load_n(sqFlags_, __ATOMIC_ACQUIRE) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

uint32_t UringEngine::reap(Completion* out, uint32_t max) {
  uint32_t n = copyCompletions(out, max);
  while (n < max && kernelHoldsCompletions()) {
    enter(0, 0, IORING_ENTER_GETEVENTS);
    const uint32_t more = copyCompletions(out + n, max - n);
    if (more == 0) break;  // the enter posted nothing (or failed): do not spin
    n += more;
    // Posting those CQEs signalled our own eventfd; clearing it spares the
    // owner a wakeup for completions it already has. Nothing is lost: the
    // kernel raises IORING_SQ_TASKRUN before it signals, so a completion whose
    // signal this read swallows is still seen by the loop condition.
    drainNotifications();
  }
  return n;
}

void UringEngine::waitIdle() {
  while (completionsReady() < inFlight_ + internalInFlight_) {
    // Waiting for all of them at once costs one sleep instead of one per CQE;
    // the kernel counts the CQEs already in the ring towards minComplete.
    const int result = enter(0, inFlight_ + internalInFlight_, IORING_ENTER_GETEVENTS);
    if (result < 0) {
      // Returning would let the caller free buffers the kernel is still
      // writing. Only misuse (a thread other than the issuer) or a ring torn
      // down under us gets here, so stop loudly rather than corrupt memory.
      std::fprintf(stderr, "aioring: io_uring_enter(GETEVENTS) failed with %s with %u requests in flight\n",
                   errnoName(-result).c_str(), inFlight_);
      std::abort();
    }
  }
}

}  // namespace aioring
