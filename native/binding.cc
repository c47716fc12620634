// The only file that knows about Node-API. It turns JS calls into engine calls
// and engine completions into one JS callback per batch; everything about I/O
// itself lives behind engine.h.
#include <napi.h>
#include <uv.h>

#include <pthread.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adaptive_poll.h"
#include "checksum/checksum.h"
#include "integrity/kernel_pi.h"
#include "integrity/protected_io.h"
#include "integrity/protection.h"
#include "log/file_lock.h"
#include "log/frame.h"
#include "contract.h"
#include "delivery.h"
#include "device.h"
#include "engine.h"
#include "event_notifier.h"
#include "file_space.h"
#include "fixed_buffer_index.h"
#include "huge_pages.h"
#include "iovec_space.h"
#include "loop_device.h"
#include "probe.h"

namespace aioring {
namespace {

// Bumped in the child of every fork() made through libc. A binding remembers the
// value it was made under, so a binding inherited by a child is recognised
// without a getpid() system call on every submission.
std::atomic<uint32_t> forkGeneration{0};

void countFork() { forkGeneration.fetch_add(1, std::memory_order_relaxed); }

bool isAligned(const void* address, int32_t alignment) {
  return alignment <= 1 || (reinterpret_cast<uintptr_t>(address) % static_cast<uint32_t>(alignment)) == 0;
}

// A record's deadline (milliseconds on the uv_hrtime() clock) as nanoseconds
// left after `nowNs`; one when it has already passed, so that the kernel
// cancels at once rather than never.
uint64_t remainingNs(double deadlineMs, uint64_t nowNs) {
  const double deadlineNs = deadlineMs * 1e6;
  return deadlineNs > static_cast<double>(nowNs) + 1 ? static_cast<uint64_t>(deadlineNs - static_cast<double>(nowNs)) : 1;
}

size_t elementBytes(napi_typedarray_type type) {
  static const size_t kElementSize[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
  return type < sizeof kElementSize / sizeof kElementSize[0] ? kElementSize[type] : 1;
}

// Returns the bytes a typed array covers, or nullptr if the value is not one.
void* typedArrayBytes(napi_env env, napi_value value, size_t* byteLength) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    return nullptr;
  }
  *byteLength = length * elementBytes(type);
  return data;
}

class EngineBinding;

struct AddonData {
  Napi::FunctionReference bindingConstructor;
  // Bindings with an engine, so a freed aligned buffer can ask whether one of
  // them still has it in flight.
  std::vector<EngineBinding*> bindings;
};

void freeUnlessInFlight(AddonData* data, uint8_t* bytes, size_t size);

// The memory of one registered buffer, which two owners hold: the JS Buffer
// until it is collected, and the binding whose engine has it registered
// until that engine has drained and been destroyed. Both let go on the
// JS thread, and the last to do so frees it.
struct RegisteredBlock {
  uint8_t* bytes;
  size_t size;
  uint32_t holders;
};

void releaseRegisteredBlock(AddonData* data, RegisteredBlock* block) {
  if (--block->holders > 0) return;
  freeUnlessInFlight(data, block->bytes, block->size);
  delete block;
}

// Registered buffers start on a page, as the kernel pins whole pages anyway.
constexpr size_t kPageSize = 4096;

// One engine as JS sees it (lib/dispatcher.ts drives it): the submission and
// completion arrays shared with JS, what each slot in flight transfers, and the
// uv_poll on the engine's eventfd that delivers completions.
bool viewBytes(napi_env env, napi_value value, const uint8_t** bytes, size_t* length);
uint8_t* mutableBytes(napi_env env, napi_value value, size_t* length);
integrity::Profile profileFrom(const Napi::CallbackInfo& info, size_t first);
Napi::Array faultsToJs(Napi::Env env, integrity::Format format, const std::vector<integrity::Fault>& faults);

class EngineBinding : public Napi::ObjectWrap<EngineBinding> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "EngineBinding",
                       {InstanceMethod<&EngineBinding::Submit>("submit"),
                        InstanceMethod<&EngineBinding::Close>("close"),
                        InstanceMethod<&EngineBinding::Counters>("counters"),
                        InstanceMethod<&EngineBinding::SetBusyPoll>("setBusyPoll"),
                        InstanceMethod<&EngineBinding::SetPollBudget>("setPollBudget"),
                        InstanceMethod<&EngineBinding::SetLatencyTiming>("setLatencyTiming"),
                        InstanceMethod<&EngineBinding::RegisterBuffers>("registerBuffers"),
                        InstanceMethod<&EngineBinding::RegisterFile>("registerFile"),
                        InstanceMethod<&EngineBinding::UnregisterFile>("unregisterFile"),
                        InstanceMethod<&EngineBinding::FileResized>("fileResized"),
                        InstanceMethod<&EngineBinding::Cancel>("cancel"),
                        InstanceMethod<&EngineBinding::LinksInKernel>("linksInKernel"),
                        InstanceMethod<&EngineBinding::SetProtection>("setProtection"),
                        InstanceMethod<&EngineBinding::ClearProtection>("clearProtection"),
                        InstanceMethod<&EngineBinding::TakeIntegrityFaults>("takeIntegrityFaults")});
  }

  // (engine: External<Engine>, depth, submissions: ArrayBuffer, completions: ArrayBuffer, onComplete)
  explicit EngineBinding(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<EngineBinding>(info),
        engine_(info[0].As<Napi::External<Engine>>().Data()),
        depth_(info[1].As<Napi::Number>().Uint32Value()),
        forkGeneration_(forkGeneration.load(std::memory_order_relaxed)),
        requests_(depth_),
        requestRecords_(depth_),
        completions_(depth_),
        iovecs_(depth_),
        slotRequests_(depth_),
        slotBusy_(depth_, false),
        slotSubmittedNs_(depth_, 0),
        adoptedBlocks_(depth_),
        slotVerifies_(depth_, 0),
        slotTransfers_(depth_),
        slotAttributes_(depth_),
        slotFaults_(depth_),
        asyncContext_(info.Env(), "aioring:ring"),
        poller_(depth_, 0) {
    Napi::Env env = info.Env();
    Napi::ArrayBuffer submissions = info[2].As<Napi::ArrayBuffer>();
    Napi::ArrayBuffer completions = info[3].As<Napi::ArrayBuffer>();
    submissionsRef_ = Napi::Persistent(submissions);
    completionsRef_ = Napi::Persistent(completions);
    submissionBytes_ = static_cast<uint8_t*>(submissions.Data());
    completionRecords_ = static_cast<CompletionRecord*>(completions.Data());
    // Weak until something is in flight, so an idle, forgotten binding can be collected.
    onComplete_ = Napi::Reference<Napi::Function>::New(info[4].As<Napi::Function>(), 0);

    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    uv_poll_init(loop, poll_, engine_->notifyFd());
    uv_poll_start(poll_, UV_READABLE, &EngineBinding::OnReadable);
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    napi_add_env_cleanup_hook(env, &EngineBinding::OnEnvCleanup, this);
    env.GetInstanceData<AddonData>()->bindings.push_back(this);
  }

  ~EngineBinding() override {
    if (engine_) napi_remove_env_cleanup_hook(Env(), &EngineBinding::OnEnvCleanup, this);
    Shutdown(false);
  }

  // Called when an aligned buffer's memory is about to be freed. Normally the
  // binding's references keep a buffer in flight alive, but when an environment
  // (a worker) is torn down Node frees buffers regardless. If a request still
  // uses the block, the binding takes it over and frees it once that request has
  // completed, or once the engine has drained.
  bool adoptIfInFlight(uint8_t* base, size_t size) {
    if (!engine_) return false;
    for (uint32_t slot = 0; slot < depth_; ++slot) {
      if (slotBusy_[slot] && slotUses(slot, base, size)) {
        adoptedBlocks_[slot].push_back(base);
        return true;
      }
    }
    return false;
  }

 private:
  // (count, buffers) -> records consumed, or kSubmitClosed / kSubmitForked
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) return Napi::Number::New(env, kSubmitClosed);
    // The kernel context and the worker threads belong to the creating process.
    if (forked()) return Napi::Number::New(env, kSubmitForked);

    uint32_t count = info[0].As<Napi::Number>().Uint32Value();
    if (count == 0) return Napi::Number::New(env, 0);  // only asked whether the engine is usable
    napi_value buffers = info[1];
    if (count > depth_) count = depth_;
    uint32_t nextBuffer = 0;
    uint32_t valid = 0;
    uint64_t nowNs = 0;
    // A kernel chain (kFlagLinkNext) stops at a refused record: the valid
    // request before it ends the chain, and the records after it in the chain
    // are not started, as the kernel would have cancelled them.
    bool previousLinks = false;
    bool chainBroken = false;
    for (uint32_t index = 0; index < count; ++index) {
      auto* record = reinterpret_cast<SubmissionRecord*>(submissionBytes_ + index * kRecordBytes);
      Request& request = requests_[valid];
      record->status = describe(env, *record, buffers, &nextBuffer, &request);
      record->deadlineInKernel = 0;
      napi_value tuples = nullptr;
      if ((record->flags & kFlagProtectionTuples) && napi_get_element(env, buffers, nextBuffer++, &tuples) != napi_ok) {
        tuples = nullptr;
      }
      if (chainBroken) record->status = kStatusNotStarted;
      if (record->status == kStatusOk && record->slot >= 0) {
        slotVerifies_[request.slot] = 0;
        if (!protectedFiles_.empty()) record->status = protect(env, tuples, request);
      }
      const bool linksNext = (record->flags & kFlagLinkNext) != 0;
      if (record->status == kStatusOk) {
        if (record->deadline > 0) {
          if (nowNs == 0) nowNs = uv_hrtime();
          request.timeoutNs = remainingNs(record->deadline, nowNs);
        }
        requestRecords_[valid++] = index;
        previousLinks = linksNext;
      } else {
        if (previousLinks) requests_[valid - 1].flags &= ~kFlagLinkNext;
        previousLinks = false;
        chainBroken = linksNext;
      }
    }

    const uint32_t readyBefore = engine_->readyCount();
    const uint32_t inFlightBefore = engine_->inFlight();
    const uint32_t pendingBefore = inFlightBefore > readyBefore ? inFlightBefore - readyBefore : 0;
    uint32_t accepted = engine_->submit(requests_.data(), valid);
    const bool adaptive = adaptivePolling();
    const int64_t submittedNs = (adaptive || latencyTiming_) && accepted > 0 ? monotonicNs() : 0;
    for (uint32_t i = 0; i < accepted; ++i) {
      const Request& request = requests_[i];
      slotBusy_[request.slot] = true;
      slotRequests_[request.slot] = request;
      slotSubmittedNs_[request.slot] = submittedNs;
      if (adaptive) poller_.submitted(request.slot, request.op, request.flags, submittedNs);
      if (request.timeoutNs > 0 && engine_->deadlineArmed(request.slot)) {
        reinterpret_cast<SubmissionRecord*>(submissionBytes_ + requestRecords_[i] * kRecordBytes)->deadlineInKernel = 1;
      }
    }
    if (accepted > 0) {
      const uint32_t finishedInline = completedInline(readyBefore, engine_->readyCount(), pendingBefore);
      completionsPerCallback_ = completionsPerCallback(depth_, accepted, finishedInline);
    }
    holdWhileBusy();
    // Records the engine did not take (it was full) are resubmitted by JS later;
    // rejected records in front of them count as consumed.
    uint32_t consumed = accepted == valid ? count : requestRecords_[accepted];
    return Napi::Number::New(env, consumed);
  }

  int32_t describe(napi_env env, const SubmissionRecord& record, napi_value buffers,
                   uint32_t* nextBuffer, Request* request) {
    if (record.slot < 0 || static_cast<uint32_t>(record.slot) >= depth_) return kStatusTooSmall;
    request->slot = static_cast<uint32_t>(record.slot);
    request->fd = record.fd;
    request->op = static_cast<OpCode>(record.op);
    request->flags = static_cast<uint32_t>(record.flags) & ~kFlagProtectionTuples;
    request->offset = static_cast<int64_t>(record.position);
    request->buf = nullptr;
    request->len = 0;
    request->iov = nullptr;
    request->iovcnt = 0;
    request->fixedBuffer = -1;
    request->piAttribute = nullptr;
    request->timeoutNs = 0;
    switch (request->op) {
      case OpCode::kRead:
      case OpCode::kWrite: {
        napi_value buffer = nullptr;
        // Fails while the environment is being torn down; never read the garbage.
        if (napi_get_element(env, buffers, (*nextBuffer)++, &buffer) != napi_ok) return kStatusTooSmall;
        size_t byteLength = 0;
        void* data = typedArrayBytes(env, buffer, &byteLength);
        if (!data || byteLength < static_cast<size_t>(record.length)) return kStatusTooSmall;
        if (!isAligned(data, record.memAlign)) return kStatusMisaligned;
        request->buf = data;
        request->len = static_cast<uint32_t>(record.length);
        if (!fixedBuffers_.empty()) request->fixedBuffer = fixedBuffers_.find(data, request->len);
        return kStatusOk;
      }
      case OpCode::kReadv:
      case OpCode::kWritev: {
        uint32_t count = static_cast<uint32_t>(record.length);
        if (record.length <= 0 || count > IovecSpace::kMaxBuffers) {
          // JS never sends these; skip the buffers anyway, so the records
          // after this one still find theirs.
          if (record.length > 0) *nextBuffer += count;
          return kStatusTooSmall;
        }
        iovec* iov = iovecs_.room(request->slot, count);
        int32_t status = kStatusOk;
        for (int32_t i = 0; i < record.length; ++i) {
          napi_value buffer = nullptr;
          size_t byteLength = 0;
          void* data = nullptr;
          if (napi_get_element(env, buffers, (*nextBuffer)++, &buffer) == napi_ok) {
            data = typedArrayBytes(env, buffer, &byteLength);
          }
          if (!data || byteLength == 0) status = kStatusTooSmall;
          if (status == kStatusOk && !isAligned(data, record.memAlign)) status = kStatusMisaligned;
          iov[i] = iovec{data, byteLength};
        }
        request->iov = iov;
        request->iovcnt = count;
        return status;
      }
      case OpCode::kFsync:
      case OpCode::kFdatasync:
        return kStatusOk;
    }
    return kStatusTooSmall;
  }

  // A request on a protected file: a write gets its tuples now, before the
  // engine sees it; a read is remembered, to be checked when it completes.
  int32_t protect(napi_env env, napi_value tuples, Request& request) {
    auto found = protectedFiles_.find(request.fd);
    if (found == protectedFiles_.end() || request.op == OpCode::kFsync || request.op == OpCode::kFdatasync) {
      return kStatusOk;
    }
    size_t tupleLength = 0;
    uint8_t* tupleBytes = tuples ? mutableBytes(env, tuples, &tupleLength) : nullptr;
    integrity::ProtectedTransfer transfer =
        integrity::transferFor(found->second, static_cast<uint64_t>(request.offset), tupleBytes, tupleLength);
    // lib/file.ts has refused requests that are not whole intervals.
    if (!integrity::fits(transfer, request)) return kStatusTooSmall;
    if (transfer.kernelChecks) {
      slotAttributes_[request.slot] = integrity::piAttribute(transfer.tuples, transfer.tupleCapacity,
                                                             transfer.profile.firstReferenceTag,
                                                             transfer.profile.applicationTag);
      request.piAttribute = &slotAttributes_[request.slot];
    }
    if (isWrite(request.op)) {
      integrity::generateFor(transfer, request);
    } else {
      slotTransfers_[request.slot] = transfer;
      slotVerifies_[request.slot] = 1;
    }
    return kStatusOk;
  }

  // A completed read of a protected file: the bytes of the whole intervals it
  // returned, every one checked, or kCompletionIntegrityFault. A read cut short
  // inside an interval (the file ends there) does not count that interval's
  // bytes: without its tuple they cannot be vouched for.
  int32_t verifyCompletion(uint32_t slot, int32_t result) {
    slotVerifies_[slot] = 0;
    if (result <= 0) return result;
    const integrity::ProtectedTransfer& transfer = slotTransfers_[slot];
    const int32_t whole = result - result % static_cast<int32_t>(transfer.profile.interval);
    std::vector<integrity::Fault>& faults = slotFaults_[slot];
    faults.clear();
    if (integrity::verifyFor(transfer, slotRequests_[slot], static_cast<size_t>(whole), &faults)) return whole;
    return kCompletionIntegrityFault;
  }

  // (fd, format, interval, trailer, refTagSeed, appTag, kernelChecks): reads and writes on fd are protected from now on.
  Napi::Value SetProtection(const Napi::CallbackInfo& info) {
    protectedFiles_[info[0].As<Napi::Number>().Int32Value()] =
        integrity::FileProtection{profileFrom(info, 1), info[6].As<Napi::Boolean>().Value()};
    return info.Env().Undefined();
  }

  // (fd): before fd is closed, once its requests have completed
  Napi::Value ClearProtection(const Napi::CallbackInfo& info) {
    protectedFiles_.erase(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  // (slot) -> the faults of the read that completed in it with kCompletionIntegrityFault
  Napi::Value TakeIntegrityFaults(const Napi::CallbackInfo& info) {
    const uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    if (slot >= depth_) return Napi::Array::New(info.Env());
    Napi::Array faults = faultsToJs(info.Env(), slotTransfers_[slot].profile.format, slotFaults_[slot]);
    slotFaults_[slot].clear();
    return faults;
  }

  // Waits for anything still in flight, then releases the engine and the poll handle.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (engine_) napi_remove_env_cleanup_hook(info.Env(), &EngineBinding::OnEnvCleanup, this);
    Shutdown(false);
    return info.Env().Undefined();
  }

  // () -> { syscalls, fixedBufferOps, fixedFileOps, linkedSubmits, linkTimeouts, busyPolls, busyPollHits, ... }
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object counters = Napi::Object::New(env);
    counters.Set("syscalls", Napi::Number::New(env, engine_ ? static_cast<double>(engine_->syscalls()) : 0));
    counters.Set("fixedBufferOps", Napi::Number::New(env, engine_ ? static_cast<double>(engine_->fixedBufferOps()) : 0));
    counters.Set("fixedFileOps", Napi::Number::New(env, engine_ ? static_cast<double>(engine_->fixedFileOps()) : 0));
    counters.Set("linkedSubmits", Napi::Number::New(env, engine_ ? static_cast<double>(engine_->linkedOps()) : 0));
    counters.Set("linkTimeouts", Napi::Number::New(env, engine_ ? static_cast<double>(engine_->linkTimeouts()) : 0));
    counters.Set("busyPolls", Napi::Number::New(env, static_cast<double>(busyPolls_)));
    counters.Set("busyPollHits", Napi::Number::New(env, static_cast<double>(busyPollHits_)));
    counters.Set("adaptivePolls", Napi::Number::New(env, static_cast<double>(poller_.polls())));
    counters.Set("adaptivePollHits", Napi::Number::New(env, static_cast<double>(poller_.hits())));
    const uint64_t pollNs = busyPollSpentNs_ + poller_.spentNs();
    counters.Set("pollCpuUs", Napi::Number::New(env, static_cast<double>(pollNs / 1000)));
    return counters;
  }

  // (microseconds) -> undefined. 0 turns busy polling off.
  Napi::Value SetBusyPoll(const Napi::CallbackInfo& info) {
    busyPollNs_ = static_cast<int64_t>(info[0].As<Napi::Number>().Uint32Value()) * 1000;
    return info.Env().Undefined();
  }

  // (fraction of a core, 0 to 1) -> undefined. 0 turns adaptive polling off.
  Napi::Value SetPollBudget(const Napi::CallbackInfo& info) {
    poller_.setBudget(info[0].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  }

  // (on) -> undefined. Whether completions carry their latency (stats().latencyUs).
  Napi::Value SetLatencyTiming(const Napi::CallbackInfo& info) {
    latencyTiming_ = info[0].As<Napi::Boolean>().Value();
    return info.Env().Undefined();
  }

  // Adaptive polling runs unless it has no budget or busyPollUs replaces it.
  bool adaptivePolling() const { return busyPollNs_ == 0 && poller_.enabled(); }

  // (count, size) -> { buffers: Buffer[], fixed } | { errno, syscall } | kSubmitClosed | kSubmitForked
  // Allocates `count` zeroed, page-aligned blocks of `size` bytes and offers them
  // to the engine as one registered set. Engines without registered buffers
  // (fixed: false) still hand the blocks out, as plain aligned buffers.
  Napi::Value RegisterBuffers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) return Napi::Number::New(env, kSubmitClosed);
    // Registering would change the parent's kernel context.
    if (forked()) return Napi::Number::New(env, kSubmitForked);
    if (!fixedBuffers_.empty()) return registrationFailure(env, EBUSY, "io_uring_register");
    const uint32_t count = info[0].As<Napi::Number>().Uint32Value();
    const size_t size = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());

    std::vector<RegisteredBlock*> blocks;
    std::vector<iovec> ranges;
    blocks.reserve(count);
    ranges.reserve(count);
    auto* data = env.GetInstanceData<AddonData>();
    auto freeAll = [&]() {
      for (RegisteredBlock* block : blocks) releaseRegisteredBlock(data, block);
    };
    for (uint32_t i = 0; i < count; ++i) {
      void* memory = nullptr;
      if (posix_memalign(&memory, kPageSize, size) != 0) {
        freeAll();
        return registrationFailure(env, ENOMEM, "posix_memalign");
      }
      std::memset(memory, 0, size);
      blocks.push_back(new RegisteredBlock{static_cast<uint8_t*>(memory), size, 1});
      ranges.push_back(iovec{memory, size});
    }
    const int registered = engine_->registerBuffers(ranges.data(), count);
    if (registered < 0 && registered != -EOPNOTSUPP) {
      freeAll();
      return registrationFailure(env, -registered, "io_uring_register");
    }
    const bool fixed = registered == 0;
    if (fixed) {
      for (RegisteredBlock* block : blocks) ++block->holders;
      registeredBlocks_ = blocks;
      fixedBuffers_.assign(ranges.data(), count);
    }

    // Each Buffer takes over the hold its block was made with.
    Napi::Array buffers = Napi::Array::New(env, count);
    for (uint32_t i = 0; i < count; ++i) {
      Napi::Buffer<uint8_t> buffer = registeredBuffer(env, blocks[i]);
      if (buffer.IsEmpty()) {
        for (uint32_t rest = i; rest < count; ++rest) releaseRegisteredBlock(data, blocks[rest]);
        return env.Undefined();  // the pending exception says why
      }
      buffers.Set(i, buffer);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("buffers", buffers);
    result.Set("fixed", Napi::Boolean::New(env, fixed));
    return result;
  }

  static Napi::Object registrationFailure(Napi::Env env, int error, const char* syscall) {
    Napi::Object failure = Napi::Object::New(env);
    failure.Set("errno", Napi::Number::New(env, error));
    failure.Set("syscall", Napi::String::New(env, syscall));
    return failure;
  }

  static Napi::Buffer<uint8_t> registeredBuffer(Napi::Env env, RegisteredBlock* block) {
    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(
        env, block->bytes, block->size,
        [](Napi::Env finalizeEnv, uint8_t*, RegisteredBlock* held) {
          Napi::MemoryManagement::AdjustExternalMemory(finalizeEnv, -static_cast<int64_t>(held->size));
          releaseRegisteredBlock(finalizeEnv.GetInstanceData<AddonData>(), held);
        },
        block);
    if (!buffer.IsEmpty()) Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(block->size));
    return buffer;
  }

  // (fd) -> whether requests on fd will use a registered file
  Napi::Value RegisterFile(const Napi::CallbackInfo& info) {
    // In a forked child the file table is the parent's.
    const bool registered = engine_ && !forked() && engine_->registerFile(info[0].As<Napi::Number>().Int32Value());
    return Napi::Boolean::New(info.Env(), registered);
  }

  // (fd): before fd is closed, once its requests have completed
  Napi::Value UnregisterFile(const Napi::CallbackInfo& info) {
    if (engine_ && !forked()) engine_->unregisterFile(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  // (fd): after the file on fd was truncated
  Napi::Value FileResized(const Napi::CallbackInfo& info) {
    if (engine_ && !forked()) engine_->fileResized(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  // (slot) -> CancelOutcome, for a slot whose request is in flight
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    const uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    CancelOutcome outcome = CancelOutcome::kNotAsked;
    if (engine_ && !forked() && slot < depth_ && slotBusy_[slot]) outcome = engine_->cancel(slot);
    return Napi::Number::New(info.Env(), static_cast<int32_t>(outcome));
  }

  // () -> whether kFlagLinkNext chains run in the kernel (Engine::linksInKernel)
  Napi::Value LinksInKernel(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_ && engine_->linksInKernel());
  }

  bool forked() const { return forkGeneration.load(std::memory_order_relaxed) != forkGeneration_; }

  static void OnReadable(uv_poll_t* handle, int status, int) {
    auto* binding = static_cast<EngineBinding*>(handle->data);
    if (status < 0 || !binding) return;
    if (binding->forked()) {
      // A forked child shares the eventfd and the completion rings with its
      // parent: draining or reaping here would take the parent's completions.
      uv_poll_stop(handle);
      return;
    }
    binding->deliverCompletions();
  }

  // Hands completions to JS, a callback's worth at a time, within the
  // wake-up's budget (see delivery.h for the decisions and why).
  void deliverCompletions() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // Adaptive polling learns from each completion the time since its
    // submission, and JS records it as the request's latency: completions
    // already waiting when the wake-up (or a poll) began are timed to then,
    // the rest to when they were reaped.
    const bool adaptive = adaptivePolling();
    const bool timed = adaptive || latencyTiming_;
    int64_t seenNs = timed ? monotonicNs() : 0;
    uint32_t seenReady = timed ? engine_->readyCount() : 0;
    WakeUp wake(depth_, busyPollNs_ > 0 || adaptive);
    while (engine_) {
      if (!wake.mayReap()) {
        rearm();
        break;
      }
      uint32_t count = engine_->reap(completions_.data(), completionsPerCallback_);
      if (count == 0) {
        WakeStep next = wake.onEmpty(engine_->inFlight());
        if (next == WakeStep::kDrain) {
          engine_->drainNotifications();
          continue;
        }
        if (next == WakeStep::kBusyPoll) {
          const bool caught = adaptive ? pollAdaptively(&seenNs, &seenReady) : pollForCompletions();
          next = wake.afterPoll(caught, engine_->inFlight());
        }
        if (next == WakeStep::kReap) continue;
        if (next == WakeStep::kRearm) rearm();
        break;
      }
      wake.delivered(count);
      int64_t reapedNs = 0;
      for (uint32_t i = 0; i < count; ++i) {
        const uint32_t slot = completions_[i].slot;
        // News of a kernel deadline, not the request's end: the slot stays busy.
        if (completions_[i].result == kResultDeadlinePassed) {
          completionRecords_[i] = CompletionRecord{static_cast<int32_t>(slot), kCompletionDeadlinePassed, 0};
          continue;
        }
        int64_t latencyNs = 0;
        if (timed) {
          if (seenReady > 0) {
            --seenReady;
          } else if (reapedNs == 0) {
            reapedNs = monotonicNs();
          }
          const int64_t completedNs = reapedNs == 0 ? seenNs : reapedNs;
          if (adaptive) poller_.completed(slot, completedNs);
          // A request submitted before timing began has no submission time.
          if (slotSubmittedNs_[slot] != 0) latencyNs = std::max<int64_t>(completedNs - slotSubmittedNs_[slot], 0);
        }
        int32_t result = completions_[i].result;
        if (slotVerifies_[slot]) result = verifyCompletion(slot, result);
        completionRecords_[i] = CompletionRecord{static_cast<int32_t>(slot), result, static_cast<double>(latencyNs)};
        releaseSlot(slot);
      }
      onComplete_.Value().MakeCallback(Value(), {Napi::Number::New(env, count)}, asyncContext_);
      if (env.IsExceptionPending()) {
        napi_fatal_exception(env, env.GetAndClearPendingException().Value());
      }
    }
    holdWhileBusy();
  }

  // Spins until a completion is waiting or busyPollNs_ has passed; true if one is.
  bool pollForCompletions() {
    ++busyPolls_;
    const int64_t start = monotonicNs();
    const bool caught = spinUntil(busyPollNs_, [this] { return engine_->completionsWaiting(); });
    busyPollSpentNs_ += static_cast<uint64_t>(monotonicNs() - start);
    if (caught) ++busyPollHits_;
    return caught;
  }
  // Spins for as long as the poller's policy says, if at all; true if that
  // found a completion, which is then timed to *seenNs (with the *seenReady
  // completions waiting by then).
  bool pollAdaptively(int64_t* seenNs, uint32_t* seenReady) {
    const int64_t start = monotonicNs();
    const int64_t spinNs = poller_.plan(start);
    if (spinNs == 0) return false;
    const bool caught = spinUntil(spinNs, [this] { return engine_->completionsWaiting(); });
    const int64_t end = monotonicNs();
    poller_.spun(end - start, caught);
    if (caught) {
      *seenNs = end;
      *seenReady = engine_->readyCount();
    }
    return caught;
  }

  // Sets the notifier, so the poll fires again on the next turn of the loop.
  void rearm() { signalEventFd(engine_->notifyFd()); }

  // While the kernel holds requests, the binding must stay alive and keep the loop
  // running; when idle it must do neither, so a forgotten binding can be collected.
  void holdWhileBusy() {
    bool busy = engine_ && engine_->inFlight() > 0;
    if (busy == held_) return;
    held_ = busy;
    if (busy) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
      onComplete_.Ref();
      Ref();
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      onComplete_.Unref();
      Unref();
    }
  }

  static void OnEnvCleanup(void* self) { static_cast<EngineBinding*>(self)->Shutdown(true); }

  bool slotUses(uint32_t slot, const uint8_t* base, size_t size) const {
    auto overlaps = [&](const void* start, size_t length) {
      auto* bytes = static_cast<const uint8_t*>(start);
      return bytes < base + size && base < bytes + length;
    };
    const Request& request = slotRequests_[slot];
    if (!request.iov) return request.buf && overlaps(request.buf, request.len);
    for (uint32_t i = 0; i < request.iovcnt; ++i) {
      if (overlaps(request.iov[i].iov_base, request.iov[i].iov_len)) return true;
    }
    return false;
  }

  void releaseSlot(uint32_t slot) {
    slotBusy_[slot] = false;
    for (uint8_t* block : adoptedBlocks_[slot]) std::free(block);
    adoptedBlocks_[slot].clear();
  }

  void Shutdown(bool envTeardown) {
    if (!engine_) return;
    auto* data = Env().GetInstanceData<AddonData>();
    if (data) data->bindings.erase(std::remove(data->bindings.begin(), data->bindings.end(), this), data->bindings.end());
    if (!forked()) {
      // Destroying the engine waits for every request the kernel or a worker
      // still holds, so no memory is released while it may still be written.
      delete engine_;
      for (uint32_t slot = 0; slot < depth_; ++slot) releaseSlot(slot);
    } else {
      // In a forked child the engine's context and threads are the parent's:
      // leave them to the child's exit. Close only our copy of the eventfd, so
      // that uv_close below cannot take the parent's registration out of the
      // epoll instance the two processes share.
      close(engine_->notifyFd());
    }
    engine_ = nullptr;
    // The engine's destruction unregistered them after draining (a forked
    // child's copies were never the kernel's), so only the Buffers may still
    // want this memory.
    fixedBuffers_.clear();
    for (RegisteredBlock* block : registeredBlocks_) releaseRegisteredBlock(data, block);
    registeredBlocks_.clear();
    poll_->data = nullptr;
    if (envTeardown) {
      // The addon may be unloaded with the environment before libuv would run
      // a close callback, so there is none; the small handle is left behind.
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), nullptr);
    } else {
      uv_close(reinterpret_cast<uv_handle_t*>(poll_),
               [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    }
    if (held_) {
      held_ = false;
      onComplete_.Unref();
      Unref();
    }
  }

  Engine* engine_;
  uint32_t depth_;
  uint32_t forkGeneration_;
  std::vector<Request> requests_;
  std::vector<uint32_t> requestRecords_;
  std::vector<Completion> completions_;
  IovecSpace iovecs_;
  // What each in-flight slot's request transfers from or to,
  // and the aligned blocks whose free waits for that slot's completion.
  std::vector<Request> slotRequests_;
  std::vector<bool> slotBusy_;
  // CLOCK_MONOTONIC at each in-flight slot's submission, 0 when not timed.
  std::vector<int64_t> slotSubmittedNs_;
  std::vector<std::vector<uint8_t*>> adoptedBlocks_;
  // Protected files by descriptor, and for each slot whether its read is to be
  // checked on completion, how, and what the check found.
  std::unordered_map<int, integrity::FileProtection> protectedFiles_;
  std::vector<uint8_t> slotVerifies_;
  std::vector<integrity::ProtectedTransfer> slotTransfers_;
  std::vector<integrity::IoUringAttrPi> slotAttributes_;
  std::vector<std::vector<integrity::Fault>> slotFaults_;
  // The registered set, while the kernel has it: the binding's holds on its
  // blocks, and where each lies, to give requests their fixed buffer.
  std::vector<RegisteredBlock*> registeredBlocks_;
  FixedBufferIndex fixedBuffers_;
  Napi::AsyncContext asyncContext_;
  Napi::Reference<Napi::ArrayBuffer> submissionsRef_;
  Napi::Reference<Napi::ArrayBuffer> completionsRef_;
  uint8_t* submissionBytes_ = nullptr;
  CompletionRecord* completionRecords_ = nullptr;
  Napi::FunctionReference onComplete_;
  uv_poll_t* poll_ = nullptr;
  bool held_ = false;
  uint32_t completionsPerCallback_ = completionsPerCallbackFromDevice(depth_);
  int64_t busyPollNs_ = 0;
  bool latencyTiming_ = false;
  uint64_t busyPolls_ = 0;
  uint64_t busyPollHits_ = 0;
  uint64_t busyPollSpentNs_ = 0;
  AdaptivePoller poller_;
};

