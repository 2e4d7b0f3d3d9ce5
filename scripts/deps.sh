#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what descent needs to build, test and run its main job, from
# Debian's archive (run as root, or with sudo available). Extra package
# groups: "slurm" (a single-node SLURM for the cluster tests), "check"
# (clang's libFuzzer and sanitizers, valgrind, strace, qemu-user to emulate
# older CPUs), "bench" (the peers of the benchmark: PyTorch, OpenBLAS),
# "plots" (gnuplot).
# Usage: bash scripts/deps.sh [slurm] [check] [bench] [plots]
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
pkgs=(build-essential cmake pkg-config zlib1g-dev libopenmpi-dev openmpi-bin
      dataset-fashion-mnist python3 python3-numpy iproute2 util-linux)
for group in "$@"; do
  case "$group" in
    slurm) pkgs+=(slurmctld slurmd slurm-client munge) ;;
    check) pkgs+=(clang libclang-rt-14-dev libomp-dev valgrind strace man-db locales qemu-user) ;;
    bench) pkgs+=(python3-torch libopenblas-dev hyperfine python3-sklearn) ;;
    plots) pkgs+=(gnuplot-nox) ;;
    *) echo "deps.sh: unknown group '$group' (slurm, check, bench, plots)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
