// Standalone checks of every I/O engine (Linux AIO, io_uring, thread pool)
// against a real O_DIRECT file, without Node, built through the factory the
// addon uses (createEngine in native/probe.h). Meant to run under AddressSanitizer
// and UndefinedBehaviorSanitizer (scripts/sanitize.sh), but useful plain too.
//
// Exit status: 0 every check passed on every engine that could run, 1 a check
// failed, 77 no engine could run here. An engine the kernel refuses is skipped
// with its refusal printed. Build from the repo root with cmake (target
// engine_check), or by hand (one command):
//   g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-exceptions -Wall -Wextra -Inative
//       test/native/engine_check.cc native/{aio,pool}_engine.cc native/uring_{setup,register,submit,reap}.cc
//       native/{delivery,adaptive_poll,probe,huge_pages}.cc native/integrity/*.cc native/checksum/*.cc native/log/*.cc -lpthread -o /tmp/engine_check
// Options: --engine NAME (libaio, io_uring, threadpool; repeatable), --dir DIR
// (where the scratch file goes; default $TMPDIR or /tmp; must allow O_DIRECT).
//
// What every engine must do (engine.h): take up to what it has room for and
// say how many it took; produce exactly one completion per consumed request,
// including ones the kernel refused at submission (as -errno); wake the owner
// through notifyFd(); keep completions for reap() across waitIdle(); and, when
// destroyed, wait for everything still in flight before releasing anything.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <linux/io_uring.h>

#include "adaptive_poll.h"
#include "checksum/checksum.h"
#include "delivery.h"
#include "engine.h"
#include "event_notifier.h"
#include "fixed_buffer_index.h"
#include "huge_pages.h"
#include "log/file_lock.h"
#include "log/frame.h"
#include "probe.h"
#include "uring_engine.h"

namespace {

using aioring::Completion;
using aioring::Engine;
using aioring::EngineKind;
using aioring::EngineRefusal;
using aioring::OpCode;
using aioring::Request;

constexpr uint32_t kDepth = 8;
constexpr uint32_t kBlock = 4096;
constexpr uint32_t kBlocks = 64;
constexpr int kPollTimeoutMs = 5000;
constexpr int32_t kNoResult = INT32_MIN;

int failures = 0;
const char* currentEngine = "";

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      ++failures;                                                             \
      std::fprintf(stderr, "FAIL [%s] %s:%d: ", currentEngine, __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                                      \
      std::fputc('\n', stderr);                                               \
    }                                                                         \
  } while (0)

struct Counters {
  uint64_t requests = 0;
  uint64_t wakeups = 0;
};
Counters counters;

uint8_t* allocBlocks(uint32_t blocks) {
  void* p = nullptr;
  if (posix_memalign(&p, 4096, size_t(blocks) * kBlock) != 0) {
    std::fprintf(stderr, "posix_memalign failed\n");
    std::exit(1);
  }
  std::memset(p, 0, size_t(blocks) * kBlock);
  return static_cast<uint8_t*>(p);
}

// Every block gets its own byte sequence (per generation, so rewrites differ),
// so a block landing at the wrong offset or in the wrong buffer shows up.
void fillBlock(uint8_t* dst, uint32_t block, uint32_t generation = 0) {
  uint64_t x = 0x9E3779B97F4A7C15ull * (block + 1) + 0xD1B54A32D192ED03ull * generation;
  for (uint32_t i = 0; i < kBlock; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    dst[i] = uint8_t(x);
  }
}

bool blockMatches(const uint8_t* got, uint32_t block, uint32_t generation = 0) {
  uint8_t want[kBlock];
  fillBlock(want, block, generation);
  return std::memcmp(got, want, kBlock) == 0;
}

Request requestAt(OpCode op, int fd, uint64_t offset, uint32_t flags) {
  Request r{};
  r.fd = fd;
  r.op = op;
  r.flags = flags;
  r.offset = int64_t(offset);
  return r;
}

Request rw(OpCode op, int fd, uint64_t offset, void* buf, uint32_t len, uint32_t flags = 0) {
  Request r = requestAt(op, fd, offset, flags);
  r.buf = buf;
  r.len = len;
  return r;
}

Request vec(OpCode op, int fd, uint64_t offset, const iovec* iov, uint32_t iovcnt, uint32_t flags = 0) {
  Request r = requestAt(op, fd, offset, flags);
  r.iov = iov;
  r.iovcnt = iovcnt;
  return r;
}

Request syncRequest(OpCode op, int fd) { return requestAt(op, fd, 0, 0); }

// Drives requests through the engine the way the addon's event loop does:
// submit what it takes, poll the eventfd, reap until empty, drain, reap again,
// resubmit the rest. Slots are indexes into `reqs`; returns each slot's result.
std::vector<int32_t> runAll(Engine& engine, std::vector<Request> reqs, uint32_t reapBatch) {
  for (uint32_t i = 0; i < reqs.size(); ++i) reqs[i].slot = i;
  std::vector<int32_t> results(reqs.size(), kNoResult);
  std::vector<Completion> batch(reapBatch);
  size_t next = 0;
  size_t done = 0;
  while (done < reqs.size()) {
    if (next < reqs.size()) {
      const uint32_t took = engine.submit(&reqs[next], uint32_t(reqs.size() - next));
      if (took == 0 && engine.inFlight() == 0) {
        CHECK(false, "submit took nothing with nothing in flight (%zu of %zu submitted)", next, reqs.size());
        return results;
      }
      next += took;
    }
    CHECK(engine.inFlight() <= 4 * kDepth, "%u in flight on a depth-%u engine", engine.inFlight(), kDepth);

    pollfd pfd{engine.notifyFd(), POLLIN, 0};
    const int ready = poll(&pfd, 1, kPollTimeoutMs);
    if (ready <= 0) {
      CHECK(false, "no eventfd notification within %d ms with %u in flight (poll returned %d)", kPollTimeoutMs,
            engine.inFlight(), ready);
      return results;
    }
    ++counters.wakeups;
    // Reap until empty, clear the eventfd, reap once more: engine.h's contract,
    // and the addon's order. A completion whose signal the clearing swallowed
    // would leave the next poll() to time out.
    auto reapUntilEmpty = [&] {
      uint32_t got;
      while ((got = engine.reap(batch.data(), reapBatch)) > 0) {
        for (uint32_t i = 0; i < got; ++i) {
          const Completion& c = batch[i];
          if (c.slot >= results.size() || results[c.slot] != kNoResult) {
            CHECK(false, "completion for unknown or already completed slot %u", c.slot);
            continue;
          }
          results[c.slot] = c.result;
          ++done;
        }
      }
    };
    reapUntilEmpty();
    engine.drainNotifications();
    reapUntilEmpty();
  }
  CHECK(engine.inFlight() == 0, "%u still in flight after every request completed", engine.inFlight());
  counters.requests += reqs.size();
  return results;
}

void checkResults(const char* what, const std::vector<int32_t>& results, const std::vector<int32_t>& expected) {
  for (size_t i = 0; i < results.size(); ++i) {
    CHECK(results[i] == expected[i], "%s: request %zu returned %d, expected %d", what, i, results[i], expected[i]);
  }
}

// Writes every block (plain writes, every third with RWF_DSYNC, and writev
// pairs, some with RWF_DSYNC), syncs both ways, reads them all back with read
// and readv pairs into fresh buffers: more requests than the depth each time.
void checkWriteSyncRead(Engine& engine, int fd, uint8_t* data, uint32_t generation) {
  for (uint32_t b = 0; b < kBlocks; ++b) fillBlock(data + size_t(b) * kBlock, b, generation);

  constexpr uint32_t kPlain = 48;
  std::vector<Request> writes;
  std::vector<int32_t> expected;
  for (uint32_t b = 0; b < kPlain; ++b) {
    const uint32_t flags = b % 3 == 0 ? aioring::kFlagDsync : 0;
    writes.push_back(rw(OpCode::kWrite, fd, uint64_t(b) * kBlock, data + size_t(b) * kBlock, kBlock, flags));
    expected.push_back(kBlock);
  }
  iovec writeIov[kBlocks];
  for (uint32_t b = kPlain; b < kBlocks; b += 2) {
    writeIov[b] = {data + size_t(b) * kBlock, kBlock};
    writeIov[b + 1] = {data + size_t(b + 1) * kBlock, kBlock};
    const uint32_t flags = b % 4 == 0 ? aioring::kFlagDsync : 0;
    writes.push_back(vec(OpCode::kWritev, fd, uint64_t(b) * kBlock, &writeIov[b], 2, flags));
    expected.push_back(2 * kBlock);
  }
  checkResults("write", runAll(engine, writes, 5), expected);

  const std::vector<Request> syncs = {syncRequest(OpCode::kFdatasync, fd), syncRequest(OpCode::kFsync, fd)};
  checkResults("fdatasync+fsync", runAll(engine, syncs, 4), {0, 0});

  // What the kernel has must match too, read past every engine.
  uint8_t* direct = allocBlocks(kBlocks);
  const ssize_t got = pread(fd, direct, size_t(kBlocks) * kBlock, 0);
  CHECK(got == ssize_t(kBlocks) * kBlock, "pread of the written file returned %zd", got);
  for (uint32_t b = 0; got == ssize_t(kBlocks) * kBlock && b < kBlocks; ++b) {
    CHECK(blockMatches(direct + size_t(b) * kBlock, b, generation), "block %u on disk differs from what was written", b);
  }
  free(direct);

  uint8_t* back = allocBlocks(kBlocks);
  constexpr uint32_t kSingle = 32;
  std::vector<Request> reads;
  expected.clear();
  for (uint32_t b = 0; b < kSingle; ++b) {
    reads.push_back(rw(OpCode::kRead, fd, uint64_t(b) * kBlock, back + size_t(b) * kBlock, kBlock));
    expected.push_back(kBlock);
  }
  iovec readIov[kBlocks];
  for (uint32_t b = kSingle; b < kBlocks; b += 2) {
    readIov[b] = {back + size_t(b) * kBlock, kBlock};
    readIov[b + 1] = {back + size_t(b + 1) * kBlock, kBlock};
    reads.push_back(vec(OpCode::kReadv, fd, uint64_t(b) * kBlock, &readIov[b], 2));
    expected.push_back(2 * kBlock);
  }
  checkResults("read", runAll(engine, reads, 3), expected);
  for (uint32_t b = 0; b < kBlocks; ++b) {
    CHECK(blockMatches(back + size_t(b) * kBlock, b, generation), "block %u read back differs from what was written", b);
  }
  free(back);
}

