// What one fdatasync costs by each way the engines can ask for it, without
// Node: one thread writes 4 KiB with O_DIRECT at a random aligned position of
// FILE, then times the fdatasync made as fdatasync(2) ('sync'), as Linux AIO's
// IOCB_CMD_FDSYNC ('aio'), or as io_uring's IORING_OP_FSYNC ('uring'), the
// last two waited for the way aioring's event loop waits (eventfd, epoll_wait,
// read the eventfd, reap). Mode words may add: 'defer' (the ring uses
// IORING_SETUP_DEFER_TASKRUN, entering with GETEVENTS when IORING_SQ_TASKRUN
// says so), 'async' (IOSQE_ASYNC), 'aff' (this thread and the ring's io-wq
// workers pinned to CPU 0 with IORING_REGISTER_IOWQ_AFF), 'pin' (aio: this
// thread pinned to CPU 0). Prints mean, p50, p90, p99 in microseconds.
//
// build: cc -O2 -o /tmp/sync-call-paths tools/profile/sync-call-paths.c
// usage: /tmp/sync-call-paths sync|aio[-pin]|uring[-defer][-async][-aff] COUNT FILE
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t nowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int compare(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x < y ? -1 : x > y;
}

static void pinToCpu0(cpu_set_t* set) {
  CPU_ZERO(set);
  CPU_SET(0, set);
  sched_setaffinity(0, sizeof *set, set);
}

struct Ring {
  int fd;
  unsigned *sqTail, *sqFlags, *cqHead, *cqTail, sqMask, cqMask;
  struct io_uring_sqe* sqes;
  struct io_uring_cqe* cqes;
};

static int setupRing(struct Ring* ring, int defer, int eventFd, int pin) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
            (defer ? IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG : 0);
  ring->fd = (int)syscall(__NR_io_uring_setup, 64, &p);
  if (ring->fd < 0) return -1;
  size_t size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (p.sq_off.array + p.sq_entries * 4 > size) size = p.sq_off.array + p.sq_entries * 4;
  char* map = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring->fd, IORING_OFF_SQ_RING);
  ring->sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                    ring->fd, IORING_OFF_SQES);
  if (map == MAP_FAILED || ring->sqes == MAP_FAILED) return -1;
  ring->sqTail = (unsigned*)(map + p.sq_off.tail);
  ring->sqFlags = (unsigned*)(map + p.sq_off.flags);
  ring->sqMask = *(unsigned*)(map + p.sq_off.ring_mask);
  unsigned* array = (unsigned*)(map + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  ring->cqHead = (unsigned*)(map + p.cq_off.head);
  ring->cqTail = (unsigned*)(map + p.cq_off.tail);
  ring->cqMask = *(unsigned*)(map + p.cq_off.ring_mask);
  ring->cqes = (struct io_uring_cqe*)(map + p.cq_off.cqes);
  if (syscall(__NR_io_uring_register, ring->fd, IORING_REGISTER_EVENTFD, &eventFd, 1) < 0) return -1;
  if (pin) {
    cpu_set_t set;
    pinToCpu0(&set);
    if (syscall(__NR_io_uring_register, ring->fd, IORING_REGISTER_IOWQ_AFF, &set, sizeof set) < 0) return -1;
  }
  return 0;
}

