"""Train the per-slice baseline (``kind: baseline``): one sample is one slice, from the slice cache.

    python -m train.baseline --config train/configs/baseline.yaml [--resume] [--set key=value]

Each step draws ``data.batch_size`` slices from the shards of ``data.train`` (``train.slices``;
shards that appear while training are picked up at the next epoch): ``data.positive_fraction`` of
them with a mass (its central slice or a neighbour, its box), the rest lesion-free slices; each is
augmented (zoom, flips, contrast, gamma, white or correlated noise, blur) and cropped to ``data.crop`` around a mass
(anywhere for a negative). AdamW with a linear warm-up and a cosine decay over all epochs.

After every epoch: ``last.*`` (resumable: optimizer, schedule, step, CPU time) and a validation row
in ``metrics.csv``: the DBTex metric with each central slice of ``data.val`` (and each negative
slice) scored as a one-slice volume (``val_mean_sens_2d``, 10 mm floor at ``VAL_MM_PER_PX``), a cheap
proxy for the curve; the held-out figures come from ``train.evaluate`` through the real pipeline.
``best.*`` keeps the best proxy. CPU-minutes are the process's CPU time (all threads).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from slam.detection.model import build_model, load_model, save_model
from slam.errors import SlamError
from train.config import BaselineConfig, SliceAugment, add_common_args, resolve_args
from train.slices import load_shards

VAL_MM_PER_PX = 0.68  # small phantom studies: ~260 mm field over 384 input rows


def correlated_noise(shape: tuple[int, int], sigma: float, corr_px: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise (h, w) float32 of std ``sigma``, blurred by a Gaussian of ``corr_px`` pixels (as
    detectors and reconstructions correlate it) and rescaled to keep that std; white below 0.3 px."""
    noise = rng.normal(0.0, 1.0, shape).astype(np.float32)
    if corr_px >= 0.3:
        noise = cv2.GaussianBlur(noise, (0, 0), corr_px)
        noise /= max(float(noise.std()), 1e-6)
    return noise * np.float32(sigma)


def augment_slice(image: np.ndarray, boxes: np.ndarray, aug: SliceAugment, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One slice (h, w) uint8 and its boxes (K, 4) xyxy -> zoomed, flipped, grey-level-jittered float32
    [0, 1] image and the boxes moved with it."""
    img = image.astype(np.float32) * np.float32(1.0 / 255.0)
    s = float(np.exp(rng.uniform(np.log(aug.scale[0]), np.log(aug.scale[1]))))
    if abs(s - 1.0) > 1e-3:
        img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_LINEAR)
        boxes = boxes * s
    h, w = img.shape
    if aug.flip and rng.random() < 0.5:
        img = img[:, ::-1]
        boxes = np.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1)
    if aug.flip and rng.random() < 0.5:
        img = img[::-1]
        boxes = np.stack([boxes[:, 0], h - boxes[:, 3], boxes[:, 2], h - boxes[:, 1]], 1)
    img = np.ascontiguousarray(img)
    tissue = img > 0.1  # air (0) stays air: the post-processing's background rule depends on it
    c = 1.0 + rng.uniform(-aug.contrast, aug.contrast)
    g = float(np.exp(rng.uniform(-aug.gamma, aug.gamma)))
    out = np.clip((img - 0.15) * c + 0.15 + rng.uniform(-aug.brightness, aug.brightness), 0.0, 1.0) ** g
    if rng.random() < aug.blur_p:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.2)))
    if rng.random() < aug.noise_p:
        out = out + correlated_noise(out.shape, float(rng.uniform(*aug.noise_sigma)),
                                     float(rng.uniform(*aug.noise_corr_px)), rng)
    out = np.where(tissue, np.clip(out, 0.0, 1.0), img)
    return out.astype(np.float32), boxes.astype(np.float32)


def crop_around(image: np.ndarray, boxes: np.ndarray, crop: tuple[int, int], rng: np.random.Generator,
                focus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A (ch, cw) crop holding the box ``focus`` (4,) whole, else one random box (on tissue when there is
    none), zero-padded when the image is smaller; boxes clipped to it, those keeping < half their area dropped."""
    ch, cw = crop
    h, w = image.shape
    if h < ch or w < cw:
        image = np.pad(image, ((0, max(0, ch - h)), (0, max(0, cw - w))))
        h, w = image.shape
    if focus is not None or len(boxes):
        x1, y1, x2, y2 = focus if focus is not None else boxes[rng.integers(len(boxes))]
        x_hi, y_hi = max(0, min(int(x1), w - cw)), max(0, min(int(y1), h - ch))
        # min(): a box at the image's edge, or wider than the crop, gets the crop nearest to holding it
        x0 = int(rng.integers(min(max(0, math.ceil(x2) - cw), x_hi), x_hi + 1))
        y0 = int(rng.integers(min(max(0, math.ceil(y2) - ch), y_hi), y_hi + 1))
    else:  # a negative: half the time the densest of a few crops (dense tissue mimics a mass), else any
        # crop with some tissue: the breast edge, the skin line and the image border, where a detector
        # trained on tissue crops alone fires at inference (an all-air crop teaches nothing)
        tries = [(int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))) for _ in range(6)]
        tissue = [float((image[y:y + ch, x:x + cw] > 0.1).mean()) for x, y in tries]
        edge = [o for o, t in zip(tries, tissue, strict=True) if 0.1 <= t <= 0.9]
        x0, y0 = edge[0] if edge and rng.random() < 0.5 else tries[int(np.argmax(tissue))]
    x0, y0 = min(x0, w - cw), min(y0, h - ch)
    moved = boxes - np.array([x0, y0, x0, y0], np.float32)
    clipped = np.clip(moved, 0, [cw, ch, cw, ch]).astype(np.float32)
    area = lambda b: np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)  # noqa: E731
    keep = area(clipped) >= 0.5 * np.maximum(area(moved), 1e-6)
    return image[y0:y0 + ch, x0:x0 + cw], clipped[keep]


