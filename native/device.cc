#include "device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif
#ifndef STATX_WRITE_ATOMIC
#define STATX_WRITE_ATOMIC 0x00010000U
#endif
#ifndef BTRFS_SUPER_MAGIC
#define BTRFS_SUPER_MAGIC 0x9123683E
#endif
#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC 0xEF53
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

namespace aioring {
namespace {

// Reads a queue attribute of the block device into `text` (NUL-terminated); false if it has none.
bool readSysfsText(unsigned major, unsigned minor, const char* attribute, char* text, size_t size) {
  char path[128];
  std::snprintf(path, sizeof path, "/sys/dev/block/%u:%u/queue/%s", major, minor, attribute);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // A partition keeps its queue attributes on the parent disk.
    std::snprintf(path, sizeof path, "/sys/dev/block/%u:%u/../queue/%s", major, minor, attribute);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
  }
  ssize_t got = read(fd, text, size - 1);
  close(fd);
  if (got <= 0) return false;
  text[got] = '\0';
  return true;
}

uint32_t readSysfsNumber(unsigned major, unsigned minor, const char* attribute) {
  char text[32];
  return readSysfsText(major, minor, attribute, text, sizeof text) ? static_cast<uint32_t>(std::strtoul(text, nullptr, 10)) : 0;
}

// Whether an RWF_DSYNC write to the device leaves every write completed before
// it durable too. With no volatile cache they already are; without FUA the
// kernel makes the write durable with a flush of the whole cache. A device
// with both writes that one request through (FUA) and flushes nothing else.
bool dsyncFlushesWholeCache(unsigned major, unsigned minor) {
  char cache[32];
  char fua[8];
  if (!readSysfsText(major, minor, "write_cache", cache, sizeof cache)) return false;
  if (std::strncmp(cache, "write through", 13) == 0) return true;
  return readSysfsText(major, minor, "fua", fua, sizeof fua) && fua[0] == '0';
}

uint32_t larger(uint32_t a, uint32_t b) { return a > b ? a : b; }

// stx_atomic_write_unit_min and _max sit at these offsets of struct statx
// (6.11); read them as bytes, as headers older than that call the space spare.
constexpr size_t kAtomicWriteUnitMinOffset = 0xa8;
constexpr size_t kAtomicWriteUnitMaxOffset = 0xac;
static_assert(sizeof(struct statx) >= kAtomicWriteUnitMaxOffset + sizeof(uint32_t), "struct statx is 256 bytes in every uapi");

void readAtomicWriteUnits(const struct statx& sx, DeviceInfo* info) {
  if (!(sx.stx_mask & STATX_WRITE_ATOMIC)) return;
  const auto* bytes = reinterpret_cast<const unsigned char*>(&sx);
  std::memcpy(&info->atomicWriteMin, bytes + kAtomicWriteUnitMinOffset, sizeof(uint32_t));
  std::memcpy(&info->atomicWriteMax, bytes + kAtomicWriteUnitMaxOffset, sizeof(uint32_t));
}

// For a file whose device has no queue in sysfs and whose statx has no
// STATX_DIOALIGN. btrfs is such a file system (its st_dev is anonymous), and it
// keeps direct I/O direct only when positions, lengths and addresses are
// multiples of its sector size, which it reports as stx_blksize; anything less
// aligned it quietly serves through the page cache. stx_blksize is not a safe
// answer in general (NFS reports its 1 MiB rsize), so only btrfs gets it.
uint32_t fallbackBlockSize(int fd, const struct statx& sx) {
  struct statfs fs;
  if (fstatfs(fd, &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BTRFS_SUPER_MAGIC &&
      sx.stx_blksize >= 512) {
    return sx.stx_blksize;
  }
  return 512;
}

// ext4's and XFS's fsync of a range use the range only to choose the dirty
// pages to write back; the journal or log commit covers the whole inode. An
// XFS realtime file keeps its data on another device than st_dev names, whose
// cache dsyncFlushesWholeCache would then not be asked about.
bool rangedSyncCoversFile(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return false;
  const auto type = static_cast<unsigned long>(fs.f_type);
  if (type == EXT4_SUPER_MAGIC) return true;
  if (type != XFS_SUPER_MAGIC) return false;
  struct fsxattr attributes = {};
  return ioctl(fd, FS_IOC_FSGETXATTR, &attributes) == 0 && !(attributes.fsx_xflags & FS_XFLAG_REALTIME);
}

// struct cachestat_range and struct cachestat of linux/mman.h (6.5).
struct CachestatRange {
  uint64_t offset;
  uint64_t length;
};
struct Cachestat {
  uint64_t cached;
  uint64_t dirty;
  uint64_t writeback;
  uint64_t evicted;
  uint64_t recentlyEvicted;
};

void describeBlockDevice(int fd, DeviceInfo* info) {
  info->blockDevice = true;
  uint64_t bytes = 0;
  int logical = 0;
  unsigned physical = 0;
  int readOnly = 0;
  if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 || ioctl(fd, BLKSSZGET, &logical) < 0 ||
      ioctl(fd, BLKPBSZGET, &physical) < 0 || ioctl(fd, BLKROGET, &readOnly) < 0) {
    info->error = errno;
    return;
  }
  info->size = bytes;
  info->logicalBlockSize = static_cast<uint32_t>(logical);
  info->physicalBlockSize = physical;
  info->readOnly = readOnly != 0;
}

}  // namespace

