"""What both stages share: seeding, loaders, checkpoints, the epoch loop, logs, validation metrics."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from slam.detection.model import load_model, save_model
from slam.errors import SlamError
from train.data import Cache, VolumeDataset, collate_padded
from train.runtime import Runtime


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_loader(rt: Runtime, dataset, batch_size: int, workers: int, seed: int, collate) -> DataLoader:
    """Shuffled, fixed-size batches (drop_last: every step has the same shapes), sharded over ranks."""
    if len(dataset) < batch_size * rt.world_size:
        raise SlamError(f"{len(dataset)} training samples are fewer than one batch of {batch_size} x "
                        f"{rt.world_size} device(s); lower data.batch_size or add studies")  # fmt: skip
    sampler = DistributedSampler(dataset, rt.world_size, rt.rank, shuffle=True, seed=seed, drop_last=True)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, collate_fn=collate,
                      drop_last=True, persistent_workers=workers > 0)  # fmt: skip


def volume_loader(rt: Runtime, cache: Cache, order, cfg, augment: bool) -> DataLoader:
    """Batches of ``cache`` in draw ``order``; ``cfg`` a train.config stage config."""
    dataset = VolumeDataset(cache, order, cfg.augment if augment else None, cfg.seed)
    max_boxes = int(cache.boxes.shape[1])
    return make_loader(rt, dataset, cfg.data.batch_size, cfg.data.num_workers, cfg.seed,
                       lambda s: collate_padded(s, max_boxes))  # fmt: skip


def _to_cpu(obj):
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def save_checkpoint(out: Path, name: str, model: nn.Module, optimizer, scheduler, state: dict) -> Path:
    """``out/name.safetensors`` + ``.json`` (the model, ``slam.detection.model.save_model``) and
    ``out/name.state.pt`` (optimizer, LR scheduler, loop state) for ``--resume``."""
    path = save_model(model, out / f"{name}.safetensors")
    torch.save({"optimizer": _to_cpu(optimizer.state_dict()), "scheduler": scheduler.state_dict(),
                "state": state, "torch_rng": torch.get_rng_state()}, out / f"{name}.state.pt")  # fmt: skip
    return path


def load_checkpoint(out: Path, name: str, model: nn.Module, optimizer, scheduler, device) -> dict:
    """Restore what :func:`save_checkpoint` wrote into ``model``/``optimizer``/``scheduler``; the loop state."""
    weights = out / f"{name}.safetensors"
    if not weights.is_file():
        raise SlamError(f"--resume: {weights} does not exist (no earlier run in {out})")
    model.load_state_dict(load_model(weights).state_dict())
    saved = torch.load(out / f"{name}.state.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(saved["optimizer"])
    for group_state in optimizer.state.values():  # Adam moments onto the training device
        for k, v in group_state.items():
            if torch.is_tensor(v) and k != "step":
                group_state[k] = v.to(device)
    scheduler.load_state_dict(saved["scheduler"])
    if "torch_rng" in saved:  # dropout and the detector's proposal sampling continue their stream
        torch.set_rng_state(saved["torch_rng"])
    return saved["state"]


class EpochLog:
    """One row per epoch in ``out/metrics.csv`` and, when tensorboard is installed, ``out/tb``."""

    def __init__(self, out: Path, enabled: bool):
        self.path = out / "metrics.csv"
        self.enabled = enabled
        self.writer = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(out / "tb"))
            except ImportError:
                print("tensorboard is not installed: metrics go to metrics.csv only", flush=True)

    def write(self, row: dict) -> None:
        if not self.enabled:
            return
        new = not self.path.is_file()
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self.writer is not None:
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                    self.writer.add_scalar(key, value, row["epoch"])
            self.writer.flush()


def fit(rt: Runtime, cfg, model: nn.Module, net: nn.Module, optimizer, loader: DataLoader,
        step: Callable[[nn.Module, dict], tuple[torch.Tensor, dict[str, torch.Tensor]]],
        validate: Callable[[], dict[str, float]], monitor: str, mode: str) -> dict:
    """The epoch loop: train, validate, ReduceLROnPlateau on ``monitor``, early stopping, checkpoints.

    ``cfg`` a train.config stage config; ``step(net, batch) -> (loss, parts)`` computes one batch's loss (called under autocast);
    ``validate()`` returns the epoch's validation metrics (identical on every rank). Writes
    ``out/last.*`` every epoch and ``out/best.*`` when ``monitor`` improves. Returns the best row.
    """
    from tqdm import tqdm

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=mode, factor=cfg.schedule.factor, patience=cfg.schedule.patience)
    state = {"epoch": 0, "best": None, "bad_epochs": 0, "best_row": {}}
    if cfg.resume:
        state = load_checkpoint(out, "last", model, optimizer, scheduler, rt.device)
        if rt.is_main:
            print(f"resumed from {out / 'last.safetensors'} after epoch {state['epoch']}", flush=True)
    elif rt.is_main:
        (out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    log = EpochLog(out, rt.is_main)
    clip = cfg.optim.clip_grad_norm
    better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        start = time.perf_counter()
        loader.dataset.set_epoch(epoch)
        loader.sampler.set_epoch(epoch)
        net.train()
        sums: dict[str, torch.Tensor] = {}
        n_steps = 0
        bar = tqdm(total=len(loader), desc=f"epoch {epoch}", unit="step", disable=not rt.is_main, leave=False)
        for batch in rt.batches(loader):
            optimizer.zero_grad(set_to_none=True)
            with rt.autocast():
                loss, parts = step(net, batch)
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], clip)
            rt.optimizer_step(optimizer)
            for key, value in {"loss": loss, **parts}.items():
                sums[key] = sums.get(key, 0.0) + value.detach().float()
            n_steps += 1
            bar.update(1)
            if n_steps % max(cfg.log_every, 1) == 0:  # reading a value syncs XLA: not every step
                bar.set_postfix(loss=f"{float(sums['loss']) / n_steps:.4f}")
        bar.close()
        rt.sync()
        train_row = rt.mean_over_ranks({f"train_{k}": float(v) / max(n_steps, 1) for k, v in sums.items()})
        val = validate()
        value = val[monitor]
        scheduler.step(value)
        improved = state["best"] is None or better(value, state["best"])
        row = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"], **train_row, **val,
               "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
        if improved:
            state.update(best=value, bad_epochs=0, best_row=row)
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        if rt.is_main:
            log.write(row)
            save_checkpoint(out, "last", model, optimizer, scheduler, state)
            if improved:
                save_checkpoint(out, "best", model, optimizer, scheduler, state)
            shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
            print(f"{shown}{' *' if improved else ''}", flush=True)
        rt.barrier("epoch_end")
        if state["bad_epochs"] >= cfg.early_stop:
            if rt.is_main:
                print(f"early stop: no {monitor} improvement in {cfg.early_stop} epochs", flush=True)
            break
    return state["best_row"]