def draw_batch(data: dict, cfg: BaselineConfig, rng: np.random.Generator, hard: np.ndarray | None = None
               ) -> tuple[torch.Tensor, list[dict]]:
    """A training batch: images (B, 1, ch, cw) float32 and torchvision targets (boxes, labels). ``hard``
    (M, 5) rows slice index, x1, y1, x2, y2 (``mine_hard_negatives``): ``data.hard_fraction`` of the draws
    without a mass become crops around one of them (with that slice's own boxes, if any, as targets)."""
    positive = np.flatnonzero(data["n_boxes"] > 0)
    negative = np.flatnonzero(data["n_boxes"] == 0)
    n_pos = round(cfg.data.batch_size * cfg.data.positive_fraction) if len(negative) else cfg.data.batch_size
    picks = np.concatenate([rng.choice(positive, n_pos), rng.choice(negative, cfg.data.batch_size - n_pos)
                            if len(negative) else np.zeros(0, np.int64)]).astype(np.int64)
    focus: list[np.ndarray | None] = [None] * len(picks)
    if hard is not None and len(hard):
        for j in range(n_pos, len(picks)):
            if rng.random() < cfg.data.hard_fraction:
                row = hard[rng.integers(len(hard))]
                picks[j], focus[j] = int(row[0]), row[1:]
    images, targets = [], []
    for i, place in zip(picks, focus, strict=True):
        boxes = data["boxes"][i, : data["n_boxes"][i]]
        if place is None:
            img, boxes = augment_slice(data["slices"][i], boxes, cfg.augment, rng)
            img, boxes = crop_around(img, boxes, cfg.data.crop, rng)
        else:  # the place moves with the slice's zoom and flips, then the crop holds it
            img, moved = augment_slice(data["slices"][i], np.concatenate([boxes, place[None]]), cfg.augment, rng)
            img, boxes = crop_around(img, moved[:-1], cfg.data.crop, rng, focus=moved[-1])
        images.append(torch.from_numpy(np.ascontiguousarray(img))[None])
        targets.append({"boxes": torch.from_numpy(boxes).reshape(-1, 4),
                        "labels": torch.ones(len(boxes), dtype=torch.int64)})
    return torch.stack(images), targets


def away_from(boxes: np.ndarray, masses: np.ndarray, gap_px: float) -> np.ndarray:
    """(K,) bool: which of ``boxes`` (K, 4) xyxy have their centre more than ``gap_px`` from every centre
    of ``masses`` (L, 4) (all of them when L is 0)."""
    centre = lambda b: np.stack([b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], 1) / 2  # noqa: E731
    return np.linalg.norm(centre(boxes)[:, None] - centre(masses)[None], axis=2).min(1, initial=np.inf) > gap_px


