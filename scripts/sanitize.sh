#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/), then the single-process tests under valgrind memcheck
# (build-valgrind/, without AVX-512, which valgrind cannot run).
# Any report fails the run. Open MPI's own allocations that live until exit
# are suppressed for LeakSanitizer (tests/sanitizer/lsan.supp), nothing else.
# Usage: bash scripts/sanitize.sh
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDESCENT_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$(nproc)" >/dev/null
# Slow unwinding and no dlclose, so that leaks inside Open MPI plugins get
# full stacks and meet their suppressions.
export ASAN_OPTIONS=abort_on_error=0:halt_on_error=1:detect_leaks=1:exitcode=66:fast_unwind_on_malloc=0
export OMPI_MCA_mca_base_component_disable_dlclose=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0
echo "== ASan + UBSan: the whole test suite"
# the SLURM and multinode tests run real daemons and hosts, and are unchanged by
# the build (launched ranks would not see the sanitizer settings): plain run only
# the install and package tests build outside programs with plain flags against the
# installed library, which here is instrumented: it runs in the plain build
ctest --test-dir build-asan --output-on-failure --timeout 900 -LE "slurm|multinode" -E "^(install|package)$"

echo "== valgrind memcheck: single-process tests"
# valgrind does not decode AVX-512: on x86-64 these tests are built for AVX2 +
# FMA where the CPU has them (the kernels' 8-wide path), else for baseline x86-64
VG_TESTS=(test_kernels test_derivation test_gradcheck test_update test_softmax test_dropout test_bf16
          test_train test_model_io test_api_args test_data_arrays test_repro_precision)
arch=""
if [ "$(uname -m)" = x86_64 ]; then
  arch=x86-64
  grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && arch=x86-64-v3
fi
cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDESCENT_ARCH="$arch" >/dev/null
cmake --build build-valgrind -j "$(nproc)" --target "${VG_TESTS[@]}" >/dev/null
status=0
for t in "${VG_TESTS[@]}"; do
  if OMP_NUM_THREADS=1 valgrind -q --error-exitcode=99 --leak-check=full \
       --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
       build-valgrind/tests/$t >/tmp/valgrind_$t.log 2>&1; then
    echo "valgrind $t: clean"
  else
    echo "valgrind $t: ERRORS"; cat /tmp/valgrind_$t.log; status=1
  fi
done
exit $status
