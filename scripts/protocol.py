#!/usr/bin/env python3
"""Runs the training protocol (policies/train/protocol.json): data, training, shipping, curves.

  scripts/protocol.py data                collect the robot and video datasets (skips existing files)
  scripts/protocol.py train [RUN ...]     train runs (default: all) into data/runs/<RUN>/, with
                                          learning-curve snapshots; continues a run with --resume
  scripts/protocol.py ship [RUN ...]      copy trained runs to their assets/checkpoints/ folder
  scripts/protocol.py curves [RUN ...]    evaluate every snapshot on the learning-curve slice and
                                          write results/learning_curves/ (default: every action run)
  scripts/protocol.py show RUN            print the padbench train command of a run
  scripts/protocol.py select train [V ...]  train the option-selection variants (protocol.json
                                          "selection") into data/runs/select_<V>/
  scripts/protocol.py select eval         evaluate them on the development seed and write
                                          results/pad_selection.md
  scripts/protocol.py ablations           evaluate pad_full and every trained ablation run on the
                                          headline slice and write results/pad_ablations.md

Every command prints what it runs. PADBENCH selects the binary (default build/padbench).
"""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOCOL = os.path.join(ROOT, "policies", "train", "protocol.json")
SHIPPED_FILES = ["config.json", "model.pt", "train_log.csv", "loss.png", "loss_parts.png", "reconstruction.json", "reconstruction.png"]


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


def merged_config(base_path, overrides, name):
    """Writes the config file `base_path` with `overrides` applied to data/runs/<name>.json."""
    with open(os.path.join(ROOT, base_path)) as f:
        config = json.load(f)
    config.update(overrides)
    path = os.path.join("data", "runs", name + ".json")
    os.makedirs(os.path.join(ROOT, "data", "runs"), exist_ok=True)
    with open(os.path.join(ROOT, path), "w") as f:
        json.dump(config, f, indent=2)
    return path


def train_command(protocol, name, out=None, samples=None, config=None, snapshots=True):
    """The padbench train command of run `name` (its "overrides" applied over its config file);
    a selection variant overrides its folder, budget and config file and keeps no snapshots."""
    r = protocol["runs"][name]
    data = protocol["datasets"]
    out = out or run_dir(name)
    if config is None and "overrides" in r:
        config = merged_config(r["config"], r["overrides"], name)
    cmd = [padbench(), "train", "--policy", r["policy"], "--out", out,
           "--data", ",".join(data[d]["out"] for d in r["data"])]
    if r.get("video"):
        cmd += ["--video", ",".join(data[d]["out"] for d in r["video"]), "--video-batch", str(r["video_batch"])]
    if config or "config" in r:
        cmd += ["--config", config or r["config"]]
    if "steps" in r:
        cmd += ["--steps", str(r["steps"])]
    elif r["policy"] != "autoencoder":
        cmd += ["--samples", str(samples or r.get("budget_samples", protocol["budget_samples"]))]
    for key in ("batch", "lr", "warmup", "seed", "threads", "val_every", "checkpoint_every"):
        if key in r:
            cmd += ["--" + key.replace("_", "-"), str(r[key])]
    if r["policy"] != "autoencoder" and snapshots:
        cmd += ["--snapshots", ",".join(str(f) for f in protocol["snapshot_fractions"])]
    if os.path.exists(os.path.join(ROOT, out, "train_state.pt")):
        cmd.append("--resume")
    return cmd


def finished(out):
    """Whether the run folder `out` holds a model trained to its last step."""
    path = os.path.join(ROOT, out, "config.json")
    if not os.path.exists(path):
        return False
    with open(path) as f:
        training = json.load(f).get("training", {})
    return training.get("steps", 0) >= training.get("total_steps", 1)


def select_train(protocol, names):
    sel = protocol["selection"]
    base = protocol["runs"][sel["base_run"]]
    for v in names or list(sel["variants"]):
        if v not in sel["variants"]:
            sys.exit(f"protocol.py: unknown variant '{v}'; variants: {', '.join(sel['variants'])}")
        out = run_dir("select_" + v)
        if finished(out):
            print(f"{out} is trained; skipped")
            continue
        config_path = merged_config(base["config"], sel["variants"][v], "select_" + v)
        cmd = train_command(protocol, sel["base_run"], out=out, samples=sel["budget_samples"], config=config_path,
                            snapshots=False)
        run(cmd)


PAPER = {  # Meta-World MT50 success rates reported by the PAD paper (Guo et al. 2024)
    "pad_full": "72.5%", "pad_no_image": "43.6%", "pad_no_cotrain": "59.2%",
}


