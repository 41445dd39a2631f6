"""Run a detector on a loaded study: slices in, DBTex-ready detections out.

Pipeline (``Predictor.predict``): choose slices (SLAM: ``slam.sampling.sample_indices``, N of
the D slices; baseline: every slice) -> per chosen slice: optional SPEC §3 preprocessing at
native resolution, resize to the model's ``input_size``, grey levels to [0, 1] -> model ->
post-processing -> boxes mapped back to the ORIGINAL stored pixels and slice indices.

Frames and scaling, stated once:

- The model sees slices in the DISPLAY orientation (``Study.display_slice``: the Duke
  BCS-DBT convention, so every breast has its chest wall on the side it had in training).
  Boxes come back in STORED pixels by default (``coords="stored"``) or display pixels
  (``coords="display"``).
- Resize: the (H, W) slice is scaled to (h, w) = ``input_size`` with OpenCV's area filter,
  each axis on its own (no padding, no crop): the aspect ratio is NOT kept, every input
  pixel carries breast data, and boxes map back with separate factors W / w and H / h.
- Grey levels: without preprocessing, the study's own display window (centre/width,
  modality rescale, MONOCHROME1 inverted) gives 8-bit levels, divided by 255; with
  preprocessing, the 8-bit output of ``slam.preprocess.preprocess_slice`` (inverted for
  MONOCHROME1) divided by 255.

Post-processing: drop a box when >= 90 % of the input pixels inside it, on the input
slice it is reported on (SLAM: the representative slice), are < 0.1 (it sits on the
background, SPEC §5); keep scores >= ``score_threshold``; non-maximum suppression.

Depth (SLAM, SPEC §5 leaves the rule open): the model fuses the slices into one map per
volume, so depth comes from the slice attention. Let w = softmax(logits) over the N
sampled slices and p* = argmax w (the representative slice). The finding spans the
contiguous run of sampled positions around p* whose weight is >= ``depth_fraction``
(0.5) x w[p*]; Z = original index of the first of them, Depth = original index of the
last - Z + 1. Every box of a volume gets that same Z/Depth (the fused map holds no
per-box depth). The baseline derives Z/Depth per finding from the slices its boxes were
merged over (``slam.baseline``).

``StudyPrediction.slice_weights`` spreads the attention over all D original slices:
weights of repeated sampled indices are summed, slices between sampled ones are linearly
interpolated, and the result is normalised to sum 1.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from slam.errors import SlamError
from slam.model import ModelConfig, load_model

COORDS = ("stored", "display")
# The demo weights shipped with the package (trained on phantom studies: slam/weights/slam_demo.md)
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "slam_demo.safetensors"


@dataclass(frozen=True)
class Detection:
    """One finding: x, y (top-left), width, height in original pixels; z first slice, depth slices."""

    x: float
    y: float
    width: float
    height: float
    z: int
    depth: int
    score: float


@dataclass
class StudyPrediction:
    """Detections (highest score first) and the per-slice evidence behind them.

    ``representative_slice`` original slice index; ``slice_weights`` (D,) float32 over the
    original slices (sums to 1; the baseline uses each slice's best box score);
    ``sampled_indices`` (n,) original indices fed to the model; ``slice_logits`` (N,) float32
    (SLAM only, else None); ``timings`` seconds per stage.
    """

    detections: list[Detection]
    representative_slice: int
    slice_weights: np.ndarray
    sampled_indices: np.ndarray
    slice_logits: np.ndarray | None
    coords: str = "stored"
    timings: dict[str, float] = field(default_factory=dict)


def _flip(image: np.ndarray, study) -> np.ndarray:
    if study.flip_rows:
        image = image[..., ::-1, :]
    if study.flip_cols:
        image = image[..., ::-1]
    return image


def slice_to_input(study, index: int, input_size: tuple[int, int], preprocess: bool = False) -> np.ndarray:
    """Original slice ``index`` as the model sees it: (h, w) float32 in [0, 1], display orientation.

    Resized in stored orientation and flipped afterwards (the area filter is mirror
    symmetric), so a flipped study costs no full-size copy.
    """
    import cv2

    from slam.display import window_to_uint8

    h, w = input_size
    image = study.pixels[index]
    if preprocess:
        from slam.preprocess import preprocess_slice

        u8 = preprocess_slice(image, invert=study.invert)
        small = cv2.resize(u8, (w, h), interpolation=cv2.INTER_AREA)
    else:
        if image.dtype not in (np.uint8, np.uint16, np.int16, np.float32):
            image = image.astype(np.float32)
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        small = window_to_uint8(
            small, study.window_center, study.window_width, study.rescale_slope, study.rescale_intercept,
            invert=study.invert,
        )  # fmt: skip
    return _flip(small, study).astype(np.float32) * np.float32(1.0 / 255.0)


def volume_to_input(study, indices, input_size: tuple[int, int], preprocess: bool = False) -> np.ndarray:
    """The model input for original slices ``indices``: (n, h, w) float32 in [0, 1] (repeats computed once)."""
    out = np.empty((len(indices), *input_size), dtype=np.float32)
    first: dict[int, int] = {}
    for p, k in enumerate(int(i) for i in indices):
        if k in first:
            out[p] = out[first[k]]
        else:
            out[p] = slice_to_input(study, k, input_size, preprocess)
            first[k] = p
    return out


def input_scale(study, input_size: tuple[int, int]) -> tuple[float, float]:
    """(sx, sy): original pixels per input pixel along x (width) and y (height)."""
    return study.width / input_size[1], study.height / input_size[0]


def box_to_input(study, x, y, width, height, input_size: tuple[int, int], coords: str = "stored"):
    """A box in original pixels (``coords`` frame) -> (x1, y1, x2, y2) in model input pixels (display)."""
    if coords == "stored":
        x, y, width, height = study.box_to_display(x, y, width, height)
    sx, sy = input_scale(study, input_size)
    return x / sx, y / sy, (x + width) / sx, (y + height) / sy


def on_background(box_xyxy: np.ndarray, image: np.ndarray, fraction: float = 0.9, level: float = 0.1) -> bool:
    """SPEC §5: True when >= ``fraction`` of the (h, w) [0, 1] ``image`` pixels in the box are < ``level``."""
    h, w = image.shape
    x1, y1 = int(np.clip(np.floor(box_xyxy[0]), 0, w - 1)), int(np.clip(np.floor(box_xyxy[1]), 0, h - 1))
    x2, y2 = int(np.clip(np.ceil(box_xyxy[2]), x1 + 1, w)), int(np.clip(np.ceil(box_xyxy[3]), y1 + 1, h))
    return float(np.mean(image[y1:y2, x1:x2] < level)) >= fraction


def slice_weights_over_volume(weights: np.ndarray, indices: np.ndarray, depth: int) -> np.ndarray:
    """Sampled-slice weights (N,) -> (D,) float32 over the original slices (see module docstring)."""
    unique, inverse = np.unique(indices, return_inverse=True)
    summed = np.zeros(unique.size, dtype=np.float64)
    np.add.at(summed, inverse, weights)
    full = np.interp(np.arange(depth), unique, summed)
    total = full.sum()
    return (full / total if total > 0 else np.full(depth, 1.0 / depth)).astype(np.float32)


def attention_depth(weights: np.ndarray, indices: np.ndarray, fraction: float = 0.5) -> tuple[int, int]:
    """(Z, Depth) in original slices from the sampled weights (N,) (see module docstring)."""
    p = int(np.argmax(weights))
    keep = weights >= fraction * weights[p]
    first = last = p
    while first > 0 and keep[first - 1]:
        first -= 1
    while last < len(weights) - 1 and keep[last + 1]:
        last += 1
    z = int(indices[first])
    return z, int(indices[last]) - z + 1


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class Predictor:
    """Runs a SLAM or baseline model on studies (``slam.io.Study``); see the module docstring.

    ``model`` is a loaded model (``slam.model.load_model``); it is moved to ``device``
    (default: CUDA when present, else CPU), put in eval mode and, on CPU, switched to
    channels-last memory (faster convolutions).
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | None = None,
        preprocess: bool = False,
        score_threshold: float = 0.05,
        nms_iou: float = 0.5,
        background_fraction: float = 0.9,
        background_level: float = 0.1,
        depth_fraction: float = 0.5,
        max_detections: int = 20,
        coords: str = "stored",
        baseline_chunk: int = 8,
    ):
        if coords not in COORDS:
            raise SlamError(f"coords {coords!r} is unknown; accepted: {', '.join(COORDS)}")
        self.device = torch.device(device or default_device())
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise SlamError("device cuda was asked for but no CUDA GPU is available; use --device cpu")
        self.config: ModelConfig = model.config
        self.model = model.to(self.device).eval()
        if self.device.type == "cpu":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.preprocess = preprocess
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.background = (background_fraction, background_level)
        self.depth_fraction = depth_fraction
        self.max_detections = max_detections
        self.coords = coords
        self.baseline_chunk = baseline_chunk

    @classmethod
    def from_weights(cls, path: str | Path, device: str | None = None, **kwargs) -> Predictor:
        return cls(load_model(path), device=device, **kwargs)

    def chosen_slices(self, depth: int) -> np.ndarray:
        """Original indices of the slices the model sees: (N,) for SLAM, (D,) for the baseline."""
        if self.config.kind == "baseline":
            return np.arange(depth, dtype=np.int64)
        from slam.sampling import sample_indices

        return sample_indices(depth, self.config.num_slices, self.config.sampling)

    @torch.inference_mode()
    def predict(self, study) -> StudyPrediction:
        """Detections for one study, in original pixels (``coords`` frame) and original slices."""
        timings = {}
        t0 = time.perf_counter()
        indices = self.chosen_slices(study.depth)
        volume = volume_to_input(study, indices, self.config.input_size, self.preprocess)
        timings["input"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        tensor = torch.from_numpy(volume).to(self.device)
        if self.config.kind == "baseline":
            from slam.baseline import detect_per_slice

            boxes, scores, z, depth, weights, rep = detect_per_slice(self, tensor, indices, study.depth)
            logits = None
        else:
            boxes, scores, z, depth, weights, rep, logits = self._detect_slam(tensor, indices, study.depth)
        timings["model"] = time.perf_counter() - t1
        detections = self.to_original(study, boxes, scores, z, depth)
        timings["total"] = time.perf_counter() - t0
        return StudyPrediction(detections, rep, weights, indices, logits, self.coords, timings)

    def _detect_slam(self, volume: torch.Tensor, indices: np.ndarray, depth: int):
        dets, logits = self.model(volume[None])
        logits = logits[0].float().cpu()
        w = logits.softmax(0).numpy()
        p = int(np.argmax(w))
        boxes, scores = self.filter_boxes(dets[0], volume[p])
        z, d = attention_depth(w, indices, self.depth_fraction)
        n = len(scores)
        return (boxes, scores, np.full(n, z), np.full(n, d), slice_weights_over_volume(w, indices, depth),
                int(indices[p]), logits.numpy())  # fmt: skip

    def filter_boxes(self, det: dict, image: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Score threshold, background rule on ``image`` (h, w) and NMS -> boxes (K, 4) xyxy, scores (K,)."""
        from torchvision.ops import nms

        keep = det["scores"] >= self.score_threshold
        boxes, scores = det["boxes"][keep], det["scores"][keep]
        if len(scores):
            order = nms(boxes.float(), scores.float(), self.nms_iou)
            boxes, scores = boxes[order].float().cpu().numpy(), scores[order].float().cpu().numpy()
            img = image.float().cpu().numpy()
            fg = np.array([not on_background(b, img, *self.background) for b in boxes], dtype=bool)
            boxes, scores = boxes[fg], scores[fg]
        else:
            boxes, scores = np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        return boxes, scores

    def to_original(self, study, boxes, scores, z, depth) -> list[Detection]:
        """Input-pixel boxes (K, 4) x1, y1, x2, y2 -> Detections in original pixels (``coords`` frame),
        clipped to the image, best score first, at most ``max_detections``."""
        sx, sy = input_scale(study, self.config.input_size)
        out = []
        for (x1, y1, x2, y2), s, zi, di in zip(boxes, scores, z, depth, strict=True):
            x, y = max(0.0, x1 * sx), max(0.0, y1 * sy)
            w, h = min(study.width, x2 * sx) - x, min(study.height, y2 * sy) - y
            if self.coords == "stored":
                x, y, w, h = study.box_to_stored(x, y, w, h)
            out.append(Detection(float(x), float(y), float(w), float(h), int(zi), int(di), float(s)))
        out.sort(key=lambda d: -d.score)
        return out[: self.max_detections]

    def predict_many(self, sources: Iterable, progress: bool = True, loader=None) -> Iterator[tuple]:
        """Yield ``(source, study, StudyPrediction)`` for each source (a Study or anything
        ``load_study`` accepts), loading one study at a time; a tqdm progress bar on stderr."""
        from tqdm import tqdm

        if loader is None:
            from slam.io import load_study as loader
        sources = list(sources)
        for source in tqdm(sources, desc="predict", unit="study", disable=not progress):
            study = source if hasattr(source, "pixels") else loader(source)
            yield source, study, self.predict(study)
