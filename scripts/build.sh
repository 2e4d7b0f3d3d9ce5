#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure and build descent in ./build (Release; portable: the kernels for
# this CPU are chosen when it runs).
# Extra arguments go to CMake, e.g. -DDESCENT_NATIVE=ON for a build for this
# machine's CPU alone.
# Usage: bash scripts/build.sh [CMAKE_OPTION...]      (for example -DDESCENT_NATIVE=ON)
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/!d; /SPDX/d; s/^# //; s/^#$//; p}' "$0"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
