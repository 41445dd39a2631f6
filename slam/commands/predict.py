"""``slam predict STUDY... -o predictions.csv [--weights W]``: run the detector, write the DBTex CSV.

Over many studies (``--file-paths``) it loads with ``--workers`` processes, resumes an interrupted
run and, under ``torchrun``, shards the list over the ranks: see ``slam.detection.batch``.

``--dicomweb URL --study-uid UID`` predicts every DBT view of a study on a PACS instead (fetched
frame by frame, never written to disk; credentials from the environment as
``slam.io.dicomweb.connect`` reads them). ``--sr OUT.dcm`` writes each view's findings as a DICOM
SR (one SR per DBT view; with several views OUT-1.dcm, OUT-2.dcm ... in order), ``--store``
stores the SR and the synthetic mammogram back into the study on the PACS as new instances.
Both run one study at a time in this process (no loader workers, no resume).

Every kept box (candidate floor ``--score-threshold``, NMS across overlapping boxes, at most the
model's ``max_findings`` per study) goes to the CSV, as DBTex's FROC expects; the summary line
reads them at the model's operating point (``--threshold``, default its config's
``score_threshold``): "N studies with a finding ≥ t; best score s" or "no finding above the
threshold (t)" — a detector's output, never a reading.

Exit code: 0 all studies predicted; 1 some failed to load (listed; the CSV holds the others);
2 bad arguments, or an unreachable server / unknown study (nothing run).
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
    parser.add_argument("-o", "--output", help="predictions CSV to write (DBTex format); "
                        "optional with --sr or --store")  # fmt: skip
    parser.add_argument("--dicomweb", metavar="URL", help="predict a study on this DICOMweb server (e.g. "
                        "http://pacs:8042/dicom-web); credentials from SLAM_DICOMWEB_TOKEN or "
                        "SLAM_DICOMWEB_USER/SLAM_DICOMWEB_PASSWORD")  # fmt: skip
    parser.add_argument("--study-uid", help="with --dicomweb: the StudyInstanceUID; every DBT view in it is predicted")
    parser.add_argument("--sr", metavar="OUT.dcm", help="write the findings as DICOM SR (one per DBT view; several "
                        "views: OUT-1.dcm, OUT-2.dcm ... in order)")  # fmt: skip
    parser.add_argument("--store", action="store_true", help="with --dicomweb: store the SR and the synthetic "
                        "mammogram into the study on the server (new instances, nothing replaced)")  # fmt: skip
    parser.add_argument("--weights", help="model weights (.safetensors with its .json config beside it); default: "
                        "$SLAM_WEIGHTS, else the shipped SLAM weights (slam/weights/slam_default.md; --weights baseline: the per-slice baseline)")  # fmt: skip
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when present, else cpu")
    parser.add_argument("--file-paths", help="BCS-DBT file-paths.csv: PatientID, StudyUID, View of each study "
                        "(else they are read from the DICOM header)")  # fmt: skip
    parser.add_argument(
        "--preprocess", action="store_true",
        help="AWA denoising, border removal, CLAHE first (default: as the model was trained, its config)"
    )
    parser.add_argument("--score-threshold", type=float, default=0.05,
                        help="candidate floor: every box scoring at least this goes to the CSV (default 0.05, as "
                        "DBTex's FROC wants low-scoring boxes too)")  # fmt: skip
    parser.add_argument("--threshold", type=float, help="operating point of the summary line (findings scoring at "
                        "least this); default: the model's, chosen on validation (its config's score_threshold)")  # fmt: skip
    parser.add_argument("--max-detections", type=int, help="most findings per study, after NMS across overlapping "
                        "boxes (default: the model's max_findings)")  # fmt: skip
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

    check_pacs_args(args)
    try:
        weights = resolve_weights(args.weights)
    except SlamError as exc:
        raise SlamError(
            f"{exc} (or --weights / $SLAM_WEIGHTS; `slam init-weights` makes UNTRAINED ones "
            "for a pipeline check)"
        ) from None
    if args.dicomweb or args.sr or args.store:
        return run_one_by_one(args, weights)
    if not args.output:
        raise SlamError("no output: pass -o predictions.csv (or --sr OUT.dcm)")
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
        predictor = Predictor.from_weights(weights, device=device, threshold=args.threshold, **options)
        result = predict_batch(predictor, jobs, Path(args.output), run_fingerprint(weights, options), args.workers,
                               progress=not args.quiet, rank=rank, world=world)  # fmt: skip
    finally:
        if world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()
    if rank == 0:
        print(f"{len(result.rows)} detections in {result.studies} studies -> {args.output}; "
              f"{batch_summary(result.rows, predictor.threshold)}")
        if result.failed:
            print(f"slam predict: {len(result.failed)} of {len(jobs)} studies failed and are not in the CSV: "
                  f"{', '.join(source for _, source, _ in result.failed)}; rerunning the same command retries only "
                  "them", file=sys.stderr)  # fmt: skip
    return 1 if result.failed else 0


def batch_summary(rows, threshold: float) -> str:
    """What the batch found at the operating point ``threshold``, from its DBTex rows: the volumes
    with a finding >= t and the best score; never a reading ("normal")."""
    best: dict[tuple[str, str], float] = {}
    for r in rows:
        best[(r.study_uid, r.view)] = max(best.get((r.study_uid, r.view), 0.0), r.score)
    top = max(best.values(), default=0.0)
    found = sum(score >= threshold for score in best.values())
    if not found:
        return f"no finding above the threshold ({threshold:g}) in any study; best score {top:.2f}"
    return f"{found} stud{'ies' if found > 1 else 'y'} with a finding ≥ {threshold:g}; best score {top:.2f}"


def check_pacs_args(args: argparse.Namespace) -> None:
    """Refuse combinations of --dicomweb, --study-uid, --sr, --store that cannot run (before any work)."""
    from slam.errors import SlamError

    if not args.dicomweb:
        for given, flag in ((args.store, "--store"), (args.study_uid, "--study-uid")):
            if given:
                raise SlamError(f"{flag} needs --dicomweb URL (the PACS the study is on)")
    else:
        if not args.study_uid:
            raise SlamError("--dicomweb needs --study-uid UID (the StudyInstanceUID to predict)")
        if args.study or args.file_paths:
            raise SlamError("--dicomweb predicts one study on the server; accepted: no STUDY paths or --file-paths")
        if not (args.output or args.sr or args.store):
            raise SlamError("nothing to write: pass -o predictions.csv, --sr OUT.dcm or --store")
    if (args.sr or args.store) and args.coords == "display":
        raise SlamError("an SR holds boxes in stored pixels; accepted: --coords stored (the default with --sr/--store)")
    if args.sr and Path(args.sr).suffix.lower() != ".dcm":
        raise SlamError(f"--sr {args.sr}: accepted: a .dcm file name")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file (read in 1 MiB chunks)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sr_paths(sr: str, count: int) -> list[Path]:
    """OUT.dcm for one view, else OUT-1.dcm ... OUT-<count>.dcm."""
    path = Path(sr)
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{n}{path.suffix}") for n in range(1, count + 1)]


def _pacs_views(args: argparse.Namespace):
    """(client, the study's DBT instances) on the --dicomweb server; SlamError when it holds none."""
    from slam.errors import SlamError
    from slam.io.dicomweb import connect, list_instances

    client = connect(args.dicomweb)
    views = [view for view in list_instances(client, args.study_uid) if view.is_dbt]
    if not views:
        raise SlamError(f"study {args.study_uid} holds no DBT view; accepted: a study with a multi-frame "
                        "tomosynthesis image (Breast Tomosynthesis Image Storage)")  # fmt: skip
    return client, views


def run_one_by_one(args: argparse.Namespace, weights: Path) -> int:
    """Predict study after study in this process: the PACS study's DBT views, or the local STUDY
    paths; write the CSV (-o), one SR per view (--sr) and store them back (--store)."""
    import numpy as np

    import slam
    from slam.detection.batch import header_ids
    from slam.detection.findings import dbtex_rows, verdict
    from slam.detection.predictor import Predictor
    from slam.errors import SlamError
    from slam.imaging.orientation import flip_image
    from slam.imaging.sm import synthetic_mammogram
    from slam.io import load_study
    from slam.io.csv_formats import write_predictions_csv
    from slam.io.dicomweb import retrieve_study, store_findings
    from slam.io.sr import Algorithm, write_sr

    if args.dicomweb:
        client, views = _pacs_views(args)  # unreachable server, unknown UID: fail before the model loads
        jobs = [(f"instance {view.sop_uid}", None, view) for view in views]
    else:
        listed = jobs_from_args(args.study, args.file_paths)
        if not listed:
            raise SlamError("no study given: pass STUDY paths or --file-paths listing them")
        jobs = [(str(job.source), job, None) for job in listed]
    options = {"preprocess": True if args.preprocess else None, "score_threshold": args.score_threshold,
               "max_detections": args.max_detections, "coords": args.coords or "stored"}  # fmt: skip
    predictor = Predictor.from_weights(weights, device=args.device, threshold=args.threshold, **options)
    algorithm = Algorithm(name="SLAM", version=slam.__version__, weights_sha256=sha256_of(weights))
    out_srs = sr_paths(args.sr, len(jobs)) if args.sr else []
    rows, failed, written = [], [], []
    for number, (name, job, view) in enumerate(jobs):
        try:
            if view is not None:
                study = retrieve_study(client, args.study_uid, sop_uid=view.sop_uid)
            elif job.error:
                raise SlamError(job.error)
            else:
                study = load_study(job.source)
            ids = (job.ids if job is not None else None) or header_ids(study, Path(name))
        except SlamError as exc:
            if view is not None:
                raise  # a PACS view that does not load: the server or the study is at fault, stop
            failed.append(name)
            print(f"slam predict: skipped {name}: {exc}", file=sys.stderr)
            continue
        prediction = predictor.predict(study)
        detections = prediction.detections
        rows.extend(dbtex_rows(*ids, detections))
        print(f"{name}: {verdict(prediction)}")
        if not detections:
            # A measurement report needs at least one finding: say so instead of an empty SR.
            print(f"{name}: no candidate box at all (floor {args.score_threshold:g}); no SR written or stored")
            continue
        if out_srs:
            try:
                written.append(str(write_sr(out_srs[number], study, detections, algorithm)))
            except SlamError as exc:  # e.g. a .npy volume: no DICOM header to report on
                failed.append(name)
                print(f"slam predict: no SR for {name}: {exc}", file=sys.stderr)
        if args.store:
            sm = synthetic_mammogram(study.pixels, invert=study.invert).image16
            sm = np.ascontiguousarray(flip_image(sm, study.flip_rows, study.flip_cols))  # display orientation
            stored = store_findings(client, study, detections, algorithm, sm_image=sm)
            print(f"{name}: stored {len(stored)} new instance(s) (SR, synthetic mammogram) into study {args.study_uid}")
    if args.output:
        write_predictions_csv(args.output, rows)
        print(f"{len(rows)} detections in {len(jobs) - len(failed)} studies -> {args.output}")
    for path in written:
        print(f"SR -> {path}")
    if failed:
        print(f"slam predict: {len(failed)} of {len(jobs)} studies failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
