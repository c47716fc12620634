// io_uring engine: raw io_uring_setup/enter/register system calls over mmap'd
// rings, no liburing. Completions are announced through a registered eventfd.
// Its code is split by concern: uring_setup.cc, uring_register.cc,
// uring_submit.cc, uring_reap.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine.h"
#include "event_notifier.h"
#include "known_file_sizes.h"
#include "uring_aio_offload.h"

struct io_uring_params;
struct io_uring_sqe;
struct io_uring_cqe;

namespace aioring {

// An io_uring engine able to hold at least `depth` requests in flight, or
// nullptr with `refusal` filled when io_uring is missing, too old or forbidden.
// Must be called on the thread that will use the engine: with
// IORING_SETUP_SINGLE_ISSUER the ring belongs to the task that submits to it.
std::unique_ptr<Engine> createUringEngine(uint32_t depth, EngineRefusal* refusal);

class UringEngine final : public Engine {
 public:
  ~UringEngine() override;

  const char* name() const override { return "io_uring"; }
  int notifyFd() const override { return notifier_.fd(); }
  void drainNotifications() override;
  uint32_t submit(const Request* reqs, uint32_t count) override;
  uint32_t reap(Completion* out, uint32_t max) override;
  void waitIdle() override;
  uint32_t inFlight() const override { return inFlight_; }
  bool deadlineArmed(uint32_t slot) const override { return armedFor(slot); }
  bool linksInKernel() const override { return true; }
  uint64_t linkedOps() const override { return linkedOps_; }
  uint64_t linkTimeouts() const override { return linkTimeouts_; }
  uint64_t syscalls() const override { return syscalls_ + (aioOffload_ ? aioOffload_->syscalls() : 0); }
  uint32_t readyCount() const override { return completionsReady(); }
  bool completionsWaiting() const override { return completionsReady() > 0 || kernelHoldsCompletions(); }
  int registerBuffers(const struct iovec* buffers, uint32_t count) override;
  void unregisterBuffers() override;
  bool registerFile(int fd) override;
  void unregisterFile(int fd) override;
  void fileResized(int fd) override { knownSizes_.forget(fd); }
  uint64_t fixedBufferOps() const override { return fixedBufferOps_; }
  uint64_t fixedFileOps() const override { return fixedFileOps_; }
  CancelOutcome cancel(uint32_t slot) override;

  // The IORING_SETUP_* flags this kernel accepted, for diagnostics.
  uint32_t setupFlags() const { return setupFlags_; }

 private:
  friend std::unique_ptr<Engine> createUringEngine(uint32_t, EngineRefusal*);
  UringEngine() = default;

  bool init(uint32_t depth, EngineRefusal* refusal);
  bool mapRings(const io_uring_params& params, EngineRefusal* refusal);
  int enter(uint32_t toSubmit, uint32_t minComplete, uint32_t flags);
  uint32_t completionsReady() const;
  uint32_t copyCompletions(Completion* out, uint32_t max);
  uint32_t copyAioCompletions(Completion* out, uint32_t max);
  bool kernelHoldsCompletions() const;
  void fillSqe(io_uring_sqe* sqe, const Request& req) const;
  void fillLinkTimeout(io_uring_sqe* sqe, const Request& req);
  void countFixedOps(uint32_t firstSqe, uint32_t count);
  // Publishes the SQEs filled from sqTailLocal_ up to `tail` and enters the
  // kernel; returns how many it consumed (the SQ head had read `head` before),
  // taking back the rest.
  uint32_t pushSqes(uint32_t head, uint32_t tail, uint32_t enterFlags);
  // How many of the first `taken` requests (with their link timeouts) the
  // kernel's `consumedSqes` cover; arms the deadlines whose timeouts it took.
  // Requests bound for aioOffload_ take no SQE and count as consumed when no
  // request before them was left in the SQ.
  uint32_t requestsConsumed(const Request* reqs, uint32_t taken, uint32_t consumedSqes);
  // Whether `req`, which the request before it in its submit() links to when
  // `linkedTo`, runs on aioOffload_ (made here on the first one that can).
  bool runsOnAio(const Request& req, bool linkedTo);
  // Starts those of the first `consumed` requests bound for aioOffload_; those
  // it refuses go to io_uring after all.
  void startOnAio(const Request* reqs, uint32_t consumed);
  bool onAio(uint32_t slot) const { return slot < onAio_.size() && onAio_[slot]; }
  void markOnAio(uint32_t slot);
  bool armedFor(uint32_t slot) const { return slot < deadlines_.size() && deadlines_[slot].armed; }
  // One CQE turned into up to two Completions; one beyond `max` is spilled.
  void takeCqe(const io_uring_cqe& cqe, Completion* out, uint32_t max, uint32_t* n);
  void emit(Completion completion, Completion* out, uint32_t max, uint32_t* n);
  bool ensureFileTable();
  int updateFileSlot(uint32_t slot, int fd);
  // fd's slot in the table of registered files, or -1.
  int32_t fileSlotOf(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < fileSlotOfFd_.size() ? fileSlotOfFd_[fd] : -1;
  }