@torch.no_grad()
def mine_hard_negatives(model, data: dict, n: int, min_score: float, rng: np.random.Generator,
                        chunk: int = 8, device: torch.device | str = "cpu") -> np.ndarray:
    """Where ``model`` fires away from every mass on ``n`` random slices of a slice cache, scored whole as
    at inference (``filter_boxes``: NMS, background rule): (M, 5) float32 rows slice index, x1, y1, x2, y2
    in input pixels, for boxes scoring >= ``min_score`` whose centre lies > 10 mm from every box's centre
    on that slice (at most 3 per slice, best first). These are the hard negatives a random crop rarely holds."""
    from slam.detection.postprocess import PostProcess, filter_boxes

    was_training = model.training
    model.eval()
    chosen = rng.choice(len(data["slices"]), min(n, len(data["slices"])), replace=False)
    post = PostProcess(score_threshold=min_score)
    gap = 10.0 / VAL_MM_PER_PX
    rows = []
    for start in range(0, len(chosen), chunk):
        idx = chosen[start:start + chunk]
        images = torch.from_numpy(data["slices"][idx].astype(np.float32) / 255.0).to(device)
        for i, det, image in zip(idx, model(images[:, None]), images, strict=True):
            boxes, _ = filter_boxes(det, image, post)
            far = boxes[away_from(boxes, data["boxes"][i, : data["n_boxes"][i]], gap)]
            rows += [[i, *b] for b in far[:3]]
    model.train(was_training)
    return np.array(rows, np.float32).reshape(-1, 5)


def one_slice_volumes(val: dict, chosen: np.ndarray) -> tuple[list, list]:
    """DBTex labels and GT boxes for slices ``chosen`` of a slice cache, each slice a volume "val-<i>"."""
    from slam.io.csv_formats import GroundTruthBox, Label

    labels, gt = [], []
    for i in chosen:
        uid = f"val-{i}"
        labels.append(Label("P", uid, "lcc", 0, 0, 0, 0))
        # VolumeSlices 4: DBTex takes a prediction's slice as Z + Depth / 2 (0.5 here) and allows a quarter
        # of the volume's slices; a one-slice volume (0.25) would make every prediction a false positive.
        for k, (x1, y1, x2, y2) in enumerate(val["boxes"][i, : val["n_boxes"][i]]):
            gt.append(GroundTruthBox("P", uid, "lcc", str(k + 1), 0, float(x1), float(y1), float(x2 - x1),
                                     float(y2 - y1), "", 0, 4))  # fmt: skip
    return labels, gt


@torch.no_grad()
def validate_2d(model, val: dict, min_dist_mm: float = 10.0, chunk: int = 8, limit: int = 64,
                device: torch.device | str = "cpu") -> dict[str, float]:
    """DBTex metric over the central and negative slices of ``val`` (the first ``limit``), each a one-slice volume."""
    from slam.detection.metrics import evaluate
    from slam.detection.postprocess import PostProcess, filter_boxes
    from slam.io.csv_formats import Prediction

    model.eval()
    chosen = np.flatnonzero(val["slice_offset"] <= 0)[:limit]
    labels, gt = one_slice_volumes(val, chosen)
    predictions = []
    post = PostProcess(score_threshold=0.01)
    for start in range(0, len(chosen), chunk):
        idx = chosen[start:start + chunk]
        images = torch.from_numpy(val["slices"][idx].astype(np.float32) / 255.0).to(device)
        for i, det, image in zip(idx, model(images[:, None]), images, strict=True):
            for (x1, y1, x2, y2), s in zip(*filter_boxes(det, image, post), strict=True):
                predictions.append(Prediction("P", f"val-{i}", "lcc", x=float(x1), width=float(x2 - x1), y=float(y1),
                                              height=float(y2 - y1), z=0, depth=1, score=float(s)))  # fmt: skip
    result = evaluate(predictions, gt, labels, min_dist=min_dist_mm / VAL_MM_PER_PX)
    return {"val_mean_sens_2d": result.mean_sensitivity_positive, "val_sens_at_2fp_all_2d": result.sensitivity_at_2_fps_all}


