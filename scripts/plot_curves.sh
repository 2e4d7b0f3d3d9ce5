#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Training curves from a `descent train --metrics FILE` CSV: loss (left axis)
# and accuracy (right axis) per epoch.   bash scripts/plot_curves.sh metrics.csv curves.png
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
IN=$1; OUT=${2:-${1%.csv}.png}
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$OUT"
set datafile separator ","
set datafile missing "nan"
set grid
set key center right
set xlabel "epoch"
set ylabel "loss"
set y2label "accuracy"
set y2tics
set ytics nomirror
set title "training curves: $(basename "$IN")"
plot "$IN" every ::1 using 1:2 w lp pt 7 lc 1 t "train loss", \
     "" every ::1 using 1:4 w lp pt 5 lc 2 t "validation loss", \
     "" every ::1 using 1:3 axes x1y2 w lp pt 9 lc 3 t "train accuracy", \
     "" every ::1 using 1:5 axes x1y2 w lp pt 11 lc 4 t "validation accuracy"
GP
