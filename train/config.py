"""Training configs as typed dataclasses: a YAML file plus ``--set dotted.key=value`` overrides.

Every key is declared below with its default and meaning (``help``); the YAML files in
``train/configs`` are recipes that set some of them. A key the dataclass does not declare, or a
value of the wrong type, in the file or in an override, is a one-line SlamError. Override
values are parsed as YAML: ``--set optim.lr_backbone=3e-4`` gives a float,
``--set model.input_size=[224,192]`` a list, ``--set init=null`` None. The ``model`` section is
a :class:`slam.detection.config.ModelConfig` (its JSON travels with the weights).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import yaml

from slam.detection.config import ModelConfig, typed_from_dict
from slam.errors import SlamError

MONITORS = ("val_loss", "val_attention_acc", "val_dbtex_mean_sens", "val_sens_at_2fp_all")


def key(default, help: str):
    """A config field: its default (immutable) and its one-line meaning."""
    return field(default=default, metadata={"help": help})


def section(factory, help: str):
    """A nested section: a factory of its default and its one-line meaning."""
    return field(default_factory=factory, metadata={"help": help})


@dataclass
class Data:
    train: str = key("cache/train.npz", "training cache (.npz; python -m train.cache DATA_DIR OUT --config ...)")
    val: str = key("cache/val.npz", "validation cache (.npz)")
    batch_size: int = key(8, "volumes per step and device")
    num_workers: int = key(2, "DataLoader worker processes")
    positives_only: bool = key(True, "train on studies with a lesion only (stage 1: the cross-entropy needs one)")
    oversample_positives: int = key(2, "each study with a lesion appears this many times per epoch")


@dataclass
class Augment:
    enabled: bool = key(True, "augment the training volumes (one transform for all slices and boxes)")
    rotate_deg: float = key(10.0, "rotation, +- degrees")
    scale: float = key(0.15, "zoom, +- fraction")
    translate: float = key(0.1, "shift, +- fraction of the size")
    brightness: float = key(0.1, "brightness shift, +- on the [0, 1] scale")
    contrast: float = key(0.1, "contrast factor, +- fraction")
    blur_p: float = key(0.1, "probability of a Gaussian blur")
    noise_p: float = key(0.2, "probability of added Gaussian noise")
    noise_sigma: float = key(0.02, "noise standard deviation on the [0, 1] scale")


@dataclass
class Schedule:
    factor: float = key(0.3, "ReduceLROnPlateau: learning-rate factor when the monitored metric stalls")
    patience: int = key(8, "ReduceLROnPlateau: epochs without improvement before the rate drops")


@dataclass
class Val:
    min_dist_mm: float = key(10.0, "DBTex distance floor (mm) of the validation detection score")


@dataclass
class Stage1Optim:
    lr_backbone: float = key(1e-5, "AdamW learning rate of the feature extractor")
    lr_attention: float = key(1e-4, "AdamW learning rate of the slice attention")
    lr_heads: float = key(1e-4, "AdamW learning rate of FPN, RPN and RoI heads (detection_loss_weight > 0)")
    weight_decay: float = key(1e-5, "AdamW weight decay")
    clip_grad_norm: float = key(0.0, "gradient norm clip (0: off)")


@dataclass
class Stage2Optim:
    lr: float = key(1e-4, "AdamW learning rate of FPN, RPN and RoI heads")
    weight_decay: float = key(1e-5, "AdamW weight decay")
    clip_grad_norm: float = key(0.0, "gradient norm clip (0: off)")


@dataclass
class FeatureCache:
    enabled: bool = key(False, "compute the fused maps once per augmented copy (CPU-sized stage 2)")
    copies: int = key(4, "augmented copies of every sample in the feature cache")


@dataclass
class Common:
    seed: int = key(0, "random seed (each rank adds its rank)")
    device: Literal["auto", "xla", "cuda", "cpu"] = key("auto", "auto: xla on a TPU, else cuda, else cpu")
    precision: Literal["auto", "bf16", "fp32"] = key("auto", "auto: bf16 on xla/cuda, fp32 on cpu")
    out: str = key("runs/run", "output folder (checkpoints, metrics.csv, config.json)")
    init: str | None = key(None, "weights (.safetensors with its .json) to start from")
    epochs: int = key(90, "last epoch")
    early_stop: int = key(17, "stop after this many epochs without improvement of the monitored metric")
    log_every: int = key(10, "steps between progress-bar loss updates (reading a value syncs XLA)")
    resume: bool = key(False, "continue from out/last.* (weights, optimizer, epoch); set by --resume")


@dataclass
class Stage1Config(Common):
    out: str = key("runs/stage1", "output folder (checkpoints, metrics.csv, config.json)")
    imagenet_weights: str | None = key(None, "local ImageNet classifier weights (.safetensors) for the backbone")
    bn_momentum: float | None = key(None, "BatchNorm running-stat momentum while training (null: the model's own)")
    detection_loss_weight: float = key(0.0, "> 0 adds the Faster R-CNN losses (not the paper's recipe)")
    monitor: Literal[MONITORS] = key("val_loss", "metric that selects best.* and drives the schedule")
    model: ModelConfig = section(ModelConfig, "the model (slam.detection.config.ModelConfig; with init: must fit it)")
    data: Data = section(Data, "training and validation caches, batches")
    augment: Augment = section(Augment, "augmentation of the training volumes")
    optim: Stage1Optim = section(Stage1Optim, "optimizer")
    schedule: Schedule = section(Schedule, "learning-rate schedule")
    val: Val = section(Val, "validation")


@dataclass
class Stage2Config(Common):
    out: str = key("runs/stage2", "output folder (checkpoints, metrics.csv, config.json)")
    init: str | None = key("runs/stage1/best.safetensors", "the stage-1 weights (the model comes from their JSON)")
    early_stop: int = key(10, "stop after this many epochs without val_dbtex_mean_sens improvement")
    data: Data = section(lambda: Data(positives_only=False), "training and validation caches, batches")
    augment: Augment = section(Augment, "augmentation of the training volumes")
    feature_cache: FeatureCache = section(FeatureCache, "precomputed fused maps")
    optim: Stage2Optim = section(Stage2Optim, "optimizer")
    schedule: Schedule = section(lambda: Schedule(patience=5), "learning-rate schedule")
    val: Val = section(Val, "validation")


Config = TypeVar("Config", Stage1Config, Stage2Config)


def load_config(path: str | Path, kind: type[Config], overrides: list[str] | None = None) -> Config:
    """The ``kind`` config from the YAML at ``path`` with ``overrides`` ("a.b=value") applied."""
    path = Path(path)
    if not path.is_file():
        raise SlamError(f"training config {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SlamError(f"training config {path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    # the file's keys checked first, then every declared key is there for the overrides to name
    full = dataclasses.asdict(typed_from_dict(kind, data, path.name))
    for item in overrides or []:
        apply_override(full, item)
    return typed_from_dict(kind, full, path.name)


def apply_override(config: dict, item: str) -> None:
    """Set ``config[a][b] = value`` in place for ``item`` "a.b=value" (the key must be declared)."""
    name, sep, raw = item.partition("=")
    if not sep or not name:
        raise SlamError(f"override {item!r} is not of the form dotted.key=value")
    *parents, leaf = name.split(".")
    node = config
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise SlamError(f"override {item!r}: {part!r} is not a section of the config")
        node = node[part]
    if leaf not in node:
        raise SlamError(f"override {item!r}: unknown key {name!r}; accepted here: {', '.join(node)}")
    try:
        node[leaf] = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise SlamError(f"override {item!r}: the value is not valid YAML") from None


def model_config(config: Stage1Config, notes: dict | None = None) -> ModelConfig:
    """The ``model`` section with ``notes`` added to its ``extra``."""
    return dataclasses.replace(config.model, extra={**config.model.extra, **(notes or {})})


def add_common_args(parser: argparse.ArgumentParser, default_config: str) -> None:
    parser.add_argument("--config", default=default_config, help=f"YAML config (default {default_config})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config entry, e.g. --set optim.lr=3e-4 (repeatable)")  # fmt: skip
    parser.add_argument("--device", choices=("auto", "xla", "cuda", "cpu"), help="overrides the config's device")
    parser.add_argument("--out", help="output folder (overrides the config's out)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.* (weights, optimizer, epoch)")


def resolve_args(args: argparse.Namespace, kind: type[Config]) -> Config:
    config = load_config(args.config, kind, args.overrides)
    changes = {"device": args.device, "out": args.out}
    return dataclasses.replace(config, resume=bool(args.resume), **{k: v for k, v in changes.items() if v})


def run_main(main: Callable[[list[str] | None], int], prog: str) -> int:
    """``main()`` of a ``python -m train.X`` command: a SlamError is one line on stderr and exit code 2."""
    try:
        return main(None)
    except SlamError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2


@dataclass
class SliceData:
    train: str = key("cache/slices", "slice-cache folder (python -m train.slices); shards made later are read each epoch")
    val: str = key("cache/val-slices", "validation slice-cache folder (other seed)")
    batch_size: int = key(16, "slices per step")
    positive_fraction: float = key(0.7, "share of each batch drawn from slices with a mass")
    crop: tuple[int, int] = key((192, 192), "training crop (h, w) in input pixels; inference sees the whole slice")
    steps_per_epoch: int = key(100, "steps between validations, checkpoints and shard reloads")
    hard_fraction: float = key(0.0, "share of the draws without a mass replaced by crops around places where the "
                               "current model fires away from every mass (mined at each epoch's start; 0: off)")
    mine_slices: int = key(300, "training slices the model scores at each epoch's start to find those places")
    mine_score: float = key(0.5, "a mined place is a box scoring at least this, > 10 mm from every mass's box")


@dataclass
class SliceAugment:
    flip: bool = key(True, "random horizontal and vertical flips")
    scale: tuple[float, float] = key((0.8, 1.25), "zoom range applied before the crop")
    contrast: float = key(0.2, "contrast factor, +- fraction (about the fat level)")
    brightness: float = key(0.05, "brightness shift, +- on the [0, 1] scale")
    gamma: float = key(0.25, "gamma, exp(+- this)")
    noise_p: float = key(0.3, "probability of added Gaussian noise")
    noise_sigma: tuple[float, float] = key((0.005, 0.03), "noise standard deviation range on the [0, 1] scale")
    noise_corr_px: tuple[float, float] = key((0.0, 0.0), "noise correlation: Gaussian sigma range (px) the added "
                                             "noise is blurred by, rescaled to keep its std (0: white)")
    blur_p: float = key(0.2, "probability of a Gaussian blur (sigma 0.5-1.2 px)")


@dataclass
class CosineOptim:
    lr: float = key(1e-3, "AdamW peak learning rate")
    weight_decay: float = key(1e-4, "AdamW weight decay")
    warmup_steps: int = key(100, "linear warm-up steps")
    clip_grad_norm: float = key(10.0, "gradient norm clip (0: off)")


@dataclass
class BaselineConfig(Common):
    out: str = key("runs/baseline", "output folder (checkpoints, metrics.csv, config.json)")
    epochs: int = key(60, "last epoch (data.steps_per_epoch steps each); the cosine schedule spans them all")
    early_stop: int = key(1000, "unused by the baseline (the cosine schedule sets the length)")
    cpu_minutes: float = key(0.0, "stop when the process has used this many CPU-minutes (0: no limit)")
    threads: int = key(2, "torch CPU threads")
    imagenet_weights: str | None = key(None, "local ImageNet classifier weights (.safetensors) for the backbone")
    model: ModelConfig = section(lambda: ModelConfig(kind="baseline"), "the model (kind baseline)")
    data: SliceData = section(SliceData, "slice caches and batches")
    augment: SliceAugment = section(SliceAugment, "augmentation of the training slices")
    optim: CosineOptim = section(CosineOptim, "optimizer and schedule (linear warm-up, cosine decay)")
    val: Val = section(Val, "validation")
