"""Write a shipped model's card (Markdown beside its weights) from the run's own files, so every figure
in it is one the run measured.

    python -m train.card slam/weights/slam_default.safetensors --curve runs/baseline/metrics.csv \\
        [--curve runs/baseline2/metrics.csv] --eval in-style=runs/eval/slam-test --eval held-out-style=runs/eval/slam-heldout \\
        [--attention runs/slam/attention.json] [--notes "text"]

Reads the weights' JSON (model, operating point), the baseline's ``metrics.csv`` of each training phase
(learning curve: the validation proxy against CPU-minutes), each ``--eval NAME=DIR`` folder's ``metrics.json``
(``train.evaluate``), and for SLAM the attention run's ``attention.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from slam.detection.config import ModelConfig, config_path

RECIPE = """\
```bash
bash train/demo.sh            # everything below, from scratch
python -m slam phantom data/val --n 40 --seed 21 --style train        # operating point
python -m slam phantom data/test --n 30 --seed 23 --style train       # held-out, in style
python -m slam phantom data/heldout --n 30 --seed 29 --style heldout  # held-out style family
python -m train.slices cache/slices --n 1200 --seed 11 --shard 50 --workers 2
python -m train.slices cache/val-slices --n 40 --seed 31 --shard 20
python -m train.baseline --config train/configs/baseline.yaml
python -m train.slam_init --baseline runs/baseline/last.safetensors --out runs/slam --head-steps 400 --max-studies 600
python -m train.export runs/baseline/last.safetensors slam/weights/baseline.safetensors
python -m train.export runs/slam/best.safetensors slam/weights/slam_default.safetensors
python -m train.evaluate --weights W --data data/val --score-threshold 0 --write-operating-point
python -m train.evaluate --weights W --data data/test --score-threshold 0 --out runs/eval/NAME-test
```"""


def _fmt(v) -> str:
    return "n/a" if v is None or v != v else f"{v:.3f}" if isinstance(v, float) else str(v)


def curve_rows(curves: list[Path]) -> list[dict]:
    """The rows of each phase's metrics.csv in turn, tagged with the phase (1, 2, ...), their CPU- and
    wall-minutes counted on from the previous phase's last row."""
    out: list[dict] = []
    for phase, path in enumerate((c for c in curves if c.is_file()), start=1):
        cpu0, wall0 = (out[-1]["cpu_min"], out[-1]["wall_min"]) if out else (0.0, 0.0)
        for row in csv.DictReader(path.open()):
            out.append({**row, "phase": phase, "cpu_min": cpu0 + float(row["cpu_min"]),
                        "wall_min": wall0 + float(row["wall_min"])})
    return out


