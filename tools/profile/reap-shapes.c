// Random 4 KiB O_DIRECT writes (or reads) at queue depth 32 in C, completed in
// one of two shapes, to tell the cost of aioring's shape from the cost of JS:
//   blocking  fio's: io_getevents(min 1) and one io_submit per completion;
//   loop      aioring's: an eventfd (IOCB_FLAG_RESFD) woken through epoll_wait,
//             completions reaped from the user-space AIO ring, and `chunk` of
//             them resubmitted per io_submit, the eventfd read only once the
//             ring looks empty.
// Prints IOPS, wake-ups and requests per io_submit. Compare with fio on the
// same file in the same minute, and look at /proc/diskstats around each run.
//
// Two knobs stand in for what a runtime adds to the loop shape:
//   REAP_WORK_NS  busy CPU time per completion before it is resubmitted (a
//                 JS runtime's per-request work: callback, promise, await);
//   REAP_SPIN_US  how long the loop polls the ring before sleeping in
//                 epoll_wait (whether a halted CPU's wake-up is what costs).
// REAP_SECONDS sets the run's length (default 3).
//
// build: cc -O2 -o /tmp/reap-shapes tools/profile/reap-shapes.c
// usage: [REAP_WORK_NS=N] [REAP_SPIN_US=N] /tmp/reap-shapes FILE blocking|loop [CHUNK] [read]
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { kDepth = 32, kBlock = 4096 };

// The ring header the kernel maps at the context address (stable ABI, not in uapi).
struct aio_ring_header {
  unsigned id, nr, head, tail, magic, compat_features, incompat_features, header_length;
  struct io_event events[];
};

struct workload {
  int fd;
  long blocks;
  int write;
  int notifier;  // -1 in the blocking shape
  unsigned seed;
  struct iocb iocbs[kDepth];
  void* buffers[kDepth];
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double env_number(const char* name, double fallback) {
  const char* text = getenv(name);
  return text ? atof(text) : fallback;
}

static void busy_for(double seconds) {
  const double until = now_s() + seconds;
  while (now_s() < until) {
  }
}

// Polls the ring for up to `seconds`; true if a completion showed up.
static int poll_ring(const struct aio_ring_header* ring, double seconds) {
  const double until = now_s() + seconds;
  while (now_s() < until) {
    if (__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) != ring->head) return 1;
  }
  return 0;
}

// Points request `slot` at a fresh random block.
static struct iocb* prepare(struct workload* w, int slot) {
  struct iocb* request = &w->iocbs[slot];
  memset(request, 0, sizeof *request);
  w->seed = w->seed * 1103515245u + 12345u;
  request->aio_data = slot;
  request->aio_lio_opcode = w->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
  request->aio_fildes = w->fd;
  request->aio_buf = (uintptr_t)w->buffers[slot];
  request->aio_nbytes = kBlock;
  request->aio_offset = (long long)(w->seed % w->blocks) * kBlock;
  if (w->notifier >= 0) {
    request->aio_flags = IOCB_FLAG_RESFD;
    request->aio_resfd = w->notifier;
  }
  return request;
}

static void submit(aio_context_t ctx, struct iocb** list, long count) {
  if (syscall(__NR_io_submit, ctx, count, list) != count) {
    perror("io_submit");
    exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s FILE blocking|loop [CHUNK] [read]\n", argv[0]);
    return 2;
  }
  const int loop = strcmp(argv[2], "loop") == 0;
  const int chunk = argc > 3 ? atoi(argv[3]) : 4;
  const double seconds = env_number("REAP_SECONDS", 3);
  const double work = env_number("REAP_WORK_NS", 0) / 1e9;
  const double spin = env_number("REAP_SPIN_US", 0) / 1e6;
  struct workload w = {.write = !(argc > 4 && strcmp(argv[4], "read") == 0), .notifier = -1, .seed = 1};
  w.fd = open(argv[1], (w.write ? O_RDWR : O_RDONLY) | O_DIRECT);
  if (w.fd < 0 || chunk < 1 || chunk > kDepth) {
    perror(argv[1]);
    return 1;
  }
  w.blocks = lseek(w.fd, 0, SEEK_END) / kBlock;
  aio_context_t ctx = 0;
  if (syscall(__NR_io_setup, kDepth, &ctx) < 0) {
    perror("io_setup");
    return 1;
  }
  struct aio_ring_header* ring = (struct aio_ring_header*)ctx;
  int poller = -1;
  if (loop) {
    w.notifier = eventfd(0, EFD_NONBLOCK);
    poller = epoll_create1(0);
    struct epoll_event interest = {.events = EPOLLIN};
    epoll_ctl(poller, EPOLL_CTL_ADD, w.notifier, &interest);
  }
  struct iocb* list[kDepth];
  for (int slot = 0; slot < kDepth; slot++) {
    if (posix_memalign(&w.buffers[slot], kBlock, kBlock) != 0) return 1;
    memset(w.buffers[slot], slot + 1, kBlock);
    list[slot] = prepare(&w, slot);
  }
  submit(ctx, list, kDepth);

  long completed = 0, wakeups = 0, submissions = 0, caught_by_spinning = 0;
  const double started = now_s();
  while (now_s() - started < seconds) {
    wakeups++;
    if (!loop) {
      struct io_event events[kDepth];
      long got = syscall(__NR_io_getevents, ctx, 1, kDepth, events, NULL);
      for (long i = 0; i < got; i++) {
        if (work > 0) busy_for(work);
        struct iocb* next = prepare(&w, (int)events[i].data);
        submit(ctx, &next, 1);
        submissions++;
      }
      completed += got;
      continue;
    }
    if (spin > 0 && poll_ring(ring, spin)) {
      caught_by_spinning++;
    } else {
      struct epoll_event ready;
      epoll_wait(poller, &ready, 1, -1);
    }
    int drained = 0;
    // Requests that complete inside io_submit (tmpfs, page cache) would keep
    // this loop going forever; after a ring's worth, go back to the clock.
    // The eventfd is still set then, so epoll_wait returns at once.
    for (long delivered = 0; delivered < 2 * kDepth;) {
      unsigned head = ring->head;
      unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
      if (head == tail) {
        if (drained) break;
        uint64_t count;
        // EAGAIN only means it was already clear.
        (void)!read(w.notifier, &count, sizeof count);
        drained = 1;
        continue;
      }
      int n = 0;
      while (head != tail && n < chunk) {
        if (work > 0) busy_for(work);
        list[n++] = prepare(&w, (int)ring->events[head].data);
        head = (head + 1) % ring->nr;
      }
      __atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
      submit(ctx, list, n);
      submissions++;
      completed += n;
      delivered += n;
    }
  }
  const double elapsed = now_s() - started;
  printf("%s chunk %d: %.0f IOPS, %.3f wake-ups per request, %.2f requests per io_submit, %.3f of wake-ups found by polling\n",
         argv[2], loop ? chunk : 1, completed / elapsed, (double)wakeups / completed, (double)completed / submissions,
         wakeups ? (double)caught_by_spinning / wakeups : 0.0);
  return 0;
}
