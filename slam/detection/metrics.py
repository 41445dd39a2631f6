"""The DBTex detection metric and FROC curve (design.md §2), and FROC plots.

A prediction is a true positive (TP) for a ground-truth (GT) box of the same StudyUID +
View when the 2D distance between box centres is <= max(GT diagonal / 2, ``min_dist``)
AND |(Z + Depth / 2) - GT Slice| <= VolumeSlices / 4. A prediction that is a TP for
several GT boxes is assigned to the nearest one (3D centre distance, x/y in pixels and z
in slices, as DBTex does); a GT box counts once however many predictions hit it.

The FROC sweep follows the DBTex reference: thresholds at every TP score plus one above
the highest and one below the lowest score; at each, sensitivity = distinct GT boxes hit /
all GT boxes and FPs/volume = non-TP predictions / volumes; values at 1..4 FP/volume are
linear interpolations between those points.

Inputs are the row dataclasses of ``slam.io.csv_formats`` (any objects with the same
attributes work): predictions ``study_uid, view, x, y, width, height, z, depth, score``;
GT boxes ``study_uid, view, x, y, width, height, slice, volume_slices``; label rows
``study_uid, view`` (one per volume evaluated, with or without lesions).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slam.errors import SlamError

DBTEX_MIN_DIST_PX = 100.0  # DBTex's TP distance floor: ~10 mm at BCS-DBT's ~0.1 mm pixels
FPS_ALL = (2.0,)
FPS_POSITIVE = (1.0, 2.0, 3.0, 4.0)


def _centre(box) -> tuple[float, float]:
    return box.x + box.width / 2.0, box.y + box.height / 2.0


def is_true_positive(pred, box, min_dist: float = DBTEX_MIN_DIST_PX) -> bool:
    """The DBTex TP rule for one prediction and one GT box (same volume assumed)."""
    (px, py), (tx, ty) = _centre(pred), _centre(box)
    radius = max(math.hypot(box.width, box.height) / 2.0, min_dist)
    slice_diff = abs(pred.z + pred.depth / 2.0 - box.slice)
    return math.hypot(px - tx, py - ty) <= radius and slice_diff <= box.volume_slices / 4.0


def _distance_3d(pred, box) -> float:
    (px, py), (tx, ty) = _centre(pred), _centre(box)
    return math.sqrt((px - tx) ** 2 + (py - ty) ** 2 + (pred.z + pred.depth / 2.0 - box.slice) ** 2)


def match_predictions(predictions: Sequence, boxes: Sequence, min_dist: float = DBTEX_MIN_DIST_PX) -> np.ndarray:
    """For each prediction, the index into ``boxes`` of the GT box it hits, or -1 (a FP). (P,) int64."""
    by_volume: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, box in enumerate(boxes):
        by_volume[(box.study_uid, box.view)].append(i)
    matched = np.full(len(predictions), -1, dtype=np.int64)
    for p, pred in enumerate(predictions):
        hits = [i for i in by_volume.get((pred.study_uid, pred.view), []) if is_true_positive(pred, boxes[i], min_dist)]
        if hits:
            matched[p] = min(hits, key=lambda i: _distance_3d(pred, boxes[i]))
    return matched


@dataclass(frozen=True)
class FrocCurve:
    """FROC points in order of decreasing threshold: (T,) arrays; fps is non-decreasing."""

    thresholds: np.ndarray
    fps_per_volume: np.ndarray
    sensitivity: np.ndarray
    n_volumes: int
    n_boxes: int

    def sensitivity_at(self, fps: Sequence[float]) -> list[float]:
        """Sensitivity at each FP/volume value, linearly interpolated (held flat past the ends)."""
        return [float(np.interp(x, self.fps_per_volume, self.sensitivity)) for x in fps]


def froc_curve(scores: np.ndarray, matched: np.ndarray, n_volumes: int, n_boxes: int) -> FrocCurve:
    """FROC over predictions with ``scores`` (P,) and ``matched`` GT indices (P,) (-1 = FP)."""
    scores = np.asarray(scores, dtype=np.float64)
    matched = np.asarray(matched, dtype=np.int64)
    if n_volumes <= 0 or n_boxes <= 0:
        raise SlamError("a FROC curve needs at least one volume and one ground-truth box")
    if scores.size == 0:
        zero = np.zeros(1)
        return FrocCurve(np.array([np.inf]), zero, zero, n_volumes, n_boxes)
    tp_scores = scores[matched >= 0]
    thresholds = np.sort(np.concatenate([[scores.max() + 1.0], tp_scores, [scores.min() - 1.0]]))[::-1]
    order = np.argsort(-scores, kind="stable")
    s_sorted, m_sorted = scores[order], matched[order]
    fps, sens = [], []
    for th in thresholds:
        k = int(np.searchsorted(-s_sorted, -th, side="right"))  # predictions with score >= th
        hit = m_sorted[:k]
        sens.append(np.unique(hit[hit >= 0]).size / n_boxes)
        fps.append(np.count_nonzero(hit < 0) / n_volumes)
    return FrocCurve(thresholds, np.array(fps), np.array(sens), n_volumes, n_boxes)


@dataclass(frozen=True)
class Evaluation:
    """DBTex results and the two FROC curves (all volumes; volumes with lesions)."""

    sensitivity_at_2_fps_all: float
    sensitivity_at_fps_positive: dict[float, float]
    mean_sensitivity_positive: float
    n_volumes: int
    n_positive_volumes: int
    n_boxes: int
    n_predictions: int
    n_true_positive_predictions: int
    min_dist: float
    curve_all: FrocCurve
    curve_positive: FrocCurve

    def to_dict(self) -> dict:
        out = {"sensitivity_at_2_fps_all": self.sensitivity_at_2_fps_all}
        out.update({f"sensitivity_at_{int(k)}_fps_positive": v for k, v in self.sensitivity_at_fps_positive.items()})
        out["mean_sensitivity_positive"] = self.mean_sensitivity_positive
        out.update(
            n_volumes=self.n_volumes, n_positive_volumes=self.n_positive_volumes, n_boxes=self.n_boxes,
            n_predictions=self.n_predictions, n_true_positive_predictions=self.n_true_positive_predictions,
            min_dist=self.min_dist,
        )  # fmt: skip
        return out


def evaluate(
    predictions: Sequence, boxes: Sequence, labels: Sequence, min_dist: float = DBTEX_MIN_DIST_PX
) -> Evaluation:
    """The DBTex metric: sensitivity at 2 FP/volume over all volumes in ``labels``, and the mean
    sensitivity at 1, 2, 3, 4 FP/volume over the volumes that have GT boxes.

    Every prediction and GT box must belong to a volume listed in ``labels`` (else SlamError:
    a mismatch of files would silently skew the FP count).
    """
    if min_dist < 0:
        raise SlamError(f"min_dist must be >= 0 pixels; got {min_dist}")
    volumes = [(lab.study_uid, lab.view) for lab in labels]
    if not volumes:
        raise SlamError("the labels list no volume (StudyUID + View): nothing to evaluate")
    if len(set(volumes)) != len(volumes):
        dup = next(v for v in volumes if volumes.count(v) > 1)
        raise SlamError(f"volume StudyUID={dup[0]} View={dup[1]} is listed twice in the labels")
    volume_set = set(volumes)
    slices_per_volume: dict[tuple[str, str], int] = {}
    for box in boxes:
        key = (box.study_uid, box.view)
        if key not in volume_set:
            raise SlamError(f"GT box for StudyUID={key[0]} View={key[1]} has no row in the labels")
        if slices_per_volume.setdefault(key, box.volume_slices) != box.volume_slices:
            raise SlamError(f"GT boxes of StudyUID={key[0]} View={key[1]} disagree on VolumeSlices")
    for pred in predictions:
        if (pred.study_uid, pred.view) not in volume_set:
            raise SlamError(f"prediction for StudyUID={pred.study_uid} View={pred.view} has no row in the labels")
    if not boxes:
        raise SlamError("there are no GT boxes: sensitivity is undefined")

    matched = match_predictions(predictions, boxes, min_dist)
    scores = np.array([p.score for p in predictions], dtype=np.float64)
    curve_all = froc_curve(scores, matched, len(volumes), len(boxes))
    positive = np.array([(p.study_uid, p.view) in slices_per_volume for p in predictions], dtype=bool)
    curve_pos = froc_curve(scores[positive], matched[positive], len(slices_per_volume), len(boxes))
    at_pos = dict(zip(FPS_POSITIVE, curve_pos.sensitivity_at(FPS_POSITIVE), strict=True))
    return Evaluation(
        sensitivity_at_2_fps_all=curve_all.sensitivity_at(FPS_ALL)[0],
        sensitivity_at_fps_positive=at_pos,
        mean_sensitivity_positive=float(np.mean(list(at_pos.values()))),
        n_volumes=len(volumes), n_positive_volumes=len(slices_per_volume), n_boxes=len(boxes),
        n_predictions=len(predictions), n_true_positive_predictions=int(np.count_nonzero(matched >= 0)),
        min_dist=float(min_dist), curve_all=curve_all, curve_positive=curve_pos,
    )  # fmt: skip


def best_hits(predictions: Sequence, boxes: Sequence, min_dist: float = DBTEX_MIN_DIST_PX) -> dict[int, int]:
    """For every GT box some prediction hits (DBTex rule, :func:`match_predictions`): box index ->
    index of its highest-scoring hit, the one that finds it first as the FROC threshold falls."""
    best: dict[int, int] = {}
    for p, b in enumerate(match_predictions(predictions, boxes, min_dist).tolist()):
        if b >= 0 and (b not in best or predictions[p].score > predictions[best[b]].score):
            best[b] = p
    return best


def save_froc_png(evaluation: Evaluation, path: str | Path, max_fps: float = 5.0) -> Path:
    """Both FROC curves of one evaluation (all volumes; volumes with lesions) as a PNG; returns the path."""
    title = f"FROC (mean sensitivity 1-4 FP/vol: {evaluation.mean_sensitivity_positive:.3f})"
    curves = {"all volumes": evaluation.curve_all, "volumes with lesions": evaluation.curve_positive}
    return save_froc_curves_png(curves, path, title, max_fps)


def save_froc_curves_png(curves: dict[str, FrocCurve], path: str | Path, title: str, max_fps: float = 5.0) -> Path:
    """FROC curves, one line per named curve (e.g. two models on one set), in one PNG file
    (matplotlib, no display needed), with the 1-4 FP/volume marks; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for name, curve in curves.items():
        ax.plot(curve.fps_per_volume, curve.sensitivity, marker=".", label=name)
    for x in FPS_POSITIVE:
        ax.axvline(x, color="0.85", lw=0.8, zorder=0)
    ax.set(xlim=(0, max_fps), ylim=(0, 1.02), xlabel="false positives per volume", ylabel="sensitivity")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="best")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
