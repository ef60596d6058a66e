#!/usr/bin/env bash
# Set up (if needed), build with tests, and run them all through ctest (slow ones included),
# then the sanitizer pass (scripts/sanitize.sh; PADBENCH_SANITIZE=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DPADBENCH_BUILD_TESTS=ON
(cd build && ctest --output-on-failure -j "${PADBENCH_TEST_JOBS:-2}" "$@")
if [ "${PADBENCH_SANITIZE:-1}" != 0 ]; then scripts/sanitize.sh; fi