// Many more requests than the depth, reaped one at a time: every request has
// its own buffer and block, so a completion matched to the wrong slot shows.
void checkManyMoreThanDepth(Engine& engine, int fd, uint32_t generation) {
  constexpr uint32_t kCount = 50 * kDepth;
  uint8_t* buf = allocBlocks(kCount);
  std::vector<Request> reads;
  std::vector<int32_t> expected;
  for (uint32_t i = 0; i < kCount; ++i) {
    const uint32_t b = (i * 7) % kBlocks;
    reads.push_back(rw(OpCode::kRead, fd, uint64_t(b) * kBlock, buf + size_t(i) * kBlock, kBlock));
    expected.push_back(kBlock);
  }
  checkResults("many reads", runAll(engine, reads, 1), expected);
  for (uint32_t i = 0; i < kCount; ++i) {
    CHECK(blockMatches(buf + size_t(i) * kBlock, (i * 7) % kBlocks, generation), "read %u got another block's data", i);
  }
  free(buf);
}

// Reads at and across the end of the file: 0 bytes at it, the remainder across
// it. The buffer spans the full length: the kernel may write past the bytes it
// reports (ext4 zero-fills up to the block).
void checkEndOfFile(Engine& engine, int fd, uint32_t generation) {
  uint8_t* buf = allocBlocks(3);
  const uint64_t end = uint64_t(kBlocks) * kBlock;
  const auto results = runAll(engine,
                              {rw(OpCode::kRead, fd, end, buf, kBlock),
                               rw(OpCode::kRead, fd, end - kBlock, buf + kBlock, 2 * kBlock),
                               rw(OpCode::kRead, fd, end + 100 * kBlock, buf, kBlock)},
                              8);
  checkResults("read at/over end of file", results, {0, int32_t(kBlock), 0});
  CHECK(blockMatches(buf + kBlock, kBlocks - 1, generation), "short read of the last block returned the wrong bytes");
  free(buf);
}

// A bad descriptor in the middle of a batch fails alone, as a completion, for
// every kind of request.
void checkBadFd(Engine& engine, int fd, uint32_t generation) {
  const int closedFd = dup(fd);
  close(closedFd);
  uint8_t* buf = allocBlocks(4);
  iovec iov{buf + 3 * kBlock, kBlock};
  const auto results = runAll(engine,
                              {rw(OpCode::kRead, fd, 0, buf, kBlock),
                               rw(OpCode::kRead, closedFd, 0, buf + kBlock, kBlock),
                               rw(OpCode::kWrite, closedFd, 0, buf + kBlock, kBlock),
                               vec(OpCode::kReadv, closedFd, 0, &iov, 1),
                               syncRequest(OpCode::kFsync, closedFd),
                               syncRequest(OpCode::kFdatasync, closedFd),
                               rw(OpCode::kRead, fd, kBlock, buf + 2 * kBlock, kBlock)},
                              8);
  checkResults("bad fd batch", results, {int32_t(kBlock), -EBADF, -EBADF, -EBADF, -EBADF, -EBADF, int32_t(kBlock)});
  CHECK(blockMatches(buf, 0, generation) && blockMatches(buf + 2 * kBlock, 1, generation),
        "reads around the bad fd returned wrong bytes");
  free(buf);
}

// A write to a read-only descriptor fails with EBADF as a completion as well.
void checkReadOnlyWrite(Engine& engine, const std::string& path) {
  const int readOnly = open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  CHECK(readOnly >= 0, "could not reopen the scratch file read-only: %s", std::strerror(errno));
  if (readOnly < 0) return;
  uint8_t* buf = allocBlocks(1);
  checkResults("write to a read-only fd", runAll(engine, {rw(OpCode::kWrite, readOnly, 0, buf, kBlock)}, 1), {-EBADF});
  free(buf);
  close(readOnly);
}

// An opcode outside the enum (corrupt input) must fail alone with -EINVAL
// rather than run as something else or report success.
void checkInvalidOpcode(Engine& engine, int fd, uint32_t generation) {
  uint8_t* buf = allocBlocks(3);
  Request bogus = rw(OpCode::kRead, fd, 0, buf + kBlock, kBlock);
  bogus.op = static_cast<OpCode>(200);
  const auto results = runAll(engine,
                              {rw(OpCode::kRead, fd, 0, buf, kBlock), bogus,
                               rw(OpCode::kRead, fd, 2 * kBlock, buf + 2 * kBlock, kBlock)},
                              8);
  checkResults("invalid opcode batch", results, {int32_t(kBlock), -EINVAL, int32_t(kBlock)});
  CHECK(blockMatches(buf, 0, generation) && blockMatches(buf + 2 * kBlock, 2, generation),
        "reads around the invalid opcode returned wrong bytes");
  free(buf);
}

// Offers a read of every block (slot = block) four times over without reaping,
// so the engine takes all it can hold; returns how many it took.
uint32_t submitReadsWithoutReaping(Engine& engine, int fd, uint8_t* buf) {
  std::vector<Request> reads;
  for (uint32_t b = 0; b < kBlocks; ++b) {
    reads.push_back(rw(OpCode::kRead, fd, uint64_t(b) * kBlock, buf + size_t(b) * kBlock, kBlock));
    reads.back().slot = b;
  }
  uint32_t taken = 0;
  for (int attempt = 0; attempt < 4; ++attempt) taken += engine.submit(&reads[taken], kBlocks - taken);
  return taken;
}

// Without reaping, the engine stops taking requests once it is full (at least
// the depth, and never more than its completion queue can hold); waitIdle then
// leaves every completion for reap(), which needs no system call to get them.
// io_uring's one exception: the kernel can leave IORING_SQ_TASKRUN raised after
// the run that waitIdle caused, and reap() enters once per call while it is up
// (uring_reap.cc says why it must); the completions are in the ring all the same.
void checkFullWaitIdleReap(Engine& engine, int fd, uint32_t generation) {
  uint8_t* buf = allocBlocks(kBlocks);
  const uint32_t taken = submitReadsWithoutReaping(engine, fd, buf);
  CHECK(taken >= kDepth && taken <= 4 * kDepth, "without reaping, a depth-%u engine took %u requests", kDepth, taken);
  CHECK(engine.inFlight() == taken, "inFlight is %u after taking %u", engine.inFlight(), taken);

  engine.waitIdle();
  CHECK(engine.inFlight() == taken, "waitIdle changed inFlight from %u to %u", taken, engine.inFlight());
  CHECK(engine.completionsWaiting(), "completionsWaiting() is false with %u finished requests unreaped", taken);
  const uint64_t syscallsBefore = engine.syscalls();
  const bool uring = std::strcmp(engine.name(), "io_uring") == 0;
  Completion out[kBlocks];
  uint32_t got = 0;
  uint32_t reaps = 1;
  for (uint32_t n; (n = engine.reap(out + got, kBlocks - got)) > 0; ++reaps) got += n;
  CHECK(got == taken, "after waitIdle reap returned %u completions, expected %u", got, taken);
  const uint64_t allowed = uring ? reaps : 0;
  CHECK(engine.syscalls() - syscallsBefore <= allowed,
        "reaping after waitIdle made %llu system calls in %u reaps, expected at most %llu",
        (unsigned long long)(engine.syscalls() - syscallsBefore), reaps, (unsigned long long)allowed);
  std::vector<bool> seen(kBlocks, false);
  for (uint32_t i = 0; i < got; ++i) {
    CHECK(out[i].slot < taken && !seen[out[i].slot], "unexpected or repeated slot %u after waitIdle", out[i].slot);
    if (out[i].slot < taken) seen[out[i].slot] = true;
    CHECK(out[i].result == int32_t(kBlock), "read of block %u returned %d", out[i].slot, out[i].result);
    CHECK(out[i].slot < taken && blockMatches(buf + size_t(out[i].slot) * kBlock, out[i].slot, generation),
          "block %u read after waitIdle differs", out[i].slot);
  }
  CHECK(engine.inFlight() == 0, "%u in flight after reaping everything", engine.inFlight());
  CHECK(engine.reap(out, kBlocks) == 0, "reap found completions with nothing in flight");
  CHECK(engine.readyCount() == 0, "readyCount() is %u with nothing in flight", engine.readyCount());
  CHECK(uring || !engine.completionsWaiting(), "completionsWaiting() is true with nothing in flight");
  engine.waitIdle();  // with nothing in flight: returns at once
  counters.requests += taken;
  // A notification may still be pending for completions reaped above; the next
  // runAll must not depend on it, so clear it.
  engine.drainNotifications();
  free(buf);
}