static void waitForEvent(int epoll, int eventFd) {
  struct epoll_event event;
  uint64_t count;
  epoll_wait(epoll, &event, 1, -1);
  if (read(eventFd, &count, sizeof count) < 0) { /* nothing pending: the reap below decides */ }
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s sync|aio[-pin]|uring[-defer][-async][-aff] COUNT FILE\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  const int count = atoi(argv[2]);
  const int fd = open(argv[3], O_RDWR | O_DIRECT);
  void* buffer;
  if (fd < 0 || count <= 0 || posix_memalign(&buffer, 4096, 4096) != 0) {
    perror(argv[3]);
    return 1;
  }
  memset(buffer, 1, 4096);
  const off_t blocks = lseek(fd, 0, SEEK_END) / 4096;
  const int eventFd = eventfd(0, EFD_NONBLOCK);
  const int epoll = epoll_create1(0);
  struct epoll_event interest = {.events = EPOLLIN};
  epoll_ctl(epoll, EPOLL_CTL_ADD, eventFd, &interest);

  const int useAio = strncmp(mode, "aio", 3) == 0;
  const int useUring = strncmp(mode, "uring", 5) == 0;
  const int defer = strstr(mode, "defer") != NULL;
  aio_context_t ctx = 0;
  struct Ring ring;
  if (useAio) {
    if (syscall(__NR_io_setup, 64, &ctx) < 0) return perror("io_setup"), 1;
    if (strstr(mode, "pin")) {
      cpu_set_t set;
      pinToCpu0(&set);
    }
  }
  if (useUring && setupRing(&ring, defer, eventFd, strstr(mode, "aff") != NULL) < 0) return perror("io_uring"), 1;

  int64_t* latencies = malloc(count * sizeof *latencies);
  for (int i = 0; i < count; i++) {
    if (pwrite(fd, buffer, 4096, (random() % blocks) * 4096) != 4096) return perror("pwrite"), 1;
    const int64_t start = nowNs();
    if (useAio) {
      struct iocb cb;
      memset(&cb, 0, sizeof cb);
      cb.aio_fildes = fd;
      cb.aio_lio_opcode = IOCB_CMD_FDSYNC;
      cb.aio_flags = IOCB_FLAG_RESFD;
      cb.aio_resfd = eventFd;
      struct iocb* cbs[1] = {&cb};
      if (syscall(__NR_io_submit, ctx, 1, cbs) != 1) return perror("io_submit"), 1;
      struct io_event event;
      struct timespec immediately = {0, 0};
      do waitForEvent(epoll, eventFd);
      while (syscall(__NR_io_getevents, ctx, 0, 1, &event, &immediately) != 1);
    } else if (useUring) {
      const unsigned tail = *ring.sqTail;
      struct io_uring_sqe* sqe = &ring.sqes[tail & ring.sqMask];
      memset(sqe, 0, sizeof *sqe);
      sqe->opcode = IORING_OP_FSYNC;
      sqe->fd = fd;
      sqe->fsync_flags = IORING_FSYNC_DATASYNC;
      if (strstr(mode, "async")) sqe->flags = IOSQE_ASYNC;
      __atomic_store_n(ring.sqTail, tail + 1, __ATOMIC_RELEASE);
      syscall(__NR_io_uring_enter, ring.fd, 1, 0, 0, NULL, 0);
      for (;;) {
        waitForEvent(epoll, eventFd);
        if (defer && (__atomic_load_n(ring.sqFlags, __ATOMIC_ACQUIRE) & IORING_SQ_TASKRUN)) {
          syscall(__NR_io_uring_enter, ring.fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0);
        }
        const unsigned head = *ring.cqHead;
        if (__atomic_load_n(ring.cqTail, __ATOMIC_ACQUIRE) == head) continue;
        if (ring.cqes[head & ring.cqMask].res < 0) return fprintf(stderr, "fsync: %d\n", ring.cqes[head & ring.cqMask].res), 1;
        __atomic_store_n(ring.cqHead, head + 1, __ATOMIC_RELEASE);
        break;
      }
    } else if (fdatasync(fd) != 0) {
      return perror("fdatasync"), 1;
    }
    latencies[i] = nowNs() - start;
  }
  qsort(latencies, count, sizeof *latencies, compare);
  int64_t total = 0;
  for (int i = 0; i < count; i++) total += latencies[i];
  printf("%-22s n=%d mean=%.1f p50=%.1f p90=%.1f p99=%.1f us\n", mode, count, total / 1e3 / count,
         latencies[count / 2] / 1e3, latencies[count * 9 / 10] / 1e3, latencies[count * 99 / 100] / 1e3);
  return 0;
}
