// What waking through an event loop costs at queue depth 1, without Node:
// the same 4 KiB O_DIRECT random reads, one at a time, completed either the
// way fio waits (io_getevents blocking for one event) or the way aioring's
// event loop does (IOCB_FLAG_RESFD on an eventfd, epoll_wait, read the
// eventfd, then reap), alternating request by request. Prints the p50
// latency of each and their ratio.
//
// build: cc -O2 -o /tmp/wakeup-cost tools/profile/wakeup-cost.c
// usage: /tmp/wakeup-cost FILE READS
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

enum wait_style { WAIT_IO_GETEVENTS, WAIT_EVENTFD_EPOLL };

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

struct waiter {
  aio_context_t ctx;
  int notifier;
  int poller;
};

static void make_waiter(struct waiter* w) {
  w->ctx = 0;
  if (syscall(__NR_io_setup, 1, &w->ctx) < 0) { perror("io_setup"); exit(1); }
  w->notifier = eventfd(0, EFD_NONBLOCK);
  w->poller = epoll_create1(0);
  struct epoll_event interest = {.events = EPOLLIN};
  epoll_ctl(w->poller, EPOLL_CTL_ADD, w->notifier, &interest);
}

static double timed_read(const struct waiter* w, int fd, void* buffer, long long offset, enum wait_style style) {
  struct iocb request;
  memset(&request, 0, sizeof request);
  request.aio_lio_opcode = IOCB_CMD_PREAD;
  request.aio_fildes = fd;
  request.aio_buf = (uintptr_t)buffer;
  request.aio_nbytes = 4096;
  request.aio_offset = offset;
  if (style == WAIT_EVENTFD_EPOLL) {
    request.aio_flags = IOCB_FLAG_RESFD;
    request.aio_resfd = w->notifier;
  }
  struct iocb* list = &request;
  struct io_event event;
  double started = now_us();
  if (syscall(__NR_io_submit, w->ctx, 1, &list) != 1) { perror("io_submit"); exit(1); }
  if (style == WAIT_IO_GETEVENTS) {
    syscall(__NR_io_getevents, w->ctx, 1, 1, &event, NULL);
  } else {
    struct epoll_event ready;
    uint64_t count;
    struct timespec immediately = {0, 0};
    epoll_wait(w->poller, &ready, 1, -1);
    if (read(w->notifier, &count, sizeof count) < 0) { perror("read"); exit(1); }
    syscall(__NR_io_getevents, w->ctx, 1, 1, &event, &immediately);
  }
  return now_us() - started;
}

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s FILE READS\n", argv[0]); return 2; }
  int fd = open(argv[1], O_RDONLY | O_DIRECT);
  if (fd < 0) { perror(argv[1]); return 1; }
  long blocks = lseek(fd, 0, SEEK_END) / 4096;
  int reads = atoi(argv[2]);
  struct waiter blocking, looped;
  make_waiter(&blocking);
  make_waiter(&looped);
  void* buffer;
  if (posix_memalign(&buffer, 4096, 4096) != 0) return 1;
  double* blocking_latencies = malloc(sizeof(double) * reads);
  double* looped_latencies = malloc(sizeof(double) * reads);
  unsigned seed = 1;
  // Alternating request by request, so the disk's drift touches both alike.
  for (int i = 0; i < reads; i++) {
    seed = seed * 1103515245u + 12345u;
    blocking_latencies[i] = timed_read(&blocking, fd, buffer, (long long)(seed % blocks) * 4096, WAIT_IO_GETEVENTS);
    seed = seed * 1103515245u + 12345u;
    looped_latencies[i] = timed_read(&looped, fd, buffer, (long long)(seed % blocks) * 4096, WAIT_EVENTFD_EPOLL);
  }
  qsort(blocking_latencies, reads, sizeof(double), by_value);
  qsort(looped_latencies, reads, sizeof(double), by_value);
  double a = blocking_latencies[reads / 2], b = looped_latencies[reads / 2];
  printf("p50 io_getevents %.1f us, eventfd+epoll %.1f us, ratio %.3f\n", a, b, b / a);
  return 0;
}