// Destroying an engine with requests in flight must wait for them: the data
// is in the buffers the moment the destructor returns (and no completion
// arrives later into freed memory, which ASan would see).
// The first `blocks` blocks of the file hold their pattern: the writes were
// complete when the engine's destructor returned.
void checkWrittenOnReturn(int fd, uint32_t blocks, uint32_t generation, const char* what) {
  uint8_t* check = allocBlocks(kDepth);
  const ssize_t got = pread(fd, check, size_t(kDepth) * kBlock, 0);
  CHECK(got == ssize_t(kDepth) * kBlock, "pread after the destructor returned %zd", got);
  for (uint32_t b = 0; b < blocks; ++b) {
    CHECK(blockMatches(check + size_t(b) * kBlock, b, generation), "%s %u not written when the destructor returned", what, b);
  }
  free(check);
}

void checkDestructorWaits(EngineKind kind, int fd, uint32_t generation, bool writes) {
  EngineRefusal refusal;
  std::unique_ptr<Engine> engine = aioring::createEngine(kind, kDepth, &refusal);
  CHECK(engine != nullptr, "second engine refused: %s", refusal.reason.c_str());
  if (!engine) return;
  uint8_t* buf = allocBlocks(kDepth);
  std::vector<Request> reqs;
  for (uint32_t b = 0; b < kDepth; ++b) {
    if (writes) {
      fillBlock(buf + size_t(b) * kBlock, b, generation);
      reqs.push_back(rw(OpCode::kWrite, fd, uint64_t(b) * kBlock, buf + size_t(b) * kBlock, kBlock));
    } else {
      reqs.push_back(rw(OpCode::kRead, fd, uint64_t(b) * kBlock, buf + size_t(b) * kBlock, kBlock));
    }
    reqs.back().slot = b;
  }
  const uint32_t taken = engine->submit(reqs.data(), kDepth);
  CHECK(taken == kDepth, "fresh engine took %u of %u requests", taken, kDepth);
  engine.reset();
  if (writes) {
    checkWrittenOnReturn(fd, taken, generation, "block");
  } else {
    for (uint32_t b = 0; b < taken; ++b) {
      CHECK(blockMatches(buf + size_t(b) * kBlock, b, generation), "block %u not read when the destructor returned", b);
    }
  }
  free(buf);
}

// Random mixes of every operation, in batches of random size, reaped in random
// amounts: a workout for the sanitizers more than a data check (which it also does).
void checkRandomMix(Engine& engine, int fd, uint32_t generation) {
  uint64_t x = 0x2545F4914F6CDD1Dull ^ generation;
  auto next = [&x](uint32_t bound) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return uint32_t(x % bound);
  };
  constexpr uint32_t kCount = 2000;
  uint8_t* buf = allocBlocks(kCount);
  std::vector<iovec> iov(kCount);
  std::vector<Request> reqs;
  std::vector<int32_t> expected;
  std::vector<int32_t> readBlock(kCount, -1);
  for (uint32_t i = 0; i < kCount; ++i) {
    const uint32_t b = next(kBlocks);
    uint8_t* mine = buf + size_t(i) * kBlock;
    switch (next(6)) {
      case 0:
        reqs.push_back(rw(OpCode::kRead, fd, uint64_t(b) * kBlock, mine, kBlock));
        readBlock[i] = int32_t(b);
        expected.push_back(kBlock);
        break;
      case 1:
        iov[i] = {mine, kBlock};
        reqs.push_back(vec(OpCode::kReadv, fd, uint64_t(b) * kBlock, &iov[i], 1));
        readBlock[i] = int32_t(b);
        expected.push_back(kBlock);
        break;
      case 2:  // rewrites a block with the same bytes, so concurrent reads stay checkable
        fillBlock(mine, b, generation);
        reqs.push_back(rw(OpCode::kWrite, fd, uint64_t(b) * kBlock, mine, kBlock, next(2) ? aioring::kFlagDsync : 0));
        expected.push_back(kBlock);
        break;
      case 3:
        fillBlock(mine, b, generation);
        iov[i] = {mine, kBlock};
        reqs.push_back(vec(OpCode::kWritev, fd, uint64_t(b) * kBlock, &iov[i], 1));
        expected.push_back(kBlock);
        break;
      case 4:
        reqs.push_back(syncRequest(next(2) ? OpCode::kFsync : OpCode::kFdatasync, fd));
        expected.push_back(0);
        break;
      default:
        reqs.push_back(rw(OpCode::kRead, fd, uint64_t(kBlocks + next(8)) * kBlock, mine, kBlock));
        expected.push_back(0);  // past the end of the file
        break;
    }
  }
  checkResults("random mix", runAll(engine, reqs, 1 + next(3 * kDepth)), expected);
  for (uint32_t i = 0; i < kCount; ++i) {
    if (readBlock[i] >= 0) {
      CHECK(blockMatches(buf + size_t(i) * kBlock, uint32_t(readBlock[i]), generation), "random mix: read %u of block %d differs", i,
            readBlock[i]);
    }
  }
  free(buf);
}

void checkDepthValidation(EngineKind kind) {
  EngineRefusal refusal;
  const bool refused = aioring::createEngine(kind, 0, &refusal) == nullptr;
  CHECK(refused && refusal.error != 0, "depth 0: expected a refusal, got %s (error %d)", refused ? "a refusal" : "an engine",
        refusal.error);
  if (kind == EngineKind::kIoUring) {
    EngineRefusal tooDeep;
    const bool refusedTooDeep = aioring::createEngine(kind, 16385, &tooDeep) == nullptr;
    CHECK(refusedTooDeep && tooDeep.error == EINVAL, "io_uring depth 16385: expected an EINVAL refusal, got error %d",
          tooDeep.error);
  }
}

// io_uring only: which IORING_SETUP_* flags this kernel accepted, and that the
// engine never takes more requests than its completion queue (twice its
// submission queue, which is twice the rounded-up depth: room for a linked
// timeout per request) can hold, so no completion can overflow.
void checkUringSpecifics(Engine& engine, int fd) {
  const uint32_t flags = static_cast<aioring::UringEngine&>(engine).setupFlags();
  static const struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {
      {1U << 3, "CQSIZE"},         {1U << 7, "SUBMIT_ALL"},    {1U << 8, "COOP_TASKRUN"},
      {1U << 9, "TASKRUN_FLAG"},   {1U << 12, "SINGLE_ISSUER"}, {1U << 13, "DEFER_TASKRUN"},
  };
  std::printf("[io_uring] setup flags accepted: 0x%x =", flags);
  for (const auto& n : kNames) {
    if (flags & n.bit) std::printf(" %s", n.name);
  }
  std::printf("\n");

  uint8_t* buf = allocBlocks(kBlocks);
  const uint32_t taken = submitReadsWithoutReaping(engine, fd, buf);
  CHECK(taken == 4 * kDepth, "without reaping, the engine took %u requests; its CQ holds %u", taken, 4 * kDepth);
  engine.waitIdle();
  Completion out[kBlocks];
  uint32_t got = 0;
  for (uint32_t n; (n = engine.reap(out + got, kBlocks - got)) > 0;) got += n;
  CHECK(got == taken, "reaped %u of %u", got, taken);
  counters.requests += taken;
  engine.drainNotifications();
  free(buf);
}

// The lookup that gives a read or write its registered buffer: inside one
// buffer (whole, or any part of it) it is that buffer's registration index;
// outside every buffer, or straddling two, it is -1.
void checkFixedBufferIndex() {
  // One spare block in front, so "memory before the first buffer" is a valid pointer.
  alignas(4096) static uint8_t block[7 * kBlock];
  uint8_t* const memory = block + kBlock;
  // Registered out of address order, with a gap between the last two.
  const iovec buffers[] = {{memory + 2 * kBlock, 2 * kBlock}, {memory, 2 * kBlock}, {memory + 5 * kBlock, kBlock}};
  aioring::FixedBufferIndex index;
  CHECK(index.find(memory, kBlock) == -1, "an empty index found a buffer");
  index.assign(buffers, 3);
  CHECK(index.find(memory, 2 * kBlock) == 1, "the whole of buffer 1 not found as 1");
  CHECK(index.find(memory + kBlock, kBlock) == 1, "the second half of buffer 1 not found as 1");
  CHECK(index.find(memory + 2 * kBlock, 2 * kBlock) == 0, "the whole of buffer 0 not found as 0");
  CHECK(index.find(memory + 3 * kBlock, 512) == 0, "a piece of buffer 0 not found as 0");
  CHECK(index.find(memory + 5 * kBlock, kBlock) == 2, "buffer 2 not found as 2");
  CHECK(index.find(memory + kBlock, 2 * kBlock) == -1, "a range straddling buffers 1 and 0 was given one");
  CHECK(index.find(memory + 3 * kBlock, 2 * kBlock) == -1, "a range running past buffer 0 was given it");
  CHECK(index.find(memory + 4 * kBlock, kBlock) == -1, "the gap between buffers 0 and 2 was given one");
  CHECK(index.find(memory + 5 * kBlock, kBlock + 1) == -1, "a range running past the last buffer was given it");
  CHECK(index.find(memory + 6 * kBlock, kBlock) == -1, "memory after the last buffer was given one");
  CHECK(index.find(memory - kBlock, kBlock) == -1, "memory before the first buffer was given one");
  index.clear();
  CHECK(index.empty() && index.find(memory, kBlock) == -1, "a cleared index still finds buffers");
}

