"""SLAM vs the per-slice baseline on the same phantom studies: wall time, FLOPs, peak memory.

    python bench/bench_detector.py [--backbones resnet50,resnet18,mobilenet_v3_large] [--depths 60]
                                   [--threads 2] [--repeats 5]

Each (backbone, method, depth) runs in its own process (so peak RSS is its own), with
``torch.set_num_threads(threads)``, on a phantom study (``slam.phantom``, size "small",
384 x 320 px) written as DICOM and loaded with ``slam.io.load_study``. Models are
UNTRAINED (``weights=None``): the network cost does not depend on the weights (the RPN
always passes 300 proposals to the RoI heads); post-processing sees untrained boxes.

Columns: ``wall s`` the best (and ``median``) of ``repeats`` runs of ``Predictor.predict``
on the loaded study (input preparation + model + post-processing, after one warm-up) and
``CPU s`` the least process CPU time of those runs (all threads; less disturbed than wall
time when other jobs share the cores); ``GFLOPs`` counted by ``torch.utils.flop_counter.FlopCounterMode`` over
the model forward (2 per multiply-add); ``peak RSS MB`` of the process, and ``+inference MB`` its growth during the
runs (the rest is Python, torch's libraries, the model and the study: ~0.8 GB here).
The ``bare`` row is the feature extractor alone on the model input (27 slices for SLAM):
the floor SLAM's end-to-end time is measured against.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _write_phantom(out_dir: Path, depth: int, seed: int) -> Path:
    from slam.io import write_volume_dicom
    from slam.phantom import generate_study
    from slam.phantom.dataset import dicom_meta

    study = generate_study(seed, "small", depth=depth, n_lesions=1)
    return write_volume_dicom(out_dir / f"phantom_{depth}.dcm", study.volume, **dicom_meta(study))


def run_one(method: str, backbone: str, study_path: str, threads: int, repeats: int) -> dict:
    """One measurement in this process: returns wall times, FLOPs and peak RSS."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from slam.detection.config import ModelConfig
    from slam.detection.inputs import volume_to_input
    from slam.detection.model import build_model
    from slam.detection.predictor import Predictor
    from slam.io import load_study

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    study = load_study(study_path)
    load_s = time.perf_counter() - t0
    kind = "baseline" if method == "baseline" else "slam"
    predictor = Predictor(build_model(ModelConfig(kind=kind, backbone=backbone)), device="cpu")
    indices = predictor.chosen_slices(study.depth)
    volume = torch.from_numpy(volume_to_input(study, indices, predictor.config.input_size))
    if method == "bare":
        body = predictor.model.backbone.features
        x = volume[:, None].contiguous(memory_format=torch.channels_last)

        def step():
            with torch.inference_mode():
                body(x)

        def forward():
            body(x)
    else:

        def step():
            predictor.predict(study)

        def forward():
            if kind == "slam":
                predictor.model(volume[None])
            else:
                for start in range(0, len(volume), predictor.baseline_chunk):
                    predictor.model(volume[start : start + predictor.baseline_chunk, None])

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    step()  # warm-up: allocator, oneDNN kernels
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        forward()
    return {
        "method": method, "backbone": backbone, "depth": study.depth, "slices_in": len(indices),
        "wall_s": min(times), "wall_median_s": statistics.median(times), "cpu_s": min(cpu), "load_s": load_s,
        "gflops": counter.get_total_flops() / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_before_mb": rss_before,
    }  # fmt: skip


def full_size_input_ms(threads: int) -> float:
    """Input preparation of one full-size (2457 x 1996) uint16 slice: area resize + window, in ms."""
    import numpy as np
    import torch

    from slam.detection.inputs import slice_to_input
    from slam.io import Study

    torch.set_num_threads(threads)
    pixels = np.random.default_rng(0).integers(0, 4096, size=(1, 2457, 1996), dtype=np.uint16)
    study = Study(pixels=pixels, window_center=2048, window_width=4096, laterality="R", flip_rows=True, flip_cols=True)
    slice_to_input(study, 0, (256, 256))
    t = time.perf_counter()
    for _ in range(10):
        slice_to_input(study, 0, (256, 256))
    return (time.perf_counter() - t) / 10 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbones", default="resnet50,resnet18,mobilenet_v3_large")
    parser.add_argument("--depths", default="60", help="phantom volume depths (slices), comma-separated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", nargs=3, metavar=("METHOD", "BACKBONE", "STUDY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one, args.threads, args.repeats)))
        return 0

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        studies = {d: _write_phantom(Path(tmp), d, args.seed) for d in map(int, args.depths.split(","))}
        for backbone in args.backbones.split(","):
            for depth, path in studies.items():
                for method in ("bare", "slam", "baseline"):
                    out = subprocess.run(
                        [sys.executable, __file__, "--one", method, backbone, str(path),
                         "--threads", str(args.threads), "--repeats", str(args.repeats)],
                        check=True, capture_output=True, text=True,
                    )  # fmt: skip
                    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(f"  done {backbone} {method} D={depth}: {rows[-1]['wall_s']:.2f} s", file=sys.stderr)

    print(f"\nDetector cost per volume, {args.threads} CPU threads, input 27 x 256 x 256 (SLAM) / D x 256 x 256 "
          f"(baseline), FPN 512, untrained weights, best of {args.repeats}\n")  # fmt: skip
    head = f"| {'backbone':<18} | {'D':>3} | {'method':<22} | {'slices':>6} | {'wall s':>7} | {'median':>6} | {'CPU s':>6} | {'GFLOPs':>8} | {'peak RSS MB':>11} | {'+inference MB':>13} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    names = {"bare": "feature extractor only", "slam": "SLAM (end to end)", "baseline": "per-slice baseline"}
    for r in rows:
        print(f"| {r['backbone']:<18} | {r['depth']:>3} | {names[r['method']]:<22} | {r['slices_in']:>6} | "
              f"{r['wall_s']:>7.2f} | {r['wall_median_s']:>6.2f} | {r['cpu_s']:>6.2f} | {r['gflops']:>8.1f} | {r['peak_rss_mb']:>11.0f} | {r['peak_rss_mb'] - r['rss_before_mb']:>13.0f} |")  # fmt: skip
    print("\nBaseline / SLAM ratios:")
    for r in rows:
        if r["method"] == "slam":
            b = next(x for x in rows if x["method"] == "baseline" and x["backbone"] == r["backbone"] and x["depth"] == r["depth"])
            print(f"  {r['backbone']:<18} D={r['depth']}: wall x{b['wall_s'] / r['wall_s']:.2f}, "
                  f"CPU time x{b['cpu_s'] / r['cpu_s']:.2f}, FLOPs x{b['gflops'] / r['gflops']:.2f}")  # fmt: skip
    print(f"\nInput preparation of one full-size 2457 x 1996 slice (area resize + window): "
          f"{full_size_input_ms(args.threads):.1f} ms (x 27 slices for SLAM)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
