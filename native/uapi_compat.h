// Kernel ABI values the build machine's uapi headers may lack. Build hosts can
// carry older headers than the kernels the addon runs on; these numbers are
// ABI and never change. Each is defined after the header that would declare
// it, which also covers names newer headers declare as enumerators rather
// than macros. Every engine includes this instead of defining its own
// (device.cc keeps the statx and file-system ones, which no engine needs).
#pragma once

#include <linux/fs.h>
#include <linux/io_uring.h>

#include "engine.h"

// Per-request write flags (preadv2/pwritev2, AIO, io_uring): 4.7, RWF_ATOMIC 6.11.
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x00000002
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x00000040
#endif

namespace aioring {

// The RWF_* flags for a request's kFlag* bits (engine.h).
inline int rwFlagsFor(uint32_t flags) {
  return ((flags & kFlagDsync) ? RWF_DSYNC : 0) | ((flags & kFlagAtomic) ? RWF_ATOMIC : 0);
}

}  // namespace aioring

// io_uring_setup flags.
#ifndef IORING_SETUP_CQSIZE
#define IORING_SETUP_CQSIZE (1U << 3)
#endif
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_TASKRUN_FLAG
#define IORING_SETUP_TASKRUN_FLAG (1U << 9)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

// io_uring_params.features.
#ifndef IORING_FEAT_SINGLE_MMAP
#define IORING_FEAT_SINGLE_MMAP (1U << 0)
#endif
#ifndef IORING_FEAT_RW_CUR_POS
#define IORING_FEAT_RW_CUR_POS (1U << 3)
#endif

// The SQ ring's flags word.
#ifndef IORING_SQ_CQ_OVERFLOW
#define IORING_SQ_CQ_OVERFLOW (1U << 1)
#endif
#ifndef IORING_SQ_TASKRUN
#define IORING_SQ_TASKRUN (1U << 2)
#endif

// io_uring_enter flags.
#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS (1U << 0)
#endif

// io_uring_register opcodes.
#ifndef IORING_REGISTER_BUFFERS
#define IORING_REGISTER_BUFFERS 0
#endif
#ifndef IORING_UNREGISTER_BUFFERS
#define IORING_UNREGISTER_BUFFERS 1
#endif
#ifndef IORING_REGISTER_FILES
#define IORING_REGISTER_FILES 2
#endif
#ifndef IORING_REGISTER_EVENTFD
#define IORING_REGISTER_EVENTFD 4
#endif
#ifndef IORING_REGISTER_FILES_UPDATE
#define IORING_REGISTER_FILES_UPDATE 6
#endif

// SQE flags and opcodes.
#ifndef IOSQE_FIXED_FILE
#define IOSQE_FIXED_FILE (1U << 0)
#endif
#ifndef IORING_FSYNC_DATASYNC
#define IORING_FSYNC_DATASYNC (1U << 0)
#endif
#ifndef IORING_OP_READ_FIXED
#define IORING_OP_READ_FIXED 4
#endif
#ifndef IORING_OP_WRITE_FIXED
#define IORING_OP_WRITE_FIXED 5
#endif
#ifndef IORING_OP_READ
#define IORING_OP_READ 22
#endif
#ifndef IORING_OP_WRITE
#define IORING_OP_WRITE 23
#endif
#ifndef IOSQE_IO_LINK
#define IOSQE_IO_LINK (1U << 2)
#endif
#ifndef IORING_OP_ASYNC_CANCEL
#define IORING_OP_ASYNC_CANCEL 14
#endif
#ifndef IORING_OP_LINK_TIMEOUT
#define IORING_OP_LINK_TIMEOUT 15
#endif
