// Standalone checks of the integrity code, without Node: the CRCs on every
// path against a bitwise reference, the tuples generated and verified, and the
// kernel PI encoding against the uapi layout, down to a real io_uring read
// that carries the PI attribute to the kernel. Run by
// test/83.integrity-native.test.ts; build by hand with (one line):
//   g++ -std=c++17 -O1 -Wall -Wextra -Inative test/native/integrity_check.cc native/checksum/*.cc
//       native/integrity/*.cc native/{aio,uring,pool}_engine.cc native/probe.cc -lpthread -o /tmp/integrity_check
// Options: --dir DIR (where the scratch file goes; must allow O_DIRECT).
// Exit status: 0 every check passed, 1 a check failed.

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "engine.h"
#include "integrity/kernel_pi.h"
#include "integrity/protected_io.h"
#include "integrity/protection.h"
#include "probe.h"

namespace {

using namespace aioring;
namespace cs = aioring::checksum;

int failures = 0;

#define CHECK(cond, ...)                                         \
  do {                                                           \
    if (!(cond)) {                                               \
      ++failures;                                                \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
      std::fprintf(stderr, __VA_ARGS__);                         \
      std::fputc('\n', stderr);                                  \
    }                                                            \
  } while (0)

// Bit at a time, from the polynomials: the reference every path must match.
uint64_t bitwise(cs::Algorithm algorithm, const uint8_t* data, size_t length, uint64_t seed) {
  switch (algorithm) {
    case cs::Algorithm::kCrc16T10Dif: {
      uint32_t crc = static_cast<uint16_t>(seed);
      for (size_t i = 0; i < length; ++i) {
        crc ^= uint32_t{data[i]} << 8;
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? ((crc << 1) ^ 0x8bb7) & 0xffff : (crc << 1) & 0xffff;
      }
      return crc;
    }
    case cs::Algorithm::kCrc32C: {
      uint32_t crc = ~static_cast<uint32_t>(seed);
      for (size_t i = 0; i < length; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
      }
      return ~crc;
    }
    case cs::Algorithm::kCrc64Nvme: {
      uint64_t crc = ~seed;
      for (size_t i = 0; i < length; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
      }
      return ~crc;
    }
  }
  return 0;
}

void checkChecksums(std::mt19937_64& random) {
  const auto* text = reinterpret_cast<const uint8_t*>("123456789");
  CHECK(cs::crc16t10dif(text, 9, 0) == 0xd0db, "crc16t10dif check value");
  CHECK(cs::crc32c(text, 9, 0) == 0xe3069283u, "crc32c check value");
  CHECK(cs::crc64nvme(text, 9, 0) == 0xae8b14860a799888ull, "crc64nvme check value");
  std::vector<uint8_t> pool(20000 + 64);
  for (auto& byte : pool) byte = static_cast<uint8_t>(random());
  const cs::Algorithm algorithms[] = {cs::Algorithm::kCrc16T10Dif, cs::Algorithm::kCrc32C, cs::Algorithm::kCrc64Nvme};
  const uint64_t masks[] = {0xffff, 0xffffffff, ~0ull};
  for (int a = 0; a < 3; ++a) {
    std::printf("crc %d: hardware path %s\n", a, cs::hardwareAvailable(algorithms[a]) ? "available" : "absent");
    for (int round = 0; round < 120; ++round) {
      const size_t length = round < 80 ? static_cast<size_t>(round * 7) : random() % 20000;
      const size_t offset = random() % 64;
      const uint64_t seed = random() & masks[a];
      const uint64_t expected = bitwise(algorithms[a], pool.data() + offset, length, seed) & masks[a];
      for (cs::Path path : {cs::Path::kTable, cs::Path::kHardware, cs::Path::kBest}) {
        uint64_t got = 0;
        if (!cs::computeByPath(algorithms[a], path, pool.data() + offset, length, seed, &got)) {
          CHECK(path == cs::Path::kHardware && !cs::hardwareAvailable(algorithms[a]), "path %d refused", int(path));
          continue;
        }
        CHECK((got & masks[a]) == expected, "crc %d path %d, %zu bytes at %zu: %llx, expected %llx", a, int(path),
              length, offset, (unsigned long long)got, (unsigned long long)expected);
      }
    }
  }
}

void checkProtection(std::mt19937_64& random) {
  for (auto format : {integrity::Format::kT10Dif, integrity::Format::kNvme64}) {
    for (bool trailer : {false, true}) {
      integrity::Profile profile;
      profile.format = format;
      profile.interval = 512;
      profile.trailer = trailer;
      profile.applicationTag = 0x0102;
      profile.firstReferenceTag = 0xfffffffeull;
      std::vector<uint8_t> data(4 * 512);
      for (auto& byte : data) byte = static_cast<uint8_t>(random());
      std::vector<uint8_t> tuples(4 * integrity::tupleBytes(format));
      integrity::generate(profile, data.data(), 4, tuples.data());
      std::vector<integrity::Fault> faults;
      CHECK(integrity::verify(profile, data.data(), 4, tuples.data(), &faults) && faults.empty(), "fresh tuples fail");
      const uint8_t* tuple = integrity::tupleOf(profile, data.data(), tuples.data(), 2);
      const size_t refAt = format == integrity::Format::kT10Dif ? 4 : 10;
      const size_t refBytes = format == integrity::Format::kT10Dif ? 4 : 6;
      uint64_t reference = 0;
      for (size_t i = 0; i < refBytes; ++i) reference = (reference << 8) | tuple[refAt + i];
      const uint64_t expectedReference = format == integrity::Format::kT10Dif ? 0 : 0x100000000ull;
      CHECK(reference == expectedReference, "interval 2's reference tag is %llx", (unsigned long long)reference);
      data[3 * 512 + 5] ^= 0x10;
      CHECK(!integrity::verify(profile, data.data(), 4, tuples.data(), &faults), "a flipped bit passed");
      CHECK(faults.size() == 1 && faults[0].kind == integrity::FaultKind::kGuard && faults[0].interval == 3,
            "a flipped bit in interval 3 was not its guard fault");
    }
  }
}

void checkKernelEncoding() {
  uint8_t tuples[32];
  const integrity::IoUringAttrPi attribute = integrity::piAttribute(tuples, sizeof tuples, 0x1122334455ull, 0xbeef);
  uint8_t bytes[sizeof attribute];
  std::memcpy(bytes, &attribute, sizeof bytes);
  uint16_t flags;
  uint16_t appTag;
  uint32_t len;
  uint64_t addr;
  uint64_t seed;
  uint64_t rsvd;
  std::memcpy(&flags, bytes + 0, 2);
  std::memcpy(&appTag, bytes + 2, 2);
  std::memcpy(&len, bytes + 4, 4);
  std::memcpy(&addr, bytes + 8, 8);
  std::memcpy(&seed, bytes + 16, 8);
  std::memcpy(&rsvd, bytes + 24, 8);
  CHECK(flags == 7, "io_uring_attr_pi.flags is %u, expected GUARD|REFTAG|APPTAG", flags);
  CHECK(appTag == 0xbeef && len == 32 && seed == 0x1122334455ull && rsvd == 0, "io_uring_attr_pi fields");
  CHECK(addr == reinterpret_cast<uintptr_t>(tuples), "io_uring_attr_pi.addr");

  io_uring_sqe sqe;
  std::memset(&sqe, 0xa5, sizeof sqe);
  integrity::attachPiAttribute(&sqe, &attribute);
  uint8_t raw[sizeof sqe];
  std::memcpy(raw, &sqe, sizeof raw);
  uint64_t pointer;
  uint64_t mask;
  std::memcpy(&pointer, raw + 48, 8);
  std::memcpy(&mask, raw + 56, 8);
  CHECK(pointer == reinterpret_cast<uintptr_t>(&attribute), "sqe bytes 48..55 (attr_ptr) do not point at the attribute");
  CHECK(mask == 1, "sqe bytes 56..63 (attr_type_mask) are %llx, expected IORING_RW_ATTR_FLAG_PI", (unsigned long long)mask);
  bool othersKept = true;
  for (size_t i = 0; i < 48; ++i) othersKept = othersKept && raw[i] == 0xa5;
  CHECK(othersKept, "attaching the attribute changed SQE bytes before offset 48");
}

// Waits for and returns the one completion of a request on `engine`.
int32_t completeOne(Engine& engine) {
  pollfd ready{engine.notifyFd(), POLLIN, 0};
  Completion completion{0, INT32_MIN};
  for (int tries = 0; tries < 100 && engine.reap(&completion, 1) == 0; ++tries) poll(&ready, 1, 50);
  engine.drainNotifications();
  return completion.result;
}

// The attribute must reach the kernel: on a file with no integrity metadata a
// read that carries it is refused, while the same read without it succeeds.
void checkUringCarriesAttribute(const std::string& dir) {
  uint32_t features = 0;
  if (integrity::queryUringFeatures(&features) != 0 || !(features & integrity::kFeatRwAttr)) {
    std::printf("io_uring here lacks IORING_FEAT_RW_ATTR: the kernel-side check is skipped\n");
    return;
  }
  EngineRefusal refusal;
  std::unique_ptr<Engine> engine = createEngine(EngineKind::kIoUring, 4, &refusal);
  if (!engine) {
    std::printf("io_uring refused (%s): the kernel-side check is skipped\n", refusal.reason.c_str());
    return;
  }
  std::string path = dir + "/integrity_check.XXXXXX";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  const int scratch = mkstemp(name.data());
  CHECK(scratch >= 0, "mkstemp in %s", dir.c_str());
  if (scratch < 0) return;
  close(scratch);
  const int fd = open(name.data(), O_RDWR | O_DIRECT);
  CHECK(fd >= 0, "open O_DIRECT in %s", dir.c_str());
  void* block = nullptr;
  if (fd < 0 || posix_memalign(&block, 4096, 4096) != 0) return;
  std::memset(block, 0x3c, 4096);
  CHECK(pwrite(fd, block, 4096, 0) == 4096, "pwrite of the scratch block");
  uint8_t tuples[8] = {};
  const integrity::IoUringAttrPi attribute = integrity::piAttribute(tuples, sizeof tuples, 0, 0);
  Request read{};
  read.slot = 0;
  read.fd = fd;
  read.op = OpCode::kRead;
  read.offset = 0;
  read.buf = block;
  read.len = 4096;
  CHECK(engine->submit(&read, 1) == 1, "plain read not taken");
  const int32_t plain = completeOne(*engine);
  CHECK(plain == 4096, "the read without the attribute returned %d", plain);
  read.piAttribute = &attribute;
  CHECK(engine->submit(&read, 1) == 1, "read with the attribute not taken");
  const int32_t refused = completeOne(*engine);
  CHECK(refused < 0, "the read with a PI attribute on a file without integrity returned %d: the kernel never saw it", refused);
  std::printf("io_uring: a read carrying the PI attribute on a plain file completed with %d (%s)\n", refused,
              refused < 0 ? std::strerror(-refused) : "success");
  engine.reset();
  free(block);
  close(fd);
  unlink(name.data());
}

std::string scratchDir(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0) return argv[i + 1];
  }
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

}  // namespace

int main(int argc, char** argv) {
  std::mt19937_64 random(20261201);
  checkChecksums(random);
  checkProtection(random);
  checkKernelEncoding();
  checkUringCarriesAttribute(scratchDir(argc, argv));
  if (failures > 0) {
    std::printf("%d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("all integrity checks passed\n");
  return 0;
}
