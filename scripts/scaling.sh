#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scaling experiments on this machine: strong scaling (fixed data and global
# batch) and weak scaling (fixed batch per rank) over ranks x threads up to
# the machine's cores, plus oversubscribed points (marked), REPS repetitions
# each. Writes $OUT/scaling.csv (every run), $OUT/summary.csv (medians,
# speedup, efficiency), $OUT/speedup.png, $OUT/efficiency.png and
# $OUT/curves.png (loss and accuracy per epoch of one run), using gnuplot.
# The same script runs unchanged on a machine with more cores.
#   bash scripts/scaling.sh [OUT_DIR]      (env: REPS, LIMIT, EPOCHS, BATCH, PER_RANK)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
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
     --activation relu --output-activation softmax --cost xent --lr 0.05 --quiet --epochs "$EPOCHS")

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
    lo, hi = min(float(r["samples_per_s"]) for r in g), max(float(r["samples_per_s"]) for r in g)
    step = st.median(float(r["step_ms"]) for r in g)
    comp = st.median(float(r["compute_ms"]) for r in g)
    comm = st.median(float(r["comm_ms"]) for r in g)
    mode, P, T, over, b = key
    if P == 1 and T == 1: base[mode] = sps
    summary.append([mode, P, T, over, b, sps, step, comp, comm, lo, hi])
with open(f"{out}/summary.csv", "w") as f:
    f.write("mode,ranks,threads,workers,oversubscribed,global_batch,samples_per_s,step_ms,compute_ms,comm_ms,speedup,efficiency\n")
    for mode, P, T, over, b, sps, step, comp, comm, lo, hi in summary:
        sp = sps / base[mode]
        f.write(f"{mode},{P},{T},{P*T},{over},{b},{sps:.1f},{step:.4f},{comp:.4f},{comm:.4f},{sp:.3f},{sp / (P * T):.3f}\n")
print(open(f"{out}/summary.csv").read())

# the plots' series, one gnuplot data block each (title first): per mode,
# one line per threads-per-rank count over the workers; every oversubscribed
# layout a point of its own. Each point: workers, speedup and efficiency
# (medians), then each one's min and max over the repetitions (the bars)
series = {}
for mode, P, T, over, b, sps, step, comp, comm, lo, hi in summary:
    sp = sps / base[mode]
    w = P * T
    threads = f"{T} thread{'s' if T > 1 else ''}"
    point = (w, sp, sp / w, lo / base[mode], hi / base[mode], lo / base[mode] / w, hi / base[mode] / w)
    if over:
        series.setdefault(f"{mode}, {P} ranks x {threads} (oversubscribed)", []).append(point)
        continue
    if P == 1:
        series.setdefault(f"{mode}, 1 rank x threads", []).append(point)
    if P > 1 or T == 1:  # 1 x T is on the line above
        series.setdefault(f"{mode}, ranks x {threads}", []).append(point)
filled, hollow, types = [7, 5, 9, 11, 13, 15, 3, 1, 2], [6, 4, 8, 10, 12, 14], []
with open(f"{out}/plot_series.dat", "w") as f:
    for name, pts in series.items():
        f.write(f'"{name}"\n')
        for w, sp, eff, sp_lo, sp_hi, eff_lo, eff_hi in sorted(pts):
            f.write(f"{w} {sp:.4f} {eff:.4f} {sp_lo:.4f} {sp_hi:.4f} {eff_lo:.4f} {eff_hi:.4f}\n")
        f.write("\n\n")
        kind = hollow if "oversubscribed" in name else filled
        types.append(kind[sum(1 for t in types if t in kind) % len(kind)])
open(f"{out}/plot_series.pt", "w").write(" ".join(map(str, types)))
PY

# plots: speedup and efficiency against workers (ranks x threads), bars from
# the slowest to the fastest repetition, the ideal line only over the cores
# that exist (past them more workers cannot gain); the legend sits right of
# the plot, clear of the data
point_types=$(cat "$OUT/plot_series.pt")
nseries=$(wc -w <"$OUT/plot_series.pt")
for what in speedup efficiency; do
  col=2 lo=4 hi=5 ideal="x"
  [ $what = efficiency ] && col=3 lo=6 hi=7 ideal="1"
  gnuplot <<GP
set terminal pngcairo size 1350,650 noenhanced
set output "$OUT/$what.png"
set key outside right top vertical box
set grid
set logscale x 2
set xlabel "workers (ranks x threads); hollow symbols: oversubscribed"
set ylabel "$what (vs 1 rank x 1 thread; median of $REPS, bars: min to max)"
set title "descent $what on $CORES cores, Fashion-MNIST 784-256-128-10 (strong: batch $BATCH; weak: $PER_RANK per worker)"
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
set samples 400
pts = "$point_types"
plot for [i=0:$nseries-1] "$OUT/plot_series.dat" index i using 1:$col:$lo:$hi w yerrorlines lw 2 ps 1.5 \
       pt (int(word(pts, i + 1))) lc (i + 1) title columnheader(1), \
     (x >= 1 && x <= $CORES ? $ideal : 1/0) w l dt 2 lc 0 t "ideal (up to the $CORES cores)"
GP
done
rm -f "$OUT/plot_series.pt"

# training curves of one full run (10 epochs, 1 x all cores)
OMP_NUM_THREADS=$CORES "$D" train --data /usr/share/datasets/fashion-mnist --layers 784,256,128,10 \
  --activation relu --output-activation softmax --cost xent --lr 0.2 --lr-schedule cosine --epochs 10 \
  --val-fraction 0.1 --metrics "$OUT/curves.csv" --quiet >/dev/null
bash scripts/plot_curves.sh --title "784-256-128-10 relu, lr 0.2 cosine, 1 rank x $CORES threads" \
  --out "$OUT/curves.png" "$OUT/curves.csv"
echo "wrote $OUT/scaling.csv $OUT/summary.csv $OUT/speedup.png $OUT/efficiency.png $OUT/curves.png"
