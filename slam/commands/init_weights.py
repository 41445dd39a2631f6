"""``slam init-weights OUT.safetensors``: freshly initialised (UNTRAINED) detector weights.

For pipeline checks and benchmarks before trained weights exist; the detections they give
are meaningless.
"""

from __future__ import annotations

import argparse

from slam.detection.config import BACKBONES, KINDS, ModelConfig

NAME = "init-weights"
HELP = "write UNTRAINED detector weights (.safetensors + .json config) for pipeline checks and benchmarks"


def configure(parser: argparse.ArgumentParser) -> None:
    default = ModelConfig()
    parser.add_argument("output", help="weights file to write (.safetensors; the .json config goes beside it)")
    parser.add_argument("--kind", choices=KINDS, default=default.kind)
    parser.add_argument("--backbone", choices=tuple(BACKBONES), default=default.backbone)
    parser.add_argument("--num-slices", type=int, default=default.num_slices)
    parser.add_argument("--input-size", type=int, nargs=2, default=default.input_size, metavar=("H", "W"))
    parser.add_argument("--fpn-channels", type=int, default=default.fpn_channels)
    parser.add_argument("--preprocess", action="store_true", help="record that the model takes preprocessed slices")
    parser.add_argument("--imagenet", help="ImageNet classifier weights (.safetensors) to start the backbone from")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import torch

    from slam.detection.model import build_model, save_model

    torch.manual_seed(args.seed)
    config = ModelConfig(
        kind=args.kind, backbone=args.backbone, num_slices=args.num_slices, input_size=tuple(args.input_size),
        fpn_channels=args.fpn_channels, preprocess=args.preprocess, extra={"trained": False, "seed": args.seed},
    )  # fmt: skip
    path = save_model(build_model(config, imagenet_weights=args.imagenet), args.output)
    print(f"untrained {args.kind} model ({args.backbone}) -> {path} (+ {path.with_suffix('.json').name})")
    return 0
