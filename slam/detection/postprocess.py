"""Post-processing of raw detector output, for inference (``slam.detection.predictor``) and
validation during training (``train.validate``) alike: score threshold, NMS, the background
rule and the depth of a finding.

Background rule (design.md): drop a box when >= 90 % of the input pixels inside it, on the input
slice it is reported on, are < 0.1 (it sits on the background).

Depth (SLAM): the model fuses the slices into one map per volume, so depth comes from the slice
attention. Let w = softmax(logits) over the N sampled slices and p* = argmax w (the representative
slice). The finding spans the contiguous run of sampled positions around p* whose weight is
>= ``fraction`` (0.5) x w[p*]; Z = original index of the first of them, Depth = original index of
the last - Z + 1.

``slice_weights_over_volume`` spreads the attention over all D original slices: weights of repeated
sampled indices are summed, slices between sampled ones are linearly interpolated, and the result
is normalised to sum 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class PostProcess:
    """Post-processing settings (the defaults are ``slam predict``'s)."""

    score_threshold: float = 0.05  # keep boxes scoring at least this
    nms_iou: float = 0.5  # NMS: drop a box overlapping a better one by more than this IoU
    background_fraction: float = 0.9  # background rule: this share of the box's pixels ...
    background_level: float = 0.1  # ... below this input level drops the box
    depth_fraction: float = 0.5  # SLAM depth: slices whose weight is >= this x the best one's
    max_detections: int = 20  # most findings per volume


def filter_boxes(det: dict, image: torch.Tensor, post: PostProcess) -> tuple[np.ndarray, np.ndarray]:
    """One image's raw detections (``boxes`` (K, 4) xyxy, ``scores`` (K,) tensors) -> score
    threshold, NMS, background rule on ``image`` (h, w) in [0, 1] -> boxes (M, 4) float32 and
    scores (M,) float32 numpy, best score first."""
    from torchvision.ops import nms

    keep = det["scores"] >= post.score_threshold
    boxes, scores = det["boxes"][keep], det["scores"][keep]
    if not len(scores):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    order = nms(boxes.float(), scores.float(), post.nms_iou)  # indices by decreasing score
    boxes, scores = boxes[order].float().cpu().numpy(), scores[order].float().cpu().numpy()
    img = image.float().cpu().numpy()
    fg = np.array([not on_background(b, img, post.background_fraction, post.background_level) for b in boxes], bool)
    return boxes[fg], scores[fg]


def slam_findings(det: dict, logits: np.ndarray, volume: torch.Tensor, indices: np.ndarray, post: PostProcess
                  ) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """One SLAM volume: raw detections, slice logits (N,), the input volume (N, h, w) in [0, 1] and
    the original index of each sampled slice (N,) -> boxes (K, 4) xyxy input pixels and scores (K,)
    (best first, at most ``max_detections``; background rule on the representative slice), the
    findings' Z and Depth in original slices (shared: the fused map holds no per-box depth), and
    the attention weights (N,) (softmax of the logits)."""
    weights = torch.from_numpy(np.asarray(logits, np.float32)).softmax(0).numpy()
    boxes, scores = filter_boxes(det, volume[int(np.argmax(weights))], post)
    z, depth = attention_depth(weights, indices, post.depth_fraction)
    return boxes[: post.max_detections], scores[: post.max_detections], z, depth, weights


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
