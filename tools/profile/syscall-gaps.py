#!/usr/bin/env python3
"""Median time spent in, and between, system calls, per thread.

Reads `perf script --ns -F tid,time,event,trace` of a recording of
raw_syscalls:sys_enter and raw_syscalls:sys_exit, and prints, for the most
frequent transitions (e.g. "exit epoll_pwait -> enter io_submit"), how often
they happened and their median and mean duration. Between a wake-up and the
next submission is the software on the path from the device back to the
device; inside io_submit is the kernel's submission cost.
"""
import collections
import re
import statistics
import sys

NAMES = {0: 'read', 1: 'write', 208: 'io_getevents', 209: 'io_submit', 232: 'epoll_wait',
         281: 'epoll_pwait', 426: 'io_uring_enter', 441: 'epoll_pwait2'}
LINE = re.compile(r'\s*(\d+)\s+([\d.]+):\s+raw_syscalls:sys_(enter|exit):\s+NR (\d+)')


def main() -> None:
    previous = {}
    gaps = collections.defaultdict(list)
    for line in sys.stdin:
        match = LINE.match(line)
        if not match:
            continue
        tid, seconds, kind, number = match.group(1), float(match.group(2)), match.group(3), int(match.group(4))
        micros = seconds * 1e6
        if tid in previous:
            last_kind, last_number, last_micros = previous[tid]
            gaps[(last_kind, last_number, kind, number)].append(micros - last_micros)
        previous[tid] = (kind, number, micros)
    name = lambda number: NAMES.get(number, str(number))
    frequent = sorted(gaps.items(), key=lambda item: -len(item[1]))[:12]
    for (kind_a, number_a, kind_b, number_b), values in frequent:
        print(f'{kind_a:5} {name(number_a):13} -> {kind_b:5} {name(number_b):13} '
              f'{len(values):8} times  median {statistics.median(values):8.2f} µs  mean {statistics.mean(values):8.2f} µs')


if __name__ == '__main__':
    try:
        main()
    except BrokenPipeError:  # piped into head
        sys.stderr.close()
