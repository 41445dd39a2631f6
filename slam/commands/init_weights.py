"""``slam init-weights OUT.safetensors``: freshly initialised (UNTRAINED) detector weights.

For pipeline checks and benchmarks before trained weights exist; the detections they give
are meaningless.
"""

from __future__ import annotations

import argparse

NAME = "init-weights"
HELP = "write UNTRAINED detector weights (.safetensors + .json config) for pipeline checks and benchmarks"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", help="weights file to write (.safetensors; the .json config goes beside it)")
    parser.add_argument("--kind", choices=("slam", "baseline"), default="slam")
    parser.add_argument("--backbone", default="resnet50", help="resnet18, resnet34, resnet50, mobilenet_v3_large")
    parser.add_argument("--num-slices", type=int, default=27)
    parser.add_argument("--input-size", type=int, nargs=2, default=(256, 256), metavar=("H", "W"))
    parser.add_argument("--fpn-channels", type=int, default=512)
    parser.add_argument("--imagenet", help="ImageNet classifier weights (.safetensors) to start the backbone from")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import torch

    from slam.detection.config import ModelConfig
    from slam.detection.model import build_model, save_model

    torch.manual_seed(args.seed)
    config = ModelConfig(
        kind=args.kind, backbone=args.backbone, num_slices=args.num_slices, input_size=tuple(args.input_size),
        fpn_channels=args.fpn_channels, extra={"trained": False, "seed": args.seed},
    )  # fmt: skip
    path = save_model(build_model(config, imagenet_weights=args.imagenet), args.output)
    print(f"untrained {args.kind} model ({args.backbone}) -> {path} (+ {path.with_suffix('.json').name})")
    return 0