// The adaptive polling policy (native/adaptive_poll.h), on a made-up clock:
// it spins only with requests in flight whose kind it has learned, only when
// a completion has become likely, never beyond kMaxSpinNs, and never beyond
// its budget; a budget of 0 never spins.
void checkAdaptivePoller() {
  using aioring::AdaptivePoller;
  using aioring::ServiceKind;
  constexpr int64_t us = 1000;
  CHECK(aioring::serviceKindOf(OpCode::kReadv, 0) == ServiceKind::kRead, "readv is not a read");
  CHECK(aioring::serviceKindOf(OpCode::kWritev, 0) == ServiceKind::kWrite, "writev is not a write");
  CHECK(aioring::serviceKindOf(OpCode::kFdatasync, 0) == ServiceKind::kSync, "fdatasync is not a sync");
  CHECK(aioring::serviceKindOf(OpCode::kWrite, aioring::kFlagDsync) == ServiceKind::kSync, "a dsync write is not a sync");
  CHECK(aioring::serviceKindOf(OpCode::kWritev, aioring::kFlagDsync) == ServiceKind::kSync, "a dsync writev is not a sync");

  aioring::ServiceEstimate estimate;
  for (uint32_t i = 0; i + 1 < aioring::ServiceEstimate::kSamplesBeforeUse; ++i) estimate.add(1000 * us);
  CHECK(!estimate.learned(), "an estimate was trusted before %u samples", aioring::ServiceEstimate::kSamplesBeforeUse);
  // Samples spread evenly over 200..400 us, after a wrong start at 1 ms.
  for (int i = 0; i < 20000; ++i) estimate.add((200 + (i * 37) % 201) * us);
  CHECK(estimate.learned(), "an estimate was not trusted after 20000 samples");
  CHECK(estimate.lowNs() > 235 * us && estimate.lowNs() < 265 * us, "the 25th percentile of 200..400 us is %lld ns",
        (long long)estimate.lowNs());
  CHECK(estimate.highNs() > 335 * us && estimate.highNs() < 365 * us, "the 75th percentile of 200..400 us is %lld ns",
        (long long)estimate.highNs());
  // A burst of 32 stalled requests (10 ms each) moves the percentiles by under half.
  const int64_t lowBefore = estimate.lowNs();
  const int64_t highBefore = estimate.highNs();
  for (int i = 0; i < 32; ++i) estimate.add(10'000 * us);
  CHECK(estimate.lowNs() < lowBefore * 3 / 2 && estimate.highNs() < highBefore * 3 / 2,
        "32 stalled samples moved the percentiles from %lld/%lld to %lld/%lld ns", (long long)lowBefore,
        (long long)highBefore, (long long)estimate.lowNs(), (long long)estimate.highNs());

  // Teaches `poller` that reads take 300 us, ending at `now` with nothing in flight.
  auto teachReads = [](AdaptivePoller& poller, int64_t& now) {
    for (int i = 0; i < 32; ++i) {
      poller.submitted(3, OpCode::kRead, 0, now);
      now += 300 * us;
      poller.completed(3, now);
    }
  };

  int64_t now = 1'000'000'000;
  AdaptivePoller poller(kDepth, 0.1);
  poller.submitted(0, OpCode::kRead, 0, now);
  CHECK(poller.plan(now + 290 * us) == 0, "spun for a kind of request it has not learned");
  poller.completed(0, now + 300 * us);
  now += 300 * us;
  teachReads(poller, now);
  CHECK(poller.inFlight() == 0, "%u in flight after every request completed", poller.inFlight());
  CHECK(poller.plan(now) == 0, "spun with nothing in flight");
  CHECK(poller.estimate(ServiceKind::kRead).learned(), "32 reads did not teach the read estimate");

  poller.submitted(1, OpCode::kWrite, 0, now);
  CHECK(poller.plan(now + 290 * us) == 0, "spun for a write with only reads learned");
  poller.submitted(2, OpCode::kRead, 0, now);
  CHECK(poller.plan(now + 10 * us) == 0, "spun with the next completion 290 us away");
  CHECK(poller.plan(now + 300 * us - AdaptivePoller::kLeadNs - 5 * us) == 0, "spun before the lead");
  const int64_t spin = poller.plan(now + 290 * us);
  CHECK(spin >= AdaptivePoller::kMinSpinNs && spin <= AdaptivePoller::kMaxSpinNs,
        "10 us before a read is due, planned a spin of %lld ns", (long long)spin);
  // The oldest of several in flight decides.
  poller.submitted(4, OpCode::kRead, 0, now + 250 * us);
  CHECK(poller.plan(now + 295 * us) > 0, "a later request hid the one about to complete");
  poller.completed(1, now + 300 * us);
  poller.completed(2, now + 300 * us);
  poller.completed(4, now + 550 * us);
  now += 600 * us;
  CHECK(poller.inFlight() == 0 && poller.plan(now) == 0, "spun after everything completed");

  // A request overdue on a device whose times vary widely: one spin is still capped.
  AdaptivePoller capped(kDepth, 1.0);
  int64_t t = 0;
  for (int i = 0; i < 4000; ++i) {
    capped.submitted(0, OpCode::kWrite, 0, t);
    t += (i % 2 ? 100 : 5000) * us;
    capped.completed(0, t);
  }
  capped.submitted(0, OpCode::kWrite, 0, t);
  const int64_t cappedSpin = capped.plan(t + 120 * us);
  CHECK(cappedSpin == AdaptivePoller::kMaxSpinNs, "a spin on a widely varying device was %lld ns, not the cap",
        (long long)cappedSpin);
  const int64_t lateSpin = capped.plan(t + 20'000 * us);
  CHECK(lateSpin == AdaptivePoller::kMinSpinNs, "long overdue, a spin was %lld ns, not the least", (long long)lateSpin);

  // No spin while a sync is in flight, however close a read's completion;
  // spins come back once the sync has completed.
  AdaptivePoller syncing(kDepth, 1.0);
  t = 0;
  teachReads(syncing, t);
  syncing.submitted(0, OpCode::kRead, 0, t);
  CHECK(syncing.plan(t + 290 * us) > 0, "did not spin for a read about to complete");
  syncing.submitted(1, OpCode::kFdatasync, 0, t);
  CHECK(syncing.plan(t + 290 * us) == 0, "spun while an fdatasync was in flight");
  syncing.submitted(1, OpCode::kWrite, 0, t);
  CHECK(syncing.plan(t + 290 * us) > 0, "a slot reused by a write still counted as a sync");
  syncing.submitted(2, OpCode::kFsync, 0, t);
  CHECK(syncing.plan(t + 290 * us) == 0, "spun while an fsync was in flight");
  syncing.completed(2, t + 100 * us);
  CHECK(syncing.plan(t + 290 * us) > 0, "did not spin again once the sync had completed");
  syncing.submitted(2, OpCode::kWrite, aioring::kFlagDsync, t);
  CHECK(syncing.plan(t + 290 * us) == 0, "spun while a dsync write was in flight");
  syncing.completed(2, t + 100 * us);
  CHECK(syncing.plan(t + 290 * us) > 0, "did not spin again once the dsync write had completed");

  // A budget of 0 never spins, however close the completion.
  AdaptivePoller off(kDepth, 0);
  t = 0;
  teachReads(off, t);
  off.submitted(0, OpCode::kRead, 0, t);
  CHECK(off.plan(t + 299 * us) == 0 && off.polls() == 0, "a budget of 0 spun");

  // Ten seconds of requests that each take 100 us and always look due: asked
  // every time (they would take a sixth of the time), the poller spins no
  // more than its budget, and uses most of it.
  for (double fraction : {0.01, 0.05, 0.1}) {
    AdaptivePoller budgeted(kDepth, fraction);
    t = 0;
    for (int i = 0; i < 16; ++i) {
      budgeted.submitted(0, OpCode::kRead, 0, t);
      t += 100 * us;
      budgeted.completed(0, t);
    }
    const int64_t start = t;
    const int64_t end = start + 10'000'000 * us;
    while (t < end) {
      budgeted.submitted(0, OpCode::kRead, 0, t);
      const int64_t asked = t + 90 * us;
      const int64_t planned = budgeted.plan(asked);
      // Worst case for the budget: every spin runs to its end.
      if (planned > 0) budgeted.spun(planned, true);
      t = std::max(asked + planned, t + 100 * us);
      budgeted.completed(0, t);
    }
    const double allowed = fraction * double(t - start) + fraction * double(aioring::PollBudget::kBudgetWindowNs);
    CHECK(double(budgeted.spentNs()) <= allowed, "budget %.2f: spun %llu ns of %.0f allowed", fraction,
          (unsigned long long)budgeted.spentNs(), allowed);
    CHECK(double(budgeted.spentNs()) >= 0.8 * fraction * double(t - start), "budget %.2f: spun only %llu ns in %lld ns",
          fraction, (unsigned long long)budgeted.spentNs(), (long long)(t - start));
    CHECK(budgeted.hits() == budgeted.polls() && budgeted.polls() > 0, "budget %.2f: %llu polls, %llu hits", fraction,
          (unsigned long long)budgeted.polls(), (unsigned long long)budgeted.hits());
  }

  // Spins that keep finding nothing back off to one eligible wake-up in 64;
  // one that finds a completion brings polling back at once.
  AdaptivePoller missing(kDepth, 1.0);
  t = 0;
  teachReads(missing, t);
  missing.submitted(0, OpCode::kRead, 0, t);
  uint32_t planned = 0;
  for (int i = 0; i < 6400; ++i) {
    t += 300 * us;
    const int64_t spinNs = missing.plan(t);
    if (spinNs > 0) {
      ++planned;
      missing.spun(spinNs, false);
    }
  }
  const uint32_t most = AdaptivePoller::kMissesBeforeBackoff + 2 + 4 + 8 + 16 + 32 + 6400 / 64;
  CHECK(planned >= 100 && planned <= most, "polls that all missed: %u of 6400 wake-ups polled (at most %u)", planned, most);
  int64_t again = 0;
  for (int i = 0; i < 64 && again == 0; ++i) again = missing.plan(t);
  CHECK(again > 0, "a backed-off poller never polled again");
  missing.spun(again, true);
  CHECK(missing.plan(t) > 0 && missing.plan(t) > 0, "a poll that found a completion did not end the back-off");

  // A spin whose thread was preempted reports more wall time than it can have
  // spent on the CPU: only its plan and one check's overrun are charged.
  AdaptivePoller preempted(kDepth, 1.0);
  t = 0;
  teachReads(preempted, t);
  preempted.submitted(0, OpCode::kRead, 0, t);
  int64_t plannedNs = 0;
  for (int i = 0; i < 1000 && plannedNs == 0; ++i) plannedNs = preempted.plan(t += 10 * us);
  CHECK(plannedNs > 0, "the preemption case never planned a spin");
  preempted.spun(plannedNs + 5'000'000, true);
  CHECK(preempted.spentNs() == uint64_t(plannedNs + AdaptivePoller::kMaxSpinOverrunNs),
        "a preempted spin of %lld ns planned was charged %llu ns", (long long)plannedNs,
        (unsigned long long)preempted.spentNs());
}

// The binding's delivery decisions (delivery.h): callback sizes, the
// wake-up budget, and when a wake-up clears the eventfd, busy-polls, sets it
// again or stops.
void checkDelivery() {
  using aioring::WakeStep;
  using aioring::WakeUp;
  CHECK(aioring::completionsPerCallbackFromDevice(1) == 4, "depth 1 delivers fewer than four per callback");
  CHECK(aioring::completionsPerCallbackFromDevice(32) == 4, "depth 32 does not deliver four per callback");
  CHECK(aioring::completionsPerCallbackFromDevice(128) == 16, "depth 128 does not deliver an eighth per callback");
  CHECK(aioring::completionsPerCallback(128, 10, 5) == 128, "half completed inline did not take a whole ring per callback");
  CHECK(aioring::completionsPerCallback(128, 10, 4) == 16, "fewer than half inline did not use the device's size");
  CHECK(aioring::completionsPerCallback(128, 10, 0) == 16, "none inline did not use the device's size");
  // Completions that land during the call are inline only beyond what was already in flight.
  CHECK(aioring::completedInline(0, 4, 0) == 4, "four new completions with nothing pending were not inline");
  CHECK(aioring::completedInline(2, 6, 0) == 4, "completions ready before the call were counted as inline");
  CHECK(aioring::completedInline(0, 4, 28) == 0, "a device's completions of earlier requests were taken for inline ones");
  CHECK(aioring::completedInline(1, 8, 3) == 4, "only what the earlier requests cannot account for is inline");
  CHECK(aioring::completedInline(5, 3, 0) == 0, "fewer ready after the call than before gave a count");

  // The budget: max(depth, kMinCompletionsPerWake).
  WakeUp small(1, false);
  small.delivered(aioring::kMinCompletionsPerWake - 1);
  CHECK(small.mayReap(), "a depth-1 wake-up stopped before %u completions", aioring::kMinCompletionsPerWake);
  small.delivered(1);
  CHECK(!small.mayReap(), "a depth-1 wake-up went on past %u completions", aioring::kMinCompletionsPerWake);
  WakeUp large(256, false);
  large.delivered(255);
  CHECK(large.mayReap(), "a depth-256 wake-up stopped before 256 completions");
  large.delivered(1);
  CHECK(!large.mayReap(), "a depth-256 wake-up went on past 256 completions");

  // Without busy polling: clear the eventfd once, reap again, then stop.
  WakeUp plain(8, false);
  CHECK(plain.onEmpty(3) == WakeStep::kDrain, "the first empty reap did not clear the eventfd");
  CHECK(plain.onEmpty(3) == WakeStep::kStop, "the empty reap after clearing did not stop");

  // Busy polling with nothing in flight never spins.
  WakeUp idle(8, true);
  CHECK(idle.onEmpty(0) == WakeStep::kDrain, "an idle polling wake-up did not clear the eventfd");
  CHECK(idle.onEmpty(0) == WakeStep::kStop, "an idle polling wake-up did not stop");

  // A poll that catches nothing stops without setting the eventfd.
  WakeUp missed(8, true);
  CHECK(missed.onEmpty(2) == WakeStep::kDrain, "a polling wake-up did not clear the eventfd first");
  CHECK(missed.onEmpty(2) == WakeStep::kBusyPoll, "a polling wake-up with requests in flight did not poll");
  CHECK(missed.afterPoll(false, 2) == WakeStep::kStop, "a poll that caught nothing did not stop");

  // A poll that catches one: reap, clear the eventfd again once they are used
  // up, never poll twice, and end by setting the eventfd while requests remain.
  WakeUp caught(8, true);
  CHECK(caught.onEmpty(2) == WakeStep::kDrain, "a polling wake-up did not clear the eventfd first");
  CHECK(caught.onEmpty(2) == WakeStep::kBusyPoll, "a polling wake-up with requests in flight did not poll");
  CHECK(caught.afterPoll(true, 2) == WakeStep::kReap, "a poll that caught a completion did not reap");
  caught.delivered(1);
  CHECK(caught.onEmpty(1) == WakeStep::kDrain, "after a caught poll the eventfd was not cleared again");
  CHECK(caught.onEmpty(1) == WakeStep::kRearm, "a wake-up whose poll caught one did not set the eventfd again");
  // A poll that saw a completion waiting which no reap then yielded (a stale
  // io_uring flag) ends like one that caught nothing.
  WakeUp phantom(8, true);
  phantom.onEmpty(2);
  phantom.onEmpty(2);
  CHECK(phantom.afterPoll(true, 2) == WakeStep::kReap, "a poll that saw a completion did not reap");
  CHECK(phantom.onEmpty(2) == WakeStep::kDrain, "after a poll the eventfd was not cleared again");
  CHECK(phantom.onEmpty(2) == WakeStep::kStop, "a poll whose reaps yielded nothing set the eventfd again");
  WakeUp finished(8, true);
  finished.onEmpty(1);
  finished.onEmpty(1);
  finished.afterPoll(true, 1);
  finished.onEmpty(0);
  CHECK(finished.onEmpty(0) == WakeStep::kStop, "a wake-up set the eventfd with nothing left in flight");

  // The spin: true as soon as the predicate is, false once the time is up.
  int calls = 0;
  CHECK(aioring::spinUntil(1000000000, [&] { return ++calls == 3; }) && calls == 3, "the spin did not stop when ready");
  const int64_t start = aioring::monotonicNs();
  CHECK(!aioring::spinUntil(2000000, [] { return false; }), "a spin that never became ready said it did");
  CHECK(aioring::monotonicNs() - start >= 2000000, "the spin gave up before its time");
  CHECK(aioring::spinUntil(0, [] { return true; }), "a zero-length spin did not look once");

  // The eventfd helpers the binding uses on its engine's notifier.
  aioring::EventNotifier notifier;
  CHECK(notifier.valid(), "no eventfd: %s", std::strerror(notifier.error()));
  pollfd readable{notifier.fd(), POLLIN, 0};
  aioring::signalEventFd(notifier.fd());
  aioring::signalEventFd(notifier.fd());
  CHECK(poll(&readable, 1, 0) == 1, "a signalled eventfd is not readable");
  aioring::drainEventFd(notifier.fd());
  CHECK(poll(&readable, 1, 0) == 0, "a drained eventfd is still readable");
}

// Engines without registered buffers or files say so, and ignore a request's
// fixedBuffer: it runs as a plain read or write.
void checkFixedDefaults(Engine& engine, int fd, uint32_t generation) {
  uint8_t* buf = allocBlocks(1);
  const iovec range{buf, kBlock};
  CHECK(engine.registerBuffers(&range, 1) == -EOPNOTSUPP, "registerBuffers did not answer EOPNOTSUPP");
  CHECK(!engine.registerFile(fd), "registerFile claimed a registered file");
  Request read = rw(OpCode::kRead, fd, 0, buf, kBlock);
  read.fixedBuffer = 0;
  checkResults("read naming a fixed buffer on an engine without them", runAll(engine, {read}, 1), {int32_t(kBlock)});
  CHECK(blockMatches(buf, 0, generation), "read naming a fixed buffer returned the wrong bytes");
  CHECK(engine.fixedBufferOps() == 0 && engine.fixedFileOps() == 0, "fixed operations counted on an engine without them");
  engine.unregisterBuffers();
  engine.unregisterFile(fd);
  free(buf);
}

// io_uring registered buffers: WRITE_FIXED (some with RWF_DSYNC) and READ_FIXED
// into several registered buffers at offsets inside them, checked on disk and
// read back; a fixed request whose memory lies outside its buffer fails with
// EFAULT (which a plain read would not: proof the fixed path ran); after
// unregistering, requests naming a buffer run plainly; a second set waits for
// the first to go. Registered files: requests use the table entry while the fd
// is registered, and never after it was unregistered and closed.
void checkUringFixed(Engine& engine, int fd, uint32_t generation) {
  constexpr uint32_t kSets = 4;
  constexpr uint32_t kPerSet = 4;
  uint8_t* sets[kSets];
  iovec ranges[kSets];
  for (uint32_t i = 0; i < kSets; ++i) {
    sets[i] = allocBlocks(kPerSet);
    ranges[i] = {sets[i], size_t(kPerSet) * kBlock};
  }
  const int registered = engine.registerBuffers(ranges, kSets);
  CHECK(registered == 0, "registerBuffers failed with %d", registered);
  if (registered != 0) {
    for (uint8_t* set : sets) free(set);
    return;
  }
  CHECK(engine.registerBuffers(ranges, 1) == -EBUSY, "a second registered set was not refused with EBUSY");

  const uint64_t fixedBefore = engine.fixedBufferOps();
  std::vector<Request> writes;
  std::vector<int32_t> expected;
  for (uint32_t b = 0; b < kSets * kPerSet; ++b) {
    uint8_t* block = sets[b / kPerSet] + size_t(b % kPerSet) * kBlock;
    fillBlock(block, b, generation);
    writes.push_back(rw(OpCode::kWrite, fd, uint64_t(b) * kBlock, block, kBlock, b % 3 == 0 ? aioring::kFlagDsync : 0));
    writes.back().fixedBuffer = int32_t(b / kPerSet);
    expected.push_back(kBlock);
  }
  checkResults("WRITE_FIXED", runAll(engine, writes, 3), expected);
  CHECK(engine.fixedBufferOps() - fixedBefore == kSets * kPerSet, "%llu of %u writes counted as fixed",
        (unsigned long long)(engine.fixedBufferOps() - fixedBefore), kSets * kPerSet);

  uint8_t* onDisk = allocBlocks(kSets * kPerSet);
  const ssize_t got = pread(fd, onDisk, size_t(kSets * kPerSet) * kBlock, 0);
  CHECK(got == ssize_t(kSets * kPerSet) * kBlock, "pread after WRITE_FIXED returned %zd", got);
  for (uint32_t b = 0; got == ssize_t(kSets * kPerSet) * kBlock && b < kSets * kPerSet; ++b) {
    CHECK(blockMatches(onDisk + size_t(b) * kBlock, b, generation), "block %u on disk differs from what WRITE_FIXED wrote", b);
  }
  free(onDisk);

  // Read every block back into another buffer's place, two blocks at a time.
  for (uint8_t* set : sets) std::memset(set, 0, size_t(kPerSet) * kBlock);
  std::vector<Request> reads;
  expected.clear();
  for (uint32_t pair = 0; pair < kSets * kPerSet / 2; ++pair) {
    const uint32_t target = (pair + 1) % (kSets * kPerSet / 2);
    uint8_t* place = sets[target / 2] + size_t(target % 2) * 2 * kBlock;
    reads.push_back(rw(OpCode::kRead, fd, uint64_t(pair) * 2 * kBlock, place, 2 * kBlock));
    reads.back().fixedBuffer = int32_t(target / 2);
    expected.push_back(2 * kBlock);
  }
  checkResults("READ_FIXED", runAll(engine, reads, 8), expected);
  for (uint32_t pair = 0; pair < kSets * kPerSet / 2; ++pair) {
    const uint32_t target = (pair + 1) % (kSets * kPerSet / 2);
    const uint8_t* place = sets[target / 2] + size_t(target % 2) * 2 * kBlock;
    CHECK(blockMatches(place, 2 * pair, generation) && blockMatches(place + kBlock, 2 * pair + 1, generation),
          "READ_FIXED of blocks %u-%u returned the wrong bytes", 2 * pair, 2 * pair + 1);
  }

  uint8_t* outside = allocBlocks(1);
  Request wrongBuffer = rw(OpCode::kRead, fd, 0, outside, kBlock);
  wrongBuffer.fixedBuffer = 0;
  checkResults("READ_FIXED outside its buffer", runAll(engine, {wrongBuffer}, 1), {-EFAULT});

  engine.unregisterBuffers();
  const uint64_t fixedAfter = engine.fixedBufferOps();
  checkResults("read naming an unregistered buffer", runAll(engine, {wrongBuffer}, 1), {int32_t(kBlock)});
  CHECK(blockMatches(outside, 0, generation), "plain read after unregistering returned the wrong bytes");
  CHECK(engine.fixedBufferOps() == fixedAfter, "a request ran as fixed with no buffers registered");
  CHECK(engine.registerBuffers(ranges, 1) == 0, "registering again after unregisterBuffers failed");
  engine.unregisterBuffers();
  free(outside);
  for (uint8_t* set : sets) free(set);

  const uint64_t fixedFilesBefore = engine.fixedFileOps();
  const bool fileRegistered = engine.registerFile(fd);
  CHECK(fileRegistered, "registerFile refused the scratch file");
  uint8_t* buf = allocBlocks(2);
  checkResults("read through a registered file", runAll(engine, {rw(OpCode::kRead, fd, kBlock, buf, kBlock)}, 1),
               {int32_t(kBlock)});
  CHECK(blockMatches(buf, 1, generation), "read through a registered file returned the wrong bytes");
  CHECK(!fileRegistered || engine.fixedFileOps() == fixedFilesBefore + 1, "the read did not use the registered file");
  const int copy = dup(fd);
  CHECK(engine.registerFile(copy), "registerFile refused a second descriptor");
  engine.unregisterFile(copy);
  close(copy);
  checkResults("read on a closed, unregistered fd", runAll(engine, {rw(OpCode::kRead, copy, 0, buf, kBlock)}, 1), {-EBADF});
  engine.unregisterFile(fd);
  checkResults("read after unregistering the file", runAll(engine, {rw(OpCode::kRead, fd, 0, buf + kBlock, kBlock)}, 1),
               {int32_t(kBlock)});
  CHECK(engine.fixedFileOps() == fixedFilesBefore + 1, "requests used the file table after the fd left it");
  free(buf);
}

// Polls and reaps, `max` at a time, until `requests` requests have completed;
// returns every Completion in the order reap() gave them, deadline news included.
// `inFlightAfter`, if given, gets the engine's inFlight() after each reap() that
// returned any, once per Completion it returned.
std::vector<Completion> reapInOrder(Engine& engine, uint32_t requests, uint32_t max,
                                    std::vector<uint32_t>* inFlightAfter = nullptr) {
  std::vector<Completion> seen;
  std::vector<Completion> batch(max);
  uint32_t ended = 0;
  while (ended < requests) {
    pollfd pfd{engine.notifyFd(), POLLIN, 0};
    if (poll(&pfd, 1, kPollTimeoutMs) <= 0) {
      CHECK(false, "no eventfd notification within %d ms, %u of %u requests ended", kPollTimeoutMs, ended, requests);
      return seen;
    }
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t got; (got = engine.reap(batch.data(), max)) > 0;) {
        for (uint32_t i = 0; i < got; ++i) {
          seen.push_back(batch[i]);
          if (inFlightAfter) inFlightAfter->push_back(engine.inFlight());
          if (batch[i].result != aioring::kResultDeadlinePassed) ++ended;
        }
      }
      if (pass == 0) engine.drainNotifications();
    }
  }
  return seen;
}

