"""``ModelConfig``: everything needed to rebuild a detector, saved as JSON beside its safetensors."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from slam.errors import SlamError

# Backbone name -> (torchvision constructor, feature nodes at strides 8/16/32, their channels).
BACKBONES: dict[str, tuple[str, tuple[str, str, str], tuple[int, int, int]]] = {
    "resnet18": ("resnet18", ("layer2", "layer3", "layer4"), (128, 256, 512)),
    "resnet34": ("resnet34", ("layer2", "layer3", "layer4"), (128, 256, 512)),
    "resnet50": ("resnet50", ("layer2", "layer3", "layer4"), (512, 1024, 2048)),
    "mobilenet_v3_large": ("mobilenet_v3_large", ("features.6", "features.12", "features.16"), (40, 112, 960)),
    "mobilenet_v3_small": ("mobilenet_v3_small", ("features.3", "features.8", "features.12"), (24, 48, 576)),
}
KINDS = ("slam", "baseline")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; saved as JSON beside the weights.

    ``kind`` "slam" (slice attention, one head per volume) or "baseline" (2D detector per
    slice). ``input_size`` (height, width) in pixels of the resized slices. ``anchor_sizes``
    one tuple per FPN level (C3, C4, C5) in input pixels; ``aspect_ratios`` are height/width.
    """

    kind: str = "slam"
    backbone: str = "resnet50"
    num_slices: int = 27
    input_size: tuple[int, int] = (256, 256)
    fpn_channels: int = 512
    anchor_sizes: tuple[tuple[int, ...], ...] = ((8, 16, 256), (32, 48, 256), (64, 96, 256))
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 1.5)
    attention_hidden: int = 256
    attention_dropout: float = 0.3
    rpn_pre_nms_top_n_test: int = 1000
    rpn_post_nms_top_n_test: int = 300
    box_score_thresh: float = 0.01
    box_nms_thresh: float = 0.5
    detections_per_image: int = 100
    sampling: str = "even"
    extra: dict = field(default_factory=dict)  # free-form notes (training run, data), kept in the JSON

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SlamError(f"model kind {self.kind!r} is unknown; accepted: {', '.join(KINDS)}")
        if self.backbone not in BACKBONES:
            raise SlamError(f"backbone {self.backbone!r} is unknown; accepted: {', '.join(BACKBONES)}")
        if len(self.anchor_sizes) != 3 or len({len(s) for s in self.anchor_sizes}) != 1:
            raise SlamError("anchor_sizes needs 3 tuples (one per FPN level C3, C4, C5) of equal length")
        if self.num_slices < 1 or min(self.input_size) < 32:
            raise SlamError("num_slices must be >= 1 and input_size at least 32 x 32 pixels")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SlamError(f"model config has unknown keys {sorted(unknown)}; accepted: {sorted(known)}")
        data = dict(data)
        if "input_size" in data:
            data["input_size"] = tuple(data["input_size"])
        if "anchor_sizes" in data:
            data["anchor_sizes"] = tuple(tuple(s) for s in data["anchor_sizes"])
        if "aspect_ratios" in data:
            data["aspect_ratios"] = tuple(data["aspect_ratios"])
        return cls(**data)



def config_path(weights_path: str | Path) -> Path:
    """The JSON config that sits beside a weights file: ``model.safetensors`` -> ``model.json``."""
    return Path(weights_path).with_suffix(".json")
