"""SLAM against the per-slice baseline on ONE held-out phantom set, through slam's Predictor.

    PYTHONPATH=. python bench/bench_compare.py [--data DIR | --n 30 --seed 90210 --style classic]
        [--slam W.safetensors] [--baseline W.safetensors] [--out bench_compare_out] [--threads 2]
        [--min-dist-mm 10]

The set: ``--data`` (a BCS-DBT layout folder: file-paths.csv, labels.csv, boxes.csv), else ``--n``
studies generated as ``slam phantom --size small --seed S --style STYLE`` does (a seed no training
run uses; ``--style`` a family, ``train`` for the in-style families or ``heldout`` for the held-out
one). The models: ``--slam`` (default: the shipped default weights, ``resolve_weights()``) and
``--baseline`` (default: ``resolve_weights("baseline")``; when no baseline weights exist yet, an
UNTRAINED baseline of the SLAM model's architecture, so the run still measures its cost; its
detection figures then mean nothing and the table says so).

Each model runs in its own process (its peak RSS is its own) with ``torch.set_num_threads(threads)``,
study after study as ``slam predict --file-paths`` does (``Predictor``, its default post-processing,
boxes in display pixels as BCS-DBT's boxes.csv). Figures:

- DBTex mean sensitivity at 1-4 FP/volume over the volumes with masses, and sensitivity at 2
  FP/volume over all, with the TP distance floor ``--min-dist-mm`` (10) in the studies' pixels
  (``slam.detection.metrics``); FROC curves of both models in one PNG.
- Per-finding slice error, over the masses found (any kept box a DBTex TP; its best-scoring hit):
  |Z + Depth/2 - the mass's central slice| (DBTex's centre, the issue's definition) and |slice -
  central slice| (the finding's own slice, where Jump-to goes); median and % within 3 slices.
- Representative-slice accuracy over the studies with masses, against the largest mass's central
  slice: within 3 original slices, and (the spec's) within +-2 sampled positions of the sampled
  slice nearest it.
- Cost per volume: GFLOPs (``torch.utils.flop_counter.FlopCounterMode`` over one whole
  ``Predictor.predict`` of the first study: every torch op, 2 per multiply-add), CPU seconds and wall
  seconds of ``Predictor.predict`` (input + model + post-processing; mean over the studies, after
  one warm-up), and the process's peak RSS and its growth during the predictions.

Prints one table and writes ``OUT/compare.json``, ``OUT/froc_compare.png`` and each model's
``OUT/predictions_<model>.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLICE_TOLERANCE = 3  # original slices: the "within 3 slices"


def untrained_baseline_like(slam_weights: Path, out: Path) -> Path:
    """UNTRAINED (random init, weights=None) baseline weights with the SLAM model's architecture."""
    import dataclasses

    import torch

    from slam.detection.model import build_model, load_model, save_model

    torch.manual_seed(0)
    config = dataclasses.replace(load_model(slam_weights).config, kind="baseline",
                                 extra={"note": "UNTRAINED stand-in (bench_compare)"})  # fmt: skip
    return save_model(build_model(config), out)


