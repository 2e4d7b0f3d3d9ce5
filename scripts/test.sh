#!/usr/bin/env bash
# Install, build and run every test (CTest). The exit code is the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 600
