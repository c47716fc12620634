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
//                 epoll_wait (whether a halted CPU's wake-up is what costs);
//   REAP_HYBRID_LEAD_US  instead, sleep on a timerfd until this long before
//                 the oldest request's 25th-percentile service time, then
//                 poll until its 75th (at most 200 us), within REAP_BUDGET
//                 (share of a core, default 0.1): hybrid polling.
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
#include <sys/timerfd.h>
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

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// Hybrid polling's state: per-slot submission times, the service time's
// 25th and 75th percentiles (stochastic-approximation quantiles), and a token
// bucket of spin time.
struct hybrid {
  int64_t submitted_ns[kDepth];
  int64_t low_ns, high_ns;
  long samples;
  double budget;
  int64_t tokens_ns, refilled_ns, lead_ns;
  long polls, hits;
  int64_t spent_ns;
};

static void quantile_step(int64_t* estimate, int64_t sample, int up, int down) {
  int64_t step = *estimate / 64 > 4 ? *estimate / 64 : 4;
  if (sample > *estimate) *estimate += step * up / 4;
  else if (sample < *estimate) *estimate -= step * down / 4;
  if (*estimate < 1) *estimate = 1;
}

static void hybrid_sample(struct hybrid* h, int slot, int64_t seen_ns) {
  int64_t sample = seen_ns - h->submitted_ns[slot];
  if (h->samples++ == 0) h->low_ns = h->high_ns = sample;
  quantile_step(&h->low_ns, sample, 1, 3);
  quantile_step(&h->high_ns, sample, 3, 1);
}

// What the loop does once its completions are used up: spin for spin_ns,
// or sleep until wake_ns (0: until the eventfd fires).
struct hybrid_step {
  int64_t spin_ns, wake_ns;
};

static struct hybrid_step hybrid_plan(struct hybrid* h, int64_t now) {
  struct hybrid_step sleep = {0, 0};
  if (h->samples < 8) return sleep;
  int64_t oldest = h->submitted_ns[0];
  for (int i = 1; i < kDepth; i++)
    if (h->submitted_ns[i] < oldest) oldest = h->submitted_ns[i];
  const int64_t from = oldest + h->low_ns, until = oldest + h->high_ns;
  if (from - now > h->lead_ns) return (struct hybrid_step){0, from - h->lead_ns};
  int64_t spin = until - now;
  if (spin < 20000) spin = 20000;
  if (spin > 200000) spin = 200000;
  h->tokens_ns += (int64_t)(h->budget * (double)(now - h->refilled_ns));
  if (h->tokens_ns > (int64_t)(h->budget * 1e8)) h->tokens_ns = (int64_t)(h->budget * 1e8);
  h->refilled_ns = now;
  return h->tokens_ns < spin ? sleep : (struct hybrid_step){spin, 0};
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
  struct hybrid h = {.budget = env_number("REAP_BUDGET", 0.1), .lead_ns = (int64_t)(env_number("REAP_HYBRID_LEAD_US", -1) * 1000)};
  const int hybrid = h.lead_ns >= 0;
  h.refilled_ns = now_ns();
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
  const int timer = hybrid ? timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK) : -1;
  if (hybrid) {
    struct epoll_event interest = {.events = EPOLLIN, .data.fd = timer};
    epoll_ctl(poller, EPOLL_CTL_ADD, timer, &interest);
  }
  struct iocb* list[kDepth];
  for (int slot = 0; slot < kDepth; slot++) {
    if (posix_memalign(&w.buffers[slot], kBlock, kBlock) != 0) return 1;
    memset(w.buffers[slot], slot + 1, kBlock);
    list[slot] = prepare(&w, slot);
    h.submitted_ns[slot] = now_ns();
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
    if (hybrid) {
      for (;;) {
        int64_t now = now_ns();
        const struct hybrid_step step = hybrid_plan(&h, now);
        if (step.spin_ns > 0) {
          h.polls++;
          const int caught = poll_ring(ring, step.spin_ns / 1e9);
          const int64_t spent = now_ns() - now;
          h.tokens_ns -= spent;
          h.spent_ns += spent;
          if (caught) {
            h.hits++;
            caught_by_spinning++;
            break;
          }
        }
        struct itimerspec when = {0};
        when.it_value.tv_sec = step.wake_ns / 1000000000;
        when.it_value.tv_nsec = step.wake_ns % 1000000000;
        timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
        struct epoll_event ready;
        epoll_wait(poller, &ready, 1, -1);
        if (ready.data.fd != timer) break;
        uint64_t ticks;
        (void)!read(timer, &ticks, sizeof ticks);
        if (__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) != ring->head) break;
      }
    } else if (spin > 0 && poll_ring(ring, spin)) {
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
      const int64_t seen = hybrid ? now_ns() : 0;
      while (head != tail && n < chunk) {
        if (work > 0) busy_for(work);
        const int slot = (int)ring->events[head].data;
        if (hybrid) hybrid_sample(&h, slot, seen);
        list[n++] = prepare(&w, slot);
        head = (head + 1) % ring->nr;
      }
      __atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
      if (hybrid) {
        const int64_t at = now_ns();
        for (int i = 0; i < n; i++) h.submitted_ns[list[i]->aio_data] = at;
      }
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
  if (hybrid)
    printf("hybrid: p25 %.0f us, p75 %.0f us, %ld polls, %.3f hits, %.4f of a core polling\n", h.low_ns / 1e3, h.high_ns / 1e3, h.polls,
           h.polls ? (double)h.hits / h.polls : 0.0, h.spent_ns / (elapsed * 1e9));
  return 0;
}
