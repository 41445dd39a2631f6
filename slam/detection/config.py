"""``ModelConfig``: everything needed to rebuild a detector and feed it as it was trained, saved as
JSON beside its safetensors; and ``typed_from_dict``, the one checked mapping -> dataclass
conversion (model JSON here, the training YAML in ``train.config``)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union

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
# How stored values become the model's [0, 1] input. "uint8": 8-bit display levels (the study's
# VOI window, or the preprocessing's output; MONOCHROME1 inverted) divided by 255 (slam.detection.inputs).
# "tissue": the breast's own robust percentiles (slam.detection.inputs), so two writers' windows of the same
# anatomy give the same input.
GREY_LEVELS = ("uint8", "tissue")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; saved as JSON beside the weights.

    ``kind`` "slam" (slice attention, one head per volume) or "baseline" (2D detector per
    slice). ``input_size`` (height, width) in pixels of the resized slices. ``anchor_sizes``
    one tuple per FPN level (C3, C4, C5) in input pixels; ``aspect_ratios`` are height/width.

    What the model was trained on, so inference feeds it the same: ``num_slices`` sampled by
    ``sampling`` (``slam.detection.sampling``), resized to ``input_size``, with or without
    ``preprocess`` (AWA denoising, border removal, CLAHE: ``slam.imaging.preprocess``), grey
    levels made as ``grey_levels`` says (see ``GREY_LEVELS``). ``rpn_batch_per_image`` /
    ``box_batch_per_image``: anchors / RoIs sampled per image for the training losses
    (torchvision's ``rpn_batch_size_per_image`` / ``box_batch_size_per_image``; unused at inference).
    ``score_threshold``: the default operating point (a finding is shown at or above it), chosen
    on validation as ``operating_point`` says (e.g. "1 FP/volume on phantom-val"). ``max_findings``:
    at most this many findings per volume survive, after NMS across overlapping boxes.
    ``slice_candidates`` (SLAM only): this many of the fused map's best boxes are scored again by the
    RoI heads on each sampled slice's own features, and a box's score becomes the higher of its fused
    and its best slice score (a mass sharp on a few slices is diluted in the attention-weighted map,
    and a second mass at another depth is not what the attention chose); 0 keeps the fused score
    only (the paper's). It needs ``detections_per_image`` >= it.
    A JSON written before a key existed loads with that key's default.
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
    preprocess: bool = False
    grey_levels: str = "uint8"
    rpn_batch_per_image: int = 256
    box_batch_per_image: int = 512
    score_threshold: float = 0.5
    operating_point: str = "not chosen on validation"
    max_findings: int = 4
    slice_candidates: int = 0
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
        if self.grey_levels not in GREY_LEVELS:
            raise SlamError(f"grey_levels {self.grey_levels!r} is unknown; accepted: {', '.join(GREY_LEVELS)}")
        if not 0.0 <= self.score_threshold <= 1.0 or self.max_findings < 1:
            raise SlamError("score_threshold must be in [0, 1] and max_findings >= 1")
        if not 0 <= self.slice_candidates <= self.detections_per_image:
            raise SlamError(f"slice_candidates must be in 0..detections_per_image ({self.detections_per_image}); "
                            f"got {self.slice_candidates}")
        if min(self.rpn_batch_per_image, self.box_batch_per_image) < 1:
            raise SlamError("rpn_batch_per_image and box_batch_per_image must be >= 1")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """From the JSON mapping; an unknown key or a wrong type is a SlamError."""
        return typed_from_dict(cls, data, "model config")


def typed_from_dict(cls: type, data, where: str):
    """The dataclass ``cls`` from a mapping, nested dataclasses included.

    Every key must be a field of ``cls`` and every value of its declared type (bool, int,
    float — an int or a numeric string is accepted —, str, ``X | None``, ``Literal``, tuples,
    dict, dataclasses); missing keys take the field defaults. ``where`` names the mapping in
    the one-line SlamError.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise SlamError(f"{where} must be a mapping of keys to values; got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(str(k) for k in set(data) - set(names))
    if unknown:
        raise SlamError(f"{where}: unknown key(s) {', '.join(unknown)}; accepted: {', '.join(names)}")
    return cls(**{k: _typed(hints[k], v, f"{where}.{k}") for k, v in data.items()})


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "a mapping"}


def _typed(tp, value, key: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return typed_from_dict(tp, value, key)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = (a for a in args if a is not type(None))
        return _typed(inner, value, key)
    if origin is Literal:
        if value in args:
            return value
        raise SlamError(f"{key}={value!r} is not accepted; accepted: {', '.join(map(str, args))}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SlamError(f"{key}={value!r} is not a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_typed(args[0], v, key) for v in value)
        if len(value) != len(args):
            raise SlamError(f"{key}={value!r} needs {len(args)} values")
        return tuple(_typed(a, v, key) for a, v in zip(args, value, strict=True))
    if origin is dict:
        tp = dict
    if tp is float and isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, bool) and tp is not bool or not isinstance(value, (int, float) if tp is float else tp):
        raise SlamError(f"{key}={value!r} is not {_KINDS.get(tp, tp.__name__)}")
    return float(value) if tp is float else value


def config_path(weights_path: str | Path) -> Path:
    """The JSON config that sits beside a weights file: ``model.safetensors`` -> ``model.json``."""
    return Path(weights_path).with_suffix(".json")