// Frees an aligned block unless a binding still has a request using it in flight
// (possible only while an environment is torn down); that binding then frees it
// once the request has completed.
void freeUnlessInFlight(AddonData* data, uint8_t* bytes, size_t size) {
  if (data) {
    for (EngineBinding* binding : data->bindings) {
      if (binding->adoptIfInFlight(bytes, size)) return;
    }
  }
  std::free(bytes);
}

Napi::Object refusalObject(Napi::Env env, const EngineRefusal& refusal) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, refusal.error));
  result.Set("reason", Napi::String::New(env, refusal.reason));
  return result;
}

// (engineName, depth, submissions, completions, onComplete) -> EngineBinding | { errno, reason }
Napi::Value OpenEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EngineKind kind;
  EngineRefusal refusal;
  if (!parseEngineKind(info[0].As<Napi::String>().Utf8Value(), &kind)) {
    refusal.error = EINVAL;
    refusal.reason = "unknown engine name";
    return refusalObject(env, refusal);
  }
  uint32_t depth = info[1].As<Napi::Number>().Uint32Value();
  std::unique_ptr<Engine> engine = createEngine(kind, depth, &refusal);
  if (!engine) return refusalObject(env, refusal);
  auto* data = env.GetInstanceData<AddonData>();
  return data->bindingConstructor.New({Napi::External<Engine>::New(env, engine.release()), info[1],
                                    info[2], info[3], info[4]});
}

