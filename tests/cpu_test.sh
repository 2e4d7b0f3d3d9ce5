#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CPU check, on CPUs older than this one, emulated by Debian's
# qemu-user: -cpu Nehalem (SSE4.2, no AVX) and -cpu Haswell (AVX2 and FMA,
# no AVX-512). Where the build uses an extension the emulated CPU lacks, the
# command stops with one line naming exactly those, exit 1, before anything
# runs (no model file); where it does not, a small reproducible training
# run works there with the kernel set that CPU runs (a portable build:
# baseline on Nehalem, avx2 on Haswell) and writes the bytes of the same run
# on this CPU.
# Skips without qemu-x86_64, off x86-64, and for a sanitized build.
# Usage: cpu_test.sh DESCENT
set -uo pipefail
. "$(dirname "$0")/testlib.sh"
D=$(realpath "$1")
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: not an x86-64 machine"; exit 77; }
command -v qemu-x86_64 >/dev/null || { echo "SKIP: qemu-x86_64 missing (apt install qemu-user)"; exit 77; }
[ -z "${DESCENT_TEST_SANITIZED:-}" ] ||
  { echo "SKIP: a sanitized build (its runtime does not run under qemu-user)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
blobs "$T/train.csv" 60 20 0.2 1 # 20 inputs: a 16-lane block and a tail
train=(train --train-csv "$T/train.csv" --layers 20,18,3 --epochs 1 --batch 8 --reproducible --quiet)
"$D" "${train[@]}" --out "$T/native.dsc" || fail "training on this CPU failed"

built=$("$D" --version | sed -n 's/^built for: x86-64 with //p')
# what each emulated model has of the extensions src/cpu_features.h lists
portable=0
"$D" --version | grep -q '^kernels: \(avx512\|avx2\|baseline\)$' && portable=1
declare -A kernels=([Nehalem]=baseline [Haswell]=avx2)
declare -A has=(
  [Nehalem]="sse3 ssse3 sse4.1 sse4.2 popcnt"
  [Haswell]="sse3 ssse3 sse4.1 sse4.2 popcnt movbe lzcnt bmi bmi2 avx f16c fma avx2"
)
for cpu in Nehalem Haswell; do
  lacks=""
  for f in $built; do
    case " ${has[$cpu]} " in *" $f "*) ;; *) lacks="$lacks${lacks:+ }$f" ;; esac
  done
  rm -f "$T/m.dsc"
  qemu-x86_64 -cpu "$cpu" "$D" "${train[@]}" --out "$T/m.dsc" >"$T/out" 2>"$T/raw"
  rc=$?
  grep -v '^qemu-x86_64: warning: TCG' "$T/raw" >"$T/err"
  if [ -n "$lacks" ]; then
    if [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
       grep -q "^descent: this CPU lacks $lacks, which this build was compiled to use" "$T/err" &&
       [ ! -e "$T/m.dsc" ]; then ok
    else fail "$cpu (lacks $lacks): exit $rc, stderr: $(cat "$T/err")"; fi
  else
    if [ $rc -eq 0 ] && [ -s "$T/m.dsc" ]; then ok
    else fail "$cpu runs this build, yet training gave exit $rc: $(head -3 "$T/err")"; fi
    cmp -s "$T/m.dsc" "$T/native.dsc" && ok || fail "$cpu trained other bytes than this CPU"
    want=native
    [ $portable = 1 ] && want=${kernels[$cpu]}
    got=$(qemu-x86_64 -cpu "$cpu" "$D" --version 2>/dev/null | sed -n 's/^kernels: //p')
    [ "$got" = "$want" ] && ok || fail "$cpu: kernels $got, expected $want"
  fi
done
finish cpu
