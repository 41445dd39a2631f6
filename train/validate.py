"""Validation on a cache: slice-attention loss/accuracy and the DBTex metric, in input pixels.

Detections go through the same post-processing as ``slam.detection.predictor.Predictor``
(``slam.detection.postprocess.slam_findings`` with its default settings: score threshold, NMS,
background rule, attention depth); boxes stay in input pixels, so the DBTex distance floor is
``min_dist_mm`` divided by the input pixel size (the median over studies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from slam.detection.findings import Detection, dbtex_rows
from slam.detection.metrics import evaluate
from slam.detection.postprocess import PostProcess, slam_findings
from slam.io.csv_formats import GroundTruthBox, Label, Prediction
from train.data import Cache
from train.runtime import Runtime

TOLERANCE = 2  # sampled slices
POST = PostProcess()  # what `slam predict` applies by default


def fixed_batches(indices: np.ndarray, batch_size: int) -> Iterator[tuple[np.ndarray, int]]:
    """Chunks of exactly ``batch_size`` indices (the last one padded by repetition, so XLA sees one
    shape) and how many of each chunk are real."""
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        real = len(chunk)
        yield np.concatenate([chunk, np.repeat(chunk[:1], batch_size - real)]), real


def volumes_on(rt: Runtime, cache: Cache, chunk: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(cache.volumes[chunk]).to(rt.device).float().mul_(1.0 / 255.0)


def attention_summary(logits: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Mean cross-entropy and accuracy (argmax within +-2 sampled slices) over studies with a target."""
    known = targets >= 0
    if not known.any():
        return {"loss": float("nan"), "acc": float("nan")}
    lg, tg = torch.from_numpy(logits[known]).float(), torch.from_numpy(targets[known])
    loss = float(F.cross_entropy(lg, tg))
    acc = float(np.mean(np.abs(lg.argmax(1).numpy() - targets[known]) <= TOLERANCE))
    return {"loss": loss, "acc": acc}


@torch.no_grad()
def slice_logits(rt: Runtime, model, cache: Cache, indices: np.ndarray, batch_size: int) -> np.ndarray:
    """(len(indices), N) float32 slice logits (eval mode)."""
    model.eval()
    out = []
    for chunk, real in fixed_batches(indices, batch_size):
        with rt.autocast():
            logits = model.slice_logits(volumes_on(rt, cache, chunk))
        out.append(logits.float().cpu().numpy()[:real])
    return np.concatenate(out)


def volume_predictions(cache: Cache, i: int, det: dict, logits: np.ndarray) -> list[Prediction]:
    """One study's detections (input pixels) as DBTex rows, post-processed like ``Predictor``."""
    volume = torch.from_numpy(cache.volumes[i]).float().mul_(1.0 / 255.0)
    det = {k: v.float().cpu() for k, v in det.items()}
    boxes, scores, z, depth, _ = slam_findings(det, logits, volume, cache.indices[i], POST)
    found = [Detection(float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]), z, depth, float(s))
             for b, s in zip(boxes, scores, strict=True)]  # fmt: skip
    return dbtex_rows(*(str(v) for v in cache.ids[i]), found)


def dbtex_on_cache(cache: Cache, indices: np.ndarray, predictions: list[Prediction],
                   min_dist_mm: float) -> dict[str, float]:
    """DBTex metric of ``predictions`` (input pixels) against the cached GT of studies ``indices``."""
    labels, boxes = [], []
    for i in indices:
        pid, uid, view = (str(v) for v in cache.ids[i])
        labels.append(Label(pid, uid, view, 0, 0, 0, 0))
        for k in range(int(cache.n_boxes[i])):
            x1, y1, x2, y2 = (float(v) for v in cache.boxes[i, k])
            boxes.append(GroundTruthBox(pid, uid, view, str(k + 1), int(cache.box_slices[i, k]), x1, y1, x2 - x1,
                                        y2 - y1, "", 0, int(cache.depth[i])))  # fmt: skip
    if not boxes:
        return {}
    min_dist = min_dist_mm / float(np.nanmedian(cache.mm_per_px[indices]))
    result = evaluate(predictions, boxes, labels, min_dist=min_dist)
    return {"dbtex_mean_sens": result.mean_sensitivity_positive, "sens_at_2fp_all": result.sensitivity_at_2_fps_all}


@torch.no_grad()
def detection_metrics(rt: Runtime, model, cache: Cache, batch_size: int, min_dist_mm: float = 10.0,
                      detect: Callable | None = None) -> dict[str, float]:
    """DBTex metric and slice attention (cross-entropy ``val_loss``, accuracy) over every study of
    ``cache`` (eval mode).

    ``detect(chunk) -> (detections, logits)`` replaces the full model (stage 2's feature cache).
    """
    model.eval()
    indices = np.arange(len(cache))
    all_logits, predictions = [], []
    for chunk, real in fixed_batches(indices, batch_size):
        with rt.autocast():
            dets, logits = detect(chunk) if detect else model(volumes_on(rt, cache, chunk))
        logits = logits.float().cpu().numpy()
        for b in range(real):
            predictions += volume_predictions(cache, int(chunk[b]), dets[b], logits[b])
        all_logits.append(logits[:real])
    att = attention_summary(np.concatenate(all_logits), cache.slice_target)
    return {"val_loss": att["loss"], "val_attention_acc": att["acc"], **{f"val_{k}": v for k, v in
            dbtex_on_cache(cache, indices, predictions, min_dist_mm).items()}}  # fmt: skip
