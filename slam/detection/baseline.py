"""The per-slice baseline: a 2D torchvision Faster R-CNN on every slice, boxes merged into 3D findings.

The model is ``slam.detection.model.BaselineDetector`` (same feature extractor, FPN, anchors and
heads as SLAM, ``ModelConfig(kind="baseline")``); ``slam.detection.predictor.Predictor`` runs it with
the same input pipeline, post-processing and output format, so the two are compared on
the same studies with the same evaluation.

Merging rule: after the per-slice post-processing (score threshold, background rule,
NMS), two boxes are linked when their slices are at most ``gap`` (2) apart and their 2D
IoU is >= ``iou`` (0.3); each connected group is one finding: its 2D box and score are
those of the group's best-scoring box, its slice that box's slice; Z and Depth span the group's slices,
made symmetric about that slice (as a mass's extent is about its central slice; narrowed where the
volume ends), so that Z + Depth/2, DBTex's slice of a finding, is the finding's own slice. The volume's findings then go through the same NMS across overlapping
boxes and cap as SLAM's (``slam.detection.postprocess.keep_best``, in the predictor).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torchvision.ops import box_iou

from slam.detection.postprocess import filter_boxes


def merge_slices(
    boxes: list[np.ndarray], scores: list[np.ndarray], slices: np.ndarray, gap: int = 2, iou: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-slice boxes -> 3D findings.

    Args:
        boxes: one (K_i, 4) float array per slice, x1, y1, x2, y2.
        scores: one (K_i,) float array per slice.
        slices: (S,) original index of each slice, increasing.
        gap: largest slice distance between linked boxes.
        iou: smallest 2D IoU between linked boxes.

    Returns:
        boxes (F, 4), scores (F,), z (F,) int64, depth (F,) int64, slice (F,) int64 (that of
        the finding's best box); best score first.
    """
    counts = [len(s) for s in scores]
    if sum(counts) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), *(np.zeros(0, np.int64) for _ in range(3))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    all_boxes = np.concatenate([np.asarray(b, np.float32).reshape(-1, 4) for b in boxes])
    all_scores = np.concatenate([np.asarray(s, np.float32) for s in scores])
    all_slices = np.repeat(np.asarray(slices, np.int64), counts)
    # Links only between slices within ``gap``: one small IoU matrix per slice pair, never (K, K).
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for a in range(len(counts)):
        for b in range(a + 1, len(counts)):
            if slices[b] - slices[a] > gap:
                break
            if counts[a] and counts[b]:
                ious = box_iou(torch.from_numpy(all_boxes[offsets[a] : offsets[a + 1]]),
                               torch.from_numpy(all_boxes[offsets[b] : offsets[b + 1]])).numpy()  # fmt: skip
                i, j = np.nonzero(ious >= iou)
                rows.append(i + offsets[a])
                cols.append(j + offsets[b])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    n = len(all_scores)
    graph = coo_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(component.tolist()):
        groups.setdefault(c, []).append(i)
    findings = []
    lowest, highest = int(slices[0]), int(slices[-1])
    for members in groups.values():
        best = max(members, key=lambda i: all_scores[i])
        at = int(all_slices[best])
        half = min(max(at - int(all_slices[members].min()), int(all_slices[members].max()) - at),
                   at - lowest, highest - at)  # centred, within the volume
        findings.append((all_scores[best], all_boxes[best], at - half, 2 * half + 1, at))
    findings.sort(key=lambda f: -f[0])
    return (
        np.stack([f[1] for f in findings]).astype(np.float32),
        np.array([f[0] for f in findings], np.float32),
        np.array([f[2] for f in findings], np.int64),
        np.array([f[3] for f in findings], np.int64),
        np.array([f[4] for f in findings], np.int64),
    )


def detect_per_slice(predictor, volume: torch.Tensor, indices: np.ndarray, depth: int):
    """Run the baseline on every slice of ``volume`` (S, h, w) in chunks and merge into findings.

    Returns boxes (F, 4) input pixels, scores (F,), z (F,), depth (F,), slice (F,) (not yet
    suppressed across findings nor capped: the predictor does both for either kind), per-slice weights (D,)
    (each slice's best box score, normalised; uniform when nothing is found) and the
    representative slice (that of the best-scoring box, else the middle slice).
    """
    model = predictor.model
    per_boxes, per_scores = [], []
    for start in range(0, volume.shape[0], predictor.baseline_chunk):
        chunk = volume[start : start + predictor.baseline_chunk]
        for det, image in zip(model(chunk[:, None]), chunk, strict=True):
            b, s = filter_boxes(det, image, predictor.post)
            per_boxes.append(b)
            per_scores.append(s)
    boxes, scores, z, d, slices = merge_slices(per_boxes, per_scores, indices)
    best = np.zeros(depth, dtype=np.float32)
    for k, s in zip(indices, per_scores, strict=True):
        best[k] = max(best[k], s.max(initial=0.0))
    weights = best / best.sum() if best.sum() > 0 else np.full(depth, 1.0 / depth, dtype=np.float32)
    rep = int(indices[int(np.argmax(best))]) if best.sum() > 0 else depth // 2
    return boxes, scores, z, d, slices, weights.astype(np.float32), rep
