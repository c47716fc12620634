#include "pool_engine.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <new>
#include <vector>

#include "event_notifier.h"
#include "parked_completions.h"
#include "uapi_compat.h"


namespace aioring {
namespace {

// More threads than this buys nothing on the machines the library targets and
// costs a stack each; fewer would cap the queue depth a device actually sees.
constexpr uint32_t kMaxWorkers = 8;

int32_t perform(const Request& req) {
  ssize_t result = -1;
  int rwFlags = rwFlagsFor(req.flags);
  switch (req.op) {
    case OpCode::kRead:
      result = pread(req.fd, req.buf, req.len, req.offset);
      break;
    case OpCode::kWrite: {
      struct iovec one = {req.buf, req.len};
      result = pwritev2(req.fd, &one, 1, req.offset, rwFlags);
      break;
    }
    case OpCode::kReadv:
      result = preadv(req.fd, req.iov, static_cast<int>(req.iovcnt), req.offset);
      break;
    case OpCode::kWritev:
      result = pwritev2(req.fd, req.iov, static_cast<int>(req.iovcnt), req.offset, rwFlags);
      break;
    case OpCode::kFsync:
      result = fsync(req.fd);
      break;
    case OpCode::kFdatasync:
      result = fdatasync(req.fd);
      break;
    default:
      return -EINVAL;  // not whatever errno this thread happened to hold
  }
  return result < 0 ? -errno : static_cast<int32_t>(result);
}

class PoolEngine final : public Engine {
 public:
  explicit PoolEngine(uint32_t depth)
      : depth_(depth), pending_(new Request[depth]), finished_(depth) {}

  ~PoolEngine() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    workAvailable_.notify_all();
    for (pthread_t worker : workers_) pthread_join(worker, nullptr);
  }

  // Threads start here rather than in the constructor, and through pthreads
  // rather than std::thread, so that failing to start one is a refusal the
  // caller can report instead of an exception (the addon has none).
  bool start() {
    if (!notifier_.valid()) return false;
    uint32_t count = depth_ < kMaxWorkers ? depth_ : kMaxWorkers;
    workers_.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      pthread_t worker;
      if (pthread_create(&worker, nullptr, &PoolEngine::workerMain, this) != 0) break;
      workers_.push_back(worker);
    }
    return !workers_.empty();
  }

  const char* name() const override { return "threadpool"; }
  int notifyFd() const override { return notifier_.fd(); }
  void drainNotifications() override {
    syscalls_.fetch_add(1, std::memory_order_relaxed);
    notifier_.drain();
  }
  uint32_t inFlight() const override { return inFlight_; }
  uint64_t syscalls() const override { return syscalls_.load(std::memory_order_relaxed); }
  uint32_t readyCount() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return finished_.size();
  }

  bool completionsWaiting() const override { return readyCount() > 0; }

  uint32_t submit(const Request* reqs, uint32_t count) override {
    uint32_t room = depth_ - inFlight_;
    if (count > room) count = room;
    if (count == 0) return 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (uint32_t i = 0; i < count; ++i) {
        pending_[(pendingHead_ + pendingCount_) % depth_] = reqs[i];
        ++pendingCount_;
      }
    }
    inFlight_ += count;
    if (count == 1) {
      workAvailable_.notify_one();
    } else {
      workAvailable_.notify_all();
    }
    return count;
  }

  uint32_t reap(Completion* out, uint32_t max) override {
    uint32_t taken;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      taken = finished_.popInto(out, max);
    }
    inFlight_ -= taken;
    return taken;
  }

  // A request no worker has taken yet leaves the queue and completes with
  // -ECANCELED; one a worker is running cannot be stopped.
  CancelOutcome cancel(uint32_t slot) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (uint32_t i = 0; i < pendingCount_; ++i) {
      if (pending_[(pendingHead_ + i) % depth_].slot != slot) continue;
      for (uint32_t j = i; j + 1 < pendingCount_; ++j) {
        pending_[(pendingHead_ + j) % depth_] = pending_[(pendingHead_ + j + 1) % depth_];
      }
      --pendingCount_;
      const bool wasEmpty = finished_.empty();
      finished_.push(Completion{slot, -ECANCELED});
      idle_.notify_all();
      if (wasEmpty) {
        syscalls_.fetch_add(1, std::memory_order_relaxed);
        notifier_.signal();
      }
      return CancelOutcome::kAsked;
    }
    return CancelOutcome::kRefused;
  }

  void waitIdle() override {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return finished_.size() == inFlight_; });
  }

 private:
  static void* workerMain(void* self) {
    static_cast<PoolEngine*>(self)->work();
    return nullptr;
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      workAvailable_.wait(lock, [this] { return stopping_ || pendingCount_ > 0; });
      if (pendingCount_ == 0) return;  // stopping, and nothing left to do
      Request req = pending_[pendingHead_];
      pendingHead_ = (pendingHead_ + 1) % depth_;
      --pendingCount_;
      lock.unlock();
      int32_t result = perform(req);
      lock.lock();
      // The loop reaps until empty, then clears the eventfd and reaps once
      // more, so only the push that makes the queue non-empty needs to wake it.
      bool wasEmpty = finished_.empty();
      finished_.push(Completion{req.slot, result});
      idle_.notify_all();
      syscalls_.fetch_add(wasEmpty ? 2 : 1, std::memory_order_relaxed);
      if (wasEmpty) notifier_.signal();
    }
  }

  uint32_t depth_;
  std::unique_ptr<Request[]> pending_;
  uint32_t pendingHead_ = 0;
  uint32_t pendingCount_ = 0;
  ParkedCompletions finished_;
  uint32_t inFlight_ = 0;  // touched only by the owning (event-loop) thread
  bool stopping_ = false;
  mutable std::mutex mutex_;
  std::condition_variable workAvailable_;
  std::condition_variable idle_;
  std::vector<pthread_t> workers_;
  std::atomic<uint64_t> syscalls_{0};
  EventNotifier notifier_;
};

}  // namespace

std::unique_ptr<Engine> createPoolEngine(uint32_t depth, EngineRefusal* refusal) {
  std::unique_ptr<PoolEngine> engine(new (std::nothrow) PoolEngine(depth));
  if (!engine || !engine->start()) {
    refusal->error = engine ? EMFILE : ENOMEM;
    refusal->reason = "could not create the eventfd that signals thread-pool completions";
    return nullptr;
  }
  return engine;
}

}  // namespace aioring
