#!/usr/bin/env bash
# The main job: set up (if needed), build, and run the default benchmark.
# Today that is the scripted-expert table on the default suite; results/experts.json keeps the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DPADBENCH_BUILD_TESTS=OFF
mkdir -p out
./build/padbench experts --suite default --episodes "${PADBENCH_EPISODES:-100}" --noise 0,0.1 --out out/experts.json
echo "results: out/experts.json"
