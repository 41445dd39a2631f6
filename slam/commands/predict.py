"""``slam predict STUDY... -o predictions.csv [--weights W]``: run the detector, write the DBTex CSV.

Over many studies (``--file-paths``) it loads with ``--workers`` processes, resumes an interrupted
run and, under ``torchrun``, shards the list over the ranks: see ``slam.detection.batch``.
Exit code: 0 all studies predicted; 1 some failed to load (listed; the CSV holds the others);
2 bad arguments (nothing run).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NAME = "predict"
HELP = "detect lesions in DBT studies and write the DBTex predictions CSV"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", nargs="*", help="studies: multi-frame DICOM, series directory, .zip, .npy/.npz "
                        "(none: every study listed in --file-paths)")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, help="predictions CSV to write (DBTex format)")
    parser.add_argument("--weights", help="model weights (.safetensors with its .json config beside it); default: "
                        "$SLAM_WEIGHTS, else the demo weights trained on phantom studies (slam/weights/slam_demo.md)")  # fmt: skip
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when present, else cpu")
    parser.add_argument("--file-paths", help="BCS-DBT file-paths.csv: PatientID, StudyUID, View of each study "
                        "(else they are read from the DICOM header)")  # fmt: skip
    parser.add_argument(
        "--preprocess", action="store_true",
        help="AWA denoising, border removal, CLAHE first (default: as the model was trained, its config)"
    )
    parser.add_argument(
        "--score-threshold", type=float, default=0.05, help="keep boxes scoring at least this"
    )
    parser.add_argument("--max-detections", type=int, default=20, help="most findings per study")
    parser.add_argument("--coords", choices=("stored", "display"),
                        help="pixel frame of the boxes: stored (as in the file) or display (the BCS-DBT reader's, "
                        "which its boxes.csv uses); default: display with --file-paths, else stored")  # fmt: skip
    parser.add_argument("--workers", type=int, default=min(2, _cores()),
                        help="loader processes decoding studies while the model runs (0: load in this process); "
                        "default: min(2, cores)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def jobs_from_args(studies: list[str], file_paths: str | None) -> list:
    """The batch in order: STUDY paths (ids from --file-paths when given, else from each header),
    or every row of --file-paths. A row or path that names no usable study becomes a failed job."""
    from slam.detection.batch import Job
    from slam.errors import SlamError
    from slam.io.csv_formats import read_file_paths_csv, resolve_study_path

    listed = []
    if file_paths:
        base = Path(file_paths).resolve().parent
        for row in read_file_paths_csv(file_paths):
            ids = (row.patient_id, row.study_uid, row.view)
            try:
                listed.append(Job(len(listed), resolve_study_path(row, base), ids))
            except SlamError as exc:
                listed.append(
                    Job(len(listed), base / (row.descriptive_path or row.classic_path), ids, str(exc))
                )
    if not studies:
        return listed
    # BCS-DBT paths name a file inside the series directory; either one identifies the study.
    table = {
        key: job.ids
        for job in listed
        if not job.error
        for key in (job.source.resolve(), job.source.resolve().parent)
    }
    jobs = []
    for index, study in enumerate(map(Path, studies)):
        ids = next((table[k] for k in (study.resolve(), study.resolve().parent) if k in table), None)
        missing = f"{study} is not listed in the --file-paths CSV" if file_paths and ids is None else ""
        jobs.append(Job(index, study, ids, missing))
    return jobs


def run(args: argparse.Namespace) -> int:
    from slam.detection.batch import distributed_env, init_distributed, predict_batch, run_fingerprint
    from slam.detection.predictor import Predictor
    from slam.detection.weights import resolve_weights
    from slam.errors import SlamError

    try:
        weights = resolve_weights(args.weights)
    except SlamError as exc:
        raise SlamError(
            f"{exc} (or --weights / $SLAM_WEIGHTS; `slam init-weights` makes UNTRAINED ones "
            "for a pipeline check)"
        ) from None
    if args.workers < 0:
        raise SlamError(
            f"--workers {args.workers}: accepted: 0 (load in this process) or more loader processes"
        )
    jobs = jobs_from_args(args.study, args.file_paths)
    if not jobs:
        raise SlamError("no study given: pass STUDY paths or --file-paths listing them")
    options = {"preprocess": True if args.preprocess else None, "score_threshold": args.score_threshold,
               "max_detections": args.max_detections, "coords": args.coords or ("display" if args.file_paths else "stored")}  # fmt: skip
    rank, world = distributed_env()
    device = init_distributed(args.device) if world > 1 else args.device
    try:
        predictor = Predictor.from_weights(weights, device=device, **options)
        result = predict_batch(predictor, jobs, Path(args.output), run_fingerprint(weights, options), args.workers,
                               progress=not args.quiet, rank=rank, world=world)  # fmt: skip
    finally:
        if world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()
    if rank == 0:
        print(f"{len(result.rows)} detections in {result.studies} studies -> {args.output}")
        if result.failed:
            print(f"slam predict: {len(result.failed)} of {len(jobs)} studies failed and are not in the CSV: "
                  f"{', '.join(source for _, source, _ in result.failed)}; rerunning the same command retries only "
                  "them", file=sys.stderr)  # fmt: skip
    return 1 if result.failed else 0
