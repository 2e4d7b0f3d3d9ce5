#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a benchmark ran on, one "key: value" line each: the date, the commit
# (and whether the tree had changes), the CPU (model, family, cores, the
# vector extensions the kernels use), the build's target, and the
# environment variables that move the peers' timings. The header of every
# report that scripts/bench.sh --record writes.
# Usage: bash scripts/bench/describe.sh
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
cpuinfo() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'; }
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
family=$(cpuinfo "cpu family")
case "$(cpuinfo vendor_id):$family" in
  AuthenticAMD:25) arch=" = Zen 3/Zen 4" ;;
  AuthenticAMD:26) arch=" = Zen 5" ;;
  *) arch="" ;;
esac
flags=$(cpuinfo flags)
isa=""
for f in avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 amx_tile; do
  [[ " $flags " == *" $f "* ]] && isa="$isa $f"
done
target="portable (x86-64, a kernel set per instruction set)"
if [ -f build/CMakeCache.txt ]; then
  arch_opt=$(sed -n 's/^DESCENT_ARCH:STRING=//p' build/CMakeCache.txt)
  native=$(sed -n 's/^DESCENT_NATIVE:BOOL=//p' build/CMakeCache.txt)
  if [ -n "$arch_opt" ]; then target="-march=$arch_opt (DESCENT_ARCH)"
  elif [ "$native" = ON ]; then target="-march=native (DESCENT_NATIVE=ON)"
  fi
fi
if [ -x build/descent ]; then
  target="$target; kernels: $(build/descent --version | sed -n 's/^kernels: //p')"
fi
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit: $commit"
echo "cpu: $(cpuinfo "model name"), family $family$arch, $(nproc) cores"
echo "vector extensions:$isa"
echo "build: $target"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-unset}; OPENBLAS_L2_SIZE: ${OPENBLAS_L2_SIZE:-unset}"
echo "repetitions: ${REPS:-5}; epochs per run: ${EPOCHS:-4}"
