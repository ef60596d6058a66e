#!/usr/bin/env python3
"""Runs the training protocol (policies/train/protocol.json): data, training, shipping, curves.

  scripts/protocol.py data                collect the robot and video datasets (skips existing files)
  scripts/protocol.py train [RUN ...]     train runs (default: all) into data/runs/<RUN>/, with
                                          learning-curve snapshots; continues a run with --resume
  scripts/protocol.py ship [RUN ...]      copy trained runs to their assets/checkpoints/ folder
  scripts/protocol.py curves [RUN ...]    evaluate every snapshot on the learning-curve slice and
                                          write results/learning_curves/ (default: every action run)
  scripts/protocol.py show RUN            print the padbench train command of a run
  scripts/protocol.py select train F [V ...]  train family F's option-selection variants (F: pad or
                                          gr1; protocol.json "F_selection") into data/runs/<prefix><V>/
  scripts/protocol.py select eval F       evaluate them on the development seed and write
                                          results/F_selection.md
  scripts/protocol.py ablations           evaluate pad_full and every trained ablation run on the
                                          headline slice and write results/pad_ablations.md
  scripts/protocol.py image_goal          evaluate susie, unipi, their ablations and their oracle-goal
                                          runs on the headline slice and write results/image_goal.md
  scripts/protocol.py gr1                 evaluate gr1 and its ablation without video pre-training on the
                                          headline slice and write results/gr1.md
  scripts/protocol.py image_goal_select   evaluate the image-goal inference settings on the development
                                          seed and write results/image_goal_selection.md
  scripts/protocol.py ddim_steps          every shipped diffusion checkpoint at 2, 4 and 10 DDIM steps on the
                                          learning-curve slice: results/ddim_steps.md
  scripts/protocol.py realtime [RUN]      every learned policy of a synchronous headline run (default out/eval,
                                          the main job's) again with --realtime --latency-ms at its measured
                                          Act p50 and at protocol.json's latencies: results/realtime.md

Every command prints what it runs. PADBENCH selects the binary (default build/padbench).
"""
import json
import math
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
    if r.get("pretrain_samples"):
        cmd += ["--pretrain-samples", str(r["pretrain_samples"])]
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
    training = (read_json(os.path.join(ROOT, out, "config.json")) or {}).get("training", {})
    return training.get("steps", 0) >= training.get("total_steps", 1)


def selection(protocol, family):
    """protocol.json's "<family>_selection" block."""
    key = f"{family}_selection"
    if key not in protocol or "base_run" not in protocol[key]:
        choices = [k[:-len("_selection")] for k in protocol if k.endswith("_selection") and "base_run" in protocol[k]]
        sys.exit(f"protocol.py: no selection '{family}'; choose one of: {', '.join(choices)}")
    return protocol[key]


def select_train(protocol, family, names):
    sel = selection(protocol, family)
    base = protocol["runs"][sel["base_run"]]
    for v in names or list(sel["variants"]):
        if v not in sel["variants"]:
            sys.exit(f"protocol.py: unknown variant '{v}'; variants: {', '.join(sel['variants'])}")
        out = run_dir(sel["prefix"] + v)
        if finished(out):
            print(f"{out} is trained; skipped")
            continue
        config_path = merged_config(base["config"], sel["variants"][v], sel["prefix"] + v)
        cmd = train_command(protocol, sel["base_run"], out=out, samples=sel["budget_samples"], config=config_path,
                            snapshots=False)
        if "threads" in sel:
            cmd[cmd.index("--threads") + 1] = str(sel["threads"])
        run(cmd)


