#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on a fresh Debian machine: install, build, train a
# 784-256-128-10 network on Fashion-MNIST and print its test accuracy.
# Usage: bash scripts/quickstart.sh
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
./build/descent train --data /usr/share/datasets/fashion-mnist \
  --layers 784,256,128,10 --activation relu --output-activation softmax --cost xent \
  --optimizer gd --lr 0.2 --lr-schedule cosine --batch 64 --epochs 10 --seed 1 \
  --out fashion.model --metrics fashion-metrics.csv
