#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How close whole training could come to the OpenBLAS ceiling if the batch
# gather and the update cost nothing. Builds descent a second time, in a
# temporary copy of src/ with two edits: the batch is gathered for the
# first block of the run only (every later step reuses that batch, still in
# cache), and the update is skipped (the parameters never change). That
# binary is for timing only: what it trains is meaningless. Then runs, per
# repetition and batch size (64 and 256, 1 rank x 2 threads, Fashion-MNIST
# 784-256-128-10 as in bench.sh): the ceiling (the step's 8 matrix products
# through OpenBLAS on 2 threads), the unmodified build, the build without
# the update, without the gather, without both, and the ceiling again,
# with the cores' round trip before and after (bench.sh explains why).
# Prints samples/s and each one's ratio to the first ceiling.
#   bash scripts/bench/overhead_bound.sh [REPS]      (default 3)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-3}
bash scripts/deps.sh bench
[ -x build/descent ] || bash scripts/build.sh
WORK=$(mktemp -d /tmp/descent_bound.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp -r CMakeLists.txt cmake include src "$WORK"/
mkdir -p "$WORK/scripts/bench" && cp scripts/bench/kernels.c "$WORK/scripts/bench/"

# one edit: OLD must occur exactly once in FILE (else the code moved: fail)
edit() { # FILE OLD NEW
  /usr/bin/python3 - "$WORK/$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"overhead_bound.sh: {path}: the code to edit is not there once: {old!r}")
open(path, "w").write(text.replace(old, new))
EOF
}
edit src/step.c '        data_gather(sp->train, perm + first + b0, 0, B,' \
  '        static int gathered = 0;
        if (!getenv("BOUND_NO_GATHER") || !gathered++)
        data_gather(sp->train, perm + first + b0, 0, B,'
edit src/train.c '        stepper_update(&t->sp, &t->opt, cfg, t->lr, t->net, r.m);' \
  '        if (!getenv("BOUND_NO_UPDATE")) stepper_update(&t->sp, &t->opt, cfg, t->lr, t->net, r.m);'
edit src/train.c '#include "base.h"' '#include "base.h"
#include <stdlib.h>'
cmake -S "$WORK" -B "$WORK/b" -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_TESTS=OFF >/dev/null
cmake --build "$WORK/b" --target descent_cli -j "$(nproc)" >/dev/null
gcc -O2 -o "$WORK/ceiling" scripts/bench/ceiling.c -lopenblas
gcc -O2 -pthread -o "$WORK/pingpong" scripts/bench/pingpong.c

T2=(env OMP_NUM_THREADS=2 OMP_PROC_BIND=close OMP_PLACES=cores)
ceiling() { "${T2[@]}" "$WORK/ceiling" 2 "$1" 100 | awk -F, '{printf "%d", 60000 / $5}'; }
train() { # BINARY BATCH [VAR=1...]: samples/s, the median of epochs 2-4
  local bin=$1 b=$2
  shift 2
  "${T2[@]}" "$@" "$bin" train --data /usr/share/datasets/fashion-mnist --layers 784,256,128,10 \
    --activation relu --output-activation softmax --cost xent --optimizer gd --lr 0.1 --batch "$b" \
    --epochs 4 --quiet --metrics "$WORK/m.csv" >/dev/null
  tail -n 3 "$WORK/m.csv" | cut -d, -f6 | sort -g | sed -n 2p
}
ratio() { awk -v a="$1" -v c="$2" 'BEGIN { printf "%.3f", a / c }'; }
B="$WORK/b/descent"
echo "rep,batch,round_trip_ns,ceiling,descent,no_update,no_gather,neither,ceiling_after"
for rep in $(seq "$REPS"); do
  for b in 64 256; do
    rt0=$("$WORK/pingpong" | cut -d, -f2)
    c=$(ceiling $b)
    n=$(train build/descent $b)
    u=$(train "$B" $b BOUND_NO_UPDATE=1)
    g=$(train "$B" $b BOUND_NO_GATHER=1)
    ug=$(train "$B" $b BOUND_NO_UPDATE=1 BOUND_NO_GATHER=1)
    c2=$(ceiling $b)
    rt1=$("$WORK/pingpong" | cut -d, -f2)
    echo "$rep,$b,$rt0/$rt1,$c,$n ($(ratio "$n" "$c")),$u ($(ratio "$u" "$c")),$g ($(ratio "$g" "$c")),$ug ($(ratio "$ug" "$c")),$c2"
  done
done