def ci(entry):
    lo, hi = entry["ci95"]
    return f"{100 * entry['success_rate']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def ablations(protocol):
    runs = protocol["runs"]
    ev = protocol["evaluation"]
    names = [n for n in ["pad_full"] + [n for n in runs if runs[n].get("ablation")] if finished(run_dir(n))]
    if "pad_full" not in names:
        sys.exit("protocol.py: pad_full is not trained; run `protocol.py train pad_full` first")
    out = "out/ablations"
    cmd = [padbench(), "eval", "--suite", ev["suite"], "--episodes", str(ev["episodes"]), "--seed", str(ev["seed"]),
           "--workers", str(os.cpu_count() or 1), "--out", out]
    for n in names:
        cmd += ["--policy", "pad=" + run_dir(n)]
    if os.path.exists(os.path.join(ROOT, out)):
        shutil.rmtree(os.path.join(ROOT, out))  # the set of trained runs may have grown
    run(cmd)
    with open(os.path.join(ROOT, out, "results.json")) as f:
        results = json.load(f)
    lines = ["# PAD ablations", "",
             f"`scripts/protocol.py ablations`: PAD (`pad_full`) and its ablations, each trained under the protocol "
             f"(policies/train/protocol.json: same robot data, two threads; the budget in the table), evaluated on the "
             f"{ev['suite']} suite, {ev['episodes']} episodes per task, seed {ev['seed']}; 95% Wilson intervals. "
             "The paper column is Meta-World MT50 (Guo et al. 2024): another suite and a far larger budget.", "",
             "| run | what | robot samples | easy | medium | hard | overall (95% CI) | masked PSNR dB, h = 4 / 8 / 12 "
             "(persistence) | paper, MT50 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        p = results["aggregated"]["policies"]["pad=" + run_dir(n)]
        g = p["groups"]
        masked = [m for m in p.get("metrics", {}).get("masked_psnr", []) if m.get("kind") == "future"]
        psnr = (" / ".join(f"{m['psnr']:.2f}" for m in masked) + " (" +
                " / ".join(f"{m['persistence_psnr']:.2f}" for m in masked) + ")") if masked else "–"
        with open(os.path.join(ROOT, run_dir(n), "config.json")) as f:
            training = json.load(f)["training"]
        lines.append(f"| {n} | {runs[n].get('note', '')} | {training['robot_samples']} | {ci(g['easy'])} | "
                     f"{ci(g['medium'])} | {ci(g['hard'])} | **{ci(p['overall'])}** | {psnr} | {PAPER.get(n, '–')} |")
    with open(os.path.join(ROOT, "results", "pad_ablations.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def select_eval(protocol):
    sel = protocol["selection"]
    ev = protocol["evaluation"]
    variants = [v for v in sel["variants"] if os.path.exists(os.path.join(ROOT, run_dir("select_" + v), "model.pt"))]
    if not variants:
        sys.exit("protocol.py: no trained selection variant; run `select train` first")
    out = "out/pad_selection"
    cmd = [padbench(), "eval", "--suite", sel["suite"], "--episodes", str(sel["episodes"]),
           "--seed", str(ev["development_seed"]), "--workers", str(os.cpu_count() or 1), "--out", out]
    for v in variants:
        cmd += ["--policy", "pad=" + run_dir("select_" + v)]
    if os.path.exists(os.path.join(ROOT, out, "run.json")):
        cmd.append("--resume")
    run(cmd)
    with open(os.path.join(ROOT, out, "results.json")) as f:
        results = json.load(f)
    lines = ["# PAD option selection", "",
             f"`scripts/protocol.py select train && scripts/protocol.py select eval`: each variant is the "
             f"`{sel['base_run']}` recipe (policies/train/protocol.json) with its overrides, trained on "
             f"{sel['budget_samples']} action-supervised samples, evaluated on the {sel['suite']} suite, "
             f"{sel['episodes']} episodes per task, development seed {ev['development_seed']} (never the "
             f"evaluation seed {ev['seed']}); 95% Wilson intervals. Masked PSNR: predicted frames against the real "
             "ones over the moving objects' pixels, beside the copy-the-current-frame baseline.", "",
             "| variant | overrides | success (95% CI) | masked PSNR dB, h = 4 / 8 / 12 (persistence) | training wall time | parameters |",
             "|---|---|---|---|---|---|"]
    for v in variants:
        spec = "pad=" + run_dir("select_" + v)
        p = results["aggregated"]["policies"][spec]
        o = p["overall"]
        masked = [m for m in p.get("metrics", {}).get("masked_psnr", []) if m.get("kind") == "future"]
        psnr = " / ".join(f"{m['psnr']:.2f}" for m in masked) or "–"
        persistence = " / ".join(f"{m['persistence_psnr']:.2f}" for m in masked)
        with open(os.path.join(ROOT, run_dir("select_" + v), "config.json")) as f:
            training = json.load(f)["training"]
        lines.append(f"| {v} | `{json.dumps(sel['variants'][v])}` | {100 * o['success_rate']:.1f}% "
                     f"[{100 * o['ci95'][0]:.1f}, {100 * o['ci95'][1]:.1f}] | {psnr}"
                     f"{f' ({persistence})' if persistence else ''} | {training['wall_s'] / 60:.1f} min "
                     f"({training['threads']} threads) | {training['parameters']} |")
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    with open(os.path.join(ROOT, "results", "pad_selection.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


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
    elif mode == "select":
        if not names or names[0] not in ("train", "eval"):
            sys.exit("protocol.py: select train [VARIANT ...] | select eval")
        if names[0] == "train":
            select_train(protocol, names[1:])
        else:
            select_eval(protocol)
    elif mode == "ablations":
        ablations(protocol)
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
        sys.exit(f"protocol.py: unknown command '{mode}' (data, train, ship, curves, show, select, ablations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