// io_uring only: a deadline travels with its request as a linked
// IORING_OP_LINK_TIMEOUT. A read on an empty pipe outlives it: the deadline
// news comes first, then the read itself, cancelled; handed out one at a time
// too, so the second of the pair must wait for the next reap(). A read that
// finishes in time says nothing of its deadline. Then kFlagLinkNext chains: each
// request starts after the one before; a failure or a short read cancels the rest.
void checkUringLinks(Engine& engine, int fd, uint32_t generation) {
  int pipeFds[2];
  CHECK(pipe(pipeFds) == 0, "pipe: %s", std::strerror(errno));
  uint8_t* buf = allocBlocks(4);
  for (uint32_t max : {8u, 1u}) {
    Request late = rw(OpCode::kRead, pipeFds[0], 0, buf, kBlock);
    late.slot = 3;
    late.timeoutNs = 20 * 1000 * 1000;
    CHECK(engine.submit(&late, 1) == 1, "a read with a deadline was not taken");
    CHECK(engine.deadlineArmed(3), "the deadline did not go to the kernel");
    std::vector<uint32_t> inFlightAfter;
    const std::vector<Completion> seen = reapInOrder(engine, 1, max, &inFlightAfter);
    CHECK(seen.size() == 2 && seen[0].slot == 3 && seen[0].result == aioring::kResultDeadlinePassed && seen[1].slot == 3 &&
              seen[1].result == -ECANCELED,
          "reaping %u at a time: %zu completions, expected the deadline's news then -ECANCELED", max, seen.size());
    // Until its own completion is handed out the read is in flight, so that
    // the binding keeps the loop alive for it.
    CHECK(max > 1 || (inFlightAfter.size() == 2 && inFlightAfter[0] == 1),
          "reaping one at a time, %u in flight after the deadline's news, expected 1",
          inFlightAfter.empty() ? 0 : inFlightAfter[0]);
    CHECK(engine.inFlight() == 0, "%u in flight after the timed-out read", engine.inFlight());
  }

  fillBlock(buf, 0, generation);
  Request write = rw(OpCode::kWrite, fd, 0, buf, kBlock);
  write.slot = 5;
  write.timeoutNs = 10ull * 1000 * 1000 * 1000;
  CHECK(engine.submit(&write, 1) == 1, "a write with a distant deadline was not taken");
  const std::vector<Completion> onTime = reapInOrder(engine, 1, 8);
  CHECK(onTime.size() == 1 && onTime[0].slot == 5 && onTime[0].result == int32_t(kBlock),
        "a write done in time: %zu completions, expected its own alone", onTime.size());

  const uint64_t linkedBefore = engine.linkedOps();
  fillBlock(buf + kBlock, 1, generation);
  std::vector<Request> chain = {rw(OpCode::kWrite, fd, kBlock, buf + kBlock, kBlock, aioring::kFlagLinkNext),
                                rw(OpCode::kRead, fd, kBlock, buf + 2 * kBlock, kBlock, aioring::kFlagLinkNext),
                                rw(OpCode::kWrite, -1, 2 * kBlock, buf, kBlock, aioring::kFlagLinkNext),
                                rw(OpCode::kRead, fd, 0, buf + 3 * kBlock, kBlock)};
  checkResults("chain broken by a bad fd", runAll(engine, chain, 8), {int32_t(kBlock), int32_t(kBlock), -EBADF, -ECANCELED});
  CHECK(blockMatches(buf + 2 * kBlock, 1, generation), "the chain's read, after its write, read something else");
  CHECK(engine.linkedOps() - linkedBefore == 3, "%llu requests linked, expected 3",
        (unsigned long long)(engine.linkedOps() - linkedBefore));

  struct stat st;
  CHECK(fstat(fd, &st) == 0, "fstat: %s", std::strerror(errno));
  const uint64_t end = uint64_t(st.st_size);
  std::vector<Request> shortChain = {rw(OpCode::kRead, fd, end - kBlock, buf, 2 * kBlock, aioring::kFlagLinkNext),
                                     rw(OpCode::kRead, fd, 0, buf + 2 * kBlock, kBlock)};
  checkResults("chain broken by a short read", runAll(engine, shortChain, 8), {int32_t(kBlock), -ECANCELED});
  free(buf);
  close(pipeFds[0]);
  close(pipeFds[1]);
}

