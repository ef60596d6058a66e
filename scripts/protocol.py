#!/usr/bin/env python3
"""Runs the training protocol (policies/train/protocol.json): data, training, shipping, curves.

  scripts/protocol.py data                collect the robot and video datasets (skips existing files)
  scripts/protocol.py train [RUN ...]     train runs (default: all) into data/runs/<RUN>/, with
                                          learning-curve snapshots; continues a run with --resume
  scripts/protocol.py ship [RUN ...]      copy trained runs to their assets/checkpoints/ folder
  scripts/protocol.py curves [RUN ...]    evaluate every snapshot on the learning-curve slice and
                                          write results/learning_curves/ (default: every action run)
  scripts/protocol.py show RUN            print the padbench train command of a run

Every command prints what it runs. PADBENCH selects the binary (default build/padbench).
"""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOCOL = os.path.join(ROOT, "policies", "train", "protocol.json")
SHIPPED_FILES = ["config.json", "model.pt", "train_log.csv", "loss.png", "reconstruction.json", "reconstruction.png"]


def load():
    with open(PROTOCOL) as f:
        return json.load(f)


def padbench():
    return os.environ.get("PADBENCH", os.path.join(ROOT, "build", "padbench"))


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        sys.exit(f"protocol.py: failed: {' '.join(cmd)}")


def run_dir(name):
    return os.path.join("data", "runs", name)


def train_command(protocol, name):
    r = protocol["runs"][name]
    data = protocol["datasets"]
    cmd = [padbench(), "train", "--policy", r["policy"], "--out", run_dir(name),
           "--data", ",".join(data[d]["out"] for d in r["data"])]
    if r.get("video"):
        cmd += ["--video", ",".join(data[d]["out"] for d in r["video"]), "--video-ratio", str(r["video_ratio"])]
    if "config" in r:
        cmd += ["--config", r["config"]]
    if "steps" in r:
        cmd += ["--steps", str(r["steps"])]
    elif r["policy"] != "autoencoder":
        cmd += ["--samples", str(r.get("budget_samples", protocol["budget_samples"]))]
    for key in ("batch", "lr", "warmup", "seed", "threads", "val_every", "checkpoint_every"):
        if key in r:
            cmd += ["--" + key.replace("_", "-"), str(r[key])]
    if r["policy"] != "autoencoder":
        cmd += ["--snapshots", ",".join(str(f) for f in protocol["snapshot_fractions"])]
    if os.path.exists(os.path.join(ROOT, run_dir(name), "train_state.pt")):
        cmd.append("--resume")
    return cmd


def pick(protocol, names, default):
    for n in names:
        if n not in protocol["runs"]:
            sys.exit(f"protocol.py: unknown run '{n}'; runs: {', '.join(protocol['runs'])}")
    return names or default


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    protocol = load()
    mode, names = argv[0], argv[1:]
    runs = protocol["runs"]
    if mode == "data":
        for d in protocol["datasets"].values():
            if os.path.exists(os.path.join(ROOT, d["out"])):
                print(f"{d['out']} exists; skipped")
                continue
            os.makedirs(os.path.join(ROOT, os.path.dirname(d["out"])), exist_ok=True)
            run([padbench(), "collect", *d["collect"], "--out", d["out"]])
    elif mode == "train":
        for name in pick(protocol, names, list(runs)):
            run(train_command(protocol, name))
    elif mode == "show":
        for name in pick(protocol, names, list(runs)):
            print(" ".join(train_command(protocol, name)))
    elif mode == "ship":
        for name in pick(protocol, names, [n for n in runs if "ship" in runs[n]]):
            if "ship" not in runs[name]:
                sys.exit(f"protocol.py: run '{name}' is not shipped")
            dest = os.path.join(ROOT, runs[name]["ship"])
            os.makedirs(dest, exist_ok=True)
            for f in SHIPPED_FILES:
                src = os.path.join(ROOT, run_dir(name), f)
                if os.path.exists(src):
                    shutil.copy(src, dest)
            print(f"{run_dir(name)} -> {runs[name]['ship']}")
    elif mode == "curves":
        chosen = pick(protocol, names, [n for n in runs if runs[n]["policy"] != "autoencoder"])
        lc = protocol["evaluation"]["learning_curve"]
        cmd = [padbench(), "curves", "--suite", lc["suite"], "--episodes", str(lc["episodes"]),
               "--seed", str(protocol["evaluation"]["seed"]), "--workers", str(os.cpu_count() or 1),
               "--eval-dir", "out/learning_curves", "--out", "results/learning_curves"]
        for name in chosen:
            cmd += ["--run", f"{name}={run_dir(name)}"]
        run(cmd)
    else:
        sys.exit(f"protocol.py: unknown command '{mode}' (data, train, ship, curves, show)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
