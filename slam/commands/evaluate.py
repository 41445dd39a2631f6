"""``slam evaluate --predictions P --boxes B --labels L``: the DBTex metric as JSON (design.md §2)."""

from __future__ import annotations

import argparse
import json

from slam.detection.metrics import DBTEX_MIN_DIST_PX

NAME = "evaluate"
HELP = "score a DBTex predictions CSV against BCS-DBT boxes/labels (sensitivity at FP/volume, FROC)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--predictions", required=True, help="predictions CSV (DBTex format)")
    parser.add_argument("--boxes", required=True, help="ground-truth boxes.csv (BCS-DBT format)")
    parser.add_argument("--labels", required=True, help="labels.csv: every volume evaluated, with or without lesions")
    parser.add_argument(
        "--min-dist", type=float, default=DBTEX_MIN_DIST_PX,
        help=f"TP distance floor in pixels (default {DBTEX_MIN_DIST_PX:g} = DBTex, ~10 mm at 0.1 mm pixels; use the same 10 mm in "
        "your pixels on downscaled studies, e.g. ~17 at 0.6 mm)",
    )  # fmt: skip
    parser.add_argument("--froc", help="also write the FROC curves as a PNG file")


def run(args: argparse.Namespace) -> int:
    from slam.detection.metrics import evaluate, save_froc_png
    from slam.io.csv_formats import read_boxes_csv, read_labels_csv, read_predictions_csv

    result = evaluate(
        read_predictions_csv(args.predictions), read_boxes_csv(args.boxes), read_labels_csv(args.labels),
        min_dist=args.min_dist,
    )  # fmt: skip
    if args.froc:
        save_froc_png(result, args.froc)
    print(json.dumps(result.to_dict(), indent=2))
    return 0
