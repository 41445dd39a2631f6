"""Stage 1 (design.md §6): the feature extractor and the slice attention, trained with the cross-entropy
between the slice logits and the representative slice.

    python -m train.stage1 --config train/configs/stage1.yaml [--set key=value ...] [--device ...]

``detection_loss_weight`` > 0 (an option, not the paper's recipe) adds the Faster R-CNN losses
of the whole detector, so a backbone trained from scratch also learns to localise; with 0 the
detection heads are frozen and only ``slice_logits`` runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from slam.detection.model import build_model, load_model
from slam.errors import SlamError
from train.config import Stage1Config, add_common_args, model_config, resolve_args
from train.data import Cache, draw_order, to_targets
from train.loop import fit, seed_everything, volume_loader
from train.runtime import Runtime, launch, resolve_device
from train.validate import attention_summary, detection_metrics, slice_logits


class Stage1Net(nn.Module):
    """Batch -> stage-1 losses. One module, so DistributedDataParallel sees the forward pass."""

    def __init__(self, model: nn.Module, detection_loss_weight: float):
        super().__init__()
        self.model = model
        self.weight = detection_loss_weight

    def forward(self, volumes: torch.Tensor, slices: torch.Tensor, targets: list[dict] | None = None) -> dict:
        if self.weight > 0:
            losses = self.model(volumes, targets)
            detection = sum(v for k, v in losses.items() if k != "loss_slice")
            return {"loss_slice": losses["loss_slice"], "loss_detection": detection}
        logits = self.model.slice_logits(volumes).float()
        # ignore_index keeps the shapes static (no boolean indexing) for XLA
        summed = F.cross_entropy(logits, slices, ignore_index=-1, reduction="sum")
        return {"loss_slice": summed / (slices >= 0).sum().clamp(min=1)}


def build_stage1_model(cfg: Stage1Config) -> nn.Module:
    """The model of the config's ``model`` section: new, or with the ``init`` weights (which must fit
    it); heads frozen unless detection losses are on."""
    config = model_config(cfg, {"stage": 1})
    if cfg.init:
        model = load_model(cfg.init, config=config).train()
    else:
        model = build_model(config, cfg.imagenet_weights)
    if cfg.bn_momentum:  # torchvision's MobileNetV3 uses 0.01: running stats lag far behind a short run
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = cfg.bn_momentum
    if not cfg.detection_loss_weight:
        for module in (model.backbone.fpn, model.rpn, model.roi_heads):
            module.requires_grad_(False)
    return model


def param_groups(model: nn.Module, optim) -> list[dict]:
    """AdamW groups of ``optim`` (train.config.Stage1Optim): extractor, attention, trainable heads."""
    groups = [
        {"params": list(model.backbone.features.parameters()), "lr": optim.lr_backbone},
        {"params": list(model.backbone.attention.parameters()), "lr": optim.lr_attention},
    ]
    heads = [p for m in (model.backbone.fpn, model.rpn, model.roi_heads) for p in m.parameters() if p.requires_grad]
    if heads:
        groups.append({"params": heads, "lr": optim.lr_heads})
    return groups


def train_step(net: nn.Module, batch: dict, weight: float) -> tuple[torch.Tensor, dict]:
    volumes = batch["volumes"].float() * (1.0 / 255.0)
    targets = to_targets(batch) if weight > 0 else None
    parts = net(volumes, batch["slice"], targets)
    loss = parts["loss_slice"] + weight * parts.get("loss_detection", 0.0)
    return loss, parts


def run(rt: Runtime, cfg: Stage1Config) -> dict:
    weight = cfg.detection_loss_weight
    if weight == 0 and cfg.monitor not in ("val_loss", "val_attention_acc"):
        raise SlamError(f"monitor {cfg.monitor} is a detection score: it needs detection_loss_weight > 0")
    seed_everything(cfg.seed + rt.rank)
    train_cache, val_cache = Cache(cfg.data.train), Cache(cfg.data.val)
    model = build_stage1_model(cfg)
    train_cache.check_model(model.config)
    val_cache.check_model(model.config)
    model.to(rt.device)
    net = rt.wrap(Stage1Net(model, weight))
    optimizer = torch.optim.AdamW(param_groups(model, cfg.optim), weight_decay=cfg.optim.weight_decay)
    order = draw_order(train_cache, cfg.data.positives_only, cfg.data.oversample_positives)
    loader = volume_loader(rt, train_cache, order, cfg, augment=True)
    val_positives = val_cache.positives

    def validate() -> dict:
        if weight > 0:  # the detector trains too: its DBTex score as well, from the same pass
            return detection_metrics(rt, model, val_cache, cfg.data.batch_size, cfg.val.min_dist_mm)
        logits = slice_logits(rt, model, val_cache, val_positives, cfg.data.batch_size)
        att = attention_summary(logits, val_cache.slice_target[val_positives])
        return {"val_loss": att["loss"], "val_attention_acc": att["acc"]}

    return fit(rt, cfg, model, net, optimizer, loader, lambda n, b: train_step(n, b, weight), validate,
               monitor=cfg.monitor, mode="min" if cfg.monitor == "val_loss" else "max")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.stage1", description=__doc__.split("\n\n")[0])
    add_common_args(parser, "train/configs/stage1.yaml")
    cfg = resolve_args(parser.parse_args(argv), Stage1Config)
    launch(resolve_device(cfg.device), cfg.precision, run, cfg)
    print(f"stage 1 done: {Path(cfg.out) / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.stage1"))
