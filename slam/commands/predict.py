"""``slam predict STUDY... -o predictions.csv [--weights W]``: run the detector, write the DBTex CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "predict"
HELP = "detect lesions in DBT studies and write the DBTex predictions CSV"
NO_WEIGHTS = (
    "no --weights given and the demo weights (slam/weights/slam_demo.safetensors) are missing; "
    "pass a .safetensors file with its .json config beside it (`slam init-weights` makes UNTRAINED ones "
    "for a pipeline check)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", nargs="*", help="studies: multi-frame DICOM, series directory, .zip, .npy/.npz "
                        "(none: every study listed in --file-paths)")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, help="predictions CSV to write (DBTex format)")
    parser.add_argument("--weights", help="model weights (.safetensors with its .json config beside it); default: "
                        "the demo weights trained on phantom studies (slam/weights/slam_demo.md)")  # fmt: skip
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when present, else cpu")
    parser.add_argument("--file-paths", help="BCS-DBT file-paths.csv: PatientID, StudyUID, View of each study "
                        "(else they are read from the DICOM header)")  # fmt: skip
    parser.add_argument("--preprocess", action="store_true", help="AWA denoising, border removal, CLAHE first")
    parser.add_argument("--score-threshold", type=float, default=0.05, help="keep boxes scoring at least this")
    parser.add_argument("--max-detections", type=int, default=20, help="most findings per study")
    parser.add_argument("--coords", choices=("stored", "display"),
                        help="pixel frame of the boxes: stored (as in the file) or display (the BCS-DBT reader's, "
                        "which its boxes.csv uses); default: display with --file-paths, else stored")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _resolve(entry: str, base: Path) -> Path:
    path = Path(entry)
    return path if path.is_absolute() or path.exists() else base / path


def _ids_from_file_paths(csv_path: str) -> tuple[dict[Path, tuple[str, str, str]], list[Path]]:
    """file-paths.csv -> {resolved study path: (PatientID, StudyUID, View)} and the paths in order."""
    from slam.io.csv_formats import read_file_paths_csv

    base = Path(csv_path).resolve().parent
    ids, order = {}, []
    for row in read_file_paths_csv(csv_path):
        candidates = [_resolve(p, base) for p in (row.classic_path, row.descriptive_path) if p]
        path = next((p for p in candidates if p.exists()), candidates[0] if candidates else None)
        if path is None:
            continue
        # BCS-DBT paths name a file inside the series directory; either one identifies the study.
        for key in {path.resolve(), path.resolve().parent}:
            ids.setdefault(key, (row.patient_id, row.study_uid, row.view))
        order.append(path)
    return ids, order


def _study_ids(study, source: Path, ids: dict) -> tuple[str, str, str]:
    from slam.errors import SlamError

    resolved = source.resolve()
    for key in (resolved, resolved.parent):
        if key in ids:
            return ids[key]
    if ids:
        raise SlamError(f"{source} is not listed in the --file-paths CSV")
    pid, uid, view = study.patient.get("PatientID", ""), study.patient.get("StudyInstanceUID", ""), study.dbtex_view
    if not (pid and uid and view):
        raise SlamError(f"{source.name} lacks PatientID, StudyInstanceUID or view/laterality in its header; "
                        "pass --file-paths with a BCS-DBT file-paths.csv")  # fmt: skip
    return pid, uid, view


def run(args: argparse.Namespace) -> int:
    from slam.detection.predictor import Predictor
    from slam.detection.weights import DEFAULT_WEIGHTS
    from slam.errors import SlamError

    if not args.weights:
        if not DEFAULT_WEIGHTS.is_file():
            raise SlamError(NO_WEIGHTS)
        args.weights = str(DEFAULT_WEIGHTS)
    from slam.io.csv_formats import Prediction, write_predictions_csv

    ids, listed = _ids_from_file_paths(args.file_paths) if args.file_paths else ({}, [])
    sources = [Path(s) for s in args.study] or listed
    if not sources:
        raise SlamError("no study given: pass STUDY paths or --file-paths listing them")
    predictor = Predictor.from_weights(
        args.weights, device=args.device, preprocess=args.preprocess, score_threshold=args.score_threshold,
        max_detections=args.max_detections, coords=args.coords or ("display" if args.file_paths else "stored"),
    )  # fmt: skip
    from tqdm import tqdm

    from slam.io import load_study

    rows = []
    for source in tqdm(sources, desc="predict", unit="study", disable=args.quiet):
        study = load_study(source)
        pid, uid, view = _study_ids(study, source, ids)  # before the model runs: fail fast
        result = predictor.predict(study)
        rows += [Prediction(pid, uid, view, d.x, d.width, d.y, d.height, d.z, d.depth, d.score) for d in result.detections]
    write_predictions_csv(args.output, rows)
    print(f"{len(rows)} detections in {len(sources)} studies -> {args.output}")
    return 0
