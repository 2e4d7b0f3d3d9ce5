#!/usr/bin/env bash
# Scaling experiments on this machine: strong scaling (fixed data and global
# batch) and weak scaling (fixed batch per rank) over ranks x threads up to
# the machine's cores, plus oversubscribed points (marked), REPS repetitions
# each. Writes $OUT/scaling.csv (every run), $OUT/summary.csv (medians,
# speedup, efficiency), $OUT/speedup.png, $OUT/efficiency.png and
# $OUT/curves.png (loss and accuracy per epoch of one run), using gnuplot.
# The same script runs unchanged on a machine with more cores.
#   bash scripts/scaling.sh [OUT_DIR]      (env: REPS, LIMIT, EPOCHS, BATCH, PER_RANK)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-scaling-results}
REPS=${REPS:-3}
LIMIT=${LIMIT:-20000}          # training samples (Fashion-MNIST subset)
EPOCHS=${EPOCHS:-2}            # the last epoch is measured (the first warms up)
BATCH=${BATCH:-256}            # strong scaling: global batch
PER_RANK=${PER_RANK:-64}       # weak scaling: batch per rank (x threads)
D=./build/descent
[ -x "$D" ] || bash scripts/build.sh
command -v gnuplot >/dev/null || bash scripts/deps.sh plots
mkdir -p "$OUT"
CORES=$(nproc)
MPI=(mpirun)
if mpirun --version 2>&1 | grep -q "Open MPI"; then
  [ "$(id -u)" -eq 0 ] && MPI+=(--allow-run-as-root)
fi
NET=(--data /usr/share/datasets/fashion-mnist --limit "$LIMIT" --layers 784,256,128,10
     --activation relu --output softmax --cost xent --lr 0.05 --quiet --epochs "$EPOCHS")

# layouts: P x T with P*T <= cores, then oversubscribed ones (P*T = 2 cores)
layouts=()
for ((w = 1; w <= CORES; w *= 2)); do
  for ((p = 1; p <= w; p *= 2)); do layouts+=("$p $((w / p)) 0"); done
done
layouts+=("$((2 * CORES)) 1 1" "$CORES 2 1")

echo "mode,ranks,threads,oversubscribed,global_batch,rep,samples_per_s,step_ms,compute_ms,comm_ms" >"$OUT/scaling.csv"
run() { # mode P T over batch rep
  local mode=$1 P=$2 T=$3 over=$4 batch=$5 rep=$6 bind
  # oversubscribed: waiting threads must yield the core, not spin
  local wait=active
  if [ "$over" = 1 ]; then bind=(--oversubscribe --bind-to none); wait=passive
  else bind=(--map-by "slot:PE=$T" --bind-to core); fi
  rm -f "$OUT/run.csv"
  OMP_NUM_THREADS=$T OMP_PLACES=cores OMP_PROC_BIND=close OMP_WAIT_POLICY=$wait \
    "${MPI[@]}" -n "$P" "${bind[@]}" -x OMP_NUM_THREADS -x OMP_PLACES -x OMP_PROC_BIND -x OMP_WAIT_POLICY \
    "$D" train "${NET[@]}" --batch "$batch" --metrics "$OUT/run.csv" >/dev/null
  # the last epoch: samples/s, seconds, compute, comm -> per step
  tail -1 "$OUT/run.csv" | awk -F, -v mode="$mode" -v P="$P" -v T="$T" -v o="$over" -v b="$batch" \
    -v r="$rep" -v n="$LIMIT" '{ steps = int((n + b - 1) / b);
      printf "%s,%d,%d,%d,%d,%d,%.1f,%.4f,%.4f,%.4f\n", mode, P, T, o, b, r, $6,
             1000 * $7 / steps, 1000 * $8 / steps, 1000 * $9 / steps }' >>"$OUT/scaling.csv"
}
for rep in $(seq 1 "$REPS"); do
  for l in "${layouts[@]}"; do
    read -r P T over <<<"$l"
    run strong "$P" "$T" "$over" "$BATCH" "$rep"
    run weak "$P" "$T" "$over" "$((PER_RANK * P * T))" "$rep"
    echo "rep $rep: ${P}x${T}$([ "$over" = 1 ] && echo ' (oversubscribed)') done" >&2
  done
