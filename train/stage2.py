"""Stage 2 (design.md §6): the detector with the stage-1 feature extractor and slice attention frozen;
the FPN, RPN and RoI heads learn from the Faster R-CNN losses.

    python -m train.stage2 --config train/configs/stage2.yaml --set init=runs/stage1/best.safetensors

With the backbone and attention frozen and a parameter-free softmax fusion, the fused C3..C5
maps of an (augmented) volume never change during stage 2. ``feature_cache.enabled`` computes
them once for ``feature_cache.copies`` augmented draws of every sample (kept in RAM as
float16) and trains the heads on those: a CPU-sized stage 2. Without it every step runs the
whole model on freshly augmented volumes (the TPU/GPU path).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from slam.detection.model import load_model
from slam.errors import SlamError
from train.config import Augment, Stage2Config, add_common_args, resolve_args
from train.data import Cache, VolumeDataset, collate_padded, draw_order, to_targets
from train.loop import fit, make_loader, seed_everything, volume_loader
from train.runtime import Runtime, launch, resolve_device
from train.validate import detection_metrics, fixed_batches, volumes_on

LEVELS = ("f3", "f4", "f5")


class HeadNet(nn.Module):
    """FPN + RPN + RoI heads of a SLAM detector on fused maps (``SlamDetector.detect_fused``):
    losses (train) or detections (eval)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, levels: list[Tensor], targets: list[dict] | None = None):
        detections, losses = self.model.detect_fused(levels, self.model.input_images(len(levels[0])), targets)
        return losses if self.training else detections


class FeatureDataset(Dataset):
    """Precomputed fused maps: epoch e serves copy (e - 1) % copies of each draw."""

    def __init__(self, levels: list[Tensor], boxes: list[list[Tensor]], slices: Tensor, copies: int):
        self.levels, self.boxes, self.slices, self.copies = levels, boxes, slices, copies
        self.draws = len(boxes[0])
        self.epoch = 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.draws

    def __getitem__(self, draw: int) -> dict:
        c = (self.epoch - 1) % self.copies
        j = c * self.draws + draw
        out = {name: level[j] for name, level in zip(LEVELS, self.levels, strict=True)}
        return {**out, "boxes": self.boxes[c][draw], "slice": self.slices[draw], "index": draw}


def collate_features(samples: list[dict], max_boxes: int) -> dict:
    batch = collate_padded([{**s, "volume": torch.zeros(0)} for s in samples], max_boxes)
    batch.pop("volumes")
    batch.update({name: torch.stack([s[name] for s in samples]) for name in LEVELS})
    return batch


@torch.no_grad()
def precompute(rt: Runtime, model: nn.Module, cache: Cache, order: np.ndarray, augment: Augment | None,
               copies: int, seed: int, batch_size: int) -> FeatureDataset:
    """Fused maps of ``copies`` augmented draws of every sample in ``order`` (float16, CPU)."""
    from tqdm import tqdm

    levels: list[Tensor] = []
    boxes: list[list[Tensor]] = []
    dataset = VolumeDataset(cache, order, augment, seed)
    bar = tqdm(total=copies * len(order), desc="stage-2 feature cache", unit="volume", disable=not rt.is_main)
    chunks = []
    for c in range(copies):
        dataset.set_epoch(c + 1)
        copy_boxes = []
        for chunk, real in fixed_batches(np.arange(len(order)), batch_size):
            samples = [dataset[int(d)] for d in chunk]
            volumes = torch.stack([s["volume"] for s in samples]).to(rt.device).float() * (1.0 / 255.0)
            with rt.autocast():
                fused, _ = model.backbone.fused_levels(volumes)
            chunks.append([f[:real].to("cpu", torch.float16) for f in fused])
            copy_boxes += [s["boxes"] for s in samples[:real]]
            bar.update(real)
        boxes.append(copy_boxes)
    bar.close()
    levels = [torch.cat([ch[k] for ch in chunks]) for k in range(3)]
    slices = torch.from_numpy(cache.slice_target[order])
    return FeatureDataset(levels, boxes, slices, copies)


def full_step(net: nn.Module, batch: dict) -> tuple[Tensor, dict]:
    targets = [{k: v for k, v in t.items() if k != "slice"} for t in to_targets(batch)]
    losses = net(batch["volumes"].float() * (1.0 / 255.0), targets)
    return sum(losses.values()), losses


def feature_step(net: nn.Module, batch: dict) -> tuple[Tensor, dict]:
    targets = [{k: v for k, v in t.items() if k != "slice"} for t in to_targets(batch)]
    losses = net([batch[name].float() for name in LEVELS], targets)
    return sum(losses.values()), losses


def build_stage2_model(cfg: Stage2Config) -> nn.Module:
    if not cfg.init:
        raise SlamError("stage 2 needs the stage-1 weights: --set init=runs/stage1/best.safetensors")
    model = load_model(cfg.init)
    model.freeze_slice_attention()
    return model.train()


def run(rt: Runtime, cfg: Stage2Config) -> dict:
    seed_everything(cfg.seed + rt.rank)
    train_cache, val_cache = Cache(cfg.data.train), Cache(cfg.data.val)
    model = build_stage2_model(cfg)
    train_cache.check_model(model.config)
    val_cache.check_model(model.config)
    model.to(rt.device)
    data = cfg.data
    order = draw_order(train_cache, data.positives_only, data.oversample_positives)
    max_boxes = int(train_cache.boxes.shape[1])
    min_dist_mm = cfg.val.min_dist_mm
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    if cfg.feature_cache.enabled:
        model.eval()
        copies = cfg.feature_cache.copies
        features = precompute(rt, model, train_cache, order, cfg.augment, copies, cfg.seed, data.batch_size)
        val_features = precompute(rt, model, val_cache, np.arange(len(val_cache)), None, 1, cfg.seed,
                                  data.batch_size)  # fmt: skip
        val_logits = torch.cat([model.slice_logits(volumes_on(rt, val_cache, chunk))[:real].cpu()
                                for chunk, real in fixed_batches(np.arange(len(val_cache)), data.batch_size)])
        loader = make_loader(rt, features, data.batch_size, 0, cfg.seed,
                             lambda s: collate_features(s, max_boxes))  # fmt: skip
        net = rt.wrap(HeadNet(model))
        heads = HeadNet(model)

        def detect(chunk: np.ndarray):
            heads.eval()
            levels = [val_features.levels[k][chunk].to(rt.device).float() for k in range(3)]
            return heads(levels), val_logits[chunk]

        step = feature_step
    else:
        loader = volume_loader(rt, train_cache, order, cfg, augment=True)
        net, detect, step = rt.wrap(model), None, full_step

    def validate() -> dict:
        return detection_metrics(rt, model, val_cache, data.batch_size, min_dist_mm, detect)

    return fit(rt, cfg, model, net, optimizer, loader, step, validate, monitor="val_dbtex_mean_sens", mode="max")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.stage2", description=__doc__.split("\n\n")[0])
    add_common_args(parser, "train/configs/stage2.yaml")
    cfg = resolve_args(parser.parse_args(argv), Stage2Config)
    launch(resolve_device(cfg.device), cfg.precision, run, cfg)
    print(f"stage 2 done: {Path(cfg.out) / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.stage2"))
