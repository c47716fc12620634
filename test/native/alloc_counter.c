// Test-only LD_PRELOAD library for test/safety/allocations.test.ts: counts the
// heap allocations made directly by code in aioring.node, on every thread.
//
// Every allocation function below forwards to the next definition (libc's,
// libstdc++'s) and, when its return address lies in aioring.node's executable
// segment, bumps that function's counter. Only the immediate caller counts:
// a std::vector growing in the addon calls operator new from the addon and is
// counted once; the malloc libstdc++'s operator new then makes is not. What
// other libraries allocate on the addon's behalf (Node-API, V8, out-of-line
// libstdc++ members such as std::string's) is not seen.
//
// The counters live in a file the process maps shared, so the process itself
// (or anyone) can read them at any moment with plain read(): no signal, no
// exported function. Set ALLOC_COUNTER_FILE to its path. Layout:
//   offset 0:    the counted function names, space-separated, NUL-terminated
//   offset 4096: little-endian uint64s: addonFound (1 once aioring.node is
//                loaded), one count per name in that order, then up to
//                CALLER_SLOTS distinct call sites (return addresses minus the
//                addon's load address, for addr2line -e aioring.node).
//
// Build: cc -shared -fPIC -O2 -o alloc_counter.so alloc_counter.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ADDON_SUFFIX "/aioring.node"
#define COUNTERS_OFFSET 4096
#define CALLER_SLOTS 32

enum Function {
  kMalloc,
  kCalloc,
  kRealloc,
  kPosixMemalign,
  kAlignedAlloc,
  kMemalign,
  kNew,
  kNewArray,
  kNewNothrow,
  kNewArrayNothrow,
  kNewAligned,
  kNewArrayAligned,
  kNewAlignedNothrow,
  kNewArrayAlignedNothrow,
  kFunctionCount
};

// The symbol each counter is for: also what dlsym looks up to forward to.
static const char *const kNames[kFunctionCount] = {
    "malloc",
    "calloc",
    "realloc",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
};

struct Counters {
  uint64_t addonFound;
  uint64_t fromAddon[kFunctionCount];
  uint64_t callers[CALLER_SLOTS];
};

static struct Counters *counters;
static void *real[kFunctionCount];
static void (*realFree)(void *);
static void *(*realDlopen)(const char *, int);

// aioring.node's executable segment, and the address its offsets are relative
// to. Written once, on the thread that loads the addon; end is stored last and
// read first, so a reader that sees it sees the rest.
static uintptr_t addonStart, addonEnd, addonBase;

// dlsym may allocate (glibc keeps dlerror state on the heap) before the real
// allocator is known; those blocks come from here, each after a 16-byte
// header holding its size, and are never freed.
static _Alignas(16) unsigned char bootstrap[16384];
static size_t bootstrapUsed;
static int resolving, resolved;

static int fromBootstrap(const void *pointer) {
  const unsigned char *bytes = pointer;
  return bytes >= bootstrap && bytes < bootstrap + sizeof bootstrap;
}

static void *bootstrapAlloc(size_t size) {
  size_t rounded = (size + 15) & ~(size_t)15;
  if (size > sizeof bootstrap || rounded + 16 > sizeof bootstrap - bootstrapUsed) return NULL;
  unsigned char *block = bootstrap + bootstrapUsed;
  bootstrapUsed += rounded + 16;
  memcpy(block, &size, sizeof size);
  return block + 16;
}

static size_t bootstrapSize(const void *pointer) {
  size_t size;
  memcpy(&size, (const unsigned char *)pointer - 16, sizeof size);
  return size;
}

static void resolve(void) {
  if (resolved || resolving) return;
  resolving = 1;
  // free first: a lookup that fails (operator new, in a process without
  // libstdc++) frees the error message dlsym made.
  realFree = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  for (int i = 0; i < kFunctionCount; ++i) real[i] = dlsym(RTLD_NEXT, kNames[i]);
  realDlopen = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
  resolving = 0;
  resolved = 1;
}

// Null while dlsym itself is running (malloc and calloc then serve from
// bootstrap), and for operator new in a process without libstdc++, where
// nothing can call it.
static void *forward(enum Function function) {
  if (!real[function]) resolve();
  return real[function];
}

