#!/usr/bin/env bash
# Episodes/min of each of the main job's policies with --batch-envs 1, 4 and 8 on this machine
# (the default suite, PADBENCH_EPISODES episodes per task, seed 0, one worker per core), and how
# many episodes a batch size changes against B = 1 (float order). Prints a markdown table for the
# README's Performance section; the runs stay in OUT.
# Usage: scripts/batch_scaling.sh [PADBENCH] [OUT]   (PADBENCH_EPISODES: per task, default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
padbench=$(realpath "${1:-build/padbench}")
out=${2:-out/batch_scaling}
episodes=${PADBENCH_EPISODES:-8}
c=assets/checkpoints
policies=(expert random "diffusion_policy=$c/diffusion_policy" "pad=$c/pad" "image_goal=$c/susie"
          "image_goal=$c/unipi" "gr1=$c/gr1")
mkdir -p "$out"
for b in 1 4 8; do
  for spec in "${policies[@]}"; do
    name=$(basename "${spec#*=}")
    dest="$out/${name}_b$b"
    [ -f "$dest/results.json" ] && continue
    rm -rf "$dest"
    echo "$name, --batch-envs $b" >&2
    "$padbench" eval --policy "$spec" --suite default --episodes "$episodes" --seed 0 --workers "$(nproc)" \
      --batch-envs "$b" --out "$dest" >/dev/null 2>&1
  done
done

python3 - "$out" "${policies[@]}" <<'PY'
import json, os, sys
out, specs = sys.argv[1], sys.argv[2:]
def load(name, b):
    r = json.load(open(f"{out}/{name}_b{b}/results.json"))
    spec = r["config"]["policies"][0]
    return r["aggregated"]["throughput"], r["aggregated"]["policies"][spec], {(e["task"], e["index"]): e["success"] for e in r["per_episode"]}
print("| policy | episodes | B = 1 | B = 4 | B = 8 | Act p50 ms at B = 1 / 4 / 8 | successes changed by B = 4 / 8 |")
print("|---|---|---|---|---|---|---|")
total = {1: 0.0, 4: 0.0, 8: 0.0}
for spec in specs:
    name = os.path.basename(spec.split("=", 1)[-1])
    runs = {b: load(name, b) for b in (1, 4, 8)}
    base = runs[1][0]["episodes_per_min"]
    for b in total:
        total[b] += runs[b][0]["wall_s"]
    cells = [f"{runs[b][0]['episodes_per_min']:.0f}" + ("" if b == 1 else f" ({runs[b][0]['episodes_per_min'] / base:.2f}x)") for b in (1, 4, 8)]
    p50 = " / ".join(f"{runs[b][1]['latency']['p50_ms']:.1f}" for b in (1, 4, 8))
    flips = " / ".join(str(sum(runs[b][2][k] != runs[1][2][k] for k in runs[1][2])) for b in (4, 8))
    print(f"| {name} | {runs[1][0]['episodes_run']} | " + " | ".join(cells) + f" | {p50} | {flips} |")
n = sum(load(os.path.basename(s.split('=', 1)[-1]), 1)[0]["episodes_run"] for s in specs)
cells = [f"{60 * n / total[b]:.0f}" + ("" if b == 1 else f" ({total[1] / total[b]:.2f}x)") for b in (1, 4, 8)]
print(f"| all seven, one after another | {n} | " + " | ".join(cells) + " | | |")
PY
