#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Training curves of one or more `descent train --metrics FILE` runs, one
# colour per run: the loss per epoch in the upper panel (training solid,
# validation dashed) with the learning rate on its right axis (dotted), and
# the accuracy in the lower panel (training solid, validation dashed).
# Several files overlay, for example the runs of a learning-rate sweep; each
# run's legend names its file and learning rate.
# Usage: bash scripts/plot_curves.sh [--out PNG] [--title TEXT] METRICS.csv...
#   --out PNG     the image (default: the first file's name with .png)
#   --title TEXT  the title, for example the network: "784-256-128-10 relu"
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
usage() { echo "usage: bash scripts/plot_curves.sh [--out PNG] [--title TEXT] METRICS.csv... (--help: more)" >&2; exit 2; }
OUT="" TITLE=""
files=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
    --title) [ $# -ge 2 ] || usage; TITLE=$2; shift 2 ;;
    -*) usage ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -gt 0 ] || usage
for f in "${files[@]}"; do
  head -1 "$f" 2>/dev/null | grep -q '^epoch,train_loss,' ||
    { echo "plot_curves.sh: $f is not a descent metrics file (no 'epoch,train_loss,...' header)" >&2; exit 2; }
done
command -v gnuplot >/dev/null || { echo "plot_curves.sh: gnuplot is missing (bash scripts/deps.sh plots)" >&2; exit 2; }
OUT=${OUT:-${files[0]%.csv}.png}
# the largest epoch, for whole-number ticks; each run's learning rates
epochs=$(tail -q -n +2 "${files[@]}" | cut -d, -f1 | sort -n | tail -1)
step=$(( (epochs + 9) / 10 )); [ "$step" -ge 1 ] || step=1
[ -n "$TITLE" ] || TITLE="training curves: ${#files[@]} run$([ ${#files[@]} -gt 1 ] && echo s)"
loss="" acc="" i=0
for f in "${files[@]}"; do
  i=$((i + 1))
  lr=$(awk -F, 'NR == 2 {a = $10} NR > 1 {b = $10}
                END {printf (a == b ? "lr %.3g" : "lr %.3g to %.3g"), a, b}' "$f")
  name="$(basename "$f" .csv), $lr"
  loss+="${loss:+, }'$f' every ::1 using 1:2 w lp pt 7 ps 0.6 lc $i lw 2 t '$name', "
  loss+="'$f' every ::1 using 1:4 w lp pt 6 ps 0.6 lc $i dt 2 lw 2 notitle, "
  loss+="'$f' every ::1 using 1:10 axes x1y2 w l lc $i dt 3 lw 1.5 notitle"
  acc+="${acc:+, }'$f' every ::1 using 1:3 w lp pt 7 ps 0.6 lc $i lw 2 t '$name', "
  acc+="'$f' every ::1 using 1:5 w lp pt 6 ps 0.6 lc $i dt 2 lw 2 notitle"
done
gnuplot <<GP
set terminal pngcairo size 900,900 noenhanced font ",10"
set output "$OUT"
set datafile separator ","
set datafile missing "nan"
set multiplot layout 2,1 title "$TITLE"
set grid
set xrange [0.5:$epochs + 0.5]
set xtics 1, $step format "%.0f"
set key inside right top vertical opaque box
set xlabel "epoch"
set ylabel "loss (mean cost per sample)"
set y2label "learning rate"
set y2tics
set ytics nomirror
set title "loss (left axis; solid: training, dashed: validation) and learning rate (right axis, dotted)"
plot $loss
unset y2label
unset y2tics
set ytics mirror
set ylabel "accuracy"
set yrange [*:1]
set title "accuracy (solid: training, dashed: validation)"
set key inside right bottom
plot $acc
unset multiplot
GP
echo "plot_curves.sh: wrote $OUT"