// io_uring only: many requests with kernel deadlines finish while nobody
// reaps. Each one's CQE waits for its deadline's CQE, which the kernel queues as
// task work behind the rest, and an enter runs only a share of that work (20
// items from 6.13 on). The first reap must still return completions rather
// than stop at CQEs that make none yet; then every read arrives intact.
void checkUringHeldBehindDeadlines(int fd) {
  constexpr uint32_t kRequests = 100;
  EngineRefusal refusal;
  std::unique_ptr<Engine> engine = aioring::createEngine(EngineKind::kIoUring, 128, &refusal);
  CHECK(engine != nullptr, "a depth-128 io_uring engine was refused");
  if (!engine) return;
  uint8_t* buf = allocBlocks(kRequests);
  std::vector<Request> reads;
  for (uint32_t i = 0; i < kRequests; ++i) {
    reads.push_back(rw(OpCode::kRead, fd, uint64_t(i % kBlocks) * kBlock, buf + size_t(i) * kBlock, kBlock));
    reads.back().slot = i;
    reads.back().timeoutNs = 10ull * 1000 * 1000 * 1000;
  }
  uint32_t taken = 0;
  for (int attempt = 0; attempt < 8 && taken < kRequests; ++attempt) taken += engine->submit(&reads[taken], kRequests - taken);
  CHECK(taken == kRequests, "%u of %u reads with deadlines taken", taken, kRequests);
  usleep(50 * 1000);
  Completion first[128];
  const uint32_t firstCount = engine->reap(first, 128);
  CHECK(firstCount > 0, "the first reap after %u reads with deadlines finished returned none", taken);
  uint32_t firstEnded = 0;
  for (uint32_t i = 0; i < firstCount; ++i) firstEnded += first[i].result != aioring::kResultDeadlinePassed;
  std::vector<Completion> rest = reapInOrder(*engine, taken - firstEnded, 128);
  rest.insert(rest.begin(), first, first + firstCount);
  uint8_t* expected = allocBlocks(1);
  uint32_t intact = 0;
  for (const Completion& c : rest) {
    if (c.result == aioring::kResultDeadlinePassed || c.slot >= kRequests) continue;
    const bool same = c.result == int32_t(kBlock) &&
                      pread(fd, expected, kBlock, off_t(c.slot % kBlocks) * kBlock) == ssize_t(kBlock) &&
                      std::memcmp(expected, buf + size_t(c.slot) * kBlock, kBlock) == 0;
    if (same) ++intact;
  }
  CHECK(intact == taken, "%u of %u reads with deadlines returned their block intact", intact, taken);
  CHECK(engine->inFlight() == 0, "%u in flight after every read with a deadline ended", engine->inFlight());
  free(expected);
  free(buf);
}

