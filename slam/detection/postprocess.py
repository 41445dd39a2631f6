"""Post-processing of raw detector output: the background rule and the depth of a finding.

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

import numpy as np


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
