"""Run a detector on a loaded study: slices in, DBTex-ready detections out.

Pipeline (``Predictor.predict``): choose slices (SLAM: ``sampling.sample_indices``, N of the D
slices; baseline: every slice) -> the model input (``inputs.volume_to_input``: optional
preprocessing, resize, grey levels to [0, 1]) -> model -> post-processing (``postprocess``:
candidate floor, NMS across overlapping boxes, background rule, at most ``max_findings`` per
volume) -> a slice and depth for every finding -> boxes mapped back to the ORIGINAL pixels
(``coords``: "stored" by default, or "display") and original slice indices.

Every finding has its own slice and Z/Depth. SLAM: the RoI heads score the box on each sampled
slice's own features (``SlamDetector.box_slice_logits``) and ``postprocess.slice_run`` takes the
run of slices around the best one; with ``ModelConfig.slice_candidates`` > 0 the fused map's best
boxes are also rescored by their best slice (``postprocess.rescore_by_slices``). Baseline: the
slices its per-slice boxes were merged over
(``slam.detection.baseline``). Findings are candidates down to a low floor (0.05, what the DBTex
CSV and a FROC need); the model's operating point (``ModelConfig.score_threshold``, chosen on
validation: ``Predictor.threshold``) says which count as findings (:func:`verdict`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from slam.detection.config import ModelConfig
from slam.detection.findings import Detection, StudyPrediction
from slam.detection.inputs import input_scale, volume_to_input
from slam.detection.model import load_model
from slam.detection.postprocess import (
    PostProcess,
    keep_best,
    rescore_by_slices,
    slam_candidates,
    slice_run,
    slice_weights_over_volume,
    softmax,
)
from slam.errors import SlamError

COORDS = ("stored", "display")


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class Predictor:
    """Runs a SLAM or baseline model on studies (``slam.io.Study``); see the module docstring.

    ``model`` is a loaded model (``slam.detection.model.load_model``); it is moved to ``device``
    (default: CUDA when present, else CPU), put in eval mode and, on CPU, switched to
    channels-last memory (faster convolutions). The input is made as the model was trained
    (its ``ModelConfig``: slices, sampling, input size, ``preprocess``); ``preprocess`` None
    follows the config, and an explicit value that disagrees with it is a SlamError (the
    detections would be silently wrong). ``threshold`` (None: the config's ``score_threshold``) is
    the operating point findings are read at; ``max_detections`` None is the config's
    ``max_findings``; the other keywords are :class:`PostProcess`'s (``score_threshold`` there is
    the candidate floor).
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | None = None,
        preprocess: bool | None = None,
        score_threshold: float = 0.05,
        nms_iou: float = 0.3,
        nms_inside: float = 0.7,
        background_fraction: float = 0.9,
        background_level: float = 0.1,
        depth_fraction: float = 0.5,
        max_detections: int | None = None,
        coords: str = "stored",
        baseline_chunk: int = 8,
        threshold: float | None = None,
    ):
        if coords not in COORDS:
            raise SlamError(f"coords {coords!r} is unknown; accepted: {', '.join(COORDS)}")
        self.device = torch.device(device or default_device())
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise SlamError("device cuda was asked for but no CUDA GPU is available; use --device cpu")
        self.config: ModelConfig = model.config
        if preprocess is not None and preprocess != self.config.preprocess:
            trained = "preprocessed" if self.config.preprocess else "raw (unpreprocessed)"
            raise SlamError(f"this model was trained on {trained} slices (its config: preprocess "
                            f"{str(self.config.preprocess).lower()}); running it with preprocess "
                            f"{str(preprocess).lower()} gives wrong detections: leave it unset to follow the model")  # fmt: skip
        max_detections = self.config.max_findings if max_detections is None else max_detections
        self.threshold = self.config.score_threshold if threshold is None else float(threshold)
        if max_detections < 1 or not 0.0 <= self.threshold <= 1.0 or not 0.0 <= score_threshold <= 1.0:
            raise SlamError(f"max detections {max_detections}, threshold {self.threshold:g}, candidate floor "
                            f"{score_threshold:g}: accepted: at least 1 detection, thresholds in [0, 1]")  # fmt: skip
        self.model = model.to(self.device).eval()
        if self.device.type == "cpu":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.preprocess = self.config.preprocess
        self.post = PostProcess(score_threshold, nms_iou, nms_inside, background_fraction, background_level,
                                depth_fraction, max_detections)  # fmt: skip
        self.coords = coords
        self.baseline_chunk = baseline_chunk

    @classmethod
    def from_weights(cls, path: str | Path, device: str | None = None, **kwargs) -> Predictor:
        return cls(load_model(path), device=device, **kwargs)

    def chosen_slices(self, depth: int) -> np.ndarray:
        """Original indices of the slices the model sees: (N,) for SLAM, (D,) for the baseline."""
        if self.config.kind == "baseline":
            return np.arange(depth, dtype=np.int64)
        from slam.detection.sampling import sample_indices

        return sample_indices(depth, self.config.num_slices, self.config.sampling)

    def prepare(self, study) -> np.ndarray:
        """The model input of ``study``: (n, h, w) float32 in [0, 1] of :meth:`chosen_slices`."""
        return volume_to_input(
            study, self.chosen_slices(study.depth), self.config.input_size, self.preprocess, self.config.grey_levels
        )

    @torch.inference_mode()
    def predict(self, study, volume: np.ndarray | None = None) -> StudyPrediction:
        """Detections for one study, in original pixels (``coords`` frame) and original slices.

        ``volume``: the study's :meth:`prepare` output when already built (a batch loader worker
        builds it, so the pixels never cross processes); then only the study's shape and
        orientation are read, not its pixels.
        """
        timings = {}
        t0 = time.perf_counter()
        indices = self.chosen_slices(study.depth)
        volume = self.prepare(study) if volume is None else volume
        timings["input"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        tensor = torch.from_numpy(volume).to(self.device)
        if self.config.kind == "baseline":
            from slam.detection.baseline import detect_per_slice

            boxes, scores, z, depth, slices, weights, rep = detect_per_slice(self, tensor, indices, study.depth)
            keep = keep_best(boxes, scores, self.post)
            boxes, scores, z, depth, slices = boxes[keep], scores[keep], z[keep], depth[keep], slices[keep]
            logits = None
        else:
            boxes, scores, z, depth, slices, weights, rep, logits = self._detect_slam(tensor, indices, study.depth)
        timings["model"] = time.perf_counter() - t1
        detections = self.to_original(study, boxes, scores, z, depth, slices)
        timings["total"] = time.perf_counter() - t0
        return StudyPrediction(detections, rep, weights, indices, logits, self.coords, timings, self.threshold)

    def _detect_slam(self, volume: torch.Tensor, indices: np.ndarray, depth: int):
        det, logits, levels, size = self.model.detect_volume(volume)
        logits = logits.float().cpu().numpy()
        weights = softmax(logits)
        pool = self.config.slice_candidates
        # rescoring: the floor applies to the rescored boxes, so the pool is taken below it
        post = replace(self.post, score_threshold=0.0, max_detections=pool) if pool else self.post
        boxes, scores = slam_candidates(det, weights, volume, post)
        per_slice = self.model.box_slice_logits(levels, torch.from_numpy(boxes).to(self.device), size)
        per_slice = per_slice.double().cpu().numpy()
        if pool:  # rescored on the probabilities, the slice found on the logits
            boxes, scores, keep = rescore_by_slices(boxes, scores, 0.5 + 0.5 * np.tanh(per_slice / 2), self.post)  # sigmoid
            per_slice = per_slice[keep]
        runs = np.array([slice_run(s, indices, self.post.depth_fraction) for s in per_slice], np.int64).reshape(-1, 3)
        return (boxes, scores, runs[:, 1], runs[:, 2], runs[:, 0], slice_weights_over_volume(weights, indices, depth),
                int(indices[int(np.argmax(weights))]), logits)  # fmt: skip

    def to_original(self, study, boxes, scores, z, depth, slices=None) -> list[Detection]:
        """Input-pixel boxes (K, 4) x1, y1, x2, y2 with their z, depth and slice (K,) (None: the middle
        of each run) -> Detections in original pixels (``coords`` frame), clipped to the image, best
        score first, at most ``max_detections``."""
        sx, sy = input_scale(study, self.config.input_size)
        slices = [None] * len(scores) if slices is None else slices
        out = []
        for (x1, y1, x2, y2), s, zi, di, si in zip(boxes, scores, z, depth, slices, strict=True):
            x, y = max(0.0, x1 * sx), max(0.0, y1 * sy)
            w, h = min(study.width, x2 * sx) - x, min(study.height, y2 * sy) - y
            if self.coords == "stored":
                x, y, w, h = study.box_to_stored(x, y, w, h)
            out.append(Detection(float(x), float(y), float(w), float(h), int(zi), int(di), float(s),
                                 None if si is None else int(si)))  # fmt: skip
        out.sort(key=lambda d: -d.score)
        return out[: self.post.max_detections]
