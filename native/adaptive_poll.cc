#include "adaptive_poll.h"

#include <algorithm>
#include <limits>

namespace aioring {

ServiceKind serviceKindOf(OpCode op, uint32_t flags) {
  switch (op) {
    case OpCode::kRead:
    case OpCode::kReadv:
      return ServiceKind::kRead;
    case OpCode::kWrite:
    case OpCode::kWritev:
      return (flags & kFlagDsync) != 0 ? ServiceKind::kSync : ServiceKind::kWrite;
    case OpCode::kFsync:
    case OpCode::kFdatasync:
      return ServiceKind::kSync;
  }
  return ServiceKind::kSync;
}

namespace {

// Moves `estimate` towards `sample` so that it settles at the p-quantile,
// p = up / (up + down) with up and down in quarters.
void stepTowards(int64_t& estimate, int64_t sample, int64_t up, int64_t down) {
  const int64_t step = std::max<int64_t>(estimate / ServiceEstimate::kStepDivisor, 4);
  if (sample > estimate) estimate += step * up / 4;
  else if (sample < estimate) estimate = std::max<int64_t>(estimate - step * down / 4, 1);
}

}  // namespace

void ServiceEstimate::add(int64_t sampleNs) {
  if (sampleNs < 1) sampleNs = 1;
  if (samples_ == 0) {
    lowNs_ = sampleNs;
    highNs_ = sampleNs;
  } else {
    stepTowards(lowNs_, sampleNs, 1, 3);
    stepTowards(highNs_, sampleNs, 3, 1);
  }
  if (samples_ < kSamplesBeforeUse) ++samples_;
}

PollBudget::PollBudget(double fraction) { setFraction(fraction); }

void PollBudget::setFraction(double fraction) {
  fraction_ = fraction < 0 ? 0 : (fraction > 1 ? 1 : fraction);
  capacityNs_ = static_cast<int64_t>(fraction_ * static_cast<double>(kBudgetWindowNs));
  tokensNs_ = capacityNs_;
  refilledAtNs_ = -1;
}

int64_t PollBudget::availableNs(int64_t nowNs) {
  if (refilledAtNs_ >= 0 && nowNs > refilledAtNs_) {
    const double earned = fraction_ * static_cast<double>(nowNs - refilledAtNs_);
    tokensNs_ = std::min(capacityNs_, tokensNs_ + static_cast<int64_t>(earned));
  }
  if (refilledAtNs_ < 0 || nowNs > refilledAtNs_) refilledAtNs_ = nowNs;
  return tokensNs_;
}

void PollBudget::spend(int64_t ns) { tokensNs_ -= ns; }

AdaptivePoller::AdaptivePoller(uint32_t depth, double budget)
    : submittedAtNs_(depth, kIdle), kinds_(depth, ServiceKind::kRead), budget_(budget) {}

void AdaptivePoller::setBudget(double fraction) { budget_.setFraction(fraction); }

void AdaptivePoller::submitted(uint32_t slot, OpCode op, uint32_t flags, int64_t nowNs) {
  if (slot >= submittedAtNs_.size()) return;
  if (submittedAtNs_[slot] == kIdle) ++inFlight_;
  submittedAtNs_[slot] = nowNs;
  kinds_[slot] = serviceKindOf(op, flags);
}

void AdaptivePoller::completed(uint32_t slot, int64_t completedNs) {
  if (slot >= submittedAtNs_.size() || submittedAtNs_[slot] == kIdle) return;
  estimates_[static_cast<uint32_t>(kinds_[slot])].add(completedNs - submittedAtNs_[slot]);
  submittedAtNs_[slot] = kIdle;
  --inFlight_;
}

int64_t AdaptivePoller::plan(int64_t nowNs) {
  if (!enabled() || inFlight_ == 0) return 0;
  int64_t likelyFromNs = std::numeric_limits<int64_t>::max();
  int64_t likelyUntilNs = 0;
  for (size_t slot = 0; slot < submittedAtNs_.size(); ++slot) {
    if (submittedAtNs_[slot] == kIdle) continue;
    if (kinds_[slot] == ServiceKind::kSync) return 0;
    const ServiceEstimate& estimate = estimates_[static_cast<uint32_t>(kinds_[slot])];
    if (!estimate.learned()) continue;
    if (submittedAtNs_[slot] + estimate.lowNs() < likelyFromNs) {
      likelyFromNs = submittedAtNs_[slot] + estimate.lowNs();
      likelyUntilNs = submittedAtNs_[slot] + estimate.highNs();
    }
  }
  if (likelyUntilNs == 0 || likelyFromNs - nowNs > kLeadNs) return 0;
  const int64_t spinNs = std::min(kMaxSpinNs, std::max(kMinSpinNs, likelyUntilNs - nowNs));
  if (budget_.availableNs(nowNs) < spinNs) return 0;
  if (missesInRow_ >= kMissesBeforeBackoff) {
    const uint32_t shift = std::min(missesInRow_ - kMissesBeforeBackoff + 1, kMaxBackoffShift);
    if (++skipped_ < (1u << shift)) return 0;
    skipped_ = 0;
  }
  plannedNs_ = spinNs;
  return spinNs;
}

void AdaptivePoller::spun(int64_t spunNs, bool found) {
  spunNs = std::clamp<int64_t>(spunNs, 0, plannedNs_ + kMaxSpinOverrunNs);
  budget_.spend(spunNs);
  ++polls_;
  if (found) {
    ++hits_;
    missesInRow_ = 0;
  } else if (missesInRow_ < kMissesBeforeBackoff + kMaxBackoffShift) {
    ++missesInRow_;
  }
  spentNs_ += static_cast<uint64_t>(spunNs);
}

}  // namespace aioring