Napi::Value ProbeEngine(const Napi::CallbackInfo& info) {
  EngineKind kind;
  EngineRefusal refusal;
  if (!parseEngineKind(info[0].As<Napi::String>().Utf8Value(), &kind)) {
    refusal.error = EINVAL;
    refusal.reason = "unknown engine name";
  } else {
    refusal = probeEngine(kind);
  }
  return refusalObject(info.Env(), refusal);
}

Napi::Value DescribeFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceInfo device = describeDevice(info[0].As<Napi::Number>().Int32Value());
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, device.error));
  result.Set("size", Napi::Number::New(env, static_cast<double>(device.size)));
  result.Set("logicalBlockSize", Napi::Number::New(env, device.logicalBlockSize));
  result.Set("physicalBlockSize", Napi::Number::New(env, device.physicalBlockSize));
  result.Set("memAlign", Napi::Number::New(env, device.memAlign));
  result.Set("offsetAlign", Napi::Number::New(env, device.offsetAlign));
  result.Set("blockDevice", Napi::Boolean::New(env, device.blockDevice));
  result.Set("readOnly", Napi::Boolean::New(env, device.readOnly));
  result.Set("atomicWriteMin", Napi::Number::New(env, device.atomicWriteMin));
  result.Set("atomicWriteMax", Napi::Number::New(env, device.atomicWriteMax));
  result.Set("dsyncWriteDoesDatasync", Napi::Boolean::New(env, device.dsyncWriteDoesDatasync));
  return result;
}

