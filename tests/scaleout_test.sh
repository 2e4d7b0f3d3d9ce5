#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The scale-out options on 2 ranks of one host:
#  1. --comm-precision bf16 trains to the float32 sums' accuracy (within
#     0.03 on a small 3-class problem), changes the model (the gradient
#     really travels as bfloat16), and on one rank (nothing to send) gives
#     the --float-sums model byte for byte (bf16 implies float sums); with
#     --reproducible named it is refused.
#  2. one copy of the data per host: the ranks' --stats PSS together stay
#     below two copies of the training set (each rank would hold one).
#  3. --warmup refuses a mix of steps and epochs on resume (a conflict).
#  4. --overlap (the reduction in pieces of 200 values while the backward
#     pass runs) gives the --no-overlap model byte for byte, with the
#     default exact sums (through the host's memory) and in bfloat16, also in more pieces than the pipe
#     keeps in flight; a piece of 0 values is refused.
# Usage: scaleout_test.sh descent mpiexec numproc-flag
set -u
D=$1; MPIEXEC=$2; NP=$3
T=$(mktemp -d /tmp/descent_scaleout.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
blobs "$T/train.csv" 3000 40 0.6 1
blobs "$T/test.csv" 600 40 0.6 2
NET=(train --train-csv "$T/train.csv" --test-csv "$T/test.csv" --layers 40,32,3 --activation relu
     --output-activation softmax --cost xent --epochs 5 --batch 32 --lr 0.1)
acc() { sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' "$1"; }

# 1. bfloat16 gradients
"$MPIEXEC" $NP 2 "$D" "${NET[@]}" --float-sums --out "$T/fp32.model" >"$T/fp32.out" 2>"$T/e" || fail "fp32: $(cat "$T/e")"
"$MPIEXEC" $NP 2 "$D" "${NET[@]}" --comm-precision bf16 --out "$T/bf16.model" >"$T/bf16.out" 2>"$T/e" || fail "bf16: $(cat "$T/e")"
python3 -c "import sys; sys.exit(0 if abs(float('$(acc "$T/fp32.out")') - float('$(acc "$T/bf16.out")')) <= 0.03 else 1)" \
  && ok || fail "bf16 accuracy $(acc "$T/bf16.out") vs fp32 $(acc "$T/fp32.out")"
cmp -s "$T/fp32.model" "$T/bf16.model" && fail "bf16 gave the float32 model: nothing was rounded" || ok
"$D" "${NET[@]}" --float-sums --out "$T/one32.model" >/dev/null 2>&1
"$D" "${NET[@]}" --comm-precision bf16 --out "$T/one16.model" >/dev/null 2>&1
cmp -s "$T/one32.model" "$T/one16.model" && ok || fail "bf16 on one rank changed the model"
"$D" "${NET[@]}" --comm-precision bf16 --reproducible >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q "exclude each other" "$T/e" && ok || fail "bf16 with --reproducible: $(cat "$T/e")"

# 2. one copy of the data per host: 4 ranks, the set read once (memory
# figures mean nothing under AddressSanitizer: shadow memory, quarantine)
if ldd "$D" 2>/dev/null | grep -q libasan; then
  echo "note: built with AddressSanitizer; the PSS check is left to the plain build" >&2
else
  python3 - "$T" <<'PY'
import sys, random
t = sys.argv[1]
random.seed(3)
with open(f"{t}/big.csv", "w") as f:   # 40,000 x 200 floats: 32 MB in memory
    for i in range(40000):
        f.write(str(i % 3) + "," + ",".join("%.3f" % random.random() for _ in range(200)) + "\n")
PY
  "$MPIEXEC" $NP 4 "$D" train --train-csv "$T/big.csv" --layers 200,8,3 --epochs 1 --batch 256 --quiet --stats \
    >/dev/null 2>"$T/stats"
  total=$(awk '/^stats:/ {s += $9} END {print s + 0}' "$T/stats")
  python3 -c "import sys; sys.exit(0 if 0 < $total < 2 * 32 + 4 * 10 else 1)" && ok \
    || fail "4 ranks' PSS total ${total} MB: more than one copy of the 32 MB set ($(cat "$T/stats"))"
  echo "4 ranks, one 32 MB set: PSS total $total MB" >&2
fi

# 3. warm-up is part of the run: a resumed run with another warm-up is refused
"$D" "${NET[@]}" --warmup 2e --checkpoint-dir "$T/ck" --checkpoint-every 1e --epochs 2 >/dev/null 2>&1
"$D" "${NET[@]}" --warmup 100 --resume "$T/ck" >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q "option --warmup: 100 differs from the checkpoint's 2e" "$T/e" && ok || fail "warm-up conflict: $(cat "$T/e")"

# 4. overlap: the same sums, so the same bytes
for p in fp32 bf16; do
  for ov in on off; do
    flag=--overlap; [ $ov = off ] && flag=--no-overlap
    "$MPIEXEC" $NP 2 "$D" "${NET[@]}" --comm-precision $p $flag --overlap-piece 200 \
      --out "$T/$p-$ov.model" >/dev/null 2>"$T/e" || fail "$p, overlap $ov: $(cat "$T/e")"
  done
  cmp -s "$T/$p-on.model" "$T/$p-off.model" && ok || fail "$p: overlap changed the model"
done
# a first layer of 1024 rows in pieces of one row tile: 86 pieces, more
# than the pipe keeps in flight (64), so it waits and converts midway
for ov in --overlap --no-overlap; do
  "$MPIEXEC" $NP 2 "$D" "${NET[@]}" --layers 40,1024,3 --epochs 1 --comm-precision bf16 $ov \
    --overlap-piece 1 --out "$T/wide$ov.model" >/dev/null 2>"$T/e" || fail "wide, $ov: $(cat "$T/e")"
done
cmp -s "$T/wide--overlap.model" "$T/wide--no-overlap.model" && ok || fail "86 pieces changed the model"
"$D" "${NET[@]}" --overlap --overlap-piece 0 >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q "overlap-piece" "$T/e" && ok || fail "--overlap-piece 0: $(cat "$T/e")"
finish "scale-out options"
