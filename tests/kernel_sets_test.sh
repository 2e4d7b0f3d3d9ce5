#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every kernel set this build has and this CPU runs (DESCENT_ISA): the
# kernel tests pass with it, the command reports it, and it trains the same
# bytes as every other set: one reproducible model across the sets and
# 1x1, 1x2 and 2x1 ranks x threads, and one float-sums model across the
# sets at 1x1. A set the CPU lacks is refused in one line.
# Two ranks with different sets (as on nodes of different CPUs) overlap
# their reduction on the same pieces.
# Usage: kernel_sets_test.sh DESCENT TEST_KERNELS TEST_REPRO_PRECISION MPIEXEC
set -uo pipefail
. "$(dirname "$0")/testlib.sh"
D=$(realpath "$1") K=$(realpath "$2") R=$(realpath "$3") MPIEXEC=$4
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
blobs "$T/train.csv" 96 6 0.3 2
blobs "$T/wide.csv" 96 40 0.3 3 # 40 inputs: two 16-lane blocks and a tail
run=0
sets_run=()
repro_hashes=""
float_hashes=""
for ks in avx512 avx2 baseline native; do
  if ! DESCENT_ISA=$ks "$D" --version >"$T/v" 2>"$T/e"; then
    if grep -q "no kernel set '$ks' in this build\|which kernel set $ks needs" "$T/e" &&
       [ "$(wc -l <"$T/e")" -eq 1 ]; then ok
    else fail "$ks refused without its reason: $(cat "$T/e")"; fi
    continue
  fi
  run=$((run + 1))
  sets_run+=("$ks")
  grep -qx "kernels: $ks" "$T/v" && ok || fail "$ks: --version says $(tail -1 "$T/v")"
  DESCENT_ISA=$ks "$K" >"$T/k" 2>&1 && ok || fail "$ks: test_kernels: $(grep -m3 -i fail "$T/k")"
  DESCENT_ISA=$ks "$R" >"$T/r" 2>&1 && ok || fail "$ks: test_repro_precision: $(grep -m3 -i fail "$T/r")"
  hashes=""
  for layout in "1 1" "1 2" "2 1"; do
    set -- $layout
    DESCENT_ISA=$ks OMP_NUM_THREADS=$2 "$MPIEXEC" -n "$1" "$D" train --train-csv "$T/wide.csv" \
      --layers 40,37,20,3 --activation tanh --output-activation softmax --cost xent \
      --optimizer momentum --batch 16 --epochs 3 --reproducible --quiet --out "$T/m.dsc" \
      >"$T/o" 2>"$T/e" || fail "$ks $1x$2: $(head -2 "$T/e")"
    hashes="$hashes $(sha256sum <"$T/m.dsc" | cut -c1-16)"
  done
  echo "kernel set $ks: reproducible model at 1x1 1x2 2x1:$hashes"
  repro_hashes="$repro_hashes$hashes"
  DESCENT_ISA=$ks OMP_NUM_THREADS=1 "$D" train --train-csv "$T/wide.csv" --layers 40,37,20,3 \
    --activation sigmoid --cost mse --batch 16 --epochs 3 --quiet --out "$T/f.dsc" >"$T/o" 2>"$T/e" ||
    fail "$ks float sums: $(head -2 "$T/e")"
  float_hashes="$float_hashes $(sha256sum <"$T/f.dsc" | cut -c1-16)"
done
[ $run -ge 1 ] && ok || fail "no kernel set ran"
echo "float-sums model, 1x1, per kernel set (${sets_run[*]}):$float_hashes"
[ "$(echo $repro_hashes | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] && ok ||
  fail "the reproducible model differs between kernel sets or layouts:$repro_hashes"
[ "$(echo $float_hashes | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] && ok ||
  fail "the float-sums model differs between kernel sets:$float_hashes"

# Ranks with different kernel sets (nodes of different CPUs) cut the same
# pieces for --overlap: its model is the one without overlap
if [ ${#sets_run[@]} -ge 2 ]; then
  a=${sets_run[0]} b=${sets_run[${#sets_run[@]} - 1]}
  for ov in --overlap --no-overlap; do
    args=(train --train-csv "$T/train.csv" --test-csv "$T/train.csv" --layers 6,40,3 --batch 16
          --epochs 2 --overlap-piece 64 $ov --quiet --out "$T/mixed$ov.dsc")
    OMP_NUM_THREADS=1 timeout 120 "$MPIEXEC" -n 1 -x DESCENT_ISA=$a "$D" "${args[@]}" : \
      -n 1 -x DESCENT_ISA=$b "$D" "${args[@]}" >"$T/o" 2>"$T/e" || fail "$a + $b $ov: $(head -2 "$T/e")"
  done
  cmp -s "$T/mixed--overlap.dsc" "$T/mixed--no-overlap.dsc" && ok ||
    fail "ranks with kernel sets $a and $b: --overlap changed the model"
fi
finish kernel_sets
