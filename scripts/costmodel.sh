#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Measure what the cost model needs on this machine (1-rank step times at two
# batch sizes, MPI_Allreduce latency and bandwidth on 2 ranks, and the real
# 2- and 4-rank step times), then print the model's predictions for P = 1 to
# 1024 ranks over this machine's shared memory, 10 GbE and 100 Gb InfiniBand,
# and its error against the measured runs.   bash scripts/costmodel.sh [OUT_DIR]
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-costmodel-results}
mkdir -p "$OUT"
D=./build/descent
[ -x "$D" ] || bash scripts/build.sh
MPI=(mpirun)
if mpirun --version 2>&1 | grep -q "Open MPI"; then
  [ "$(id -u)" -eq 0 ] && MPI+=(--allow-run-as-root)
fi
BATCH=${BATCH:-256}
LIMIT=${LIMIT:-16384}
NET=(--data /usr/share/datasets/fashion-mnist --limit "$LIMIT" --layers 784,256,128,10
     --activation relu --output-activation softmax --cost xent --lr 0.05 --quiet --epochs 3)
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# per-step seconds of the last epoch: column 8 (compute) or 7 (total)
step_time() { # col P batch [mpirun args...]
  local col=$1 P=$2 b=$3; shift 3
  for rep in 1 2 3; do
    OMP_NUM_THREADS=1 "${MPI[@]}" -n "$P" "$@" "$D" train "${NET[@]}" --batch "$b" --metrics "$OUT/m.csv" >/dev/null
    tail -1 "$OUT/m.csv" | awk -F, -v c="$col" -v n="$LIMIT" -v b="$b" '{print $c / int((n + b - 1) / b)}'
  done | median
}
t64=$(step_time 8 1 64)
t256=$(step_time 8 1 256)
comm=$("${MPI[@]}" -n 2 "$D" commbench --floats 1 --floats 235152 --reps 200 | tail -2 | cut -d, -f4)
lat=$(echo "$comm" | head -1); big=$(echo "$comm" | tail -1)
m2=$(step_time 7 2 "$BATCH" --bind-to core)
m4=$(step_time 7 4 "$BATCH" --oversubscribe --bind-to none)
m1=$(step_time 7 1 "$BATCH")
cat >"$OUT/measurements.json" <<JSON
{"cores": $(nproc), "batch": $BATCH, "gradient_bytes": $((4 * 235152)),
 "one_rank": [[64, $t64], [256, $t256]],
 "allreduce": [$(awk -v x="$lat" 'BEGIN{print x/1e6}'), $(awk -v x="$big" 'BEGIN{print x/1e6}')],
 "measured": [[1, $m1], [2, $m2], [4, $m4]]}
JSON
rm -f "$OUT/m.csv"
python3 scripts/costmodel.py "$OUT/measurements.json" | tee "$OUT/model.txt"
