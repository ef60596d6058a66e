#!/usr/bin/env bash
# PAD and its ablations with one recipe: train each variant, then evaluate all of them on the
# default suite (the README's ablation table). Variants are policies/pad/configs/<name>.json;
# every one co-trains on data/video.hdf5 except pad_no_cotrain.
#
# Usage: scripts/pad_ablations.sh train [VARIANT...]   (default: every config)
#        scripts/pad_ablations.sh eval [VARIANT...]
# Needs build/padbench, data/robot.hdf5, data/video.hdf5 and assets/checkpoints/autoencoder;
# the data commands are in the README. Runs go to data/runs/<variant>/, evaluations to
# out/ablations/<variant>/. STEPS, BATCH (robot rows; co-trained runs add 8 video rows), THREADS,
# EPISODES override the recipe (the pre-protocol one: 4000 steps x (24 + 8) rows). On two cores,
# two `train` instances with one thread each (different variants) beat one with two threads:
# the DiT's matrices are small, so a second thread adds little.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/pad_ablations.sh train|eval [VARIANT...]}
shift
variants=("$@")
if [ ${#variants[@]} = 0 ]; then
  variants=(pad pad_no_image pad_no_cotrain pad_adaln pad_cross_attention pad_in_context)
fi
steps=${STEPS:-4000} batch=${BATCH:-24} threads=${THREADS:-1} episodes=${EPISODES:-20}
for v in "${variants[@]}"; do
  config=policies/pad/configs/$v.json
  [ -f "$config" ] || { echo "no config $config" >&2; exit 2; }
  case $mode in
    train)
      video=(--video data/video.hdf5 --video-batch 8)
      [ "$v" = pad_no_cotrain ] && video=()
      echo "== train $v ($(date +%T))"
      ./build/padbench train --policy pad --data data/robot.hdf5 "${video[@]}" --config "$config" \
        --out "data/runs/$v" --steps "$steps" --batch "$batch" --lr 5e-4 --warmup 200 --seed 0 --threads "$threads" \
        --val-every 500 --checkpoint-every 500 $([ -f "data/runs/$v/train_state.pt" ] && echo --resume)
      ;;
    eval)
      echo "== eval $v ($(date +%T))"
      rm -rf "out/ablations/$v"
      ./build/padbench eval --policy "pad=data/runs/$v" --suite default --episodes "$episodes" --seed 0 \
        --workers 2 --out "out/ablations/$v"
      ;;
    *) echo "unknown mode '$mode' (train|eval)" >&2; exit 2 ;;
  esac
done
