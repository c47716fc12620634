// Test-only LD_PRELOAD library for test/safety/submission-faults.test.ts:
// makes the kernel take less of a submission than it was offered, the way it
// does when it runs out of memory, at chosen calls and nowhere else.
//
// The engines reach the kernel through libc's syscall() (native/aio_ring.h,
// UringEngine::enter), so this defines syscall() and forwards every call to
// the next definition, libc's. Two calls can be cut short, each by a script
// in an environment variable read once at start-up: comma-separated "K:M"
// ("the Kth such call takes at most M entries") or "K-L:M" (calls K to L).
//
//   SYSCALL_FAULTS_URING_ENTER  counts io_uring_enter calls that submit
//     (to_submit > 0) and passes to_submit = M to the kernel. Without SQPOLL
//     the kernel then consumes exactly M SQEs and advances the SQ head by M:
//     precisely a kernel that stopped early. M = 0 consumes none.
//   SYSCALL_FAULTS_IO_SUBMIT    counts io_submit calls and passes nr = M, so
//     the kernel starts only the first M iocbs. M = 0 returns -1 with errno
//     EAGAIN without asking the kernel, as io_submit does when it can start
//     none (the kernel never answers 0 for nr > 0).
//
// Only calls made from aioring.node count or are cut: Node's libuv makes
// io_uring_enter calls of its own through syscall() too, and counting those
// would make K depend on the Node version.
//
// Each cut prints one line to stderr ("syscall_faults: ..."), so a test can
// tell that its fault happened rather than infer it.
//
// Build: cc -shared -fPIC -O2 -o syscall_faults.so syscall_faults.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif

#define ADDON_SUFFIX "/aioring.node"
#define MAX_CUTS 16

struct Cut {
  long first, last;  // K and L: which counted calls, from 1
  long limit;        // M: the most entries each may take
};

struct Script {
  struct Cut cuts[MAX_CUTS];
  int count;
  long calls;  // counted calls so far
};

static long (*realSyscall)(long, ...);
static struct Script uringEnter, ioSubmit;

// A script that does not parse ends the process: a test whose fault never
// happens would otherwise pass for the wrong reason.
static void refuse(const char *name, const char *text) {
  fprintf(stderr, "syscall_faults: cannot parse %s=%s (want K:M or K-L:M, comma-separated, at most %d)\n", name, text,
          MAX_CUTS);
  abort();
}

// "K:M" or "K-L:M" (calls K to L), comma-separated; an unset variable is an
// empty script.
static void parse(const char *name, struct Script *script) {
  const char *text = getenv(name);
  while (text && *text) {
    char *end;
    long first = strtol(text, &end, 10);
    long last = first;
    if (*end == '-') last = strtol(end + 1, &end, 10);
    if (*end != ':' || first < 1 || last < first || script->count == MAX_CUTS) refuse(name, getenv(name));
    long limit = strtol(end + 1, &end, 10);
    if (limit < 0 || (*end != ',' && *end != '\0')) refuse(name, getenv(name));
    script->cuts[script->count++] = (struct Cut){first, last, limit};
    text = *end == ',' ? end + 1 : end;
  }
}

__attribute__((constructor)) static void start(void) {
  realSyscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  parse("SYSCALL_FAULTS_URING_ENTER", &uringEnter);
  parse("SYSCALL_FAULTS_IO_SUBMIT", &ioSubmit);
}

static int fromAddon(const void *caller) {
  Dl_info info;
  if (!dladdr(caller, &info) || !info.dli_fname) return 0;
  size_t length = strlen(info.dli_fname), suffix = strlen(ADDON_SUFFIX);
  return length >= suffix && strcmp(info.dli_fname + length - suffix, ADDON_SUFFIX) == 0;
}

// Counts one call (its number goes to *call) and returns the limit the script
// sets for it, or -1. The engines call from the JS thread only; the atomic
// increment keeps the count exact even if that ever changes.
static long limitFor(struct Script *script, long *call) {
  *call = __atomic_add_fetch(&script->calls, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < script->count; ++i) {
    if (*call >= script->cuts[i].first && *call <= script->cuts[i].last) return script->cuts[i].limit;
  }
  return -1;
}

static void announce(const char *what, long call, long offered, long limit) {
  char line[160];
  int length = snprintf(line, sizeof line, "syscall_faults: %s call %ld offered %ld, passing %ld\n", what, call, offered,
                        limit);
  if (length > 0) (void)!write(STDERR_FILENO, line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
}

long syscall(long number, ...) {
  // Every syscall takes at most six register-sized arguments; reading six
  // longs whatever the call is how glibc's own syscall() forwards them.
  va_list args;
  va_start(args, number);
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = va_arg(args, long);
  va_end(args);
  // A library's constructor may call syscall() before this one's has run.
  if (!realSyscall) realSyscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");

  if (number == __NR_io_uring_enter && a[1] > 0 && uringEnter.count > 0 && fromAddon(__builtin_return_address(0))) {
    long call;
    long limit = limitFor(&uringEnter, &call);
    if (limit >= 0 && limit < a[1]) {
      announce("io_uring_enter", call, a[1], limit);
      a[1] = limit;
    }
  } else if (number == __NR_io_submit && a[1] > 0 && ioSubmit.count > 0 && fromAddon(__builtin_return_address(0))) {
    long call;
    long limit = limitFor(&ioSubmit, &call);
    if (limit >= 0 && limit < a[1]) {
      announce("io_submit", call, a[1], limit);
      if (limit == 0) {
        errno = EAGAIN;
        return -1;
      }
      a[1] = limit;
    }
  }
  return realSyscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
