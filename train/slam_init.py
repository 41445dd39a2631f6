"""SLAM from the trained per-slice baseline: same extractor, FPN, RPN and RoI heads; only the slice
attention is trained, on the frozen extractor.

    python -m train.slam_init --baseline runs/baseline/best.safetensors --train cache/slices \\
        --val cache/val-slices --out runs/slam [--epochs 300]

1. The SLAM model (``kind: slam``, ``num_slices`` N from the slice cache) takes every baseline weight
   (``backbone.features``, ``backbone.fpn``, ``rpn``, ``roi_heads``: the same modules); the attention
   starts fresh.
2. Each cached study's N sampled slices go once through the frozen extractor; their pooled C5
   (N, C) is kept (the attention reads only that), so an attention epoch takes well under a second.
3. The attention MLP is trained with the cross-entropy on the representative slice (the sampled
   slice nearest the largest mass's central slice; studies without a mass are left out), AdamW,
   cosine decay, best epoch on the validation accuracy within +-``TOLERANCE`` sampled slices.

4. Optionally (``--head-steps``) the FPN, RPN and RoI heads are fine-tuned on the fused maps of every
   cached study (as is and mirrored; lesion-free studies are negatives), extractor and attention frozen.
5. The config gets ``slice_candidates`` (``--slice-candidates``, 50): at inference the fused map's best
   boxes are rescored by the RoI heads on each sampled slice (``slam.detection.postprocess.rescore_by_slices``).

With a sharp attention the fused maps are (close to) the representative slice's own features, which
are what the baseline's heads were trained on, so the heads work as trained; the fine-tuning adapts
them to the blend of neighbouring slices a softer attention gives. (The paper's
two-stage recipe stays available as ``train.stage1`` / ``train.stage2``.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from slam.detection.model import build_model, load_model, save_model
from slam.errors import SlamError
from train.slices import load_shards
from train.validate import TOLERANCE


def slam_from_baseline(baseline_path: str | Path, num_slices: int, slice_candidates: int = 0) -> torch.nn.Module:
    """A SLAM model carrying every weight of the baseline at ``baseline_path``; only the attention is new.
    ``slice_candidates``: the config's slice rescoring pool (``ModelConfig``; the RoI heads keep at least as many)."""
    baseline = load_model(baseline_path)
    if baseline.config.kind != "baseline":
        raise SlamError(f"{Path(baseline_path).name} is a {baseline.config.kind!r} model; a baseline is needed")
    config = dataclasses.replace(baseline.config, kind="slam", num_slices=num_slices, slice_candidates=slice_candidates,
                                 detections_per_image=max(baseline.config.detections_per_image, slice_candidates),
                                 extra={**baseline.config.extra, "initialised_from": Path(baseline_path).name})
    model = build_model(config)
    missing, unexpected = model.load_state_dict(baseline.state_dict(), strict=False)
    if unexpected or any(not k.startswith("backbone.attention.") for k in missing):
        raise SlamError(f"baseline weights do not fit SLAM: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model


@torch.no_grad()
def pooled_c5(model, volumes: np.ndarray, chunk: int = 16) -> torch.Tensor:
    """(S, N, h, w) uint8 volumes -> (S, N, C) float32 pooled C5 of the frozen extractor."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for volume in volumes:
        x = torch.from_numpy(volume.astype(np.float32) / 255.0)[:, None].to(device)
        feats = [model.backbone.features(x[i:i + chunk])[2].mean(dim=(-2, -1)) for i in range(0, len(x), chunk)]
        out.append(torch.cat(feats).float().cpu())
    return torch.stack(out)


def attention_accuracy(model, pooled: torch.Tensor, target: torch.Tensor) -> float:
    """Share of studies whose argmax slice is within ``TOLERANCE`` sampled slices of the target."""
    model.backbone.attention.eval()
    with torch.no_grad():
        logits = model.backbone.attention.mlp(pooled).squeeze(-1)
    return float(((logits.argmax(1) - target).abs() <= TOLERANCE).float().mean())


def train_attention(model, pooled: torch.Tensor, target: torch.Tensor, val_pooled: torch.Tensor,
                    val_target: torch.Tensor, epochs: int = 300, lr: float = 3e-3, seed: int = 0) -> list[dict]:
    """Full-batch training of the attention MLP on pooled C5 (S, N, C) -> targets (S,); keeps the best
    validation epoch's weights in ``model``. Returns one row per epoch."""
    torch.manual_seed(seed)
    attention = model.backbone.attention
    optimizer = torch.optim.AdamW(attention.parameters(), lr=lr, weight_decay=1e-3)
    best, best_state, rows = -1.0, None, []
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        attention.train()
        logits = attention.mlp(pooled).squeeze(-1)
        loss = F.cross_entropy(logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        acc = attention_accuracy(model, val_pooled, val_target)
        rows.append({"epoch": epoch + 1, "loss": float(loss.detach()), "val_attention_acc": acc})
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in attention.state_dict().items()}
    attention.load_state_dict(best_state)
    return rows


@torch.no_grad()
def fused_maps(model, volumes: np.ndarray, flip: bool) -> list[torch.Tensor]:
    """(S, N, h, w) uint8 volumes -> the fused C3..C5 of the frozen extractor and the trained attention,
    each (S, C, h', w') float16 on the CPU; ``flip`` mirrors the volumes left-right first."""
    model.eval()
    device = next(model.parameters()).device
    out: list[list[torch.Tensor]] = [[], [], []]
    for volume in volumes:
        x = torch.from_numpy(np.ascontiguousarray(volume[..., ::-1] if flip else volume).astype(np.float32) / 255.0)
        fused, _ = model.backbone.fused_levels(x[None].to(device))
        for k, f in enumerate(fused):
            out[k].append(f.to("cpu", torch.float16))
    return [torch.cat(level) for level in out]


def finetune_heads(model, volumes: np.ndarray, boxes: np.ndarray, n_boxes: np.ndarray, steps: int,
                   lr: float = 2e-4, batch_size: int = 8, seed: int = 0) -> list[dict]:
    """Fine-tune the FPN, RPN and RoI heads on the fused maps of the cached volumes ((S, N, h, w) uint8,
    boxes (S, K, 4) xyxy input pixels, ``n_boxes`` (S,) valid rows; studies without a mass are negatives),
    extractor and attention frozen; each volume as is and mirrored. Returns a loss row per 50 steps."""
    width = volumes.shape[-1]
    maps = [torch.cat(pair) for pair in zip(fused_maps(model, volumes, False), fused_maps(model, volumes, True),
                                            strict=True)]  # fmt: skip
    mirrored = np.stack([width - boxes[..., 2], boxes[..., 1], width - boxes[..., 0], boxes[..., 3]], -1)
    all_boxes, counts = np.concatenate([boxes, mirrored]), np.concatenate([n_boxes, n_boxes])
    model.freeze_slice_attention()
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    rows, running = [], 0.0
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        pick = rng.choice(len(counts), batch_size, replace=False)
        targets = [{"boxes": torch.from_numpy(all_boxes[i, : counts[i]].astype(np.float32)).to(device),
                    "labels": torch.ones(int(counts[i]), dtype=torch.int64, device=device)} for i in pick]
        levels = [m[pick].to(device).float() for m in maps]
        _, losses = model.detect_fused(levels, model.input_images(batch_size), targets)
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 10.0)
        optimizer.step()
        running += float(loss.detach())
        if (step + 1) % 50 == 0 or step + 1 == steps:
            rows.append({"step": step + 1, "loss": running / (50 if (step + 1) % 50 == 0 else (step + 1) % 50)})
            running = 0.0
    model.eval()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.slam_init", description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="trained baseline (.safetensors with its .json)")
    parser.add_argument("--train", default="cache/slices", help="slice-cache folder (its sampled volumes)")
    parser.add_argument("--val", default="cache/val-slices", help="validation slice-cache folder")
    parser.add_argument("--out", default="runs/slam", help="output folder")
    parser.add_argument("--epochs", type=int, default=300, help="attention epochs (full batch)")
    parser.add_argument("--head-steps", type=int, default=0,
                        help="then fine-tune the FPN, RPN and RoI heads on the fused maps this many steps (0: off)")
    parser.add_argument("--head-lr", type=float, default=2e-4, help="peak learning rate of that fine-tuning")
    parser.add_argument("--slice-candidates", type=int, default=50,
                        help="boxes of the fused map rescored on each sampled slice at inference (0: fused score only)")
    parser.add_argument("--max-studies", type=int, default=0, help="use at most this many training studies (0: all)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto", help="for the C5 features")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from train.baseline import pick_device

    start_cpu, start = time.process_time(), time.perf_counter()
    train, val = load_shards(args.train), load_shards(args.val)
    keep = np.flatnonzero(train["slice_target"] >= 0)
    if args.max_studies:
        keep = keep[: args.max_studies]
    val_keep = np.flatnonzero(val["slice_target"] >= 0)
    model = slam_from_baseline(args.baseline, int(train["volumes"].shape[1]), args.slice_candidates)
    model = model.to(pick_device(args.device))
    pooled = pooled_c5(model, train["volumes"][keep])
    val_pooled = pooled_c5(model, val["volumes"][val_keep])
    model.cpu()
    features_cpu = time.process_time() - start_cpu
    rows = train_attention(model, pooled, torch.from_numpy(train["slice_target"][keep]), val_pooled,
                           torch.from_numpy(val["slice_target"][val_keep]), args.epochs)
    head_rows = []
    if args.head_steps:
        every = np.arange(len(train["volumes"]))[: args.max_studies or None]
        model.to(pick_device(args.device))
        head_rows = finetune_heads(model, train["volumes"][every], train["vol_boxes"][every],
                                   train["vol_n_boxes"][every], args.head_steps, args.head_lr)
        model.cpu()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.config = dataclasses.replace(model.config, extra={**model.config.extra, "attention_studies": len(keep)})
    save_model(model, out / "best.safetensors")
    summary = {"studies": len(keep), "val_studies": len(val_keep), "feature_cpu_min": features_cpu / 60,
               "cpu_min": (time.process_time() - start_cpu) / 60, "wall_min": (time.perf_counter() - start) / 60,
               "best_val_attention_acc": max(r["val_attention_acc"] for r in rows), "curve": rows[:: max(1, len(rows) // 30)],
               "head_steps": args.head_steps, "head_curve": head_rows}
    (out / "attention.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "curve"}))
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.slam_init"))