// Submits a one-block `write` that must stay on the io_uring ring, where a
// cancel is asked of the kernel (on AIO it would not be), and reaps it; true
// when it completed in full rather than cancelled.
bool writeOnTheRing(Engine& engine, Request write, const char* what) {
  write.slot = 3;
  CHECK(engine.submit(&write, 1) == 1, "%s was not taken", what);
  const aioring::CancelOutcome outcome = engine.cancel(3);
  const std::vector<Completion> done = reapInOrder(engine, 1, 8);
  CHECK(outcome == aioring::CancelOutcome::kAsked, "cancelling %s gave %d, not asked of the ring", what, int(outcome));
  CHECK(done.size() == 1 && (done[0].result == int32_t(kBlock) || done[0].result == -ECANCELED), "%s: %zu completions",
        what, done.size());
  return done.size() == 1 && done[0].result == int32_t(kBlock);
}

// What io_uring runs on Linux AIO (where it is available), which cannot cancel
// it: a sync that nothing ties to the ring, and a write a sync waits for
// (kFlagSyncNext). A sync at the end of a kernel chain stays in the chain and
// starts only after the write before it.
void checkUringAioOffload(Engine& engine, int fd, uint32_t generation) {
  Request sync = syncRequest(OpCode::kFdatasync, fd);
  sync.slot = 2;
  CHECK(engine.submit(&sync, 1) == 1, "a lone fdatasync was not taken");
  const aioring::CancelOutcome outcome = engine.cancel(2);
  const std::vector<Completion> synced = reapInOrder(engine, 1, 8);
  CHECK(outcome == aioring::CancelOutcome::kNotAsked || outcome == aioring::CancelOutcome::kAsked,
        "cancelling a sync gave %d", int(outcome));
  // On the ring (Linux AIO unavailable) the kernel may honour the cancel.
  const bool onRing = outcome == aioring::CancelOutcome::kAsked;
  if (onRing) std::printf("[io_uring] Linux AIO unavailable: syncs stay on the ring\n");
  const bool syncEnded = synced.size() == 1 && synced[0].slot == 2;
  CHECK(syncEnded && (synced[0].result == 0 || (onRing && synced[0].result == -ECANCELED)),
        "the lone fdatasync: %zu completions, result %d", synced.size(), synced.empty() ? 0 : synced[0].result);

  uint8_t* buf = allocBlocks(1);
  fillBlock(buf, 6, generation + 1);
  Request waitedFor = rw(OpCode::kWrite, fd, 6 * kBlock, buf, kBlock, aioring::kFlagSyncNext);
  waitedFor.slot = 3;
  CHECK(engine.submit(&waitedFor, 1) == 1, "a write a sync waits for was not taken");
  const aioring::CancelOutcome writeOutcome = engine.cancel(3);
  const std::vector<Completion> wrote = reapInOrder(engine, 1, 8);
  const bool written = wrote.size() == 1 && wrote[0].slot == 3 && wrote[0].result == int32_t(kBlock);
  CHECK(written || (onRing && wrote.size() == 1 && wrote[0].slot == 3 && wrote[0].result == -ECANCELED),
        "the write a sync waits for: %zu completions", wrote.size());
  CHECK(writeOutcome == outcome, "cancelling the write a sync waits for gave %d, a lone sync %d", int(writeOutcome),
        int(outcome));
  CHECK(!written || (pread(fd, buf, kBlock, 6 * kBlock) == ssize_t(kBlock) && blockMatches(buf, 6, generation + 1)),
        "the write a sync waits for did not land");

  // One that extends the file would hold io_submit until the device is done,
  // so it stays on the ring, where a cancel is asked of the kernel.
  struct stat before;
  CHECK(fstat(fd, &before) == 0, "fstat: %s", std::strerror(errno));
  const uint64_t end = uint64_t(before.st_size);
  fillBlock(buf, 7, generation + 1);
  if (writeOnTheRing(engine, rw(OpCode::kWrite, fd, end, buf, kBlock, aioring::kFlagSyncNext), "the extending write")) {
    CHECK(pread(fd, buf, kBlock, off_t(end)) == ssize_t(kBlock) && blockMatches(buf, 7, generation + 1),
          "the extending write did not land");
  }
  CHECK(ftruncate(fd, off_t(end)) == 0, "ftruncate: %s", std::strerror(errno));

  // The engine saw the file at `end` bytes. Cut short and reported, a write
  // that now extends it stays on the ring too.
  fillBlock(buf, 6, generation + 2);
  Request inside = rw(OpCode::kWrite, fd, 6 * kBlock, buf, kBlock, aioring::kFlagSyncNext);
  inside.slot = 3;
  CHECK(engine.submit(&inside, 1) == 1 && reapInOrder(engine, 1, 8).size() == 1, "a write inside the file was lost");
  CHECK(ftruncate(fd, off_t(6 * kBlock)) == 0, "ftruncate: %s", std::strerror(errno));
  engine.fileResized(fd);
  writeOnTheRing(engine, rw(OpCode::kWrite, fd, 6 * kBlock, buf, kBlock, aioring::kFlagSyncNext), "the write past the cut");
  CHECK(ftruncate(fd, off_t(end)) == 0, "ftruncate: %s", std::strerror(errno));

  fillBlock(buf, 4, generation);
  const uint64_t linkedBefore = engine.linkedOps();
  std::vector<Request> chain = {rw(OpCode::kWrite, fd, 4 * kBlock, buf, kBlock, aioring::kFlagLinkNext),
                                syncRequest(OpCode::kFsync, fd), syncRequest(OpCode::kFdatasync, fd)};
  checkResults("write linked to fsync, then a lone fdatasync", runAll(engine, chain, 8), {int32_t(kBlock), 0, 0});
  CHECK(engine.linkedOps() - linkedBefore == 1, "%llu requests linked, expected 1",
        (unsigned long long)(engine.linkedOps() - linkedBefore));
  free(buf);
}

