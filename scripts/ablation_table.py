#!/usr/bin/env python3
"""The README's PAD ablation table from `padbench eval` outputs (standard library only).

Usage: scripts/ablation_table.py OUT_DIR [VARIANT...] > results/pad_ablations.md
Reads OUT_DIR/<variant>/results.json (as written by scripts/pad_ablations.sh eval) and the
training facts from data/runs/<variant>/config.json when present.
"""
import json
import os
import sys

PAPER = {  # Meta-World MT50 success rates reported by the PAD paper (Guo et al. 2024)
    "pad": "72.5%",
    "pad_no_image": "43.6%",
    "pad_no_cotrain": "59.2%",
}
WHAT = {
    "pad": "PAD (adaLN-Zero, co-trained on video)",
    "pad_no_image": "without image prediction (K = 0)",
    "pad_no_cotrain": "without co-training",
    "pad_adaln": "adaLN conditioning",
    "pad_cross_attention": "cross-attention conditioning",
    "pad_in_context": "in-context conditioning",
}


def pct(entry):
    lo, hi = entry["ci95"]
    return f"{100 * entry['success_rate']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    variants = sys.argv[2:] or list(WHAT)
    rows = []
    for v in variants:
        path = os.path.join(out, v, "results.json")
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run scripts/pad_ablations.sh eval {v}")
        with open(path) as f:
            policy = next(iter(json.load(f)["aggregated"]["policies"].values()))
        groups = policy["groups"]
        psnr = " / ".join(f"{h['psnr']:.1f}" for h in policy["prediction"]["horizons"]) or "–"
        rows.append(
            f"| {WHAT.get(v, v)} | {pct(groups['easy'])} | {pct(groups['medium'])} | {pct(groups['hard'])} "
            f"| **{pct(policy['overall'])}** | {psnr} | {PAPER.get(v, '–')} |"
        )
    # (No latency column: the ablations are evaluated while others train; see `padbench perf`.)
    print("| variant | easy | medium | hard | overall (95% CI) | predicted-frame PSNR, dB (h = 4 / 8 / 12) "
          "| paper, MT50 |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
