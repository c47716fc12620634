// The io_uring engine's setup: io_uring_setup with the newest flags the kernel
// accepts, the reasons behind a refusal, the mmap of the SQ and CQ rings and
// the SQE array, the eventfd registration, and teardown.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <string>

#include "uring_engine.h"
#include "uring_internal.h"

namespace aioring {
namespace uring {

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

}  // namespace uring

namespace {

using uring::errnoName;

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

bool refuse(EngineRefusal* refusal, int error, std::string reason) {
  if (refusal != nullptr) {
    refusal->error = error;
    refusal->reason = std::move(reason);
  }
  return false;
}

// For failures past io_uring_setup, which need no more explanation than the call and errno.
bool refuseFailed(EngineRefusal* refusal, const char* what, int error) {
  return refuse(refusal, error, std::string(what) + " failed with " + errnoName(error));
}

bool refuseErrno(EngineRefusal* refusal, const char* what) { return refuseFailed(refusal, what, errno); }

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
  if (depth == 0 || depth > kMaxSqEntries / 2) {
    return refuse(refusal, EINVAL,
                  "io_uring depth must be between 1 and " + std::to_string(kMaxSqEntries / 2) + ", not " +
                      std::to_string(depth));
  }
  // Two SQEs per request: a full depth of requests with deadlines each brings
  // its linked timeout (and the CQ is twice the SQ).
  io_uring_params params;
  const int fd = setupRing(roundUpToPowerOfTwo(2 * depth), &params);
  if (fd < 0) return refuse(refusal, -fd, setupFailureReason(-fd));
  ringFd_ = fd;
  setupFlags_ = params.flags;
  deadlines_.resize(depth);

  // IORING_OP_READ and IORING_OP_WRITE arrived in 5.6 together with this
  // feature bit; older rings would fail every plain read and write.
  if (!(params.features & IORING_FEAT_RW_CUR_POS)) {
    return refuse(refusal, ENOSYS,
                  "io_uring on this kernel predates 5.6 and lacks IORING_OP_READ and IORING_OP_WRITE");
  }
  if (!mapRings(params, refusal)) return false;
  onAio_.resize(depth);
  runsOnAio_.resize(sqEntries_);
  aioBatch_.reserve(sqEntries_);

  if (!notifier_.valid()) return refuseFailed(refusal, "eventfd", notifier_.error());
  const int eventFd = notifier_.fd();
  if (syscall(__NR_io_uring_register, ringFd_, IORING_REGISTER_EVENTFD, &eventFd, 1) < 0) {
    return refuseErrno(refusal, "IORING_REGISTER_EVENTFD");
  }
  return true;
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
  if (cqesOwed_ > 0) waitIdle();
  unregisterBuffers();
  if (sqes_ != nullptr) munmap(sqes_, sqesSize_);
  if (cqRing_ != nullptr && cqRing_ != sqRing_) munmap(cqRing_, cqRingSize_);
  if (sqRing_ != nullptr) munmap(sqRing_, sqRingSize_);
  if (ringFd_ >= 0) close(ringFd_);
}

}  // namespace aioring
