"""The offline cache (each study decoded, sampled and resized ONCE) and the training dataset.

Cache file (``.npz``, uncompressed), S studies, N sampled slices of (h, w) = ``input_size``:

- ``volumes`` (S, N, h, w) uint8: exactly what ``slam.detection.predictor`` feeds the model, x 255
  (display orientation, the study's window or the design.md §3 preprocessing);
- ``indices`` (S, N) int64 original slice of each sampled slice; ``depth`` (S,) int64 D;
- ``boxes`` (S, K, 4) float32 x1, y1, x2, y2 in input pixels, ``n_boxes`` (S,) int64 valid rows,
  ``box_slices`` (S, K) int64 their central slices (original index);
- ``slice_target`` (S,) int64: position among the N sampled slices nearest the central slice
  of the study's largest lesion (design.md §4), -1 for a study without lesions;
- ``mm_per_px`` (S,) float32 input pixel size (mean of both axes); ``ids`` (S, 3) str
  PatientID, StudyUID, View; ``meta`` a JSON string (num_slices, input_size, sampling, ...).

The dataset draws each sample's augmentation from a generator seeded by (seed, epoch, draw),
so a run is reproducible whatever the number of loader workers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from slam.errors import SlamError


def build_cache(data_dir: str | Path, out: str | Path, num_slices: int, input_size: tuple[int, int],
                sampling: str = "even", preprocess: bool = False, box_coords: str = "stored",
                progress: bool = True) -> Path:
    """Read a BCS-DBT layout folder (file-paths.csv, boxes.csv, the DICOM files) into one cache file.

    ``box_coords``: the frame of boxes.csv, "stored" (as in the files; the phantom's) or
    "display" (the Duke reader's). Returns ``out``.
    """
    from tqdm import tqdm

    from slam.detection.inputs import box_to_input, volume_to_input
    from slam.detection.sampling import representative_target, sample_indices
    from slam.io import load_study
    from slam.io.csv_formats import read_boxes_csv, read_file_paths_csv, resolve_study_path

    data_dir = Path(data_dir)
    rows = read_file_paths_csv(data_dir / "file-paths.csv")
    boxes_csv = data_dir / "boxes.csv"
    gt = read_boxes_csv(boxes_csv) if boxes_csv.is_file() else []
    if not rows:
        raise SlamError(f"{data_dir / 'file-paths.csv'} lists no study")
    by_volume: dict[tuple[str, str], list] = {}
    for box in gt:
        by_volume.setdefault((box.study_uid, box.view), []).append(box)
    k_max = max([len(v) for v in by_volume.values()] + [1])
    h, w = input_size
    s = len(rows)
    volumes = np.zeros((s, num_slices, h, w), np.uint8)
    indices = np.zeros((s, num_slices), np.int64)
    depth = np.zeros(s, np.int64)
    boxes = np.zeros((s, k_max, 4), np.float32)
    n_boxes = np.zeros(s, np.int64)
    box_slices = np.zeros((s, k_max), np.int64)
    target = np.full(s, -1, np.int64)
    mm_per_px = np.zeros(s, np.float32)
    for i, row in enumerate(tqdm(rows, desc=f"cache {data_dir.name}", unit="study", disable=not progress)):
        study = load_study(resolve_study_path(row, data_dir))
        idx = sample_indices(study.depth, num_slices, sampling)
        volumes[i] = np.rint(volume_to_input(study, idx, input_size, preprocess) * 255.0).astype(np.uint8)
        indices[i], depth[i] = idx, study.depth
        spacing = study.pixel_spacing or (float("nan"), float("nan"))
        mm_per_px[i] = 0.5 * (spacing[0] * study.height / h + spacing[1] * study.width / w)
        lesions = by_volume.get((row.study_uid, row.view), [])
        for k, box in enumerate(lesions):
            boxes[i, k] = box_to_input(study, box.x, box.y, box.width, box.height, input_size, box_coords)
            box_slices[i, k] = box.slice
        n_boxes[i] = len(lesions)
        if lesions:
            largest = max(lesions, key=lambda b: b.width * b.height)
            target[i] = representative_target(idx, largest.slice)
    meta = dict(num_slices=num_slices, input_size=list(input_size), sampling=sampling, preprocess=preprocess,
                box_coords=box_coords, source=str(data_dir))  # fmt: skip
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = np.array([(r.patient_id, r.study_uid, r.view) for r in rows], dtype=str)
    np.savez(out, volumes=volumes, indices=indices, depth=depth, boxes=boxes, n_boxes=n_boxes,
             box_slices=box_slices, slice_target=target, mm_per_px=mm_per_px, ids=ids, meta=json.dumps(meta))
    return out


class Cache:
    """A cache file loaded in memory (see the module docstring for the arrays)."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.is_file():
            raise SlamError(f"cache {path} does not exist; build it with `python -m train.cache DATA_DIR {path}`")
        with np.load(path) as data:
            self.arrays = {k: data[k] for k in data.files}
        self.meta = json.loads(str(self.arrays.pop("meta")))
        self.path = path
        for key, value in self.arrays.items():
            setattr(self, key, value)

    def __len__(self) -> int:
        return len(self.volumes)

    @property
    def positives(self) -> np.ndarray:
        return np.flatnonzero(self.n_boxes > 0)

    def check_model(self, config) -> None:
        """SlamError unless the cache was made for ``config``'s slices, input size, sampling and preprocessing."""
        want = dict(num_slices=config.num_slices, input_size=list(config.input_size), sampling=config.sampling,
                    preprocess=config.preprocess)  # fmt: skip
        got = {k: self.meta[k] for k in want}
        if got != want:
            raise SlamError(f"cache {self.path} was built with {got}; the model needs {want}: rebuild it")


def draw_order(cache: Cache, positives_only: bool, oversample_positives: int) -> np.ndarray:
    """Study indices of one epoch: every study (or every positive) once, positives repeated so that
    each appears ``oversample_positives`` times (design.md §6: x2, the copies differ by augmentation)."""
    if positives_only:  # nothing to balance against
        return cache.positives.astype(np.int64)
    extra = np.repeat(cache.positives, max(oversample_positives - 1, 0))
    return np.concatenate([np.arange(len(cache)), extra]).astype(np.int64)


class VolumeDataset(Dataset):
    """Samples of a :class:`Cache`: ``{"volume": (N, h, w) uint8, "boxes": (k, 4) float32 xyxy,
    "slice": int64 scalar, "index": int}`` with augmentation drawn per (seed, epoch, draw)."""

    def __init__(self, cache: Cache, order: np.ndarray, augment=None, seed: int = 0):
        """``augment`` a train.config.Augment, or None for none."""
        self.cache, self.order, self.augment, self.seed = cache, np.asarray(order), augment, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, draw: int) -> dict:
        from train.augment import augment_volume

        i = int(self.order[draw])
        c = self.cache
        volume = torch.from_numpy(c.volumes[i])
        boxes = torch.from_numpy(c.boxes[i, : c.n_boxes[i]].copy())
        if self.augment is not None and self.augment.enabled:
            rng = np.random.default_rng([self.seed, self.epoch, draw])
            volume, boxes = augment_volume(volume, boxes, rng, self.augment)
        return {"volume": volume, "boxes": boxes, "slice": torch.tensor(int(c.slice_target[i])), "index": i}


def collate_padded(samples: list[dict], max_boxes: int) -> dict:
    """Fixed shapes for XLA: volumes (B, N, h, w) uint8, boxes (B, max_boxes, 4) zero-padded,
    slice (B,) int64, index (B,) int64; ``n_boxes`` is a tuple of Python ints (stays on the host,
    so slicing the padding away never reads the device)."""
    n = [min(len(s["boxes"]), max_boxes) for s in samples]
    boxes = torch.zeros(len(samples), max_boxes, 4)
    for row, (s, k) in enumerate(zip(samples, n, strict=True)):
        boxes[row, :k] = s["boxes"][:k]
    return {
        "volumes": torch.stack([s["volume"] for s in samples]),
        "boxes": boxes,
        "slice": torch.stack([s["slice"] for s in samples]),
        "index": torch.tensor([s["index"] for s in samples]),
        "n_boxes": tuple(n),
    }


def to_targets(batch: dict) -> list[dict]:
    """Padded batch -> the model's target dicts (boxes, labels = 1, slice), on the batch's device."""
    boxes, slices = batch["boxes"], batch["slice"]
    return [{"boxes": boxes[b, :k], "labels": torch.ones(k, dtype=torch.int64, device=boxes.device),
             "slice": slices[b]} for b, k in enumerate(batch["n_boxes"])]  # fmt: skip
