#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses with clang (ASan + UBSan) and run each for
# FUZZ_SECONDS (default 60) from its seed corpus in tests/fuzz/corpus. Prints
# executions per second and total runs; exits non-zero on any finding, whose
# input is kept in build-fuzz/findings/ (copy it to tests/fuzz/regressions/
# TARGET/ so CTest replays it forever).
# Usage: bash scripts/fuzz.sh      (env: FUZZ_SECONDS, default 60)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
# the harnesses link the static library (clang does not put the sanitizer
# runtimes into a shared library, so none is built here)
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDESCENT_FUZZ=ON \
  -DDESCENT_BUILD_TESTS=OFF -DDESCENT_SHARED=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/findings
status=0
printf '%-6s %12s %10s %s\n' target runs "exec/s" result
for t in idx csv model npy cli; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/$t/* "$work/"
  extra=()
  # the CLI harness longjmps out of main: allocations made before a usage
  # error are not freed by design, so leak detection is off for it alone
  [ $t = cli ] && extra=(-detect_leaks=0)
  log=build-fuzz/findings/$t.log
  if build-fuzz/tests/fuzz/fuzz_$t "$work" -max_total_time="$SECONDS_EACH" -max_len=65536 \
       -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
       -artifact_prefix=build-fuzz/findings/$t- "${extra[@]}" >"$log" 2>&1; then
    result=clean
  else
    result="FINDING (see $log)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  printf '%-6s %12s %10s %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
  rm -rf "$work"
done
exit $status