done
rm -f "$OUT/run.csv"

# medians, speedup and efficiency against 1x1 of the same mode
python3 - "$OUT" <<'PY'
import csv, sys, statistics as st
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/scaling.csv")))
groups = {}
for r in rows:
    groups.setdefault((r["mode"], int(r["ranks"]), int(r["threads"]), int(r["oversubscribed"]), int(r["global_batch"])), []).append(r)
base = {}
summary = []
for key in sorted(groups, key=lambda k: (k[0], k[3], k[1] * k[2], k[1])):
    g = groups[key]
    sps = st.median(float(r["samples_per_s"]) for r in g)
    step = st.median(float(r["step_ms"]) for r in g)
    comp = st.median(float(r["compute_ms"]) for r in g)
    comm = st.median(float(r["comm_ms"]) for r in g)
    mode, P, T, over, b = key
    if P == 1 and T == 1: base[mode] = sps
    summary.append([mode, P, T, over, b, sps, step, comp, comm])
with open(f"{out}/summary.csv", "w") as f:
    f.write("mode,ranks,threads,workers,oversubscribed,global_batch,samples_per_s,step_ms,compute_ms,comm_ms,speedup,efficiency\n")
    for mode, P, T, over, b, sps, step, comp, comm in summary:
        sp = sps / base[mode]
        f.write(f"{mode},{P},{T},{P*T},{over},{b},{sps:.1f},{step:.4f},{comp:.4f},{comm:.4f},{sp:.3f},{sp / (P * T):.3f}\n")
print(open(f"{out}/summary.csv").read())
PY

# plots: speedup and efficiency against workers (ranks x threads)
for what in speedup efficiency; do
  col=11; [ $what = efficiency ] && col=12
  gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$OUT/$what.png"
set datafile separator ","
set key top left
set grid
set xlabel "workers (ranks x threads); oversubscribed points are hollow"
set ylabel "$what (vs 1 rank x 1 thread, median of $REPS)"
set title "descent $what on $(nproc) cores, Fashion-MNIST 784-256-128-10 (strong: batch $BATCH; weak: $PER_RANK per worker)"
set xtics 1
plot "$OUT/summary.csv" every ::1 using (strcol(1) eq "strong" && \$5 == 0 && \$3 == 1 ? \$4 : 1/0):$col w lp pt 7 lc 1 t "strong, ranks", \
     "" every ::1 using (strcol(1) eq "strong" && \$5 == 0 && \$2 == 1 ? \$4 : 1/0):$col w lp pt 5 lc 2 t "strong, threads", \
     "" every ::1 using (strcol(1) eq "weak" && \$5 == 0 && \$3 == 1 ? \$4 : 1/0):$col w lp pt 9 lc 3 t "weak, ranks", \
     "" every ::1 using (strcol(1) eq "weak" && \$5 == 0 && \$2 == 1 ? \$4 : 1/0):$col w lp pt 11 lc 4 t "weak, threads", \
     "" every ::1 using (\$5 == 1 ? \$4 : 1/0):$col w p pt 6 ps 2 lc 7 t "oversubscribed"$( [ $what = speedup ] && echo ', x w l dt 2 lc 0 t "ideal"' )
GP
done

# training curves of one full run (10 epochs, 1 x all cores)
OMP_NUM_THREADS=$CORES "$D" train --data /usr/share/datasets/fashion-mnist --layers 784,256,128,10 \
  --activation relu --output softmax --cost xent --lr 0.2 --lr-schedule cosine --epochs 10 \
  --val-fraction 0.1 --metrics "$OUT/curves.csv" --quiet >/dev/null
bash scripts/plot_curves.sh "$OUT/curves.csv" "$OUT/curves.png"
echo "wrote $OUT/scaling.csv $OUT/summary.csv $OUT/speedup.png $OUT/efficiency.png $OUT/curves.png"
