// Adaptive polling: when a wake-up has used up its completions and requests
// are still in flight, decides whether the ring should spin on the completion
// ring (no system call) or let the event loop sleep until the eventfd fires,
// and keeps that spinning within a share of one CPU. No Node-API in here:
// binding.cc does the spinning and feeds this the times it sees.
//
// The policy. Each ring learns, per kind of request (reads, writes, syncs),
// the smoothed submit-to-complete time and its mean deviation, from a
// submission timestamp kept per slot. The next completion is expected at the
// earliest (submission time + mean) over the requests in flight. The ring
// spins only when that is close: at most kLeadNs (or half the mean, if more)
// away, like the kernel's hybrid polling, which sleeps the first half of the
// expected time and polls the second. It spins until the expected time plus
// a tail of kTailDeviations mean deviations (at least kMinTailNs), and never
// longer than kMaxSpinNs in one go, so a loop turn is held at most that long.
// Every spin is paid from a token bucket filled at `fraction` of wall time
// and holding at most fraction x kBudgetWindowNs; a spin the bucket cannot pay
// for in full does not start. Over any interval T the ring spins at most
// fraction x T + fraction x kBudgetWindowNs.
#pragma once

#include <cstdint>
#include <vector>

#include "engine.h"

namespace aioring {

enum class ServiceKind : uint8_t { kRead = 0, kWrite = 1, kSync = 2 };
constexpr uint32_t kServiceKinds = 3;

ServiceKind serviceKindOf(OpCode op);

// The submit-to-complete time of one kind of request, smoothed as a mean and a
// mean deviation (gains 1/8 and 1/4, the classic round-trip-time estimator).
class ServiceEstimate {
 public:
  // Samples before the estimate is trusted: the first few requests on a ring
  // (the first touch of a file, a cold device queue) say little.
  static constexpr uint32_t kSamplesBeforeUse = 8;

  void add(int64_t sampleNs);
  bool learned() const { return samples_ >= kSamplesBeforeUse; }
  int64_t meanNs() const { return meanNs_; }
  int64_t deviationNs() const { return deviationNs_; }

 private:
  int64_t meanNs_ = 0;
  int64_t deviationNs_ = 0;
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
  static constexpr int64_t kLeadNs = 20'000;
  static constexpr int64_t kMinTailNs = 10'000;
  static constexpr int64_t kTailDeviations = 2;
  static constexpr int64_t kMaxSpinNs = 200'000;

  // `depth` slots, numbered as Request::slot; a budget of 0 turns polling off.
  AdaptivePoller(uint32_t depth, double budget);

  void setBudget(double fraction);
  bool enabled() const { return budget_.fraction() > 0; }

  // A request went out in `slot` at nowNs.
  void submitted(uint32_t slot, OpCode op, int64_t nowNs);
  // The request in `slot` was seen complete at completedNs.
  void completed(uint32_t slot, int64_t completedNs);
  uint32_t inFlight() const { return inFlight_; }

  // Nanoseconds to spin from nowNs, or 0 to let the loop sleep.
  int64_t plan(int64_t nowNs);
  // A planned spin ended after spunNs, having found a completion or not.
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
  uint64_t polls_ = 0;
  uint64_t hits_ = 0;
  uint64_t spentNs_ = 0;
};

}  // namespace aioring
