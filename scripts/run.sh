#!/usr/bin/env bash
# The main job: set up (if needed), build, and run the default benchmark:
# the scripted expert, random actions, and the shipped Diffusion Policy, PAD, image-goal (SuSIE,
# UniPi) and GR-1 checkpoints on the default suite, with the prediction quality of PAD's and
# GR-1's future frames, SuSIE's goal images and UniPi's plans (PSNR/SSIM against the real
# frames, beside persistence).
# Results (results.json, summary.md, per_task.csv, plots) go to out/eval/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DPADBENCH_BUILD_TESTS=OFF
rm -rf out/eval
./build/padbench eval --policy expert --policy random \
  --policy diffusion_policy=assets/checkpoints/diffusion_policy --policy pad=assets/checkpoints/pad \
  --policy image_goal=assets/checkpoints/susie --policy image_goal=assets/checkpoints/unipi \
  --policy gr1=assets/checkpoints/gr1 --suite default \
  --episodes "${PADBENCH_EPISODES:-25}" --workers "${PADBENCH_WORKERS:-$(nproc)}" --seed 0 --out out/eval
