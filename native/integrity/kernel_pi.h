// The kernel's own protection-information interfaces, defined here from the
// uapi because the build machine's headers predate them:
//   - FS_IOC_GETLBMD_CAP (linux/fs.h, 6.17): a block device's metadata and PI
//     capabilities;
//   - the io_uring read/write attribute (linux/io_uring.h, 6.14), which hands a
//     request's PI buffer to the kernel and asks it to check guard, reference
//     and application tags (IORING_RW_ATTR_FLAG_PI, struct io_uring_attr_pi),
//     announced by IORING_FEAT_RW_ATTR.
// No Node-API.
#pragma once

#include <linux/io_uring.h>

#include <cstddef>
#include <cstdint>

namespace aioring {
namespace integrity {

// struct logical_block_metadata_cap
struct LogicalBlockMetadataCap {
  uint32_t flags;           // lbmd_flags: kLbmdCap*
  uint16_t interval;        // bytes of data each unit of metadata describes
  uint8_t size;             // bytes of metadata per interval
  uint8_t opaqueSize;       // bytes of opaque (non-PI) metadata
  uint8_t opaqueOffset;     // its offset within the metadata
  uint8_t piSize;           // bytes of the PI tuple
  uint8_t piOffset;         // its offset within the metadata
  uint8_t guardTagType;     // kLbmdGuard*
  uint8_t appTagSize;
  uint8_t refTagSize;
  uint8_t storageTagSize;
  uint8_t pad;
};
static_assert(sizeof(LogicalBlockMetadataCap) == 16, "LBMD_SIZE_VER0");
static_assert(offsetof(LogicalBlockMetadataCap, interval) == 4, "lbmd_interval");
static_assert(offsetof(LogicalBlockMetadataCap, size) == 6, "lbmd_size");
static_assert(offsetof(LogicalBlockMetadataCap, piSize) == 9, "lbmd_pi_size");
static_assert(offsetof(LogicalBlockMetadataCap, piOffset) == 10, "lbmd_pi_offset");
static_assert(offsetof(LogicalBlockMetadataCap, guardTagType) == 11, "lbmd_guard_tag_type");
static_assert(offsetof(LogicalBlockMetadataCap, storageTagSize) == 14, "lbmd_storage_tag_size");

constexpr uint32_t kLbmdCapIntegrity = 1u << 0;  // LBMD_PI_CAP_INTEGRITY
constexpr uint32_t kLbmdCapRefTag = 1u << 1;     // LBMD_PI_CAP_REFTAG
constexpr uint8_t kLbmdGuardNone = 0;            // LBMD_PI_CSUM_NONE
constexpr uint8_t kLbmdGuardIp = 1;              // LBMD_PI_CSUM_IP
constexpr uint8_t kLbmdGuardCrc16T10Dif = 2;     // LBMD_PI_CSUM_CRC16_T10DIF
constexpr uint8_t kLbmdGuardCrc64Nvme = 4;       // LBMD_PI_CSUM_CRC64_NVME

// _IOWR(0x15, 2, struct logical_block_metadata_cap)
constexpr unsigned long kFsIocGetLbmdCap =
    (3ul << 30) | (static_cast<unsigned long>(sizeof(LogicalBlockMetadataCap)) << 16) | (0x15ul << 8) | 2ul;
static_assert(kFsIocGetLbmdCap == 0xc0101502ul, "FS_IOC_GETLBMD_CAP");

// struct io_uring_attr_pi
struct IoUringAttrPi {
  uint16_t flags;    // kIntegrityCheck*: what the kernel is to check
  uint16_t appTag;
  uint32_t len;      // bytes at addr
  uint64_t addr;     // the PI buffer
  uint64_t seed;     // reference tag of the first interval
  uint64_t rsvd;     // must be zero
};
static_assert(sizeof(IoUringAttrPi) == 32, "struct io_uring_attr_pi");
static_assert(offsetof(IoUringAttrPi, appTag) == 2 && offsetof(IoUringAttrPi, len) == 4, "io_uring_attr_pi tags");
static_assert(offsetof(IoUringAttrPi, addr) == 8 && offsetof(IoUringAttrPi, seed) == 16, "io_uring_attr_pi buffer");
static_assert(offsetof(IoUringAttrPi, rsvd) == 24, "io_uring_attr_pi reserved");

constexpr uint16_t kIntegrityCheckGuard = 1u << 0;   // IO_INTEGRITY_CHK_GUARD
constexpr uint16_t kIntegrityCheckRefTag = 1u << 1;  // IO_INTEGRITY_CHK_REFTAG
constexpr uint16_t kIntegrityCheckAppTag = 1u << 2;  // IO_INTEGRITY_CHK_APPTAG
constexpr uint64_t kRwAttrFlagPi = 1ull << 0;        // IORING_RW_ATTR_FLAG_PI
constexpr uint32_t kFeatRwAttr = 1u << 16;           // IORING_FEAT_RW_ATTR

// The SQE of a read or write carries the attribute's address and type mask
// where other opcodes have addr3 and __pad2[0].
constexpr size_t kSqeAttrPtrOffset = 48;
constexpr size_t kSqeAttrTypeMaskOffset = 56;
static_assert(offsetof(io_uring_sqe, addr3) == kSqeAttrPtrOffset, "sqe->attr_ptr shares addr3's place");
static_assert(sizeof(io_uring_sqe) == 64, "a plain SQE");

// FS_IOC_GETLBMD_CAP on fd: 0, or -errno (ENOTTY: not a block device or a
// kernel before 6.17; EOPNOTSUPP: a kernel without block integrity).
int queryMetadataCap(int fd, LogicalBlockMetadataCap* cap);

// Sets up a one-entry io_uring to read its features: 0 with *features set, or -errno.
int queryUringFeatures(uint32_t* features);

// The attribute asking the kernel to check every field of the tuples at `tuples`.
IoUringAttrPi piAttribute(const uint8_t* tuples, size_t length, uint64_t firstReferenceTag, uint16_t applicationTag);

// Points a read or write SQE at its PI attribute.
void attachPiAttribute(io_uring_sqe* sqe, const IoUringAttrPi* attribute);

}  // namespace integrity
}  // namespace aioring
