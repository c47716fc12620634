// Adaptive polling: when a wake-up has used up its completions and requests
// are still in flight, decides whether the ring should spin on the completion
// ring (no system call) or let the event loop sleep until the eventfd fires,
// and keeps that spinning within a share of one CPU. No Node-API in here:
// binding.cc does the spinning and feeds this the times it sees.
//
// The policy. Each ring learns, per kind of request (reads, writes, syncs),
// the 25th and 75th percentiles of the submit-to-complete time, from a
// submission timestamp kept per slot. Percentiles rather than a mean: devices
// return requests in bursts, so samples come in correlated runs, and one
// stalled burst would drag a mean for thousands of requests. The oldest
// request in flight (the earliest submission plus its kind's 25th
// percentile) says when a completion becomes likely. The ring spins only from
// kLeadNs before that, and until that request's 75th percentile has passed
// (at least kMinSpinNs when it is already overdue), never longer than
// kMaxSpinNs in one go, so a loop turn is held at most that long. Before
// then the loop sleeps and the eventfd wakes it as without polling.
// No spin while a sync is in flight: the kernel runs an fsync or fdatasync on a
// worker thread (AIO's workqueue; the thread pool's own threads), and a spin
// takes a CPU that thread could be running on, so the sync, and every write
// waiting for it, would finish later than without polling. A write with
// RWF_DSYNC counts as a sync: on a device with a volatile cache its sync runs
// on such a worker once the data is written.
// Where that prediction fails (a device that returns a deep queue in bursts
// leaves the oldest request always overdue and the ring between bursts), the
// spins find nothing: after kMissesBeforeBackoff misses in a row the ring
// polls only one eligible wake-up in 2, then 4, ... up to 2^kMaxBackoffShift,
// until a poll finds a completion again.
// Every spin is paid from a token bucket filled at `fraction` of wall time
// and holding at most fraction x kBudgetWindowNs; a spin the bucket cannot pay
// for in full does not start. Over any interval T the ring spins at most
// fraction x (T + kBudgetWindowNs), plus one clock read's overshoot per spin.
#pragma once

#include <cstdint>
#include <vector>

#include "engine.h"

namespace aioring {

enum class ServiceKind : uint8_t { kRead = 0, kWrite = 1, kSync = 2 };
constexpr uint32_t kServiceKinds = 3;

// A write with kFlagDsync counts as a sync: where the device has a volatile
// cache, the kernel makes it durable on a worker thread once the data is
// written, as it runs an fdatasync.
ServiceKind serviceKindOf(OpCode op, uint32_t flags);

// The 25th and 75th percentiles of the submit-to-complete time of one kind
// of request, each tracked by stepping towards every sample by a small
// fraction of itself (a stochastic-approximation quantile: up by p steps,
// down by 1 - p, so it settles where a share p of samples fall below).
class ServiceEstimate {
 public:
  // Samples before the estimate is trusted: the first few requests on a ring
  // (the first touch of a file, a cold device queue) say little.
  static constexpr uint32_t kSamplesBeforeUse = 8;
  // A step is 1/kStepDivisor of the current value: a run of 32 stalled
  // samples moves the upper percentile by under half, and a wrong start
  // settles within a few hundred samples.
  static constexpr int64_t kStepDivisor = 64;

  void add(int64_t sampleNs);
  bool learned() const { return samples_ >= kSamplesBeforeUse; }
  int64_t lowNs() const { return lowNs_; }
  int64_t highNs() const { return highNs_; }

 private:
  int64_t lowNs_ = 0;
  int64_t highNs_ = 0;
  uint32_t samples_ = 0;
};

// CPU time that may go to spinning: a token bucket refilled at `fraction` of
// the wall time that passes.
class PollBudget {
 public:
  static constexpr int64_t kBudgetWindowNs = 100'000'000;

  explicit PollBudget(double fraction = 0);
  void setFraction(double fraction);
  double fraction() const { return fraction_; }
  // Nanoseconds of spinning the bucket holds at nowNs (after refilling).
  int64_t availableNs(int64_t nowNs);
  void spend(int64_t ns);

 private:
  double fraction_ = 0;
  int64_t capacityNs_ = 0;
  int64_t tokensNs_ = 0;
  int64_t refilledAtNs_ = -1;
};

class AdaptivePoller {
 public:
  static constexpr int64_t kLeadNs = 50'000;
  static constexpr int64_t kMinSpinNs = 20'000;
  static constexpr int64_t kMaxSpinNs = 200'000;
  static constexpr uint32_t kMissesBeforeBackoff = 4;
  static constexpr uint32_t kMaxBackoffShift = 6;
  // A spin ends at its first check past its deadline, so it runs at most its
  // planned time plus one check (well under this). Wall time beyond that is
  // time the thread spent preempted, off the CPU: it is not charged to the
  // budget, nor counted as polling CPU.
  static constexpr int64_t kMaxSpinOverrunNs = 10'000;

  // `depth` slots, numbered as Request::slot; a budget of 0 turns polling off.
  AdaptivePoller(uint32_t depth, double budget);

  void setBudget(double fraction);
  bool enabled() const { return budget_.fraction() > 0; }

  // A request (op, Request::flags) went out in `slot` at nowNs.
  void submitted(uint32_t slot, OpCode op, uint32_t flags, int64_t nowNs);
  // The request in `slot` was seen complete at completedNs.
  void completed(uint32_t slot, int64_t completedNs);
  uint32_t inFlight() const { return inFlight_; }

  // Nanoseconds to spin from nowNs, or 0 to let the loop sleep.
  int64_t plan(int64_t nowNs);
  // The spin plan() last asked for ended after spunNs of wall time, having
  // found a completion or not.
  void spun(int64_t spunNs, bool found);

  const ServiceEstimate& estimate(ServiceKind kind) const { return estimates_[static_cast<uint32_t>(kind)]; }
  uint64_t polls() const { return polls_; }
  uint64_t hits() const { return hits_; }
  uint64_t spentNs() const { return spentNs_; }

 private:
  static constexpr int64_t kIdle = -1;

  std::vector<int64_t> submittedAtNs_;  // kIdle when the slot is not in flight
  std::vector<ServiceKind> kinds_;
  uint32_t inFlight_ = 0;
  ServiceEstimate estimates_[kServiceKinds];
  PollBudget budget_;
  int64_t plannedNs_ = 0;
  uint32_t missesInRow_ = 0;
  uint32_t skipped_ = 0;
  uint64_t polls_ = 0;
  uint64_t hits_ = 0;
  uint64_t spentNs_ = 0;
};

}  // namespace aioring