def ci(entry):
    lo, hi = entry["ci95"]
    return f"{100 * entry['success_rate']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def evaluate_specs(specs, suite, episodes, seed, out):
    """Evaluates each policy spec (family=checkpoint) of `specs` {name: spec} into out/<name>/, kept while
    the checkpoint and the slice are unchanged (adding a run evaluates only it); returns
    {name: (aggregated policy, episode records)}."""
    policies = {}
    for name, spec in specs.items():
        checkpoint = spec.split("=", 1)[1]
        dest = os.path.join(out, name)
        key = {"checkpoint": checkpoint, "model_mtime": os.path.getmtime(os.path.join(ROOT, checkpoint, "model.pt")),
               "suite": suite, "episodes": episodes, "seed": seed}
        if not spec.startswith("pad="):
            key["spec"] = spec  # (PAD's cached evaluations predate the field)
        stamp = os.path.join(ROOT, dest, "protocol_key.json")
        if os.path.exists(os.path.join(ROOT, dest, "results.json")) and read_json(stamp) == key:
            print(f"{dest}: evaluated already (same checkpoint and slice)")
        else:
            if os.path.exists(os.path.join(ROOT, dest)):
                shutil.rmtree(os.path.join(ROOT, dest))
            run([padbench(), "eval", "--suite", suite, "--episodes", str(episodes), "--seed", str(seed),
                 "--workers", str(os.cpu_count() or 1), "--out", dest, "--policy", spec])
            with open(stamp, "w") as f:
                json.dump(key, f)
        aggregated = read_json(os.path.join(ROOT, dest, "results.json"))["aggregated"]["policies"][spec]
        policies[name] = (aggregated, read_episodes(dest))
    return policies


def evaluate_runs(protocol, names, suite, episodes, seed, out):
    """evaluate_specs for protocol runs: each run's checkpoint with its family."""
    return evaluate_specs({n: f"{protocol['runs'][n]['policy']}={run_dir(n)}" for n in names}, suite, episodes, seed, out)


def paired_difference(a, b):
    """Success of a minus b in points over the episodes both ran (paired by task and index), with a
    95% Wald interval for paired proportions."""
    outcome = {(r["task"], r["index"]): bool(r["success"]) for r in b}
    pairs = [(bool(r["success"]), outcome[(r["task"], r["index"])]) for r in a if (r["task"], r["index"]) in outcome]
    n = len(pairs)
    only_a = sum(1 for x, y in pairs if x and not y)
    only_b = sum(1 for x, y in pairs if y and not x)
    d = (only_a - only_b) / n
    se = math.sqrt(max(0.0, (only_a + only_b) / n - d * d) / n)
    return 100 * d, 100 * (d - 1.96 * se), 100 * (d + 1.96 * se), n


def verdict(claim, a, b, paper_points=None):
    """One plain sentence: does `a` beat `b` here (paired episodes), beside the paper's difference."""
    d, lo, hi, n = paired_difference(a, b)
    figures = f"{d:+.1f} points, 95% CI [{lo:+.1f}, {hi:+.1f}], {n} paired episodes"
    paper = f"; the paper's difference is {paper_points:+.1f}" if paper_points is not None else ""
    if lo > 0:
        return f"- {claim}: **holds here** ({figures}{paper})."
    if hi < 0:
        return f"- {claim}: **does not hold here**: the ablation does better ({figures}{paper})."
    if paper_points is not None and hi < paper_points:
        return (f"- {claim}: **does not hold here at the paper's size** ({figures}{paper}, outside the interval); "
                "a smaller effect cannot be excluded.")
    return f"- {claim}: **cannot be told at this budget** ({figures}{paper})."


def masked_psnr_cell(policy):
    """ "a / b / c (x / y / z)": object-masked PSNR per horizon of the predicted frames (persistence)."""
    masked = [m for m in policy.get("metrics", {}).get("masked_psnr", []) if m.get("kind") == "future"]
    if not masked:
        return "–"
    return (" / ".join(f"{m['psnr']:.2f}" for m in masked) + " (" +
            " / ".join(f"{m['persistence_psnr']:.2f}" for m in masked) + ")")