// (fd) -> 1 when no page of the file is dirty or under writeback, 0 when one is, -errno
Napi::Value PageCacheClean(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pageCacheClean(info[0].As<Napi::Number>().Int32Value()));
}

// (size, alignment, hugePages?) -> zero-filled Buffer whose memory starts on
// `alignment`; with hugePages, on a huge page and advised to be backed by them
Napi::Value AllocAligned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t size = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  size_t alignment = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  bool hugePages = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  void* memory = nullptr;
  if (hugePages && alignment <= kHugePageBytes) {
    memory = allocHugePageBacked(size);
    if (memory == nullptr) return env.Null();
  } else {
    if (posix_memalign(&memory, alignment, size) != 0) return env.Null();
    std::memset(memory, 0, size);
  }
  // V8 cannot see this memory, so tell it, or large aligned buffers never
  // trigger the collections that would free them.
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
  return Napi::Buffer<uint8_t>::New(
      env, static_cast<uint8_t*>(memory), size,
      [](Napi::Env finalizeEnv, uint8_t* bytes, size_t* hint) {
        Napi::MemoryManagement::AdjustExternalMemory(finalizeEnv, -static_cast<int64_t>(*hint));
        size_t size = *hint;
        delete hint;
        freeUnlessInFlight(finalizeEnv.GetInstanceData<AddonData>(), bytes, size);
      },
      new size_t(size));
}