// Destroying an io_uring engine with WRITE_FIXED requests in flight waits for
// them before it unregisters the buffers, and only then may they be freed.
void checkUringFixedDestructor(int fd, uint32_t generation) {
  EngineRefusal refusal;
  std::unique_ptr<Engine> engine = aioring::createEngine(EngineKind::kIoUring, kDepth, &refusal);
  CHECK(engine != nullptr, "second io_uring engine refused: %s", refusal.reason.c_str());
  if (!engine) return;
  uint8_t* buf = allocBlocks(kDepth);
  const iovec range{buf, size_t(kDepth) * kBlock};
  CHECK(engine->registerBuffers(&range, 1) == 0, "registerBuffers failed");
  std::vector<Request> reqs;
  for (uint32_t b = 0; b < kDepth; ++b) {
    fillBlock(buf + size_t(b) * kBlock, b, generation);
    reqs.push_back(rw(OpCode::kWrite, fd, uint64_t(b) * kBlock, buf + size_t(b) * kBlock, kBlock));
    reqs.back().slot = b;
    reqs.back().fixedBuffer = 0;
  }
  const uint32_t taken = engine->submit(reqs.data(), kDepth);
  CHECK(taken == kDepth, "fresh engine took %u of %u fixed writes", taken, kDepth);
  engine.reset();
  free(buf);
  checkWrittenOnReturn(fd, taken, generation, "fixed block");
}

std::string scratchDir(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0) return argv[i + 1];
  }
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

bool engineWanted(int argc, char** argv, const char* name) {
  bool any = false;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--engine") == 0) {
      any = true;
      if (std::strcmp(argv[i + 1], name) == 0) return true;
    }
  }
  return !any;
}

// Returns false when the engine was refused (skipped).
bool checkEngine(EngineKind kind, const char* name, const std::string& dir) {
  currentEngine = name;
  EngineRefusal refusal;
  std::unique_ptr<Engine> engine = aioring::createEngine(kind, kDepth, &refusal);
  if (!engine) {
    std::printf("[%s] SKIPPED: the engine was refused: error %d (%s): %s\n", name, refusal.error,
                std::strerror(refusal.error), refusal.reason.c_str());
    return false;
  }
  CHECK(std::strcmp(engine->name(), name) == 0, "engine calls itself %s", engine->name());
  const int failuresBefore = failures;
  const Counters before = counters;

  std::string path = dir + "/engine_check.XXXXXX";
  std::vector<char> pathBuffer(path.begin(), path.end());
  pathBuffer.push_back('\0');
  const int tmp = mkstemp(pathBuffer.data());
  if (tmp < 0) {
    std::perror("mkstemp");
    std::exit(1);
  }
  close(tmp);
  path = pathBuffer.data();
  const int fd = open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "open(%s, O_DIRECT): %s (pass --dir on a file system that supports O_DIRECT)\n", path.c_str(),
                 std::strerror(errno));
    unlink(path.c_str());
    std::exit(1);
  }

  uint8_t* data = allocBlocks(kBlocks);
  checkWriteSyncRead(*engine, fd, data, 1);
  checkManyMoreThanDepth(*engine, fd, 1);
  checkEndOfFile(*engine, fd, 1);
  checkBadFd(*engine, fd, 1);
  checkReadOnlyWrite(*engine, path);
  checkFullWaitIdleReap(*engine, fd, 1);
  checkRandomMix(*engine, fd, 1);
  checkInvalidOpcode(*engine, fd, 1);
  if (kind == EngineKind::kIoUring) {
    checkUringSpecifics(*engine, fd);
    checkUringFixed(*engine, fd, 1);
    checkUringLinks(*engine, fd, 1);
    checkUringHeldBehindDeadlines(fd);
    checkUringAioOffload(*engine, fd, 1);
  } else {
    checkFixedDefaults(*engine, fd, 1);
  }
  checkWriteSyncRead(*engine, fd, data, 2);  // the engine is still sound after all of that
  checkDestructorWaits(kind, fd, 2, false);
  checkDestructorWaits(kind, fd, 3, true);
  if (kind == EngineKind::kIoUring) checkUringFixedDestructor(fd, 4);
  checkDepthValidation(kind);

  const uint64_t requests = counters.requests - before.requests;
  std::printf("[%s] %s: %llu requests, %llu eventfd wakeups, %llu engine syscalls (%.2f per request)\n", name,
              failures == failuresBefore ? "passed" : "FAILED", (unsigned long long)requests,
              (unsigned long long)(counters.wakeups - before.wakeups), (unsigned long long)engine->syscalls(),
              double(engine->syscalls()) / double(requests ? requests : 1));
  engine.reset();
  free(data);
  close(fd);
  unlink(path.c_str());
  return true;
}

}  // namespace

// Log group framing (native/log/frame.h): each frame's fields, and a
// checksum computed here by the portable table path over the same bytes; a
// length running past the buffer stops it with 0.
void checkLogFraming() {
  constexpr size_t kStart = 7;
  const uint32_t lengths[] = {3, 100, 1};
  uint8_t buffer[200] = {};
  size_t at = kStart;
  for (const uint32_t length : lengths) {
    std::memcpy(buffer + at + 4, &length, 4);
    std::memset(buffer + at + aioring::logformat::kFrameBytes, 0x40 + static_cast<int>(length), length);
    at += aioring::logformat::kFrameBytes + length;
  }
  const uint64_t firstLsn = 0x1'0000'0005ULL;
  const size_t end = aioring::logformat::frameRecords(buffer, sizeof buffer, kStart, 3, 0xabcdef01u, 9, firstLsn);
  CHECK(end == at, "framing ended at %zu, not %zu", end, at);
  at = kStart;
  for (uint32_t i = 0; i < 3; i++) {
    uint32_t crc, session;
    uint64_t lsn, expected = 0;
    std::memcpy(&crc, buffer + at, 4);
    std::memcpy(&lsn, buffer + at + 8, 8);
    std::memcpy(&session, buffer + at + 16, 4);
    aioring::checksum::computeByPath(aioring::checksum::Algorithm::kCrc32C, aioring::checksum::Path::kTable,
                                     buffer + at + 4, 16 + lengths[i], 0xabcdef01u, &expected);
    CHECK(lsn == firstLsn + i && session == 9, "record %u: lsn %llu session %u", i, (unsigned long long)lsn, session);
    CHECK(crc == expected, "record %u: crc %08x, expected %08llx", i, crc, (unsigned long long)expected);
    at += aioring::logformat::kFrameBytes + lengths[i];
  }
  CHECK(aioring::logformat::frameRecords(buffer, end - 1, kStart, 3, 1, 1, 1) == 0, "a last record running past the buffer was framed");
  CHECK(aioring::logformat::frameRecords(buffer, end, kStart, 4, 1, 1, 1) == 0, "a frame header past the buffer was framed");
}

// The log's single-writer lock (native/log/file_lock.h): two opens of one
// file in this one process conflict, unlocking or closing the holder frees
// it, and another process's hold is seen with its pid until it is killed.
void checkLogLock(const std::string& dir) {
  using aioring::logformat::lockExclusive;
  using aioring::logformat::lockHolder;
  using aioring::logformat::unlock;
  std::string path = dir + "/engine_check_lock.XXXXXX";
  const int first = mkstemp(path.data());
  CHECK(first >= 0, "mkstemp: errno %d", errno);
  if (first < 0) return;
  const int second = open(path.c_str(), O_RDWR);
  CHECK(lockExclusive(first) == 0, "the first open could not take the lock");
  CHECK(lockExclusive(first) == 0, "the holder could not take its own lock again");
  CHECK(lockExclusive(second) == EAGAIN, "a second open of the same file took the held lock");
  CHECK(lockHolder(second) == 0, "this process's own hold was reported as another process's");
  CHECK(unlock(first) == 0, "unlock failed");
  CHECK(lockExclusive(second) == 0, "the lock was not free after unlock");
  close(second);
  int ready[2];
  CHECK(pipe(ready) == 0, "pipe: errno %d", errno);
  const pid_t child = fork();
  if (child == 0) {
    const int own = open(path.c_str(), O_RDWR);
    const char result = lockExclusive(own) == 0 ? 'y' : 'n';
    if (write(ready[1], &result, 1) != 1) _exit(1);
    for (;;) pause();
  }
  char result = 0;
  CHECK(read(ready[0], &result, 1) == 1 && result == 'y', "the child process could not take the lock");
  CHECK(lockExclusive(first) == EAGAIN, "the lock another process holds was taken");
  CHECK(lockHolder(first) == child, "the holder was reported as %d, not the child %d", lockHolder(first), int(child));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  CHECK(lockHolder(first) == 0, "a killed holder was still reported");
  CHECK(lockExclusive(first) == 0, "the lock was not free after its holder was killed");
  CHECK(lockExclusive(-1) == EBADF, "a bad descriptor did not give EBADF");
  close(ready[0]);
  close(ready[1]);
  close(first);
  unlink(path.c_str());
}

void checkHugePageBacked() {
  const size_t size = aioring::kHugePageBytes + 4096;
  uint8_t* memory = aioring::allocHugePageBacked(size);
  CHECK(memory != nullptr, "no memory for %zu bytes", size);
  if (memory == nullptr) return;
  CHECK(reinterpret_cast<uintptr_t>(memory) % aioring::kHugePageBytes == 0, "memory at %p is not on a huge page", static_cast<void*>(memory));
  CHECK(std::all_of(memory, memory + size, [](uint8_t byte) { return byte == 0; }), "memory is not zeroed");
  std::free(memory);
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string dir = scratchDir(argc, argv);
  currentEngine = "index";
  checkFixedBufferIndex();
  currentEngine = "adaptive poll";
  checkAdaptivePoller();
  currentEngine = "delivery";
  checkDelivery();
  currentEngine = "log framing";
  checkLogFraming();
  currentEngine = "huge pages";
  checkHugePageBacked();
  currentEngine = "log lock";
  checkLogLock(dir);
  int ran = 0;
  for (const auto& e : aioring::kEngineKindNames) {
    if (!engineWanted(argc, argv, e.name)) continue;
    if (checkEngine(e.kind, e.name, dir)) ++ran;
  }
  if (ran == 0) {
    std::printf("no engine could run here\n");
    return 77;
  }
  if (failures > 0) {
    std::printf("%d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("all checks passed on %d engine(s)\n", ran);
  return 0;
}
