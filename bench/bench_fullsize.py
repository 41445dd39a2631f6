"""End-to-end detection time on ONE full-size DBT volume: the file read, the input pipeline, the model and
the post-processing, for the shipped SLAM weights and the shipped baseline, against issue 12's target
(SLAM <= 3 s per full-size volume on 2 CPU cores).

    PYTHONPATH=. python bench/bench_fullsize.py [--slices 64] [--threads 2] [--repeats 3] [--baseline]

The volume: ``--slices`` x 2457 x 1996 uint16 (a Hologic-sized full-field view), a synthetic breast
(``tests.webapp_support.breast_volume``) written once as an uncompressed multi-frame DICOM. Each repeat
times ``load_study`` + ``Predictor.predict`` (after one warm-up that also loads the model); printed: the
best and median wall seconds and the process CPU seconds of the best, with the machine's load average.
``--baseline`` also times the per-slice baseline (every slice through the detector: tens of seconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def time_weights(name: str, path: Path, repeats: int) -> dict:
    from slam.detection.predictor import Predictor
    from slam.detection.weights import resolve_weights
    from slam.io import load_study

    predictor = Predictor.from_weights(resolve_weights(None if name == "slam" else name), device="cpu")
    predictor.predict(load_study(path))  # warm-up
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = predictor.predict(load_study(path))
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    best = min(runs)
    return {"model": name, "best_s": best[0], "median_s": statistics.median(r[0] for r in runs), "cpu_s": best[1],
            "findings": len(result.findings()), "load": os.getloadavg()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", action="store_true", help="also time the per-slice baseline")
    args = parser.parse_args()
    import torch

    from slam.io import write_volume_dicom
    from tests.webapp_support import breast_volume

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_volume_dicom(Path(tmp) / "full.dcm", breast_volume(args.slices, 2457, 1996, 0, "L"),
                                  laterality="L", view="CC")
        print(f"volume {args.slices} x 2457 x 1996 uint16, {path.stat().st_size / 2**20:.0f} MiB; "
              f"{args.threads} torch threads")
        for name in ("slam", "baseline") if args.baseline else ("slam",):
            row = time_weights(name, path, args.repeats)
            print(f"{name:9s} load + predict: best {row['best_s']:.2f} s, median {row['median_s']:.2f} s, "
                  f"CPU {row['cpu_s']:.2f} s; {row['findings']} findings at the operating point "
                  f"(load average {row['load']:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