def read_episodes(folder):
    """The episode records of the eval run in `folder` (its episodes.jsonl)."""
    with open(os.path.join(ROOT, folder, "episodes.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_json(path):
    """The JSON document at `path`, or None when there is none."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def training_facts(out):
    return read_json(os.path.join(ROOT, out, "config.json"))["training"]


def last_validation(out):
    """The last train_log.csv row with validation values, as {column: value}."""
    with open(os.path.join(ROOT, out, "train_log.csv")) as f:
        rows = [line.rstrip("\n").split(",") for line in f]
    header = rows[0]
    for row in reversed(rows[1:]):
        if len(row) == len(header) and row[header.index("val_loss")]:
            return dict(zip(header, row))
    return {}


PAPER = {  # Meta-World MT50 success rates (%) reported by the PAD paper (Guo et al. 2024)
    "pad_full": 72.5, "pad_no_image": 43.6, "pad_no_cotrain": 59.2,
}


def ablations(protocol):
    runs = protocol["runs"]
    ev = protocol["evaluation"]
    names = [n for n in ["pad_full"] + [n for n in runs if runs[n].get("ablation_of") == "pad_full"]
             if finished(run_dir(n))]
    if "pad_full" not in names:
        sys.exit("protocol.py: pad_full is not trained; run `protocol.py train pad_full` first")
    policies = evaluate_runs(protocol, names, ev["suite"], ev["episodes"], ev["seed"], "out/ablations")
    lines = ["# PAD ablations", "",
             f"`scripts/protocol.py ablations`: PAD (`pad_full`) and its ablations, each trained under the protocol "
             f"(policies/train/protocol.json: two threads, the data and action-supervised budget in the table; "
             f"`pad_half_*` at half the budget), evaluated on the {ev['suite']} suite, {ev['episodes']} episodes per "
             f"task, seed {ev['seed']}; 95% Wilson intervals. The paper column is Meta-World MT50 (Guo et al. 2024): "
             "another suite and a far larger budget.", "",
             "| run | what | data | robot samples | easy | medium | hard | overall (95% CI) | masked PSNR dB, "
             "h = 4 / 8 / 12 (persistence) | val action MSE | paper, MT50 |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        p = policies[n][0]
        g = p["groups"]
        val = last_validation(run_dir(n))
        paper = f"{PAPER[n]}%" if n in PAPER else "–"
        lines.append(f"| {n} | {runs[n].get('note', '')} | {'+'.join(runs[n]['data'] + runs[n].get('video', []))} | "
                     f"{training_facts(run_dir(n))['robot_samples']} | {ci(g['easy'])} | {ci(g['medium'])} | "
                     f"{ci(g['hard'])} | **{ci(p['overall'])}** | {masked_psnr_cell(p)} | "
                     f"{float(val.get('val_action_mse', 'nan')):.4f} | {paper} |")
    records = {n: policies[n][1] for n in names}
    claims = [("Predicting future images helps the policy (pad_full vs pad_no_image)", "pad_full", "pad_no_image"),
              ("Co-training on action-free video helps (pad_full vs pad_no_cotrain)", "pad_full", "pad_no_cotrain"),
              ("Co-training helps where robot data is scarce: 10 demonstrations per task (pad_10demo_video vs "
               "pad_10demo)", "pad_10demo_video", "pad_10demo")]
    lines += ["", "Claims (paired by episode: the same seeds for every run):", ""]
    for claim, a, b in claims:
        if a in records and b in records:
            paper = PAPER[a] - PAPER[b] if a in PAPER and b in PAPER else None
            lines.append(verdict(claim, records[a], records[b], paper))
        else:
            lines.append(f"- {claim}: not trained yet.")
    with open(os.path.join(ROOT, "results", "pad_ablations.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def quality_cell(policy):
    """ "kind h: model (persistence) dB" per predicted kind and horizon, full frame and object-masked."""
    metrics = policy.get("metrics", {})
    full = {(m["kind"], m["horizon"]): m for m in metrics.get("prediction", [])}
    copy = {(m["kind"], m["horizon"]): m for m in metrics.get("persistence", [])}
    masked = {(m["kind"], m["horizon"]): m for m in metrics.get("masked_psnr", [])}
    cells = []
    for key in sorted(full):
        m = masked.get(key)
        cells.append(f"{key[0]} h={key[1]}: {full[key]['psnr']:.2f} ({copy[key]['psnr']:.2f}); objects "
                     + (f"{m['psnr']:.2f} ({m['persistence_psnr']:.2f})" if m else "–"))
    return "<br>".join(cells) or "–"


def validation_cell(out):
    """The last validation loss parts of a run ("name value" per part)."""
    val = last_validation(out)
    return "<br>".join(f"{k[len('val_'):]} {float(v):.4f}" for k, v in val.items() if k.startswith("val_") and k != "val_loss") or "–"


def family_report(protocol, base_runs, title, about, claims, results_name, extra_specs=None, extra_what=None):
    """A family's runs (`base_runs` and every run that is an ablation of one), with `extra_specs` {name: spec}
    of other modes, evaluated on the headline slice into results/<results_name>.md with `claims`
    (sentence, a, b): paired verdicts where both rows exist."""
    runs = protocol["runs"]
    ev = protocol["evaluation"]
    names = [n for n in base_runs + [n for n in runs if runs[n].get("ablation_of") in base_runs]
             if finished(run_dir(n))]
    if not names:
        sys.exit(f"protocol.py: none of {', '.join(base_runs)} is trained; run `protocol.py train` first")
    specs = {n: f"{runs[n]['policy']}={run_dir(n)}" for n in names}
    specs.update((extra_specs or (lambda trained: {}))(names))
    policies = evaluate_specs(specs, ev["suite"], ev["episodes"], ev["seed"], f"out/{results_name}")
    lines = [f"# {title}", "",
             f"`scripts/protocol.py {results_name}`: each run trained under the protocol (policies/train/protocol.json), "
             f"evaluated on the {ev['suite']} suite, {ev['episodes']} episodes per task, seed {ev['seed']}; "
             "95% Wilson intervals. Predicted frames: PSNR against the frame that arrived at their horizon, beside "
             "the persistence baseline (the frame seen when predicting, copied forward), over the whole frame and "
             "over the robot and movable objects. " + about, "",
             "| run | what | data | robot / video samples (threads) | easy | medium | hard | overall (95% CI) | predicted "
             "frames PSNR dB (persistence) | validation loss parts | Act p50 ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in specs:
        run_name = n if n in names else max((r for r in names if n.startswith(r + "_")), key=len)
        p, g = policies[n][0], policies[n][0]["groups"]
        r, training = runs[run_name], training_facts(run_dir(run_name))
        lines.append(f"| {n} | {(extra_what or {}).get(n, r.get('note', ''))} | {'+'.join(r['data'] + r.get('video', []))} | "
                     f"{training['robot_samples']} / {training['video_samples']} ({training['threads']}) | {ci(g['easy'])} | {ci(g['medium'])} | "
                     f"{ci(g['hard'])} | **{ci(p['overall'])}** | {quality_cell(p)} | {validation_cell(run_dir(run_name))} | "
                     f"{p['latency']['p50_ms']:.1f} |")
    records = {n: policies[n][1] for n in specs}
    lines += ["", "Claims (paired by episode: the same seeds for every row):", ""]
    for claim, a, b in claims:
        lines.append(verdict(claim, records[a], records[b]) if a in records and b in records
                     else f"- {claim}: not trained yet.")
    with open(os.path.join(ROOT, "results", results_name + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


IMAGE_GOAL_RUNS = ["susie", "unipi"]


def image_goal(protocol):
    """Both image-goal variants, their ablations and their oracle-goal diagnosis: results/image_goal.md."""
    family_report(
        protocol, IMAGE_GOAL_RUNS, "Image-goal policies (SuSIE, UniPi)",
        "An `_oracle` row runs the same checkpoint with the expert's real future frames as goals "
        "(`image_goal_oracle=`): it separates wrong goals from a low level that cannot reach correct ones.",
        [("Correct goals would lift susie: its goal images limit it (susie_oracle vs susie)", "susie_oracle", "susie"),
         ("Correct plans would lift unipi (unipi_oracle vs unipi)", "unipi_oracle", "unipi"),
         ("Action-free video helps susie's high level (susie vs susie_no_video)", "susie", "susie_no_video"),
         ("A goal image beats a video plan (susie vs unipi)", "susie", "unipi")],
        "image_goal",
        extra_specs=lambda trained: {n + "_oracle": f"image_goal_oracle={run_dir(n)}" for n in IMAGE_GOAL_RUNS
                                     if n in trained},
        extra_what={n + "_oracle": f"{n}'s low level given the scripted expert's real future frames (oracle goals)"
                    for n in IMAGE_GOAL_RUNS})


def gr1(protocol):
    """GR-1 and its ablation without video pre-training: results/gr1.md."""
    family_report(
        protocol, ["gr1"], "GR-1 (causal transformer, video pre-training)",
        "Robot / video samples: action-supervised rows, and the action-free rows of the video pre-training.",
        [("Video pre-training helps GR-1 (gr1 vs gr1_no_pretrain)", "gr1", "gr1_no_pretrain")], "gr1")


def variant_checkpoint(source, folder, overrides):
    """A checkpoint folder with the config.json of `source` under `overrides` and a link to its
    weights (an inference setting, nothing retrained); returns `folder`."""
    os.makedirs(os.path.join(ROOT, folder), exist_ok=True)
    config = read_json(os.path.join(ROOT, source, "config.json"))
    config["config"].update(overrides)
    with open(os.path.join(ROOT, folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    link = os.path.join(ROOT, folder, "model.pt")
    if not os.path.lexists(link):
        os.symlink(os.path.join(ROOT, source, "model.pt"), link)
    return folder


def ddim_steps(protocol):
    """Every diffusion family's shipped checkpoint at each DDIM step count of protocol.json "ddim_steps", on
    the learning-curve slice (a report of what fewer steps cost, not a choice of settings): results/ddim_steps.md."""
    cfg = protocol["ddim_steps"]
    ev = protocol["evaluation"]
    lc = ev["learning_curve"]
    specs = {}
    for name, family in cfg["checkpoints"].items():
        for n in cfg["steps"]:
            folder = variant_checkpoint(os.path.join("assets", "checkpoints", name),
                                        os.path.join("out", "ddim_steps", "checkpoints", f"{name}_{n}"), {"ddim_steps": n})
            specs[f"{name}_{n}"] = f"{family}={folder}"
    policies = evaluate_specs(specs, lc["suite"], lc["episodes"], ev["seed"], "out/ddim_steps")
    top = max(cfg["steps"])
    lines = ["# Success against DDIM steps", "",
             f"`scripts/protocol.py ddim_steps`: each shipped diffusion checkpoint with `ddim_steps` overridden "
             f"(nothing retrained), on the learning-curve slice ({lc['suite']} suite, the first {lc['episodes']} "
             f"episodes per task of seed {ev['seed']}), one torch thread per worker, {os.cpu_count()} workers. "
             f"95% Wilson intervals; the difference to {top} steps is paired by episode (95% Wald).", "",
             f"| checkpoint | DDIM steps | easy | medium | hard | overall (95% CI) | vs {top} steps (95% CI) | "
             "Act p50 ms | Act p95 ms |", "|---|---|---|---|---|---|---|---|---|"]
    for name in cfg["checkpoints"]:
        for n in cfg["steps"]:
            p, records = policies[f"{name}_{n}"]
            d, lo, hi, _ = paired_difference(records, policies[f"{name}_{top}"][1])
            g = p["groups"]
            lines.append(f"| {name} | {n} | {ci(g['easy'])} | {ci(g['medium'])} | {ci(g['hard'])} | {ci(p['overall'])} | "
                         f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}] | {p['latency']['p50_ms']:.1f} | {p['latency']['p95_ms']:.1f} |")
    with open(os.path.join(ROOT, "results", "ddim_steps.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def realtime(protocol, sync_dir):
    """Every learned policy of the synchronous headline run `sync_dir` evaluated again on the same slice
    with --realtime --latency-ms, at its Act p50 in that run (rounded to 0.1 ms) and at each latency of
    protocol.json "realtime", into out/realtime/<checkpoint>_<ms>/ (kept while run.json and the
    checkpoint are unchanged): results/realtime.md, each row paired by episode with the synchronous run."""
    cfg = protocol["realtime"]
    ev = protocol["evaluation"]
    sync = read_json(os.path.join(ROOT, sync_dir, "results.json"))
    config = sync["config"]
    if (config["episodes"], config["seed"]) != (ev["episodes"], ev["seed"]) or config.get("act_timing"):
        sys.exit(f"protocol.py: {sync_dir} is not a synchronous headline run ({ev['episodes']} episodes, seed {ev['seed']})")
    sync_records = read_episodes(sync_dir)
    specs = [p for p in config["policies"] if "=" in p]
    rows = []
    for spec in specs:
        name = os.path.basename(spec.split("=", 1)[1].rstrip("/"))
        p50 = round(sync["aggregated"]["policies"][spec]["latency"]["p50_ms"], 1)
        cells = []
        for latency in [p50] + cfg["latencies_ms"]:
            dest = os.path.join("out", "realtime", f"{name}_{latency:g}")
            identity = {"policies": [spec], "tasks": config["tasks"], "episodes": ev["episodes"], "seed": ev["seed"],
                        "shard_index": 0, "shard_count": 1, "act_timing": {"realtime": True, "latency_ms": float(latency)}}
            done = os.path.join(ROOT, dest, "results.json")
            checkpoint = os.path.join(ROOT, spec.split("=", 1)[1], "model.pt")
            if (os.path.exists(done) and read_json(os.path.join(ROOT, dest, "run.json")) == identity
                    and os.path.getmtime(done) > os.path.getmtime(checkpoint)):
                print(f"{dest}: evaluated already (same run, checkpoint unchanged)")
            else:
                if os.path.exists(os.path.join(ROOT, dest)):
                    shutil.rmtree(os.path.join(ROOT, dest))
                run([padbench(), "eval", "--policy", spec, *sum([["--task", t] for t in config["tasks"]], []),
                     "--episodes", str(ev["episodes"]), "--seed", str(ev["seed"]), "--workers", str(os.cpu_count() or 1),
                     "--realtime", "--latency-ms", f"{latency:g}", "--out", dest])
            result = read_json(done)["aggregated"]["policies"][spec]
            d, lo, hi, _ = paired_difference(read_episodes(dest), [r for r in sync_records if r["policy"] == spec])
            held = 100 * result["overall"].get("held_fraction", 0)
            cells.append(f"{ci(result['overall'])}, {d:+.1f} [{lo:+.1f}, {hi:+.1f}], held {held:.1f}%")
        overall = sync["aggregated"]["policies"][spec]["overall"]
        rows.append(f"| {name} | {ci(overall)} | {p50:g} | " + " | ".join(cells) + " |")
    header = " | ".join([f"real time, Act {latency:g} ms" for latency in cfg["latencies_ms"]])
    lines = ["# Synchronous and real-time success", "",
             f"`scripts/protocol.py realtime {sync_dir}`: every learned policy of the synchronous run `{sync_dir}` "
             f"(the headline slice: the {len(config['tasks'])} tasks of the default suite, {ev['episodes']} "
             f"episodes each, seed {ev['seed']}) again with `--realtime --latency-ms L`: at L = its Act p50 in that "
             "run, and at fixed latencies. The control period is 20 ms, so an Act of L ms delivers its chunk "
             "ceil(L / 20) steps after the observation it saw. Each cell: success (95% Wilson), the difference to "
             "the synchronous run in points (paired by episode, 95% Wald), and the share of steps the arm held "
             "still waiting for a chunk.", "",
             f"| policy | synchronous | Act p50 ms | real time, Act at p50 | {header} |",
             "|---|---|---|---|" + "---|" * len(cfg["latencies_ms"])] + rows
    with open(os.path.join(ROOT, "results", "realtime.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def image_goal_select(protocol):
    """Each inference variant of protocol.json "image_goal_selection": a copy of the run's config.json with
    the overrides beside a link to its weights, evaluated on the development seed: results/image_goal_selection.md."""
    sel = protocol["image_goal_selection"]
    ev = protocol["evaluation"]
    source = run_dir(sel["run"])
    if not finished(source):
        sys.exit(f"protocol.py: {sel['run']} is not trained")
    specs = {v: f"image_goal={variant_checkpoint(source, os.path.join('out', 'image_goal_selection', 'checkpoints', v), o)}"
             for v, o in sel["variants"].items()}
    policies = evaluate_specs(specs, sel["suite"], sel["episodes"], ev["development_seed"], "out/image_goal_selection")
    lines = ["# Image-goal inference settings", "",
             f"`scripts/protocol.py image_goal_select`: the `{sel['run']}` checkpoint with each variant's overrides "
             f"(policies/train/protocol.json \"image_goal_selection\"; nothing retrained), evaluated on the "
             f"{sel['suite']} suite, {sel['episodes']} episodes per task, development seed {ev['development_seed']} "
             f"(never the evaluation seed {ev['seed']}); 95% Wilson intervals.", "",
             "| variant | overrides | easy | overall (95% CI) | vs the first row, paired (95% CI) | goal PSNR dB "
             "(persistence) | Act p50 ms | Act calls |",
             "|---|---|---|---|---|---|---|---|"]
    base = next(iter(specs))
    for v in specs:
        p = policies[v][0]
        d, lo, hi, _ = paired_difference(policies[v][1], policies[base][1])
        lines.append(f"| {v} | `{json.dumps(sel['variants'][v])}` | {ci(p['groups']['easy'])} | {ci(p['overall'])} | "
                     f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}] | {quality_cell(p)} | {p['latency']['p50_ms']:.1f} | "
                     f"{p['latency']['act_calls']} |")
    lines += ["", sel["rule"]]
    with open(os.path.join(ROOT, "results", "image_goal_selection.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def select_eval(protocol, family):
    sel = selection(protocol, family)
    ev = protocol["evaluation"]
    base = protocol["runs"][sel["base_run"]]
    variants = [v for v in sel["variants"] if finished(run_dir(sel["prefix"] + v))]
    if not variants:
        sys.exit(f"protocol.py: no trained selection variant; run `select train {family}` first")
    names = {v: sel["prefix"] + v for v in variants}
    policies = evaluate_specs({names[v]: f"{base['policy']}={run_dir(names[v])}" for v in variants}, sel["suite"],
                              sel["episodes"], ev["development_seed"], f"out/{family}_selection")
    parts = [k for k in last_validation(run_dir(names[variants[0]])) if k.startswith("val_") and k != "val_loss"]
    lines = [f"# {family} option selection", "",
             f"`scripts/protocol.py select train {family} && scripts/protocol.py select eval {family}`: each variant "
             f"is the `{sel['base_run']}` recipe (policies/train/protocol.json) with its overrides, trained on "
             f"{sel['budget_samples']} action-supervised samples, evaluated on the {sel['suite']} suite, "
             f"{sel['episodes']} episodes per task, development seed {ev['development_seed']} (never the "
             f"evaluation seed {ev['seed']}); 95% Wilson intervals, paired differences against the first row. Masked "
             "PSNR: predicted frames against the real ones over the moving objects' pixels, beside the "
             "copy-the-current-frame baseline. Validation: the last logged loss parts on held-out demonstrations "
             "(EMA weights).", "",
             "| variant | overrides | success (95% CI) | vs the first row (95% CI) | masked PSNR dB (persistence) | "
             + " | ".join(parts) + " | Act p50 ms | training wall time |",
             "|---|---|---|---|---|" + "---|" * len(parts) + "---|---|"]
    first = policies[names[variants[0]]][1]
    for v in variants:
        out = run_dir(names[v])
        p, records = policies[names[v]]
        training, val = training_facts(out), last_validation(out)
        d, lo, hi, _ = paired_difference(records, first)
        lines.append(f"| {v} | `{json.dumps(sel['variants'][v])}` | {ci(p['overall'])} | {d:+.1f} [{lo:+.1f}, {hi:+.1f}] | "
                     f"{masked_psnr_cell(p)} | " + " | ".join(f"{float(val.get(k, 'nan')):.4f}" for k in parts) +
                     f" | {p['latency']['p50_ms']:.1f} | {training['wall_s'] / 60:.1f} min ({training['threads']} threads) |")
    if "rule" in sel:
        lines += ["", sel["rule"]]
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    with open(os.path.join(ROOT, sel["results"]), "w") as f:
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
        if len(names) < 2 or names[0] not in ("train", "eval"):
            sys.exit("protocol.py: select train FAMILY [VARIANT ...] | select eval FAMILY")
        if names[0] == "train":
            select_train(protocol, names[1], names[2:])
        else:
            select_eval(protocol, names[1])
    elif mode == "ablations":
        ablations(protocol)
    elif mode == "image_goal":
        image_goal(protocol)
    elif mode == "gr1":
        gr1(protocol)
    elif mode == "image_goal_select":
        image_goal_select(protocol)
    elif mode == "ddim_steps":
        ddim_steps(protocol)
    elif mode == "realtime":
        realtime(protocol, names[0] if names else "out/eval")
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
        sys.exit(f"protocol.py: unknown command '{mode}' (data, train, ship, curves, show, select, ablations, image_goal, image_goal_select, gr1, "
                 "ddim_steps, realtime)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