DeviceInfo describeDevice(int fd) {
  DeviceInfo info;
  struct statx sx = {};
  if (syscall(__NR_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN | STATX_WRITE_ATOMIC, &sx) < 0) {
    info.error = errno;
    return info;
  }
  readAtomicWriteUnits(sx, &info);
  uint32_t dioMemAlign = (sx.stx_mask & STATX_DIOALIGN) ? sx.stx_dio_mem_align : 0;
  uint32_t dioOffsetAlign = (sx.stx_mask & STATX_DIOALIGN) ? sx.stx_dio_offset_align : 0;

  if (S_ISBLK(sx.stx_mode)) {
    describeBlockDevice(fd, &info);
    if (info.error) return info;
    info.dsyncWriteDoesDatasync = dsyncFlushesWholeCache(sx.stx_rdev_major, sx.stx_rdev_minor);
  } else {
    info.size = sx.stx_size;
    info.dsyncWriteDoesDatasync = rangedSyncCoversFile(fd) && dsyncFlushesWholeCache(sx.stx_dev_major, sx.stx_dev_minor);
    // A file's blocks live on the device that holds its file system; its queue
    // limits are the honest answer where statx has none (tmpfs, older kernels).
    info.logicalBlockSize = readSysfsNumber(sx.stx_dev_major, sx.stx_dev_minor, "logical_block_size");
    info.physicalBlockSize = readSysfsNumber(sx.stx_dev_major, sx.stx_dev_minor, "physical_block_size");
    if (info.logicalBlockSize == 0) {
      info.logicalBlockSize = dioOffsetAlign ? dioOffsetAlign : fallbackBlockSize(fd, sx);
    }
    if (info.physicalBlockSize == 0) info.physicalBlockSize = larger(info.logicalBlockSize, sx.stx_blksize);
  }
  info.offsetAlign = dioOffsetAlign ? dioOffsetAlign : info.logicalBlockSize;
  // Some drivers advertise a smaller memory alignment than they honour, so never
  // accept buffers aligned to less than a logical block.
  info.memAlign = larger(dioMemAlign, info.logicalBlockSize);
  return info;
}

int pageCacheClean(int fd) {
  CachestatRange wholeFile = {0, 0};
  Cachestat counts = {};
  if (syscall(__NR_cachestat, fd, &wholeFile, &counts, 0) < 0) return -errno;
  return counts.dirty == 0 && counts.writeback == 0 ? 1 : 0;
}

}  // namespace aioring