// (backingPath, sectorSize, directIo) -> { fd, index, directIo } or { errno, syscall }
Napi::Value AttachLoopDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string backing = info[0].As<Napi::String>().Utf8Value();
  LoopAttachment loop = attachLoopDevice(backing.c_str(), info[1].As<Napi::Number>().Uint32Value(),
                                         info[2].As<Napi::Boolean>().Value());
  Napi::Object result = Napi::Object::New(env);
  if (loop.error) {
    result.Set("errno", Napi::Number::New(env, loop.error));
    result.Set("syscall", Napi::String::New(env, loop.syscall));
    return result;
  }
  result.Set("fd", Napi::Number::New(env, loop.fd));
  result.Set("index", Napi::Number::New(env, loop.index));
  result.Set("directIo", Napi::Boolean::New(env, loop.directIo));
  return result;
}

// (fd, readOnly) -> errno, 0 on success
Napi::Value SetBlockDeviceReadOnly(const Napi::CallbackInfo& info) {
  int error = setBlockDeviceReadOnly(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Boolean>().Value());
  return Napi::Number::New(info.Env(), error);
}

// ---- Checksums ------------------------------------------------------------
// Raw Node-API: these run once per buffer, often on small ones, so they skip
// node-addon-api's per-call wrapping. lib/checksums.ts has checked the
// arguments.

