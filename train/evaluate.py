"""Held-out evaluation through the real inference pipeline: DICOM -> ``Predictor`` -> DBTex metric.

    python -m train.evaluate --weights W.safetensors --data DATA_DIR [--out DIR] [--min-dist-mm 10]

DATA_DIR is a BCS-DBT layout folder (file-paths.csv, labels.csv, boxes.csv, the studies). The
DBTex distance floor is ``--min-dist-mm`` in the studies' own pixels (10 mm = 15.6 px on
0.64 mm phantom studies). Representative-slice accuracy: over studies with lesions, the
model's representative slice counts when its position among the N sampled slices is within
+-2 of the sampled slice nearest the largest lesion's central slice (the training target).
``representative_within_3``: the same for either kind on original slices (the representative slice
within 3 slices of the largest mass's central slice). Per-finding slice error: for each mass found,
the best-scoring true positive's |Z + Depth/2 - central slice| (``slice_error_median``,
``slice_within_3``: share of the found masses within 3 slices).

Operating point (``--operating-fps F``): the lowest score threshold at which the false positives per
volume over ALL volumes stay <= F (between false positives' scores, :func:`operating_threshold`); with ``--write-operating-point`` it is written into the weights'
JSON (``score_threshold``, ``operating_point``) — run it on a validation set, never the test set.
Writes predictions.csv, metrics.json and froc.png to ``--out`` and prints the metrics.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np


def slice_errors(predictions, boxes, min_dist: float) -> list[float]:
    """For each GT mass hit by a prediction, |Z + Depth/2 - its central slice| of the best-scoring hit."""
    from slam.detection.metrics import match_predictions

    matched = match_predictions(predictions, boxes, min_dist)
    best: dict[int, object] = {}
    for pred, m in zip(predictions, matched, strict=True):
        if m >= 0 and (m not in best or pred.score > best[m].score):
            best[int(m)] = pred
    return [abs(p.z + p.depth / 2.0 - boxes[m].slice) for m, p in best.items()]


def operating_threshold(predictions, boxes, min_dist: float, n_volumes: int, fps: float) -> float:
    """The lowest score threshold at which the false positives over ALL ``n_volumes`` volumes stay
    <= ``fps`` per volume: just above the score of the (floor(fps x n_volumes) + 1)-th best false
    positive (a FROC's own points sit only at true positives' scores, which can leave no point under
    the limit); the lowest score when every false positive fits."""
    from slam.detection.metrics import match_predictions

    scores = np.array([p.score for p in predictions], np.float64)
    if not len(scores):
        return 0.0
    false = np.sort(scores[match_predictions(predictions, boxes, min_dist) < 0])[::-1]
    allowed = int(np.floor(fps * n_volumes + 1e-9))
    if allowed >= len(false):
        return float(max(0.0, scores.min()))
    return float(min(1.0, np.nextafter(false[allowed], np.inf)))


def write_operating_point(weights: str | Path, threshold: float, note: str) -> None:
    """Set ``score_threshold`` and ``operating_point`` in the JSON config beside ``weights``."""
    from slam.detection.config import config_path

    path = config_path(weights)
    data = json.loads(path.read_text())
    # rounded up (6 decimals): never below the chosen point; saturating detectors need the decimals
    data.update(score_threshold=min(1.0, math.ceil(threshold * 1e6) / 1e6), operating_point=note)
    path.write_text(json.dumps(data, indent=2) + "\n")


def evaluate_folder(weights: str | Path, data_dir: str | Path, out: str | Path | None = None,
                    min_dist_mm: float = 10.0, device: str | None = None, score_threshold: float = 0.05,
                    progress: bool = True, operating_fps: float = 2.0, limit: int = 0) -> dict:
    """Run the model on every study of ``data_dir`` (the first ``limit`` when > 0) and score it (see the
    module docstring)."""
    from tqdm import tqdm

    from slam.detection.findings import dbtex_rows
    from slam.detection.metrics import evaluate, save_froc_png
    from slam.detection.predictor import Predictor
    from slam.detection.sampling import representative_target
    from slam.errors import SlamError
    from slam.io import load_study
    from slam.io.csv_formats import (
        read_boxes_csv,
        read_file_paths_csv,
        read_labels_csv,
        resolve_study_path,
        write_predictions_csv,
    )
    from train.validate import TOLERANCE

    data_dir = Path(data_dir)
    predictor = Predictor.from_weights(weights, device=device, score_threshold=score_threshold)
    rep_hits = []
    boxes = read_boxes_csv(data_dir / "boxes.csv")
    rows, predictions, spacings, hits = read_file_paths_csv(data_dir / "file-paths.csv"), [], [], []
    if limit:
        rows = rows[:limit]
    chosen = {(r.study_uid, r.view) for r in rows}
    boxes = [b for b in boxes if (b.study_uid, b.view) in chosen]
    start = time.perf_counter()
    for row in tqdm(rows, desc="evaluate", unit="study", disable=not progress):
        study = load_study(resolve_study_path(row, data_dir))
        result = predictor.predict(study)
        predictions += dbtex_rows(row.patient_id, row.study_uid, row.view, result.detections)
        spacings.append(float(np.mean(study.pixel_spacing)) if study.pixel_spacing else np.nan)
        lesions = [b for b in boxes if (b.study_uid, b.view) == (row.study_uid, row.view)]
        if lesions:
            rep_hits.append(abs(result.representative_slice - max(lesions, key=lambda b: b.width * b.height).slice) <= 3)
        if lesions and result.slice_logits is not None:
            largest = max(lesions, key=lambda b: b.width * b.height)
            target = representative_target(result.sampled_indices, largest.slice)
            hits.append(abs(int(np.argmax(result.slice_logits)) - target) <= TOLERANCE)
    seconds = time.perf_counter() - start
    if not np.isfinite(spacings).any():
        raise SlamError("the studies carry no pixel spacing: the distance floor in mm cannot be converted")
    min_dist = min_dist_mm / float(np.nanmedian(spacings))
    labels = [lab for lab in read_labels_csv(data_dir / "labels.csv") if (lab.study_uid, lab.view) in chosen]
    result = evaluate(predictions, boxes, labels, min_dist=min_dist)
    errors = slice_errors(predictions, boxes, min_dist)
    metrics = {
        **result.to_dict(),
        "representative_within_3": float(np.mean(rep_hits)) if rep_hits else float("nan"),
        "masses_found": len(errors),
        "slice_error_median": float(np.median(errors)) if errors else float("nan"),
        "slice_within_3": float(np.mean(np.array(errors) <= 3)) if errors else float("nan"),
        "operating_fps": operating_fps,
        "operating_threshold": operating_threshold(predictions, boxes, min_dist, len(rows), operating_fps),
        "n_volumes": len(rows),
        "min_dist_mm": min_dist_mm,
        "representative_slice_accuracy": float(np.mean(hits)) if hits else float("nan"),
        "n_attention_studies": len(hits),
        "seconds_per_study": seconds / max(len(rows), 1),
        "weights": str(weights),
        "data": str(data_dir),
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_predictions_csv(out / "predictions.csv", predictions)
        save_froc_png(result, out / "froc.png")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True, help="model .safetensors (with its .json beside it)")
    parser.add_argument("--data", required=True, help="BCS-DBT layout folder (held-out studies)")
    parser.add_argument("--out", help="folder for predictions.csv, metrics.json, froc.png")
    parser.add_argument("--min-dist-mm", type=float, default=10.0, help="DBTex distance floor in mm (default 10)")
    parser.add_argument("--score-threshold", type=float, default=0.05,
                        help="keep boxes scoring at least this (default 0.05, as slam predict; 0 = the whole FROC)")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when present, else cpu")
    parser.add_argument("--limit", type=int, default=0, help="evaluate the first N studies only (0: all)")
    parser.add_argument("--operating-fps", type=float, default=2.0,
                        help="FP/volume of the operating point (default 2, DBTex's primary point)")
    parser.add_argument("--write-operating-point", action="store_true",
                        help="write the operating point into the weights' JSON (a validation set only)")
    args = parser.parse_args(argv)
    metrics = evaluate_folder(args.weights, args.data, args.out, args.min_dist_mm, args.device, args.score_threshold,
                              operating_fps=args.operating_fps, limit=args.limit)
    if args.write_operating_point:
        write_operating_point(args.weights, metrics["operating_threshold"],
                              f"{args.operating_fps:g} FP/volume on {Path(args.data).name} "
                              f"({metrics['n_volumes']} phantom studies, validation)")
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.evaluate"))
