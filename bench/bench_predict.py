"""Benchmark: batch prediction throughput (volumes per second) with 0, 1 and 2 loader workers.

``--workers 0`` is today's single process (load, predict, next study). The studies are phantom
studies (``slam.phantom.write_dataset``, medium size 1229 x 998, JPEG 2000 lossless by default, so
decoding costs what it costs on BCS-DBT) written once to ``--data``; the model is the shipped demo
weights on 2 torch threads. Every run must write the same CSV byte for byte. The machine's load
average is printed with each figure (the machine may be shared). Ends with the plan for the
22 000-volume BCS-DBT test set from the measured per-volume costs.

    PYTHONPATH=. python bench/bench_predict.py [--studies 12] [--size medium] [--syntax jpeg2000] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

BCS_DBT_TEST_VOLUMES = 22_000


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def per_volume_costs(predictor, jobs) -> tuple[float, float]:
    """Mean seconds per volume to decode + build the input (a loader worker's work) and to run the model."""
    from slam.io import load_study

    decode = model = 0.0
    for job in jobs:
        t0 = time.perf_counter()
        study = load_study(job.source)
        volume = predictor.prepare(study)
        t1 = time.perf_counter()
        predictor.predict(study, volume)
        model += time.perf_counter() - t1
        decode += t1 - t0
    return decode / len(jobs), model / len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=12)
    parser.add_argument("--size", default="medium", choices=("small", "medium", "full"))
    parser.add_argument(
        "--syntax", default="jpeg2000", help="phantom transfer syntax (explicit, rle, jpeg2000, jpegls)"
    )
    parser.add_argument(
        "--data", help="folder for the phantom studies (kept and reused); default: a temp folder"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    from slam.commands.predict import jobs_from_args
    from slam.detection.batch import predict_batch, run_fingerprint
    from slam.detection.predictor import Predictor
    from slam.detection.weights import DEFAULT_WEIGHTS
    from slam.phantom import write_dataset

    torch.set_num_threads(2)
    tmp = tempfile.TemporaryDirectory(prefix="slam-bench-predict-")
    data = Path(args.data or tmp.name)
    if not (data / "file-paths.csv").is_file():
        t0 = time.perf_counter()
        write_dataset(data, args.studies, seed=11, size=args.size, transfer_syntax=args.syntax)
        print(
            f"wrote {args.studies} {args.size} {args.syntax} phantom studies in {time.perf_counter() - t0:.0f} s"
        )
    jobs = jobs_from_args([], str(data / "file-paths.csv"))
    options = {"preprocess": False, "score_threshold": 0.05, "max_detections": 20, "coords": "display"}
    predictor = Predictor.from_weights(DEFAULT_WEIGHTS, device="cpu", **options)
    fingerprint = run_fingerprint(DEFAULT_WEIGHTS, options)
    print(
        f"{len(jobs)} studies, default weights, {torch.get_num_threads()} torch threads, {os.cpu_count()} cores"
    )

    rates, csvs = {}, {}
    for workers in args.workers:
        out = Path(tmp.name) / f"pred_w{workers}.csv"
        before = load()
        t0 = time.perf_counter()
        predict_batch(predictor, jobs, out, fingerprint, workers, progress=False)
        seconds = time.perf_counter() - t0
        rates[workers], csvs[workers] = len(jobs) / seconds, out.read_bytes()
        print(f"workers={workers}: {seconds:.1f} s, {rates[workers]:.3f} volumes/s   ({before} -> {load()})")
    first = next(iter(csvs.values()))
    print("same CSV byte for byte:", all(c == first for c in csvs.values()))
    if 0 in rates:
        for workers, rate in rates.items():
            print(f"speed-up with {workers} loader workers over the single process: {rate / rates[0]:.2f} x")

    decode, model = per_volume_costs(predictor, jobs[:3])
    print(f"per volume ({args.size}, {args.syntax}): decode + input {decode:.2f} s on one core, "
          f"model {model:.3f} s on {torch.get_num_threads()} CPU threads   ({load()})")  # fmt: skip
    hours = BCS_DBT_TEST_VOLUMES * decode / 3600
    print(f"BCS-DBT test set ({BCS_DBT_TEST_VOLUMES} volumes): {hours:.1f} core-hours of decoding at this cost; "
          "the model on a GPU is a small fraction of it, so the loader cores set the pace:")  # fmt: skip
    for gpus, workers in ((1, 8), (4, 8), (8, 8)):
        print(
            f"  {gpus} GPU(s) x {workers} loader workers each: ~{hours / (gpus * workers):.2f} h "
            f"(torchrun --nproc_per_node={gpus} -m slam predict --file-paths F -o P --workers {workers} --device cuda)"
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
