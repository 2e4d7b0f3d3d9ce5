#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What --standardize does to tabular data on its raw scales: scikit-learn's
# bundled wine (classification, 13 features from 0.1 to 1680) and diabetes
# (regression, its raw features and a target in the hundreds) sets,
# split 80/20 with a fixed shuffle, trained with and without
# --standardize at two or three learning rates. Prints a Markdown table of
# the test accuracy (wine) or the test loss, the mean squared error
# (diabetes; a dead network scores the target's variance).
#   bash scripts/bench/standardize.sh
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/deps.sh bench
[ -x build/descent ] || bash scripts/build.sh
D=$PWD/build/descent
WORK=$(mktemp -d /tmp/descent_standardize.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

/usr/bin/python3 - "$WORK" <<'EOF'
import sys
import numpy as np
from sklearn.datasets import load_diabetes, load_wine
work = sys.argv[1]
def split(name, columns, fmt):
    """columns: the CSV's columns in order; 80/20 by a fixed shuffle"""
    table = np.column_stack(columns)
    order = np.random.RandomState(0).permutation(len(table))
    cut = int(0.8 * len(table))
    for part, rows in (("train", order[:cut]), ("test", order[cut:])):
        np.savetxt(f"{work}/{name}-{part}.csv", table[rows], delimiter=",", fmt=fmt)
    return table[order[cut:]]
wine = load_wine()  # the label first
split("wine", [wine.target, wine.data], ["%d"] + ["%.6g"] * wine.data.shape[1])
diabetes = load_diabetes(scaled=False)  # the features, then the target (--csv-targets 1)
test = split("diabetes", [diabetes.data, diabetes.target], "%.6g")
print(f"the diabetes test split's target variance (a constant prediction's loss): {np.var(test[:, -1]):.0f}")
EOF

WINE=(--train-csv "$WORK/wine-train.csv" --test-csv "$WORK/wine-test.csv" --layers 13,32,3
      --activation relu --output-activation softmax --cost xent --epochs 100 --batch 16)
DIAB=(--train-csv "$WORK/diabetes-train.csv" --test-csv "$WORK/diabetes-test.csv" --csv-targets 1
      --layers 10,32,1 --activation relu --output-activation identity --epochs 200 --batch 16)
# the figure of a run's last lines: accuracy for classification, else the loss
figure() { sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p; s/^test loss: \([0-9.e+-]*\).*/\1/p' | tail -1; }
row() { # NAME LR ARGS...
  local name=$1 lr=$2; shift 2
  local raw std
  raw=$("$D" train "$@" --lr "$lr" --quiet 2>/dev/null | figure)
  std=$("$D" train "$@" --lr "$lr" --standardize --quiet 2>/dev/null | figure)
  echo "| $name | $lr | ${raw:-failed} | ${std:-failed} |"
}
grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /CPU: /'
echo
echo "| data | lr | raw inputs | --standardize |"
echo "| --- | --- | --- | --- |"
row "wine: test accuracy" 0.01 "${WINE[@]}"
row "wine: test accuracy" 0.1 "${WINE[@]}"
for lr in 0.0001 0.0003 0.001; do row "diabetes: test loss (MSE)" $lr "${DIAB[@]}"; done