  int ringFd_ = -1;
  EventNotifier notifier_;
  uint32_t setupFlags_ = 0;

  void* sqRing_ = nullptr;
  size_t sqRingSize_ = 0;
  void* cqRing_ = nullptr;  // the same mapping as sqRing_ with IORING_FEAT_SINGLE_MMAP
  size_t cqRingSize_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqesSize_ = 0;

  // Pointers into the shared rings. The kernel writes sqHead_, cqTail_ and
  // sqFlags_; we write sqTail_ and cqHead_, and keep private copies of those
  // two (only we change them) so reading them never touches the shared ring.
  uint32_t* sqHead_ = nullptr;
  uint32_t* sqTail_ = nullptr;
  uint32_t* sqFlags_ = nullptr;
  uint32_t sqMask_ = 0;
  uint32_t sqEntries_ = 0;
  uint32_t sqTailLocal_ = 0;
  uint32_t* cqHead_ = nullptr;
  uint32_t* cqTail_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  uint32_t cqMask_ = 0;
  uint32_t cqEntries_ = 0;
  uint32_t cqHeadLocal_ = 0;

  // Requests consumed whose Completion has not been handed out.
  uint32_t inFlight_ = 0;
  // CQEs the kernel still owes: one per consumed SQE, requests' and our own
  // (cancels, link timeouts) alike. Each needs a CQ entry.
  uint32_t cqesOwed_ = 0;
  uint64_t syscalls_ = 0;

  // A request whose deadline went to the kernel as a linked timeout. Its slot
  // must not be handed back before both CQEs are in, or a late timeout CQE
  // would be taken for the next request in the slot; so the request's own
  // result waits here until the timeout's CQE has come.
  struct SlotDeadline {
    bool armed = false;  // the timeout's CQE has not come yet
    bool held = false;   // the request's CQE came first: its result waits in `result`
    int32_t result = 0;
    // The uapi's __kernel_timespec, which IORING_OP_LINK_TIMEOUT points at
    // (linux/time_types.h is missing from older headers).
    struct {
      int64_t seconds;
      int64_t nanoseconds;
    } timeout{};
  };
  std::vector<SlotDeadline> deadlines_;
  // A Completion that did not fit in reap()'s output; handed out first next time.
  bool spilled_ = false;
  Completion spilledCompletion_{};
  uint64_t linkedOps_ = 0;
  uint64_t linkTimeouts_ = 0;

  // Where syncs, and the writes they wait on, run when nothing ties them to
  // the ring (see uring_aio_offload.h): made on the first such request, null
  // where Linux AIO is unavailable.
  std::unique_ptr<AioOffload> aioOffload_;
  bool aioOffloadTried_ = false;
  KnownFileSizes knownSizes_;
  // onAio_[slot]: the request in `slot` runs on aioOffload_. runsOnAio_[i]: the
  // i-th request of the submit() under way is bound for it.
  std::vector<uint8_t> onAio_;
  std::vector<uint8_t> runsOnAio_;
  std::vector<const Request*> aioBatch_;

  // Buffers in the registered set; 0 when none is registered.
  uint32_t fixedBufferCount_ = 0;
  uint64_t fixedBufferOps_ = 0;

  // The sparse table of registered files, made on the first registerFile().
  // fileSlotOfFd_[fd] is fd's slot in it, or -1.
  enum class FileTable : uint8_t { kUntried, kActive, kRefused };
  FileTable fileTable_ = FileTable::kUntried;
  std::vector<int32_t> fileSlotOfFd_;
  std::vector<uint32_t> freeFileSlots_;
  uint64_t fixedFileOps_ = 0;
};

}  // namespace aioring
