#!/usr/bin/env python3
"""Checks that two runs agree, for the MPI tests.

  same_outcomes.py episodes A B   per-episode outcomes of two eval folders (results.json), and
                                  that A's episodes.jsonl holds each episode exactly once
  same_outcomes.py dataset A B    two collected HDF5 files: every array and attribute
"""
import json
import sys
from collections import Counter

# What an episode's outcome is; wall-clock timings differ from run to run.
OUTCOME = ("policy", "task", "index", "seed", "instruction", "success", "length", "steps_to_success",
           "failure", "act_calls", "clipped_actions", "metrics")
TIMING_METRICS = ("act_stages",)  # milliseconds per stage of Act


def episodes(a, b):
    def outcomes(folder):
        results = json.load(open(f"{folder}/results.json"))
        rows = [{k: e.get(k) for k in OUTCOME} for e in results["per_episode"]]
        for row in rows:
            row["metrics"] = {k: v for k, v in (row["metrics"] or {}).items() if k not in TIMING_METRICS}
        return rows, results["metadata"]

    x, meta_x = outcomes(a)
    y, _ = outcomes(b)
    lines = [json.loads(line) for line in open(f"{a}/episodes.jsonl") if line.strip()]
    repeated = [k for k, n in Counter((e["policy"], e["task"], e["index"]) for e in lines).items() if n > 1]
    if repeated:
        sys.exit(f"FAIL: {a}/episodes.jsonl repeats {repeated[:3]}")
    if len(lines) != len(x):
        sys.exit(f"FAIL: {a}/episodes.jsonl has {len(lines)} lines for {len(x)} episodes")
    if len(x) != len(y):
        sys.exit(f"FAIL: {len(x)} episodes in {a}, {len(y)} in {b}")
    for ex, ey in zip(x, y):
        if ex != ey:
            diff = {k: (ex[k], ey[k]) for k in OUTCOME if ex[k] != ey[k]}
            sys.exit(f"FAIL: {ex['policy']}|{ex['task']}|{ex['index']} differs: {diff}")
    print(f"ok: {len(x)} episodes identical; {a} ran on {meta_x.get('ranks')} ranks "
          f"(episodes per rank {meta_x.get('episodes_per_rank')}, requeued {meta_x.get('episodes_requeued')})")


def dataset(a, b):
    import h5py
    import numpy as np

    def walk(f):
        out = {"@" + k: v for k, v in f.attrs.items()}
        def visit(name, obj):
            out.update({f"{name}@{k}": v for k, v in obj.attrs.items()})
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f.visititems(visit)
        return out

    x, y = walk(h5py.File(a, "r")), walk(h5py.File(b, "r"))
    if x.keys() != y.keys():
        sys.exit(f"FAIL: different contents: {sorted(set(x) ^ set(y))[:5]}")
    differ = [k for k in x if not np.array_equal(x[k], y[k])]
    if differ:
        sys.exit(f"FAIL: {len(differ)} arrays or attributes differ, e.g. {differ[:3]}")
    print(f"ok: {len(x)} arrays and attributes identical")


if __name__ == "__main__":
    {"episodes": episodes, "dataset": dataset}[sys.argv[1]](sys.argv[2], sys.argv[3])