static void rememberCaller(struct Counters *c, uint64_t offset) {
  for (int i = 0; i < CALLER_SLOTS; ++i) {
    uint64_t seen = __atomic_load_n(&c->callers[i], __ATOMIC_RELAXED);
    if (seen == 0 && __atomic_compare_exchange_n(&c->callers[i], &seen, offset, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
      return;
    }
    if (seen == offset) return;
  }
}

// Only atomics and arithmetic: safe on any thread, inside any lock, and it
// never allocates.
static void count(enum Function function, const void *caller) {
  struct Counters *c = counters;
  uintptr_t address = (uintptr_t)caller;
  uintptr_t end = __atomic_load_n(&addonEnd, __ATOMIC_ACQUIRE);
  if (!c || address >= end || address < addonStart) return;
  __atomic_fetch_add(&c->fromAddon[function], 1, __ATOMIC_RELAXED);
  rememberCaller(c, address - addonBase);
}

#define CALLER __builtin_return_address(0)

void *malloc(size_t size) {
  void *(*next)(size_t) = (void *(*)(size_t))forward(kMalloc);
  if (!next) return bootstrapAlloc(size);
  count(kMalloc, CALLER);
  return next(size);
}

void *calloc(size_t count_, size_t size) {
  void *(*next)(size_t, size_t) = (void *(*)(size_t, size_t))forward(kCalloc);
  if (!next) return size && count_ > sizeof bootstrap / size ? NULL : bootstrapAlloc(count_ * size);
  count(kCalloc, CALLER);
  return next(count_, size);
}

void *realloc(void *pointer, size_t size) {
  void *(*next)(void *, size_t) = (void *(*)(void *, size_t))forward(kRealloc);
  if (!next || fromBootstrap(pointer)) {
    void *moved = next ? ((void *(*)(size_t))real[kMalloc])(size) : bootstrapAlloc(size);
    if (moved && pointer) {
      size_t old = bootstrapSize(pointer);
      memcpy(moved, pointer, size < old ? size : old);
    }
    return moved;
  }
  count(kRealloc, CALLER);
  return next(pointer, size);
}

void free(void *pointer) {
  if (!pointer || fromBootstrap(pointer)) return;
  if (!realFree) resolve();
  realFree(pointer);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  int (*next)(void **, size_t, size_t) = (int (*)(void **, size_t, size_t))forward(kPosixMemalign);
  count(kPosixMemalign, CALLER);
  return next(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
  void *(*next)(size_t, size_t) = (void *(*)(size_t, size_t))forward(kAlignedAlloc);
  count(kAlignedAlloc, CALLER);
  return next(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
  void *(*next)(size_t, size_t) = (void *(*)(size_t, size_t))forward(kMemalign);
  count(kMemalign, CALLER);
  return next(alignment, size);
}

// C++'s operator new, by mangled name: a const nothrow_t& is passed as a
// pointer and an align_val_t as a size_t, so C can define and forward them all.
#define NEW_PLAIN(symbol, function)                                    \
  void *symbol(size_t size) {                                          \
    count(function, CALLER);                                           \
    return ((void *(*)(size_t))forward(function))(size);               \
  }
#define NEW_NOTHROW(symbol, function)                                  \
  void *symbol(size_t size, const void *nothrow) {                     \
    count(function, CALLER);                                           \
    return ((void *(*)(size_t, const void *))forward(function))(size, nothrow); \
  }
#define NEW_ALIGNED(symbol, function)                                  \
  void *symbol(size_t size, size_t alignment) {                        \
    count(function, CALLER);                                           \
    return ((void *(*)(size_t, size_t))forward(function))(size, alignment); \
  }
#define NEW_ALIGNED_NOTHROW(symbol, function)                                                  \
  void *symbol(size_t size, size_t alignment, const void *nothrow) {                           \
    count(function, CALLER);                                                                   \
    return ((void *(*)(size_t, size_t, const void *))forward(function))(size, alignment, nothrow); \
  }

NEW_PLAIN(_Znwm, kNew)
NEW_PLAIN(_Znam, kNewArray)
NEW_NOTHROW(_ZnwmRKSt9nothrow_t, kNewNothrow)
NEW_NOTHROW(_ZnamRKSt9nothrow_t, kNewArrayNothrow)
NEW_ALIGNED(_ZnwmSt11align_val_t, kNewAligned)
NEW_ALIGNED(_ZnamSt11align_val_t, kNewArrayAligned)
NEW_ALIGNED_NOTHROW(_ZnwmSt11align_val_tRKSt9nothrow_t, kNewAlignedNothrow)
NEW_ALIGNED_NOTHROW(_ZnamSt11align_val_tRKSt9nothrow_t, kNewArrayAlignedNothrow)

static int endsWith(const char *text, const char *suffix) {
  size_t length = strlen(text), suffixLength = strlen(suffix);
  return length >= suffixLength && strcmp(text + length - suffixLength, suffix) == 0;
}

static int findAddon(struct dl_phdr_info *info, size_t size, void *unused) {
  (void)size;
  (void)unused;
  if (!info->dlpi_name || !endsWith(info->dlpi_name, ADDON_SUFFIX)) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
    if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_X)) continue;
    addonBase = info->dlpi_addr;
    addonStart = info->dlpi_addr + segment->p_vaddr;
    __atomic_store_n(&addonEnd, addonStart + segment->p_memsz, __ATOMIC_RELEASE);
    if (counters) __atomic_store_n(&counters->addonFound, 1, __ATOMIC_RELAXED);
    return 1;
  }
  return 0;
}

// Node loads addons with dlopen: the moment to learn where the addon's code
// is, instead of asking the loader on every allocation. (The loader now sees
// this library as dlopen's caller, which matters only for the caller's
// RPATH, and Node passes addons' absolute paths.)
void *dlopen(const char *file, int mode) {
  if (!realDlopen) resolve();
  void *handle = realDlopen(file, mode);
  if (handle && !__atomic_load_n(&addonEnd, __ATOMIC_ACQUIRE)) dl_iterate_phdr(findAddon, NULL);
  return handle;
}

__attribute__((constructor)) static void start(void) {
  resolve();
  const char *path = getenv("ALLOC_COUNTER_FILE");
  if (!path) return;
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  char header[COUNTERS_OFFSET] = {0};
  size_t used = 0;
  for (int i = 0; i < kFunctionCount; ++i) {
    size_t length = strlen(kNames[i]);
    if (i > 0) header[used++] = ' ';
    memcpy(header + used, kNames[i], length);
    used += length;
  }
  void *mapping = MAP_FAILED;
  if (write(fd, header, sizeof header) == (ssize_t)sizeof header &&
      ftruncate(fd, COUNTERS_OFFSET + sizeof(struct Counters)) == 0) {
    mapping = mmap(NULL, COUNTERS_OFFSET + sizeof(struct Counters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  close(fd);
  if (mapping != MAP_FAILED) counters = (struct Counters *)((char *)mapping + COUNTERS_OFFSET);
}
