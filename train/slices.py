"""The per-slice training cache: phantom studies generated in memory, written and read back as DICOM
(the real loader), turned into the model's input ONCE, and kept as uint8 slices — never the volumes.

    python -m train.slices cache/slices --n 1200 --seed 11 --styles train [--workers 2] [--shard 100]

Studies are made in shards of ``--shard`` studies (``shard-00000.npz``, ...); a shard that exists is
skipped, so the step is resumable and a trainer can start on the first shards while more are made.
Each shard holds, at ``input_size`` (h, w) in display orientation, grey levels as ``grey_levels``:

- ``slices`` (M, h, w) uint8 — one training sample each: every lesion's central slice and its
  neighbours within ``near`` slices (no further than half the mass's depth extent), and
  ``negatives`` slices per study at least ``NEG_GAP_MM`` + half-depth away from every mass;
- ``boxes`` (M, K, 4) float32 x1, y1, x2, y2 in input pixels (padded), ``n_boxes`` (M,) int64
  valid rows: the masses whose extent covers that slice; ``slice_offset`` (M,) int64 distance to
  the nearest central slice (-1 for negatives); ``study`` (M,) int64 the study's number;
- ``volumes`` (S, N, h, w) uint8 — each study's N sampled slices (``slam.detection.sampling``) for
  SLAM's slice attention; ``slice_target`` (S,) int64 the sampled position nearest the largest
  mass's central slice (-1 without a mass); ``vol_boxes`` (S, K, 4), ``vol_n_boxes`` (S,);
- ``style`` (S,) str family of each study.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K_MAX = 3  # at most 3 masses per phantom study
NEG_GAP_MM = 4.0  # a negative slice lies this far beyond every mass's depth extent
LESION_COUNTS_P = (0.2, 0.5, 0.3)  # P(0), P(1), P(2) masses per training study: more positives per CPU-second


@dataclass(frozen=True)
class SliceCacheSpec:
    """What a slice cache is made of (stored as the shards' ``meta``)."""

    n: int = 1200
    seed: int = 11
    styles: str = "train"
    size: str = "small"
    input_size: tuple[int, int] = (384, 320)
    grey_levels: str = "tissue"
    num_slices: int = 16
    sampling: str = "even"
    near: int = 2
    negatives: int = 2
    shard: int = 100


def study_samples(spec: SliceCacheSpec, index: int, tmp: Path) -> dict:
    """One phantom study -> its training slices, its sampled volume and their boxes (see the module docstring)."""
    from slam.detection.inputs import box_to_input, volume_to_input
    from slam.detection.sampling import representative_target, sample_indices
    from slam.io import load_study
    from slam.phantom.dataset import dataset_seed, write_study
    from slam.phantom.study import generate_study
    from slam.phantom.styles import resolve_styles

    styles = resolve_styles(spec.styles)
    seed = dataset_seed(spec.seed, index)
    rng = np.random.default_rng(seed)
    n_lesions = int(rng.choice(len(LESION_COUNTS_P), p=LESION_COUNTS_P))
    phantom = generate_study(seed, spec.size, style=styles[index % len(styles)], n_lesions=n_lesions)
    paths, _, gt = write_study(tmp, phantom, index + 1)
    study = load_study(tmp / paths.descriptive_path)
    (tmp / paths.descriptive_path).unlink()
    volume = np.rint(volume_to_input(study, range(study.depth), spec.input_size, False, spec.grey_levels) * 255.0)
    volume = volume.astype(np.uint8)
    boxes = np.array([box_to_input(study, b.x, b.y, b.width, b.height, spec.input_size) for b in gt],
                     np.float32).reshape(-1, 4)
    mm = phantom.slice_spacing
    centres = np.array([les.slice for les in phantom.lesions], np.int64)
    reach = [min(spec.near, int(0.5 * (les.half_depth_mm or 2 * mm) / mm)) for les in phantom.lesions]
    picks: dict[int, int] = {}  # slice -> distance to the nearest central slice
    for c, r in zip(centres, reach, strict=True):
        for z in range(max(0, c - r), min(study.depth, c + r + 1)):
            picks[z] = min(picks.get(z, 99), abs(z - int(c)))
    far = [z for z in range(study.depth) if all(
        abs(z - les.slice) * mm > (les.half_depth_mm or 0.0) + NEG_GAP_MM for les in phantom.lesions)]
    for z in rng.choice(far, size=min(spec.negatives, len(far)), replace=False) if far else []:
        picks[int(z)] = -1
    slices, sboxes, counts, offsets = [], [], [], []
    for z, off in sorted(picks.items()):
        inside = [i for i, les in enumerate(phantom.lesions) if off >= 0 and abs(z - les.slice) <= reach[i]]
        b = np.zeros((K_MAX, 4), np.float32)
        b[: len(inside)] = boxes[inside]
        slices.append(volume[z])
        sboxes.append(b)
        counts.append(len(inside))
        offsets.append(off)
    idx = sample_indices(study.depth, spec.num_slices, spec.sampling)
    vb = np.zeros((K_MAX, 4), np.float32)
    vb[: len(boxes)] = boxes
    largest = max(range(len(gt)), key=lambda i: gt[i].width * gt[i].height) if gt else None
    return dict(
        slices=np.stack(slices) if slices else np.zeros((0, *spec.input_size), np.uint8),
        boxes=np.stack(sboxes) if sboxes else np.zeros((0, K_MAX, 4), np.float32),
        n_boxes=np.array(counts, np.int64), slice_offset=np.array(offsets, np.int64),
        volume=volume[idx], slice_target=-1 if largest is None else representative_target(idx, gt[largest].slice),
        vol_boxes=vb, vol_n_boxes=len(boxes), style=phantom.style,
    )


def build_shard(spec: SliceCacheSpec, shard: int, out_dir: Path) -> Path:
    """Make shard ``shard`` (studies shard*spec.shard ...) unless it exists; returns its path."""
    path = out_dir / f"shard-{shard:05d}.npz"
    if path.is_file():
        return path
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(shard * spec.shard, min(spec.n, (shard + 1) * spec.shard)):
            parts.append(study_samples(spec, index, Path(tmp)))
    number = np.concatenate([np.full(len(p["slices"]), i + shard * spec.shard) for i, p in enumerate(parts)])
    tmp_path = path.with_suffix(".tmp.npz")
    np.savez(
        tmp_path, slices=np.concatenate([p["slices"] for p in parts]),
        boxes=np.concatenate([p["boxes"] for p in parts]), n_boxes=np.concatenate([p["n_boxes"] for p in parts]),
        slice_offset=np.concatenate([p["slice_offset"] for p in parts]), study=number.astype(np.int64),
        volumes=np.stack([p["volume"] for p in parts]), slice_target=np.array([p["slice_target"] for p in parts]),
        vol_boxes=np.stack([p["vol_boxes"] for p in parts]), vol_n_boxes=np.array([p["vol_n_boxes"] for p in parts]),
        style=np.array([p["style"] for p in parts]), meta=json.dumps(spec.__dict__),
    )  # fmt: skip
    tmp_path.rename(path)  # a shard is complete or absent: a killed run never leaves half a shard
    return path


def load_shards(out_dir: str | Path) -> dict[str, np.ndarray]:
    """Every complete shard of ``out_dir`` concatenated (keys as in the module docstring)."""
    paths = sorted(Path(out_dir).glob("shard-?????.npz"))
    if not paths:
        from slam.errors import SlamError

        raise SlamError(f"{out_dir} holds no slice-cache shard (shard-NNNNN.npz); make one with python -m train.slices")
    loaded = [dict(np.load(p)) for p in paths]
    return {k: np.concatenate([d[k] for d in loaded]) for k in loaded[0] if k != "meta"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.slices", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="folder for the shards (created)")
    parser.add_argument("--n", type=int, default=SliceCacheSpec.n, help="studies")
    parser.add_argument("--seed", type=int, default=SliceCacheSpec.seed, help="dataset seed (never an evaluation seed)")
    parser.add_argument("--styles", default=SliceCacheSpec.styles, help="phantom styles (default: train)")
    parser.add_argument("--size", default=SliceCacheSpec.size, choices=("small", "medium", "full"))
    parser.add_argument("--input-size", type=int, nargs=2, default=SliceCacheSpec.input_size, metavar=("H", "W"))
    parser.add_argument("--num-slices", type=int, default=SliceCacheSpec.num_slices, help="SLAM's sampled slices")
    parser.add_argument("--shard", type=int, default=SliceCacheSpec.shard, help="studies per shard")
    parser.add_argument("--workers", type=int, default=1, help="processes (one shard each at a time)")
    args = parser.parse_args(argv)
    spec = SliceCacheSpec(n=args.n, seed=args.seed, styles=args.styles, size=args.size,
                          input_size=tuple(args.input_size), num_slices=args.num_slices, shard=args.shard)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shards = range(-(-spec.n // spec.shard))
    start = time.perf_counter()
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.workers) as pool:
            for path in pool.map(build_shard, [spec] * len(shards), shards, [out_dir] * len(shards)):
                print(f"{path.name} ({time.perf_counter() - start:.0f} s)", flush=True)
    else:
        for shard in shards:
            print(f"{build_shard(spec, shard, out_dir).name} ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.slices"))