// The bytes of any ArrayBufferView, DataView included.
bool viewBytes(napi_env env, napi_value value, const uint8_t** bytes, size_t* length) {
  void* data = nullptr;
  napi_typedarray_type type;
  size_t elements = 0;
  if (napi_get_typedarray_info(env, value, &type, &elements, &data, nullptr, nullptr) == napi_ok) {
    *length = elements * elementBytes(type);
  } else if (napi_get_dataview_info(env, value, length, &data, nullptr, nullptr) != napi_ok) {
    return false;
  }
  // An empty view may have no backing store at all.
  *bytes = *length == 0 ? nullptr : static_cast<const uint8_t*>(data);
  return true;
}

napi_value throwChecksumArguments(napi_env env) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "checksum arguments: (ArrayBufferView, seed)");
  return nullptr;
}

template <typename Checksum>
napi_value numberChecksum(napi_env env, napi_callback_info info, Checksum checksum) {
  size_t argc = 2;
  napi_value argv[2];
  const uint8_t* bytes = nullptr;
  size_t length = 0;
  uint32_t seed = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2 ||
      !viewBytes(env, argv[0], &bytes, &length) || napi_get_value_uint32(env, argv[1], &seed) != napi_ok) {
    return throwChecksumArguments(env);
  }
  napi_value result;
  napi_create_uint32(env, checksum(bytes, length, seed), &result);
  return result;
}

napi_value Crc16T10Dif(napi_env env, napi_callback_info info) {
  return numberChecksum(env, info, [](const uint8_t* bytes, size_t length, uint32_t seed) -> uint32_t {
    return checksum::crc16t10dif(bytes, length, static_cast<uint16_t>(seed));
  });
}

napi_value Crc32C(napi_env env, napi_callback_info info) {
  return numberChecksum(env, info, checksum::crc32c);
}

// frameLogRecords(buffer, start, count, fileId, session, firstLsnLow, firstLsnHigh):
// fills in the frames of a group whose lengths and data are already in place
// (lib/log/group-commit.ts). Returns the offset past the last record, or 0 if
// a length runs past the buffer.
napi_value FrameLogRecords(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  const uint8_t* bytes = nullptr;
  size_t length = 0;
  uint32_t numbers[6] = {};
  bool ok = napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc == 7 &&
            viewBytes(env, argv[0], &bytes, &length);
  for (size_t i = 0; ok && i < 6; i++) ok = napi_get_value_uint32(env, argv[i + 1], &numbers[i]) == napi_ok;
  if (!ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "frameLogRecords arguments: (ArrayBufferView, start, count, fileId, session, lsnLow, lsnHigh)");
    return nullptr;
  }
  const uint64_t firstLsn = static_cast<uint64_t>(numbers[5]) << 32 | numbers[4];
  const size_t end = logformat::frameRecords(const_cast<uint8_t*>(bytes), length, numbers[0], numbers[1], numbers[2],
                                             numbers[3], firstLsn);
  napi_value result;
  napi_create_double(env, static_cast<double>(end), &result);
  return result;
}

napi_value Crc64Nvme(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const uint8_t* bytes = nullptr;
  size_t length = 0;
  uint64_t seed = 0;
  bool lossless = false;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2 ||
      !viewBytes(env, argv[0], &bytes, &length) ||
      napi_get_value_bigint_uint64(env, argv[1], &seed, &lossless) != napi_ok) {
    return throwChecksumArguments(env);
  }
  napi_value result;
  napi_create_bigint_uint64(env, checksum::crc64nvme(bytes, length, seed), &result);
  return result;
}

// checksumByPath(algorithm, path, view, seed): one named implementation, for
// tests that compare them; null when the CPU lacks the hardware path.
Napi::Value ChecksumByPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto algorithm = static_cast<checksum::Algorithm>(info[0].As<Napi::Number>().Int32Value());
  auto path = static_cast<checksum::Path>(info[1].As<Napi::Number>().Int32Value());
  const uint8_t* bytes = nullptr;
  size_t length = 0;
  if (!viewBytes(env, info[2], &bytes, &length)) return Napi::Value(env, throwChecksumArguments(env));
  bool wide = algorithm == checksum::Algorithm::kCrc64Nvme;
  bool lossless = false;
  uint64_t seed = wide ? info[3].As<Napi::BigInt>().Uint64Value(&lossless) : info[3].As<Napi::Number>().Uint32Value();
  uint64_t result = 0;
  if (!checksum::computeByPath(algorithm, path, bytes, length, seed, &result)) return env.Null();
  if (wide) return Napi::BigInt::New(env, result);
  return Napi::Number::New(env, static_cast<double>(result));
}

// ---- Protection information -------------------------------------------------
// lib/integrity.ts has checked every argument: sizes are whole intervals and
// the tuple buffer fits.

// (format, interval, trailer, refTag, appTag) starting at info[first]
integrity::Profile profileFrom(const Napi::CallbackInfo& info, size_t first) {
  integrity::Profile profile;
  profile.format = static_cast<integrity::Format>(info[first].As<Napi::Number>().Uint32Value());
  profile.interval = info[first + 1].As<Napi::Number>().Uint32Value();
  profile.trailer = info[first + 2].As<Napi::Boolean>().Value();
  profile.firstReferenceTag = static_cast<uint64_t>(info[first + 3].As<Napi::Number>().Int64Value());
  profile.applicationTag = static_cast<uint16_t>(info[first + 4].As<Napi::Number>().Uint32Value());
  return profile;
}

