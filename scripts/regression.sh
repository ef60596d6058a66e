#!/usr/bin/env bash
# The CI regression benchmark: the shipped learned policies on a fixed slice (four easy
# tasks, 10 seeded episodes each), compared with the committed baseline in results/baseline/.
# Fails when success drops significantly (one-sided Fisher exact test, alpha 0.05), when any
# task's success count moves by more than 2 of 10 episodes either way (the documented
# tolerance: the slice is deterministic on one machine; other CPUs may round differently),
# or when p50 Act latency grows more than 4x.
#
# Usage: scripts/regression.sh [PADBENCH] [OUT]      compare against results/baseline
#        scripts/regression.sh --update [PADBENCH]   rewrite results/baseline from this build
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
bin=${1:-build/padbench}
out=${2:-out/regression}
slice=(--policy diffusion_policy=assets/checkpoints/diffusion_policy --policy pad=assets/checkpoints/pad
       --policy image_goal=assets/checkpoints/susie --policy image_goal=assets/checkpoints/unipi
       --policy gr1=assets/checkpoints/gr1
       --task reach --task button-press --task drawer-open --task drawer-close
       --episodes 10 --seed 1000 --workers 2)
if [ "$update" = 1 ]; then
  rm -rf results/baseline out/baseline_run
  "$bin" eval "${slice[@]}" --out out/baseline_run
  mkdir -p results/baseline
  cp out/baseline_run/{results.json,summary.md,per_task.csv,success.png} results/baseline/
  echo "baseline updated: results/baseline/"
  exit 0
fi
rm -rf "$out"
"$bin" eval "${slice[@]}" --out "$out" > /dev/null
"$bin" compare results/baseline "$out" --alpha 0.05 --latency-ratio 4 --tolerance 2
