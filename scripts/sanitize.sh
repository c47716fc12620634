#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run, in three stages:
#   1. engine_check (test/native/engine_check.cc): every engine, no Node, built
#      with plain cmake and -DAIORING_SANITIZE=ON;
#   2. the addon built the same way through cmake-js;
#   3. the engine and device vitest suites against that addon, loaded into the
#      ordinary (uninstrumented) node with libasan preloaded.
# Every stage runs even when an earlier one failed; the script exits non-zero
# if any stage failed or any sanitizer report was written.
#
# Usage: scripts/sanitize.sh [vitest paths...]
#   default paths: the engine and device suites (test/30.io.test.ts, test/37.cancellation.test.ts,
#   test/40.engines.test.ts, test/50.buffered.test.ts, test/device). Some of
#   those change sysctls or attach loop devices and need root (they skip
#   without it, unless CI=true). AIORING_SOAK_SECONDS defaults to 5 here.
# Environment: AIORING_ASAN_DIR (default build-asan) for the build trees and logs.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${AIORING_ASAN_DIR:-build-asan}
mkdir -p "$out"
out=$(cd "$out" && pwd)
logs="$out/logs"
rm -rf "$logs"
mkdir -p "$logs"

if [ "$#" -gt 0 ]; then
  suites=("$@")
else
  suites=(test/30.io.test.ts test/37.cancellation.test.ts test/40.engines.test.ts test/50.buffered.test.ts test/device)
fi

failed=()
stage() { printf '\n=== %s ===\n' "$*"; }

# Reports go to files (one per process, pid-suffixed) as well as stderr, so
# reports from child processes the suites spawn are not lost in their output.
# detect_leaks=0: V8 and Node keep allocations alive until exit by design.
# halt_on_error: the first report ends the process, so it cannot be missed.
# quarantine_size_mb=16: the default 256 MiB quarantine of freed memory shows up
# as resident-memory growth to the soak suite's flat-memory check.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:quarantine_size_mb=16:log_path=$logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"

stage "1/3 engine_check under ASan+UBSan (plain cmake)"
if cmake -S . -B "$out/engine" -DAIORING_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out/engine-configure.log" 2>&1 &&
  cmake --build "$out/engine" --target engine_check -j"$(nproc)" >"$out/engine-build.log" 2>&1; then
  # The scratch file needs O_DIRECT: the temp dir's file system, not tmpfs before 6.6.
  "$out/engine/engine_check" --dir "${TMPDIR:-/tmp}"
  status=$?
  if [ "$status" -eq 77 ]; then
    echo "engine_check: no engine could run here"
  elif [ "$status" -ne 0 ]; then
    failed+=("engine_check (exit $status)")
  fi
else
  cat "$out/engine-configure.log" "$out/engine-build.log" 2>/dev/null | tail -30
  failed+=("engine_check build")
fi

stage "2/3 addon under ASan+UBSan (cmake-js)"
addon=""
if npx --no-install cmake-js compile --out "$out/addon" --CDAIORING_SANITIZE=ON >"$out/addon-build.log" 2>&1; then
  addon=$(find "$out/addon" -name aioring.node -type f | head -1)
fi
if [ -z "$addon" ]; then
  tail -30 "$out/addon-build.log"
  failed+=("addon build")
else
  echo "built $addon"
fi

stage "3/3 vitest ${suites[*]} against the ASan addon"
libasan=$(${CXX:-g++} -print-file-name=libasan.so)
if [ -n "$addon" ]; then
  if [ ! -e "$libasan" ]; then
    echo "libasan.so not found (${CXX:-g++} -print-file-name=libasan.so gave '$libasan')"
    failed+=("libasan")
  else
    # The TypeScript build must be current: fixtures that run in child
    # processes load dist/, and dist/ must not be rebuilt under LD_PRELOAD.
    npm run --silent build:ts || failed+=("build:ts")
    echo "LD_PRELOAD=$libasan AIORING_NATIVE_PATH=$addon"
    if ! env LD_PRELOAD="$libasan" AIORING_NATIVE_PATH="$addon" AIORING_SOAK_SECONDS="${AIORING_SOAK_SECONDS:-5}" \
      npx --no-install vitest run "${suites[@]}"; then
      failed+=("vitest under ASan")
    fi
  fi
fi

stage "sanitizer reports"
reports=$(find "$logs" -type f 2>/dev/null | sort)
if [ -n "$reports" ]; then
  for report in $reports; do
    printf -- '--- %s\n' "$report"
    head -60 "$report"
  done
  failed+=("sanitizer reports: $(echo "$reports" | wc -l) file(s) in $logs")
else
  echo "none"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nsanitize: FAILED: %s\n' "$(IFS=';'; echo "${failed[*]}")"
  exit 1
fi
printf '\nsanitize: passed\n'
