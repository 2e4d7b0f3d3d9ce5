#!/usr/bin/env bash
# Install, build and run every test: the CTest suite (core, MPI, a real
# SLURM), then the same suite under AddressSanitizer + UBSan with the
# single-process tests under valgrind (scripts/sanitize.sh), then each
# libFuzzer harness for FUZZ_SECONDS (scripts/fuzz.sh). The exit code is the
# verdict. QUICK=1 runs the CTest suite alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh slurm check
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900
[ -n "${QUICK:-}" ] && exit 0
bash scripts/sanitize.sh
FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash scripts/fuzz.sh
