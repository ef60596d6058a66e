#!/usr/bin/env bash
# Throughput of one evaluation run three ways on this machine, and proof they agree episode for
# episode: a local run with W workers, mpirun with 1 rank of W workers, and mpirun with W ranks
# of 1 worker each. Prints a markdown table for the README's "Several machines" section.
# Usage: scripts/mpi_scaling.sh [PADBENCH] [OUT]   (PADBENCH_EPISODES: per task and policy, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
padbench=$(realpath "${1:-build/padbench}")
out=${2:-out/mpi_scaling}
episodes=${PADBENCH_EPISODES:-2}
workers=$(nproc)
rm -rf "$out" && mkdir -p "$out"
run=(eval --policy expert --policy diffusion_policy=assets/checkpoints/diffusion_policy
     --policy pad=assets/checkpoints/pad --policy gr1=assets/checkpoints/gr1 --suite default
     --episodes "$episodes" --seed 0)
mpi=(mpirun --allow-run-as-root --oversubscribe)

echo "local, $workers workers" >&2
"$padbench" "${run[@]}" --workers "$workers" --out "$out/local" >/dev/null
echo "mpirun, 1 rank of $workers workers" >&2
"${mpi[@]}" --bind-to none -n 1 "$padbench" "${run[@]}" --workers "$workers" --out "$out/rank1" >/dev/null
echo "mpirun, $workers ranks of 1 worker" >&2
"${mpi[@]}" -n "$workers" "$padbench" "${run[@]}" --workers 1 --out "$out/ranks$workers" >/dev/null
for dir in rank1 "ranks$workers"; do python3 tests/cli/same_outcomes.py episodes "$out/$dir" "$out/local" >&2; done

python3 - "$out" "$workers" <<'PY'
import json, sys
out, workers = sys.argv[1], int(sys.argv[2])
rows = [("local", f"1 process, {workers} workers"), ("rank1", f"mpirun -n 1 --bind-to none, {workers} workers"),
        (f"ranks{workers}", f"mpirun -n {workers}, 1 worker each")]
base = None
print("| run | episodes | wall s | episodes/min | vs local | episodes per rank |")
print("|---|---|---|---|---|---|")
for folder, label in rows:
    r = json.load(open(f"{out}/{folder}/results.json"))
    t = r["aggregated"]["throughput"]
    base = base or t["episodes_per_min"]
    print(f"| {label} | {t['episodes_run']} | {t['wall_s']:.1f} | {t['episodes_per_min']:.1f} | "
          f"{t['episodes_per_min'] / base:.2f}x | {r['metadata']['episodes_per_rank']} |")
PY