def card(weights: Path, curves: list[Path], evals: dict[str, Path], attention: Path | None, notes: str) -> str:
    """The model card's Markdown text."""
    config = ModelConfig.from_dict(json.loads(config_path(weights).read_text()))
    kind = "SLAM (slice attention, one detection head per volume)" if config.kind == "slam" else \
        "per-slice baseline (2D Faster R-CNN on every slice, boxes merged across slices)"
    lines = [f"# `{weights.name}` — model card", "", f"**{kind}**, trained on synthetic DBT-like phantom studies "
             "only. **Not for clinical use**: a detector's output is not a reading.", "",
             "## Model", "",
             f"- backbone {config.backbone} (from scratch), FPN {config.fpn_channels}, input {config.input_size[0]} x "
             f"{config.input_size[1]} (~0.68 mm pixels on small studies), grey levels `{config.grey_levels}` "
             "(the breast's own p1/p99.5: the file's window plays no part)",
             f"- slices: {'every slice' if config.kind == 'baseline' else f'{config.num_slices} sampled ({config.sampling})'}",
             f"- file {weights.stat().st_size / 2**20:.1f} MiB (float16 safetensors, loads as float32)",
             f"- operating point: score_threshold **{config.score_threshold}** — {config.operating_point}", ""]
    if evals:
        lines += ["## Held-out figures (train.evaluate: DICOM -> Predictor -> DBTex metric, 10 mm floor)", "",
                  "| set | studies (with masses) | mean sens. 1-4 FP/vol | sens. @2 FP all | rep. slice within 3 "
                  "| masses found | finding's slice within 3 | s/study |", "|---|---|---|---|---|---|---|---|"]
        for name, folder in evals.items():
            m = json.loads((folder / "metrics.json").read_text())
            lines.append(f"| {name} | {m.get('n_volumes', 'n/a')} ({m.get('n_positive_volumes', 'n/a')}) | "
                         f"{_fmt(m['mean_sensitivity_positive'])} | {_fmt(m['sensitivity_at_2_fps_all'])} | "
                         f"{_fmt(m.get('representative_within_3'))} | {m.get('masses_found')} | "
                         f"{_fmt(m.get('slice_within_3'))} | {_fmt(m.get('seconds_per_study'))} |")
        lines.append("")
    if attention is not None:
        a = json.loads(attention.read_text())
        lines += ["## Slice attention", "", f"Trained on the pooled C5 of {a['studies']} studies' sampled slices "
                  f"(frozen extractor): {a['cpu_min']:.1f} CPU-min, validation accuracy (within +-2 sampled slices) "
                  f"{a['best_val_attention_acc']:.3f} on {a['val_studies']} studies."
                  + (f" Then the FPN, RPN and RoI heads were fine-tuned on the fused maps for {a['head_steps']} steps "
                     f"(final loss {a['head_curve'][-1]['loss']:.3f})." if a.get("head_steps") else ""), ""]
    rows = curve_rows(curves)
    if rows:
        lines += ["## Learning curve (baseline training; SLAM shares its extractor and heads)", "",
                  "Validation proxy: the DBTex mean sensitivity with each central (and each lesion-free) slice of "
                  "the validation slice cache scored as a one-slice volume; CPU- and wall-minutes of the training "
                  "processes, counted on from one phase to the next.", "",
                  "| phase | epoch | CPU-min | wall-min | train slices | loss | val proxy |", "|---|---|---|---|---|---|---|"]
        step = max(1, len(rows) // 20)
        for r in rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else []):
            lines.append(f"| {r['phase']} | {r['epoch']} | {r['cpu_min']:.1f} | {r['wall_min']:.1f} | {r['train_slices']} | "
                         f"{float(r['loss']):.3f} | {_fmt(float(r['val_mean_sens_2d'] or 'nan'))} |")
        lines.append("")
    lines += ["## Recipe", "", RECIPE, "", "## Caveats", "",
              "- Phantoms only (slam.phantom DBT-like families; `cluttered` held out of training): no real patient "
              "data was seen. Figures on real DBT will differ, likely for the worse.",
              "- Small evaluation sets (tens of studies): the figures carry wide uncertainty.",
              "- The operating point was chosen on a validation set of other seeds, not on the test sets.", ""]
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.card", description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", help="shipped weights (.safetensors with its .json); the card goes beside them")
    parser.add_argument("--curve", action="append", default=[],
                        help="the baseline run's metrics.csv; repeated for its phases, in order")
    parser.add_argument("--eval", action="append", default=[], metavar="NAME=DIR", help="a train.evaluate --out folder")
    parser.add_argument("--attention", help="train.slam_init's attention.json")
    parser.add_argument("--notes", default="", help="extra Markdown")
    args = parser.parse_args(argv)
    weights = Path(args.weights)
    evals = dict(item.split("=", 1) for item in args.eval)
    text = card(weights, [Path(c) for c in args.curve], {k: Path(v) for k, v in evals.items()},
                Path(args.attention) if args.attention else None, args.notes)
    weights.with_suffix(".md").write_text(text)
    print(f"wrote {weights.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.card"))
