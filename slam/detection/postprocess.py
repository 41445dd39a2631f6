"""Post-processing of raw detector output, for inference (``slam.detection.predictor``) and
validation during training (``train.validate``) alike: candidate floor, NMS across overlapping
boxes, the background rule, at most a few findings per volume, and the depth of a finding.

Order (:func:`filter_boxes`, :func:`keep_best`): keep scores >= ``score_threshold`` (a low
candidate floor, 0.05: every kept box goes to the CSV, as a FROC needs); class-agnostic greedy NMS
by decreasing score, a box dropped when its IoU with a better one is > ``nms_iou`` (0.3) OR when
>= ``nms_inside`` (0.7) of the smaller box's area lies inside the other (a box inside another is
the same finding); the background rule; the best ``max_detections`` (the model's
``max_findings``) per volume. The operating point that turns candidates into "findings" is the
model's ``score_threshold`` (``Predictor.threshold``), not this floor.

Background rule (design.md §5): drop a box when >= 90 % of the input pixels inside it, on the input
slice it is reported on, are < 0.1 (it sits on the background).

Depth of a finding (:func:`slice_run`): from a score per sampled slice, s (N,). For SLAM, s is the
RoI heads' lesion logit of the box on each sampled slice's own features
(``SlamDetector.box_slice_logits``: logits, as the float32 probabilities of a clear mass saturate at
1.0 over many slices and would hide its sharpest one); the box's floor is subtracted, c = s - min(s),
p* = argmax c is the finding's slice, and the finding spans the contiguous run of sampled positions around p* with
c >= ``fraction`` (0.5) x c[p*]; Z = original index of the first, Depth = original index of the
last - Z + 1. The finding's slice is refined between sampled slices by the parabola through p* and
its neighbours, and the run is made symmetric about it (widened to its longer side, narrowed where
the sampled range ends), so that Z + Depth/2, DBTex's slice of a finding, is the finding's own slice. A flat s (c[p*] ~ 0: no depth evidence) spans every sampled slice, its slice the
middle one. The attention depth (:func:`attention_depth`: the same run on the softmax weights,
without the floor) is what training's validation uses, which has no per-slice features.

``slice_weights_over_volume`` spreads the attention over all D original slices: weights of repeated
sampled indices are summed, slices between sampled ones are linearly interpolated, and the result
is normalised to sum 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

FLAT = 1e-4  # a per-slice score range below this carries no depth information


@dataclass(frozen=True)
class PostProcess:
    """Post-processing settings (the defaults are ``slam predict``'s)."""

    score_threshold: float = 0.05  # candidate floor: keep boxes scoring at least this
    nms_iou: float = 0.3  # NMS: drop a box overlapping a better one by more than this IoU ...
    nms_inside: float = 0.7  # ... or with at least this share of the smaller box inside the other
    background_fraction: float = 0.9  # background rule: this share of the box's pixels ...
    background_level: float = 0.1  # ... below this input level drops the box
    depth_fraction: float = 0.5  # finding depth: slices whose score is >= this x the best one's (above the floor)
    max_detections: int = 4  # most findings per volume (the model's max_findings)


def suppress_overlaps(boxes: np.ndarray, scores: np.ndarray, iou: float, inside: float) -> np.ndarray:
    """Class-agnostic greedy NMS: boxes (K, 4) x1, y1, x2, y2 and scores (K,) -> the kept indices
    (M,) int64, best score first. A box goes when its IoU with a kept one is > ``iou`` or when
    >= ``inside`` of the smaller of the two boxes' areas is their intersection."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    kept: list[int] = []
    for i in order:
        if kept:
            k = np.array(kept)
            w = np.clip(np.minimum(boxes[k, 2], boxes[i, 2]) - np.maximum(boxes[k, 0], boxes[i, 0]), 0, None)
            h = np.clip(np.minimum(boxes[k, 3], boxes[i, 3]) - np.maximum(boxes[k, 1], boxes[i, 1]), 0, None)
            inter = w * h
            union = area[k] + area[i] - inter
            smaller = np.minimum(area[k], area[i])
            # Products, not ratios: a zero-area box divides nothing and is never "inside" another.
            if ((inter > iou * union) | ((inter >= inside * smaller) & (smaller > 0))).any():
                continue
        kept.append(int(i))
    return np.array(kept, np.int64)


def keep_best(boxes: np.ndarray, scores: np.ndarray, post: PostProcess) -> np.ndarray:
    """Indices of the volume's findings: :func:`suppress_overlaps`, then the best ``max_detections``."""
    return suppress_overlaps(boxes, scores, post.nms_iou, post.nms_inside)[: post.max_detections]


def filter_boxes(det: dict, image: torch.Tensor, post: PostProcess) -> tuple[np.ndarray, np.ndarray]:
    """One image's raw detections (``boxes`` (K, 4) xyxy, ``scores`` (K,) tensors) -> candidate
    floor, NMS across overlapping boxes, background rule on ``image`` (h, w) in [0, 1] -> boxes
    (M, 4) float32 and scores (M,) float32 numpy, best score first (not yet capped)."""
    keep = det["scores"] >= post.score_threshold
    boxes = det["boxes"][keep].float().cpu().numpy()
    scores = det["scores"][keep].float().cpu().numpy()
    order = suppress_overlaps(boxes, scores, post.nms_iou, post.nms_inside)
    boxes, scores = boxes[order].reshape(-1, 4), scores[order]
    img = image.float().cpu().numpy()
    fg = np.array([not on_background(b, img, post.background_fraction, post.background_level) for b in boxes], bool)
    return boxes[fg], scores[fg]


def slam_candidates(det: dict, weights: np.ndarray, volume: torch.Tensor, post: PostProcess
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One SLAM volume's raw detections, attention weights (N,) and input volume (N, h, w) in [0, 1]
    -> boxes (K, 4) xyxy input pixels and scores (K,), best first, at most ``max_detections``
    (background rule on the attention's representative slice: the fused map is one 2D map)."""
    boxes, scores = filter_boxes(det, volume[int(np.argmax(weights))], post)
    return boxes[: post.max_detections], scores[: post.max_detections]


def rescore_by_slices(boxes: np.ndarray, scores: np.ndarray, per_slice: np.ndarray, post: PostProcess
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SLAM's slice rescoring (``ModelConfig.slice_candidates``): boxes (K, 4), their fused-map scores
    (K,) and their lesion probabilities on each sampled slice (K, N) -> each box scored the higher of its
    fused and its best slice score, then the candidate floor, NMS across overlapping boxes and the best
    ``max_detections``: (boxes (M, 4), scores (M,) float32, the kept rows' indices (M,)), best first."""
    if len(scores):
        scores = np.maximum(scores, per_slice.max(1)).astype(np.float32)
    floor = np.flatnonzero(scores >= post.score_threshold)
    keep = floor[suppress_overlaps(boxes[floor], scores[floor], post.nms_iou, post.nms_inside)][: post.max_detections]
    return boxes[keep].reshape(-1, 4), scores[keep], keep


def slam_findings(det: dict, logits: np.ndarray, volume: torch.Tensor, indices: np.ndarray, post: PostProcess
                  ) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """Training's validation (no per-slice features at hand): :func:`slam_candidates` from the slice
    logits (N,), and the attention's shared Z and Depth in original slices (:func:`attention_depth`)
    -> boxes (K, 4), scores (K,), Z, Depth, attention weights (N,) (softmax of the logits)."""
    weights = softmax(logits)
    boxes, scores = slam_candidates(det, weights, volume, post)
    z, depth = attention_depth(weights, indices, post.depth_fraction)
    return boxes, scores, z, depth, weights


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax of (N,) logits, float32."""
    return torch.from_numpy(np.asarray(logits, np.float32)).softmax(0).numpy()


def on_background(box_xyxy: np.ndarray, image: np.ndarray, fraction: float = 0.9, level: float = 0.1) -> bool:
    """True when >= ``fraction`` of the (h, w) [0, 1] ``image`` pixels in the box are < ``level``."""
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


def _run_around(keep: np.ndarray, p: int) -> tuple[int, int]:
    """First and last position of the contiguous True run of ``keep`` (N,) that contains ``p``."""
    first = last = p
    while first > 0 and keep[first - 1]:
        first -= 1
    while last < len(keep) - 1 and keep[last + 1]:
        last += 1
    return first, last


def attention_depth(weights: np.ndarray, indices: np.ndarray, fraction: float = 0.5) -> tuple[int, int]:
    """(Z, Depth) in original slices from the sampled attention weights (N,) (see module docstring)."""
    p = int(np.argmax(weights))
    first, last = _run_around(weights >= fraction * weights[p], p)
    z = int(indices[first])
    return z, int(indices[last]) - z + 1


def slice_run(scores: np.ndarray, indices: np.ndarray, fraction: float = 0.5) -> tuple[int, int, int]:
    """One finding's score on each sampled slice (N,) -> (its slice, Z, Depth) in original slices
    (``indices`` (N,), non-decreasing): the run above ``fraction`` of the peak over the box's own
    floor (see module docstring); the slice is refined between the sampled ones (:func:`peak_slice`)."""
    contrast = np.asarray(scores, np.float64) - float(np.min(scores))
    p = int(np.argmax(contrast))
    if contrast[p] < FLAT:
        return int(indices[len(indices) // 2]), int(indices[0]), int(indices[-1]) - int(indices[0]) + 1
    first, last = _run_around(contrast >= fraction * contrast[p], p)
    best = peak_slice(contrast, indices, p)
    # centred on the finding's slice, as a mass's extent is on its central slice: DBTex reads a finding's
    # slice as Z + Depth/2, which a lopsided run (noise on one side) would pull away from it
    half = min(max(best - int(indices[first]), int(indices[last]) - best),
               best - int(indices[0]), int(indices[-1]) - best)  # centred, within the sampled range
    return best, best - half, 2 * half + 1


def peak_slice(values: np.ndarray, indices: np.ndarray, p: int) -> int:
    """The original slice of the peak of ``values`` (N,) at sampled position ``p``, refined by the
    parabola through it and its two neighbours (sampled slices are ~D/N apart: a mass between two
    of them peaks between them), rounded and kept between the neighbours. At either end, or where
    neighbours share an original index (D < N), the sampled slice itself."""
    if not 0 < p < len(values) - 1:
        return int(indices[p])
    (x0, x1, x2), (y0, y1, y2) = (float(i) for i in indices[p - 1 : p + 2]), values[p - 1 : p + 2]
    if not x0 < x1 < x2:
        return int(indices[p])
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
    if a >= 0:  # not a maximum (a plateau): no refinement
        return int(indices[p])
    return int(round(float(np.clip(-b / (2 * a), x0, x2))))
