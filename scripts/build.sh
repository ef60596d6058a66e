#!/usr/bin/env bash
# Configures (Release) and builds padbench into ./build. Used by run.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PADBENCH_JOBS:-$(nproc)}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$jobs"