def lr_at(step: int, total: int, cfg: BaselineConfig) -> float:
    """Linear warm-up to ``optim.lr`` then cosine decay to 1 % of it at ``total`` steps."""
    if step < cfg.optim.warmup_steps:
        return cfg.optim.lr * (step + 1) / cfg.optim.warmup_steps
    t = min(1.0, (step - cfg.optim.warmup_steps) / max(1, total - cfg.optim.warmup_steps))
    return cfg.optim.lr * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * t)))


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else the CPU; ``cuda`` without a GPU is a SlamError (``xla``: use train.stage1)."""
    if name == "xla":
        raise SlamError("the per-slice baseline trains on cuda or cpu; device xla is not supported here")
    if name == "cuda" and not torch.cuda.is_available():
        raise SlamError("device cuda was asked for but no CUDA GPU is available; use --device cpu")
    return torch.device("cuda" if name in ("auto", "cuda") and torch.cuda.is_available() else "cpu")


def run(cfg: BaselineConfig) -> dict:
    """Train as ``cfg`` says (module docstring); returns the last metrics row."""
    if cfg.model.kind != "baseline":
        raise SlamError(f"train.baseline trains kind 'baseline'; the config's model.kind is {cfg.model.kind!r}")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    if cfg.init:
        model = load_model(cfg.init, config=cfg.model)
    else:
        model = build_model(cfg.model, cfg.imagenet_weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    state = {"step": 0, "epoch": 0, "cpu_s": 0.0, "wall_s": 0.0, "best": -1.0}
    if cfg.resume and (out / "last.state.pt").is_file():
        model = load_model(out / "last.safetensors", config=cfg.model)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
        saved = torch.load(out / "last.state.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
    device = pick_device(cfg.device)
    model.to(device)
    for opt_state in optimizer.state.values():  # a resumed optimizer's moments follow the model
        for k, v in opt_state.items():
            if torch.is_tensor(v) and k != "step":
                opt_state[k] = v.to(device)
    autocast = torch.autocast("cuda", torch.bfloat16, enabled=device.type == "cuda" and cfg.precision != "fp32")
    val = load_shards(cfg.data.val)
    total = cfg.epochs * cfg.data.steps_per_epoch
    metrics_path = out / "metrics.csv"
    row: dict = {}
    cpu0, wall0 = time.process_time() - state["cpu_s"], time.perf_counter() - state["wall_s"]
    while state["epoch"] < cfg.epochs:
        data = load_shards(cfg.data.train)
        rng = np.random.default_rng([cfg.seed, state["epoch"]])
        hard = (mine_hard_negatives(model, data, cfg.data.mine_slices, cfg.data.mine_score, rng, device=device)
                if cfg.data.hard_fraction > 0 else None)
        model.train()
        losses: dict[str, float] = {}
        for _ in range(cfg.data.steps_per_epoch):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(state["step"], total, cfg)
            images, targets = draw_batch(data, cfg, rng, hard)
            targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
            with autocast:
                parts = model(images.to(device), targets)
            loss = sum(parts.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.optim.clip_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.clip_grad_norm)
            optimizer.step()
            for k, v in parts.items():
                losses[k] = losses.get(k, 0.0) + float(v.detach()) / cfg.data.steps_per_epoch
            state["step"] += 1
        state["epoch"] += 1
        train_cpu = time.process_time() - cpu0  # validation CPU is counted too: it is part of the run
        row = {"epoch": state["epoch"], "step": state["step"], "cpu_min": round(train_cpu / 60, 2),
               "wall_min": round((time.perf_counter() - wall0) / 60, 2), "lr": lr_at(state["step"], total, cfg),
               "train_slices": len(data["slices"]), "hard_places": -1 if hard is None else len(hard),
               "loss": sum(losses.values()), **losses,
               **validate_2d(model, val, device=device)}
        state["cpu_s"], state["wall_s"] = time.process_time() - cpu0, time.perf_counter() - wall0
        new = not metrics_path.is_file()
        with open(metrics_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        print(json.dumps(row), flush=True)
        save_model(model, out / "last.safetensors")
        if row["val_mean_sens_2d"] > state["best"]:
            state["best"] = row["val_mean_sens_2d"]
            save_model(model, out / "best.safetensors")
        torch.save({"optimizer": optimizer.state_dict(), "state": state}, out / "last.state.pt")
        if cfg.cpu_minutes and state["cpu_s"] / 60 >= cfg.cpu_minutes:
            break
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.baseline", description=__doc__.split("\n\n")[0])
    add_common_args(parser, "train/configs/baseline.yaml")
    args = parser.parse_args(argv)
    run(resolve_args(args, BaselineConfig))
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.baseline"))
