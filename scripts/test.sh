#!/usr/bin/env bash
# Set up (if needed), build with tests, and run them all through ctest (slow ones included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DPADBENCH_BUILD_TESTS=ON
cd build
ctest --output-on-failure -j "${PADBENCH_TEST_JOBS:-2}" "$@"
