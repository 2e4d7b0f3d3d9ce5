#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install, build and run every test: the CTest suite (core, MPI, a real
# SLURM), the build without MPI (DESCENT_WITH_MPI=OFF, in build-serial/) and
# its core tests, then mutation testing (scripts/mutate.sh: every mutant of
# tests/mutants.txt must be caught), the suite under AddressSanitizer + UBSan
# with the single-process tests under valgrind (scripts/sanitize.sh), then
# each libFuzzer harness for FUZZ_SECONDS (scripts/fuzz.sh). The exit code
# is the verdict. QUICK=1 stops after the two CTest suites.
# Usage: bash scripts/test.sh      (env: QUICK=1 stops after the two CTest suites)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh slurm check
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900
echo "== the build without MPI"
# MPI is never looked for (nor its headers on the include path): the build a
# machine without Open MPI gets
cmake -S . -B build-serial -DCMAKE_BUILD_TYPE=Release -DDESCENT_WITH_MPI=OFF >/dev/null
cmake --build build-serial -j "$(nproc)"
ctest --test-dir build-serial --output-on-failure --timeout 900
[ -n "${QUICK:-}" ] && exit 0
echo "== mutation testing"
bash scripts/mutate.sh
bash scripts/sanitize.sh
FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash scripts/fuzz.sh