const char* faultKindName(integrity::FaultKind kind) {
  switch (kind) {
    case integrity::FaultKind::kGuard:
      return "guard";
    case integrity::FaultKind::kReference:
      return "reference";
    case integrity::FaultKind::kApplication:
      return "application";
  }
  return "guard";
}

// [{ kind, interval, expected, actual }]; an nvme64 guard's values are bigints.
Napi::Array faultsToJs(Napi::Env env, integrity::Format format, const std::vector<integrity::Fault>& faults) {
  Napi::Array array = Napi::Array::New(env, faults.size());
  for (size_t i = 0; i < faults.size(); ++i) {
    const integrity::Fault& fault = faults[i];
    const bool wide = format == integrity::Format::kNvme64 && fault.kind == integrity::FaultKind::kGuard;
    auto value = [&](uint64_t v) -> Napi::Value {
      if (wide) return Napi::BigInt::New(env, v);
      return Napi::Number::New(env, static_cast<double>(v));
    };
    Napi::Object object = Napi::Object::New(env);
    object.Set("kind", faultKindName(fault.kind));
    object.Set("interval", Napi::Number::New(env, static_cast<double>(fault.interval)));
    object.Set("expected", value(fault.expected));
    object.Set("actual", value(fault.actual));
    array.Set(i, object);
  }
  return array;
}

uint8_t* mutableBytes(napi_env env, napi_value value, size_t* length) {
  const uint8_t* bytes = nullptr;
  if (!viewBytes(env, value, &bytes, length)) *length = 0;
  return const_cast<uint8_t*>(bytes);
}

// (data, pi | undefined, format, interval, trailer, refTag, appTag) -> undefined
Napi::Value GenerateProtection(const Napi::CallbackInfo& info) {
  const integrity::Profile profile = profileFrom(info, 2);
  size_t dataLength = 0;
  size_t tupleLength = 0;
  uint8_t* data = mutableBytes(info.Env(), info[0], &dataLength);
  uint8_t* tuples = profile.trailer ? nullptr : mutableBytes(info.Env(), info[1], &tupleLength);
  integrity::generate(profile, data, dataLength / profile.interval, tuples);
  return info.Env().Undefined();
}

// (data, pi | undefined, format, interval, trailer, refTag, appTag) -> null | faults
Napi::Value VerifyProtection(const Napi::CallbackInfo& info) {
  const integrity::Profile profile = profileFrom(info, 2);
  size_t dataLength = 0;
  size_t tupleLength = 0;
  const uint8_t* data = mutableBytes(info.Env(), info[0], &dataLength);
  const uint8_t* tuples = profile.trailer ? nullptr : mutableBytes(info.Env(), info[1], &tupleLength);
  std::vector<integrity::Fault> faults;
  if (integrity::verify(profile, data, dataLength / profile.interval, tuples, &faults)) return info.Env().Null();
  return faultsToJs(info.Env(), profile.format, faults);
}

// (fd) -> { errno, flags, interval, size, opaqueSize, opaqueOffset, piSize, piOffset,
//           guardTagType, appTagSize, refTagSize, storageTagSize }
Napi::Value QueryIntegrity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  integrity::LogicalBlockMetadataCap cap;
  const int result = integrity::queryMetadataCap(info[0].As<Napi::Number>().Int32Value(), &cap);
  Napi::Object object = Napi::Object::New(env);
  object.Set("errno", -result);
  object.Set("flags", cap.flags);
  object.Set("interval", cap.interval);
  object.Set("size", cap.size);
  object.Set("opaqueSize", cap.opaqueSize);
  object.Set("opaqueOffset", cap.opaqueOffset);
  object.Set("piSize", cap.piSize);
  object.Set("piOffset", cap.piOffset);
  object.Set("guardTagType", cap.guardTagType);
  object.Set("appTagSize", cap.appTagSize);
  object.Set("refTagSize", cap.refTagSize);
  object.Set("storageTagSize", cap.storageTagSize);
  return object;
}

// () -> { errno, rwAttributes }: whether io_uring here takes read/write attributes (IORING_FEAT_RW_ATTR)
Napi::Value QueryUringAttributes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t features = 0;
  const int result = integrity::queryUringFeatures(&features);
  Napi::Object object = Napi::Object::New(env);
  object.Set("errno", -result);
  object.Set("rwAttributes", result == 0 && (features & integrity::kFeatRwAttr) != 0);
  return object;
}

void exportChecksums(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, napi_callback> functions[] = {
      {"crc16t10dif", Crc16T10Dif}, {"crc32c", Crc32C}, {"crc64nvme", Crc64Nvme},
      {"frameLogRecords", FrameLogRecords}};
  for (const auto& [name, callback] : functions) {
    napi_value function;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &function);
    exports.Set(name, Napi::Value(env, function));
  }
  exports.Set("checksumByPath", Napi::Function::New(env, ChecksumByPath));
  Napi::Object hardware = Napi::Object::New(env);
  hardware.Set("crc16t10dif", checksum::hardwareAvailable(checksum::Algorithm::kCrc16T10Dif));
  hardware.Set("crc32c", checksum::hardwareAvailable(checksum::Algorithm::kCrc32C));
  hardware.Set("crc64nvme", checksum::hardwareAvailable(checksum::Algorithm::kCrc64Nvme));
  exports.Set("checksumHardware", hardware);
}

// fallocate can take long (a file system zeroing or mapping extents), so it
// runs on libuv's thread pool, as Node's own fs calls do.
class AllocateWork : public Napi::AsyncWorker {
 public:
  AllocateWork(Napi::Function callback, int fd, bool keepSize, uint64_t offset, uint64_t length)
      : Napi::AsyncWorker(callback, "aioring:allocate"), fd_(fd), keepSize_(keepSize), offset_(offset), length_(length) {}

  void Execute() override { error_ = allocateSpace(fd_, keepSize_, offset_, length_); }

  void OnOK() override { Callback().Call({Napi::Number::New(Env(), error_)}); }

 private:
  int fd_;
  bool keepSize_;
  uint64_t offset_;
  uint64_t length_;
  int error_ = 0;
};

// (fd, keepSize, offset, length, done(errno))
Napi::Value Allocate(const Napi::CallbackInfo& info) {
  auto* work = new AllocateWork(info[4].As<Napi::Function>(), info[0].As<Napi::Number>().Int32Value(),
                                info[1].As<Napi::Boolean>().Value(),
                                static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value()),
                                static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value()));
  work->Queue();
  return info.Env().Undefined();
}

// lockLog(fd) -> 0, EAGAIN (another open file holds the log), or the errno;
// unlockLog(fd) -> 0 or the errno; logLockHolder(fd) -> the holding process's
// pid, 0 (none, or this process), or -errno. See log/file_lock.h.
Napi::Value LockLog(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), logformat::lockExclusive(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value UnlockLog(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), logformat::unlock(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value LogLockHolder(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), logformat::lockHolder(info[0].As<Napi::Number>().Int32Value()));
}

