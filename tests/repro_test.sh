#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The default exact sums: the model file, the last checkpoint (optimizer state and
# fixed-point scales), the per-epoch losses and accuracies and the test
# accuracy are bit-identical for P = 1..4 ranks x T = 1, 2 threads, on
# XOR, on values large enough that steps are redone with lower scales, on
# per-sample losses beyond 2^40, on features of magnitudes 2^-100 to 2^60,
# and on a Fashion-MNIST subset (320 steps, global batch 100: 3 chunks of 32 and one of 4, split unevenly;
# with dropout, whose masks follow the samples). Prints the hash matrix.
# Usage: repro_test.sh descent mpiexec numproc-flag
set -u
D=$1; MPIEXEC=$2; NP=$3
T=$(mktemp -d /tmp/descent_repro.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
printf '0,0,0\n1,0,1\n1,1,0\n0,1,1\n' >"$T/xor.csv"
# 256 samples of 8 features in +-1000 (Park-Miller numbers: exact in awk's
# doubles), labelled by the sign of their sum: with an identity output the
# first step's sums exceed the fixed-point range, so every layout lowers the
# scales and redoes steps
awk 'BEGIN { s = 12345
  for (i = 0; i < 256; i++) {
    line = ""; sum = 0
    for (k = 0; k < 8; k++) { s = (s * 16807) % 2147483647; v = (s / 2147483647 * 2 - 1) * 1000
                              sum += v; line = line sprintf(",%.4f", v) }
    print (sum > 0 ? 1 : 0) line } }' >"$T/large.csv"
# 256 samples of 8 features in +-3e6 with a regression target of their mean:
# the per-sample loss passes 2^40, which a fixed-scale loss sum cannot hold
awk 'BEGIN { s = 777
  for (i = 0; i < 256; i++) {
    line = ""; sum = 0
    for (k = 0; k < 8; k++) { s = (s * 16807) % 2147483647; v = (s / 2147483647 * 2 - 1) * 3e6
                              sum += v; line = line sprintf("%.1f,", v) }
    print line sprintf("%.1f", sum / 8) } }' >"$T/huge_loss.csv"
# 256 samples whose 8 features have magnitudes 2^-100, 2^-60, ..., 2^60 (one
# tensor spans them all), labelled by the sign of the two middle ones
awk 'BEGIN { s = 4242; split("-100 -60 -30 -10 0 20 40 60", e, " ")
  for (i = 0; i < 256; i++) {
    line = ""; mid = 0
    for (k = 1; k <= 8; k++) { s = (s * 16807) % 2147483647; v = s / 2147483647 * 2 - 1
                               if (k == 4 || k == 5) mid += v
                               line = line sprintf(",%.6e", v * 2 ^ e[k]) }
    print (mid > 0 ? 1 : 0) line } }' >"$T/wide.csv"
FM=/usr/share/datasets/fashion-mnist

matrix() { # name, then train arguments
  local name=$1; shift
  local first="" P Tn h
  echo "$name: sha256 of the model file (ranks x threads)"
  for P in 1 2 3 4; do
    for Tn in 1 2; do
      local tag="$name-${P}x${Tn}"
      if ! OMP_NUM_THREADS=$Tn timeout 300 "$MPIEXEC" $NP $P "$D" train "$@" \
           --out "$T/$tag.model" --metrics "$T/$tag.csv" --checkpoint-dir "$T/$tag.ck" \
           --checkpoint-every "$CKPT_EVERY" --keep-checkpoints 1 >"$T/$tag.out" 2>"$T/$tag.err"; then
        fail "$tag: training failed: $(tail -3 "$T/$tag.err")"; continue
      fi
      h=$(sha256sum <"$T/$tag.model" | cut -c1-16)
      # losses and accuracies (columns 1-5 of the metrics; the rest are timings)
      cut -d, -f1-5 "$T/$tag.csv" >"$T/$tag.metrics"
      grep -E '^test (accuracy|loss)' "$T/$tag.out" >"$T/$tag.test"
      printf '  %dx%d %s\n' "$P" "$Tn" "$h"
      if [ -z "$first" ]; then first=$tag; ok; continue; fi
      cmp -s "$T/$first.model" "$T/$tag.model" && ok || fail "$tag: model differs from $first"
      cmp -s "$T/$first.metrics" "$T/$tag.metrics" && ok || fail "$tag: per-epoch losses differ from $first"
      cmp -s "$T/$first.test" "$T/$tag.test" && ok || fail "$tag: test accuracy differs from $first"
      # the whole state, the fixed-point scales included
      cmp -s "$T/$first.ck/"ckpt-*.dsc "$T/$tag.ck/"ckpt-*.dsc && ok \
        || fail "$tag: the last checkpoint differs from $first's"
    done
  done
}

CKPT_EVERY=150e
matrix xor --train-csv "$T/xor.csv" --layers 2,8,2 --batch 4 --epochs 300 --lr 4
CKPT_EVERY=2e
matrix rescaled --train-csv "$T/large.csv" --layers 8,16,2 --activation relu --output-activation identity \
  --batch 64 --epochs 4 --lr 1e-7
CKPT_EVERY=1e
matrix huge_loss --train-csv "$T/huge_loss.csv" --csv-targets 1 --layers 8,16,1 --activation relu \
  --output-activation identity --batch 64 --epochs 3 --lr 1e-14
matrix wide_range --train-csv "$T/wide.csv" --layers 8,16,2 --activation sigmoid \
  --output-activation softmax --cost xent --batch 64 --epochs 3 --lr 0.5
if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
  CKPT_EVERY=4e
  matrix fashion --data "$FM" --limit 4000 --test-limit 1000 --layers 784,64,32,10 \
    --activation relu --output-activation softmax --cost xent --batch 100 --epochs 8 --optimizer momentum --lr 0.02 \
    --dropout 0.2
else
  echo "note: $FM not installed; the Fashion-MNIST matrix was not run" >&2
fi
finish "reproducibility"