def run_model(weights: str, data: str, threads: int) -> dict:
    """In this process: every study of ``data`` through ``Predictor`` -> rows, per-study figures, cost."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from slam.detection.predictor import Predictor
    from slam.io import load_study
    from slam.io.csv_formats import read_file_paths_csv, resolve_study_path

    torch.set_num_threads(threads)
    data_dir = Path(data)
    predictor = Predictor.from_weights(weights, device="cpu", coords="display")
    rows = read_file_paths_csv(data_dir / "file-paths.csv")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    studies, flops = [], None
    for i, row in enumerate(rows):
        study = load_study(resolve_study_path(row, data_dir))
        if i == 0:
            predictor.predict(study)  # warm-up: allocator, oneDNN kernels
            with FlopCounterMode(display=False) as counter:
                predictor.predict(study)
            flops = {"gflops": counter.get_total_flops() / 1e9, "depth": study.depth}
        t, c = time.perf_counter(), time.process_time()
        result = predictor.predict(study)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        studies.append({
            "ids": [row.patient_id, row.study_uid, row.view], "depth": study.depth,
            "spacing_mm": float(np.mean(study.pixel_spacing)) if study.pixel_spacing else None,
            "wall_s": wall, "cpu_s": cpu, "representative_slice": result.representative_slice,
            "sampled_indices": result.sampled_indices.tolist(),
            "detections": [[d.x, d.y, d.width, d.height, d.z, d.depth, d.score, d.slice] for d in result.detections],
        })  # fmt: skip
    return {
        "weights": str(weights), "kind": predictor.config.kind, "backbone": predictor.config.backbone,
        "threshold": predictor.threshold, "operating_point": predictor.config.operating_point,
        "untrained": "UNTRAINED" in json.dumps(predictor.config.extra), "studies": studies, **flops,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_before_mb": rss_before,
    }  # fmt: skip


def score(run: dict, data_dir: Path, min_dist_mm: float) -> tuple[dict, object]:
    """The figures of one model's run (see the module docstring) and its DBTex Evaluation."""
    import numpy as np

    from slam.detection.metrics import best_hits, evaluate
    from slam.detection.sampling import representative_target
    from slam.io.csv_formats import Prediction, read_boxes_csv, read_labels_csv

    boxes, labels = read_boxes_csv(data_dir / "boxes.csv"), read_labels_csv(data_dir / "labels.csv")
    preds, own_slice = [], []
    for st in run["studies"]:
        for x, y, w, h, z, d, s, sl in st["detections"]:
            preds.append(Prediction(*st["ids"], x=x, width=w, y=y, height=h, z=z, depth=d, score=s))
            own_slice.append(sl)
    spacing = np.nanmedian([st["spacing_mm"] or np.nan for st in run["studies"]])
    min_dist = min_dist_mm / float(spacing) if np.isfinite(spacing) else 100.0
    result = evaluate(preds, boxes, labels, min_dist=min_dist)
    hits = best_hits(preds, boxes, min_dist)
    centre_err = np.array([abs(preds[p].z + preds[p].depth / 2 - boxes[b].slice) for b, p in hits.items()])
    slice_err = np.array([abs(own_slice[p] - boxes[b].slice) for b, p in hits.items()])
    rep_orig, rep_sampled = [], []
    for st in run["studies"]:
        masses = [b for b in boxes if (b.study_uid, b.view) == tuple(st["ids"][1:])]
        if masses:
            largest = max(masses, key=lambda b: b.width * b.height)
            rep_orig.append(abs(st["representative_slice"] - largest.slice) <= SLICE_TOLERANCE)
            sampled = np.asarray(st["sampled_indices"])
            position = int(np.argmin(np.abs(sampled - st["representative_slice"])))
            rep_sampled.append(abs(position - representative_target(sampled, largest.slice)) <= 2)
    n = len(run["studies"])

    def share(a) -> float:
        return float(np.mean(a)) if len(a) else float("nan")

    figures = {
        "mean_sensitivity_1_4_fps": result.mean_sensitivity_positive,
        "sensitivity_at_2_fps_all": result.sensitivity_at_2_fps_all,
        **{f"sensitivity_at_{int(k)}_fps": v for k, v in result.sensitivity_at_fps_positive.items()},
        "masses": len(boxes), "masses_found": len(hits),
        "centre_slice_error_median": float(np.median(centre_err)) if len(hits) else float("nan"),
        "centre_within_3": share(centre_err <= SLICE_TOLERANCE),
        "own_slice_error_median": float(np.median(slice_err)) if len(hits) else float("nan"),
        "own_slice_within_3": share(slice_err <= SLICE_TOLERANCE),
        "representative_within_3_slices": share(rep_orig), "representative_within_2_sampled": share(rep_sampled),
        "gflops_per_volume": run["gflops"], "flops_volume_depth": run["depth"],
        "cpu_s_per_volume": sum(s["cpu_s"] for s in run["studies"]) / n,
        "wall_s_per_volume": sum(s["wall_s"] for s in run["studies"]) / n,
        "peak_rss_mb": run["peak_rss_mb"], "inference_rss_growth_mb": run["peak_rss_mb"] - run["rss_before_mb"],
        "findings_per_volume": len(preds) / n, "min_dist_px": min_dist, "threshold": run["threshold"],
        "operating_point": run["operating_point"], "untrained": run["untrained"], "weights": run["weights"],
        "backbone": run["backbone"],
    }  # fmt: skip
    return figures, result


ROWS = [
    ("DBTex mean sensitivity 1-4 FP/vol", "mean_sensitivity_1_4_fps", "{:.3f}"),
    ("sensitivity at 2 FP/vol, all volumes", "sensitivity_at_2_fps_all", "{:.3f}"),
    ("masses found (any kept box)", None, None),
    ("slice error Z+Depth/2, median", "centre_slice_error_median", "{:.1f}"),
    ("  within 3 slices", "centre_within_3", "{:.0%}"),
    ("slice error own slice, median", "own_slice_error_median", "{:.1f}"),
    ("  within 3 slices", "own_slice_within_3", "{:.0%}"),
    ("representative slice within 3 slices", "representative_within_3_slices", "{:.0%}"),
    ("  within +-2 sampled (spec)", "representative_within_2_sampled", "{:.0%}"),
    ("kept boxes per volume", "findings_per_volume", "{:.1f}"),
    ("GFLOPs per volume", "gflops_per_volume", "{:.1f}"),
    ("CPU s per volume", "cpu_s_per_volume", "{:.2f}"),
    ("wall s per volume", "wall_s_per_volume", "{:.2f}"),
    ("peak RSS MB (growth)", None, None),
]


