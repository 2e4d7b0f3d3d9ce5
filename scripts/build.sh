#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure and build descent in ./build (Release, tuned for this CPU).
# Extra arguments go to CMake, e.g. -DDESCENT_NATIVE=OFF for a portable build.
# Usage: bash scripts/build.sh [CMAKE_OPTION...]      (for example -DDESCENT_NATIVE=OFF)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