// contract.h's values, with engine.h's op codes and flags and probe.h's engine
// names, for test/25.contract.test.ts to hold lib/native-contract.ts to.
Napi::Object contractObject(Napi::Env env) {
  Napi::Object contract = Napi::Object::New(env);
  Napi::Array engineNames = Napi::Array::New(env);
  for (const EngineKindName& engine : kEngineKindNames) engineNames.Set(engineNames.Length(), engine.name);
  contract.Set("engineNames", engineNames);
  Napi::Object opCodes = Napi::Object::New(env);
  opCodes.Set("read", static_cast<uint32_t>(OpCode::kRead));
  opCodes.Set("write", static_cast<uint32_t>(OpCode::kWrite));
  opCodes.Set("readv", static_cast<uint32_t>(OpCode::kReadv));
  opCodes.Set("writev", static_cast<uint32_t>(OpCode::kWritev));
  opCodes.Set("fsync", static_cast<uint32_t>(OpCode::kFsync));
  opCodes.Set("fdatasync", static_cast<uint32_t>(OpCode::kFdatasync));
  contract.Set("opCodes", opCodes);
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("dsync", kFlagDsync);
  flags.Set("atomic", kFlagAtomic);
  flags.Set("linkNext", kFlagLinkNext);
  flags.Set("syncNext", kFlagSyncNext);
  flags.Set("protectionTuples", kFlagProtectionTuples);
  contract.Set("flags", flags);
  contract.Set("recordBytes", kRecordBytes);
  Napi::Object offsets = Napi::Object::New(env);
  offsets.Set("slot", static_cast<uint32_t>(offsetof(SubmissionRecord, slot)));
  offsets.Set("fd", static_cast<uint32_t>(offsetof(SubmissionRecord, fd)));
  offsets.Set("op", static_cast<uint32_t>(offsetof(SubmissionRecord, op)));
  offsets.Set("flags", static_cast<uint32_t>(offsetof(SubmissionRecord, flags)));
  offsets.Set("length", static_cast<uint32_t>(offsetof(SubmissionRecord, length)));
  offsets.Set("memAlign", static_cast<uint32_t>(offsetof(SubmissionRecord, memAlign)));
  offsets.Set("status", static_cast<uint32_t>(offsetof(SubmissionRecord, status)));
  offsets.Set("deadlineInKernel", static_cast<uint32_t>(offsetof(SubmissionRecord, deadlineInKernel)));
  offsets.Set("position", static_cast<uint32_t>(offsetof(SubmissionRecord, position)));
  offsets.Set("deadline", static_cast<uint32_t>(offsetof(SubmissionRecord, deadline)));
  contract.Set("recordOffsets", offsets);
  Napi::Object statuses = Napi::Object::New(env);
  statuses.Set("ok", static_cast<int32_t>(kStatusOk));
  statuses.Set("misaligned", static_cast<int32_t>(kStatusMisaligned));
  statuses.Set("tooSmall", static_cast<int32_t>(kStatusTooSmall));
  statuses.Set("notStarted", static_cast<int32_t>(kStatusNotStarted));
  contract.Set("recordStatuses", statuses);
  contract.Set("completionBytes", kCompletionBytes);
  Napi::Object completionOffsets = Napi::Object::New(env);
  completionOffsets.Set("slot", static_cast<uint32_t>(offsetof(CompletionRecord, slot)));
  completionOffsets.Set("result", static_cast<uint32_t>(offsetof(CompletionRecord, result)));
  completionOffsets.Set("latencyNs", static_cast<uint32_t>(offsetof(CompletionRecord, latencyNs)));
  contract.Set("completionOffsets", completionOffsets);
  Napi::Object answers = Napi::Object::New(env);
  answers.Set("closed", kSubmitClosed);
  answers.Set("forked", kSubmitForked);
  contract.Set("submitAnswers", answers);
  Napi::Object completionResults = Napi::Object::New(env);
  completionResults.Set("integrityFault", kCompletionIntegrityFault);
  completionResults.Set("deadlinePassed", kCompletionDeadlinePassed);
  contract.Set("completionResults", completionResults);
  Napi::Object cancelOutcomes = Napi::Object::New(env);
  cancelOutcomes.Set("notAsked", static_cast<int32_t>(CancelOutcome::kNotAsked));
  cancelOutcomes.Set("asked", static_cast<int32_t>(CancelOutcome::kAsked));
  cancelOutcomes.Set("refused", static_cast<int32_t>(CancelOutcome::kRefused));
  cancelOutcomes.Set("askLater", static_cast<int32_t>(CancelOutcome::kAskLater));
  contract.Set("cancelOutcomes", cancelOutcomes);
  Napi::Object algorithms = Napi::Object::New(env);
  algorithms.Set("crc16t10dif", static_cast<uint32_t>(checksum::Algorithm::kCrc16T10Dif));
  algorithms.Set("crc32c", static_cast<uint32_t>(checksum::Algorithm::kCrc32C));
  algorithms.Set("crc64nvme", static_cast<uint32_t>(checksum::Algorithm::kCrc64Nvme));
  contract.Set("checksumAlgorithms", algorithms);
  Napi::Object paths = Napi::Object::New(env);
  paths.Set("best", static_cast<uint32_t>(checksum::Path::kBest));
  paths.Set("table", static_cast<uint32_t>(checksum::Path::kTable));
  paths.Set("hardware", static_cast<uint32_t>(checksum::Path::kHardware));
  contract.Set("checksumPaths", paths);
  Napi::Object formats = Napi::Object::New(env);
  Napi::Object tuples = Napi::Object::New(env);
  for (auto [name, format] : {std::pair{"t10dif", integrity::Format::kT10Dif}, std::pair{"nvme64", integrity::Format::kNvme64}}) {
    formats.Set(name, static_cast<uint32_t>(format));
    tuples.Set(name, static_cast<uint32_t>(integrity::tupleBytes(format)));
  }
  contract.Set("protectionFormats", formats);
  contract.Set("tupleBytes", tuples);
  return contract;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static pthread_once_t registerForkHandler = PTHREAD_ONCE_INIT;
  pthread_once(&registerForkHandler, [] { pthread_atfork(nullptr, nullptr, countFork); });
  auto* data = new AddonData();
  data->bindingConstructor = Napi::Persistent(EngineBinding::Define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("openEngine", Napi::Function::New(env, OpenEngine));
  exports.Set("probeEngine", Napi::Function::New(env, ProbeEngine));
  exports.Set("describeFd", Napi::Function::New(env, DescribeFd));
  exports.Set("pageCacheClean", Napi::Function::New(env, PageCacheClean));
  exports.Set("allocAligned", Napi::Function::New(env, AllocAligned));
  exports.Set("attachLoopDevice", Napi::Function::New(env, AttachLoopDevice));
  exports.Set("setBlockDeviceReadOnly", Napi::Function::New(env, SetBlockDeviceReadOnly));
  exports.Set("allocate", Napi::Function::New(env, Allocate));
  exports.Set("lockLog", Napi::Function::New(env, LockLog));
  exports.Set("unlockLog", Napi::Function::New(env, UnlockLog));
  exports.Set("logLockHolder", Napi::Function::New(env, LogLockHolder));
  exports.Set("contract", contractObject(env));
  exportChecksums(env, exports);
  exports.Set("generateProtection", Napi::Function::New(env, GenerateProtection));
  exports.Set("verifyProtection", Napi::Function::New(env, VerifyProtection));
  exports.Set("queryIntegrity", Napi::Function::New(env, QueryIntegrity));
  exports.Set("queryUringAttributes", Napi::Function::New(env, QueryUringAttributes));
  return exports;
}

}  // namespace
}  // namespace aioring

static Napi::Object InitAioring(Napi::Env env, Napi::Object exports) {
  return aioring::Init(env, exports);
}

NODE_API_MODULE(aioring, InitAioring)
