// The io_uring engine's registrations: one set of fixed buffers, and a sparse
// table of registered files made on first use.
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "uring_engine.h"
#include "uring_internal.h"

namespace aioring {
namespace {

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
  knownSizes_.forget(fd);
  const int32_t slot = fileSlotOf(fd);
  if (slot < 0) return;
  fileSlotOfFd_[fd] = -1;
  // A slot the kernel would not empty still holds its file, so it is never
  // handed out again; the file stays open until the ring closes.
  if (updateFileSlot(static_cast<uint32_t>(slot), -1) == 1) freeFileSlots_.push_back(static_cast<uint32_t>(slot));
}

}  // namespace aioring