def table(figures: dict[str, dict]) -> str:
    """The two models side by side (Markdown)."""
    names = list(figures)
    lines = [f"| {'':<38} | " + " | ".join(f"{n:>14}" for n in names) + " |",
             "|" + "-" * 40 + "|" + "|".join("-" * 16 for _ in names) + "|"]  # fmt: skip
    for label, key, fmt in ROWS:
        if label.startswith("masses"):
            cells = [f"{f['masses_found']} / {f['masses']}" for f in figures.values()]
        elif label.startswith("peak RSS"):
            cells = [f"{f['peak_rss_mb']:.0f} (+{f['inference_rss_growth_mb']:.0f})" for f in figures.values()]
        else:  # nan: nothing to measure (e.g. no mass found)
            cells = [fmt.format(f[key]) if f[key] == f[key] else "n/a" for f in figures.values()]
        lines.append(f"| {label:<38} | " + " | ".join(f"{c:>14}" for c in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="a BCS-DBT layout folder (else --n studies are generated)")
    parser.add_argument("--n", type=int, default=30, help="studies to generate (default 30)")
    parser.add_argument("--seed", type=int, default=90210, help="dataset seed (default 90210: no training run's)")
    parser.add_argument("--style", default="classic", help="slam phantom --style (default classic; train, heldout ...)")
    parser.add_argument("--slam", help="SLAM weights (default: the shipped default)")
    parser.add_argument("--baseline", help="baseline weights (default: the shipped baseline, else an UNTRAINED one)")
    parser.add_argument("--out", default="bench_compare_out", help="folder for compare.json, the PNG and the CSVs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-dist-mm", type=float, default=10.0)
    parser.add_argument("--one", nargs=2, metavar=("WEIGHTS", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_model(*args.one, args.threads)))
        return 0

    from slam.detection.findings import dbtex_rows
    from slam.detection.metrics import save_froc_curves_png
    from slam.detection.weights import resolve_weights
    from slam.errors import SlamError
    from slam.io.csv_formats import write_predictions_csv
    from slam.phantom.dataset import write_dataset

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            data = Path(args.data)
            what = f"{data}"
        else:
            data = write_dataset(Path(tmp) / "set", args.n, args.seed, "small", styles=args.style)
            what = f"{args.n} generated small studies, seed {args.seed}, style {args.style}"
        print(f"set: {what} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
        slam_w = resolve_weights(args.slam)
        try:
            base_w = resolve_weights(args.baseline or "baseline")
        except SlamError:
            if args.baseline:
                raise
            base_w = untrained_baseline_like(slam_w, Path(tmp) / "untrained_baseline.safetensors")
            print("no shipped baseline weights: using an UNTRAINED baseline (cost only)", file=sys.stderr)
        runs = {}
        for name, weights in (("SLAM", slam_w), ("baseline", base_w)):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--one", str(weights), str(data), "--threads",
                                   str(args.threads)], check=True, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})  # fmt: skip
            runs[name] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{name}: {len(runs[name]['studies'])} studies in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        scored = {name: score(run, data, args.min_dist_mm) for name, run in runs.items()}
        for name, run in runs.items():
            rows = [r for st in run["studies"] for r in dbtex_rows(*st["ids"], _detections(st))]
            write_predictions_csv(out / f"predictions_{name.lower()}.csv", rows)
    figures = {name: f for name, (f, _) in scored.items()}
    labels = {name: f"{name} ({figures[name]['backbone']}{', UNTRAINED' if figures[name]['untrained'] else ''}): "
              f"{figures[name]['mean_sensitivity_1_4_fps']:.3f}" for name in figures}  # fmt: skip
    png = save_froc_curves_png({labels[n]: ev.curve_positive for n, (_, ev) in scored.items()},
                               out / "froc_compare.png", f"FROC, volumes with masses\n{what}")  # fmt: skip
    s, b = figures["SLAM"], figures["baseline"]
    summary = {
        "set": what, "threads": args.threads, "load_average": os.getloadavg(), "min_dist_mm": args.min_dist_mm,
        "models": figures, "slam_minus_baseline_sensitivity": s["mean_sensitivity_1_4_fps"] - b["mean_sensitivity_1_4_fps"],
        "slam_flops_share_of_baseline": s["gflops_per_volume"] / b["gflops_per_volume"],
        "seconds": time.perf_counter() - start,
    }  # fmt: skip
    (out / "compare.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nSLAM vs the per-slice baseline on {what}; {args.threads} torch threads; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; TP floor {args.min_dist_mm:g} mm "
          f"({s['min_dist_px']:.1f} px)\n")  # fmt: skip
    print(table(figures))
    for name, f in figures.items():
        note = " -- UNTRAINED: its detection figures mean nothing" if f["untrained"] else ""
        print(f"{name}: {f['weights']} (threshold {f['threshold']:g}: {f['operating_point']}){note}")
    print(f"\nSLAM - baseline mean sensitivity: {summary['slam_minus_baseline_sensitivity']:+.3f}; SLAM FLOPs = "
          f"{summary['slam_flops_share_of_baseline']:.2f} x the baseline's (FLOPs on a {s['flops_volume_depth']}-slice volume)")  # fmt: skip
    print(f"-> {out / 'compare.json'}, {png}, predictions_*.csv ({summary['seconds']:.0f} s in all)")
    return 0


def _detections(st: dict) -> list:
    from slam.detection.findings import Detection

    return [Detection(*d) for d in st["detections"]]


if __name__ == "__main__":
    sys.exit(main())
