#!/bin/bash
# User-space instructions per QD 1 read, counted by callgrind: the loop runs
# twice (10 000 and 30 000 reads) and the difference is divided by 20 000, so
# Node's start-up and JIT warm-up cancel out. Deterministic where timings on a
# shared machine are not.
#
# usage: tools/profile/instructions-per-op.sh FILE [ENGINE]
set -euo pipefail
file=${1:?usage: instructions-per-op.sh FILE [ENGINE]}
engine=${2:-libaio}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
total() {
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$work/$1.out" \
    node "$here/qd1-loop.js" "$file" "$1" "$engine" > /dev/null 2>&1
  callgrind_annotate "$work/$1.out" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
short=$(total 10000)
long=$(total 30000)
echo "$engine: $(( (long - short) / 20000 )) user-space instructions per read"
