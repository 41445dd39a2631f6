"""The SLAM detector (design.md §5) and the per-slice baseline, built from torchvision's classes.

SLAM: every sampled slice goes through a CNN feature extractor (C3, C4, C5 at strides
8, 16, 32); a slice-attention head turns each slice's pooled C5 into one logit; the
softmax of the logits fuses each level into ONE map per volume; an FPN and a torchvision
Faster R-CNN (RPN, multi-scale RoIAlign, RoI heads) then run once per volume.

Baseline: the same feature extractor, FPN and Faster R-CNN heads run on every slice as a
plain 2D torchvision detector (``slam.detection.baseline`` merges its boxes across slices).

Inputs are grayscale in [0, 1] float32; each slice is replicated to 3 channels and
normalised with the ImageNet mean/std inside the backbone, so an ImageNet-initialised
extractor sees what it expects. The model never resizes: ``slam.detection.predictor`` resizes the
slices to ``input_size`` first. Weights are safetensors with a JSON config beside them.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.ops import FeaturePyramidNetwork, MultiScaleRoIAlign

from slam.detection.config import BACKBONES, ModelConfig, config_path
from slam.errors import SlamError

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

def _feature_body(backbone: str, imagenet_weights: str | Path | None) -> nn.Module:
    """The torchvision classifier (``weights=None``) cut at C3, C4, C5 -> dict of (B, C, h, w)."""
    ctor_name, nodes, _ = BACKBONES[backbone]
    classifier = getattr(torchvision.models, ctor_name)(weights=None)
    if imagenet_weights is not None:
        path = Path(imagenet_weights)
        if path.suffix != ".safetensors":
            raise SlamError(f"ImageNet weights must be a .safetensors file (no pickle); got {path.name}")
        from safetensors.torch import load_file

        classifier.load_state_dict(load_file(str(path)))
    return create_feature_extractor(classifier, {node: f"c{3 + i}" for i, node in enumerate(nodes)})


class _SliceFeatures(nn.Module):
    """Gray slices (M, 1, H, W) in [0, 1] -> ImageNet-normalised 3 channels -> C3..C5."""

    def __init__(self, backbone: str, imagenet_weights: str | Path | None):
        super().__init__()
        self.body = _feature_body(backbone, imagenet_weights)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = (x - self.mean) / self.std  # broadcasting (M, 1) -> (M, 3) replicates the gray channel
        feats = self.body(x)
        return [feats["c3"], feats["c4"], feats["c5"]]


class SliceAttention(nn.Module):
    """C5 of every slice (B, N, C, h, w) -> one logit per slice (B, N) (design.md §5)."""

    def __init__(self, channels: int, hidden: int = 256, dropout: float = 0.3):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.LayerNorm(channels), nn.Linear(channels, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, 1),
        )  # fmt: skip

    def forward(self, c5: Tensor) -> Tensor:
        return self.mlp(c5.mean(dim=(-2, -1))).squeeze(-1)


def fuse(levels: list[Tensor], logits: Tensor) -> list[Tensor]:
    """Per-slice levels, each (B, N, C, h, w), and slice logits (B, N) -> the fused (B, C, h, w)
    maps: each level summed over the slices with the softmax of the logits as weights."""
    weights = logits.softmax(dim=1)
    return [torch.einsum("bn,bnchw->bchw", weights, f) for f in levels]


class SliceAttentionBackbone(nn.Module):
    """Volumes (B, N, H, W) in [0, 1] -> (fused FPN maps {"0": /8, "1": /16, "2": /32}, logits (B, N)).

    Each FPN map is (B, fpn_channels, h, w): one map per volume, the softmax-weighted sum
    over slices of the per-slice features at that level.
    """

    def __init__(self, config: ModelConfig, imagenet_weights: str | Path | None = None):
        super().__init__()
        channels = BACKBONES[config.backbone][2]
        self.num_slices = config.num_slices
        self.features = _SliceFeatures(config.backbone, imagenet_weights)
        self.attention = SliceAttention(channels[2], config.attention_hidden, config.attention_dropout)
        self.fpn = FeaturePyramidNetwork(list(channels), config.fpn_channels)
        self.out_channels = config.fpn_channels

    def slice_features(self, volumes: Tensor) -> tuple[list[Tensor], Tensor]:
        """Per-slice C3..C5, each (B, N, C, h, w), and the slice logits (B, N)."""
        b, n, h, w = volumes.shape
        if n != self.num_slices:
            raise SlamError(f"the model takes {self.num_slices} slices per volume; got {n}")
        levels = [f.view(b, n, *f.shape[1:]) for f in self.features(volumes.reshape(b * n, 1, h, w))]
        return levels, self.attention(levels[2])

    def fused_levels(self, volumes: Tensor) -> tuple[list[Tensor], Tensor]:
        """The fusion: C3, C4, C5 each summed over the slices with the softmax of the slice
        logits as weights -> three (B, C, h, w) maps (before the FPN), and the logits (B, N)."""
        levels, logits = self.slice_features(volumes)
        return fuse(levels, logits), logits

    def forward(self, volumes: Tensor) -> tuple[OrderedDict[str, Tensor], Tensor]:
        fused, logits = self.fused_levels(volumes)
        return self.fpn(OrderedDict((str(k), f) for k, f in enumerate(fused))), logits


class PerSliceBackbone(nn.Module):
    """Single slices (B, 1, H, W) in [0, 1] -> FPN maps {"0", "1", "2"}: the baseline's 2D backbone."""

    def __init__(self, config: ModelConfig, imagenet_weights: str | Path | None = None):
        super().__init__()
        self.features = _SliceFeatures(config.backbone, imagenet_weights)
        self.fpn = FeaturePyramidNetwork(list(BACKBONES[config.backbone][2]), config.fpn_channels)
        self.out_channels = config.fpn_channels

    def forward(self, images: Tensor) -> OrderedDict[str, Tensor]:
        return self.fpn(OrderedDict((str(k), f) for k, f in enumerate(self.features(images))))


class _InputSizeTransform(GeneralizedRCNNTransform):
    """Batches (pads to a multiple of 32) but neither resizes nor normalises.

    The inference pipeline resizes slices to ``input_size`` itself (so it controls the
    aspect ratio), and normalisation is per slice inside the backbone, after the gray
    channel is replicated; the image may have any number of channels (N slices).
    """

    def normalize(self, image: Tensor) -> Tensor:
        return image

    def resize(self, image: Tensor, target: dict[str, Tensor] | None = None):
        return image, target


def _detector_kwargs(config: ModelConfig) -> dict:
    size = max(config.input_size)
    return dict(
        num_classes=2,  # background, lesion
        min_size=size, max_size=size, image_mean=[0.0], image_std=[1.0],
        rpn_anchor_generator=AnchorGenerator(config.anchor_sizes, (config.aspect_ratios,) * 3),
        box_roi_pool=MultiScaleRoIAlign(featmap_names=["0", "1", "2"], output_size=5, sampling_ratio=2),
        rpn_pre_nms_top_n_test=config.rpn_pre_nms_top_n_test,
        rpn_post_nms_top_n_test=config.rpn_post_nms_top_n_test,
        box_score_thresh=config.box_score_thresh, box_nms_thresh=config.box_nms_thresh,
        box_detections_per_img=config.detections_per_image,
        rpn_batch_size_per_image=config.rpn_batch_per_image, box_batch_size_per_image=config.box_batch_per_image,
    )  # fmt: skip


class SlamDetector(FasterRCNN):
    """torchvision's Faster R-CNN on a :class:`SliceAttentionBackbone`, one detection head per volume.

    ``forward(volumes, targets=None)``, volumes (B, N, H, W) float32 in [0, 1] (or a list of
    (N, H, W)):

    - training: ``targets`` is a list of B dicts with ``boxes`` (K, 4) float32 x1, y1, x2, y2
      in input pixels (K may be 0), ``labels`` (K,) int64 (1 = lesion) and optionally
      ``slice`` (int64 scalar: the representative slice's position among the N sampled
      slices, -1 when the volume has none). Returns the dict of Faster R-CNN losses
      (``loss_classifier``, ``loss_box_reg``, ``loss_objectness``, ``loss_rpn_box_reg``)
      plus ``loss_slice`` (cross-entropy of the slice logits) when any target has ``slice``.
    - eval: returns ``(detections, slice_logits)``: B dicts of ``boxes`` (K, 4) x1, y1, x2, y2
      in input pixels, ``scores`` (K,), ``labels`` (K,); and logits (B, N).
    """

    def __init__(self, config: ModelConfig, imagenet_weights: str | Path | None = None):
        super().__init__(SliceAttentionBackbone(config, imagenet_weights), **_detector_kwargs(config))
        self.transform = _InputSizeTransform(max(config.input_size), max(config.input_size), [0.0], [1.0])
        self.config = config
        self.attention_frozen = False

    def slice_logits(self, volumes: Tensor) -> Tensor:
        """Slice logits (B, N) only (feature extractor + attention): training stage 1."""
        return self.backbone.slice_features(volumes)[1]

    def freeze_slice_attention(self) -> None:
        """Training stage 2: feature extractor and attention fixed (no gradients, BatchNorm in eval)."""
        for module in (self.backbone.features, self.backbone.attention):
            module.requires_grad_(False)
        self.attention_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True) -> SlamDetector:
        super().train(mode)
        if self.attention_frozen:
            self.backbone.features.eval()
            self.backbone.attention.eval()
        return self

    def input_images(self, batch: int) -> ImageList:
        """The RPN's view of a batch of ``input_size`` volumes padded to a multiple of 32 (the
        transform's batching), for :meth:`detect_fused` on maps computed elsewhere (stage 2's
        feature cache). Only its shape is read: a zero-stride view, no memory."""
        h, w = self.config.input_size
        blank = torch.zeros((), device=next(self.parameters()).device).expand(batch, 1, -(-h // 32) * 32, -(-w // 32) * 32)
        return ImageList(blank, [(h, w)] * batch)

    def detect_fused(self, fused: list[Tensor], images: ImageList, targets: list[dict[str, Tensor]] | None = None
                     ) -> tuple[list[dict[str, Tensor]], dict[str, Tensor]]:
        """FPN, RPN and RoI heads on the fused C3..C5 maps: (detections (eval), Faster R-CNN losses (training))."""
        features = self.backbone.fpn(OrderedDict((str(k), f) for k, f in enumerate(fused)))
        proposals, rpn_losses = self.rpn(images, features, targets)
        detections, head_losses = self.roi_heads(features, proposals, images.image_sizes, targets)
        return detections, {**head_losses, **rpn_losses}

    def detect_volume(self, volume: Tensor) -> tuple[dict[str, Tensor], Tensor, list[Tensor], tuple[int, int]]:
        """Eval forward pass of ONE volume (N, H, W) in [0, 1], keeping what the per-finding depth
        needs: (detections as in :meth:`forward`, logits (N,), the per-slice C3..C5 each
        (N, C, h, w), the image size (H, W)). The detections are those of ``forward``."""
        images, _ = self.transform([volume])
        levels, logits = self.backbone.slice_features(images.tensors)
        detections, _ = self.detect_fused(fuse(levels, logits), images)
        return detections[0], logits[0], [f[0] for f in levels], images.image_sizes[0]

    def box_slice_logits(self, levels: list[Tensor], boxes: Tensor, image_size: tuple[int, int]) -> Tensor:
        """Each box's lesion logit on each slice of its own, (K, N): the lesion class's logit minus the
        background's (its sigmoid is the heads' lesion probability; the logit does not saturate where
        float32 probabilities of a clear mass read 1.0 on many slices alike): the FPN, the RoIAlign and
        the RoI heads (box head, classifier) run on every sampled slice's own C3..C5 (``levels``,
        each (N, C, h, w), from :meth:`detect_volume`) for ``boxes`` (K, 4) x1, y1, x2, y2 in input
        pixels. Where along the slices the heads see the lesion in a box is its depth
        (``slam.detection.postprocess.slice_run``); the fused map alone has none.

        Why these heads can score single slices: the FPN is affine (convolutions, nearest
        upsampling, sums; no norm or activation) and the softmax weights sum to 1, so the fused FPN
        maps ARE the attention-weighted mean of the per-slice FPN maps: the heads score slices in
        the very feature space they were trained on.

        Cost: the FPN runs only on the cells each box's RoIAlign reads (:meth:`_fpn_window`), not on
        whole slices (that would add ~60 % to a ResNet-50 SLAM's FLOPs); the result is the same as
        the FPN on whole slices followed by the RoI pooler (the pooler's level per box, its
        sampling, the zero padding at the map edges).
        """
        from torchvision.ops import roi_align
        from torchvision.ops.poolers import LevelMapper

        n, k = levels[0].shape[0], boxes.shape[0]
        if k == 0:
            return levels[0].new_zeros((0, n))
        pool = self.roi_heads.box_roi_pool
        # The pooler's scales (2^round(log2(map / image))) and its level for each box.
        scales = [2.0 ** round(math.log2(f.shape[-2] / image_size[0])) for f in levels]
        k_min, k_max = round(-math.log2(scales[0])), round(-math.log2(scales[-1]))
        box_levels = LevelMapper(k_min, k_max, pool.canonical_scale, pool.canonical_level)([boxes]).tolist()
        pooled = []
        for box, level in zip(boxes.to(levels[0].dtype), box_levels, strict=True):
            scale = scales[level]
            height, width = levels[level].shape[-2:]
            # The cells RoIAlign's bilinear samples read: from the box's first cell to the one after its
            # last (or the map's edge, where the full-map RoIAlign clamps too); RoIAlign makes a box at
            # least one cell wide and high.
            x1, y1, x2, y2 = (float(v) * scale for v in box)
            rows = (min(max(0, math.floor(y1)), height - 1), min(height, math.floor(max(y2, y1 + 1)) + 2))
            cols = (min(max(0, math.floor(x1)), width - 1), min(width, math.floor(max(x2, x1 + 1)) + 2))
            window = self._fpn_window(levels, level, rows, cols)
            shifted = box - box.new_tensor([cols[0], rows[0], cols[0], rows[0]]) / scale
            pooled.append(roi_align(window, [shifted[None]] * n, pool.output_size, scale, pool.sampling_ratio))
        class_logits, _ = self.roi_heads.box_predictor(self.roi_heads.box_head(torch.cat(pooled)))
        return (class_logits[:, 1] - class_logits[:, 0]).reshape(k, n)

    def _fpn_window(self, levels: list[Tensor], level: int, rows: tuple[int, int], cols: tuple[int, int]) -> Tensor:
        """FPN output ``level`` on map cells rows[0]:rows[1], cols[0]:cols[1] only: (N, F, h, w), equal
        to the FPN on the whole maps cropped there. Its 3x3 layer reads one cell more on each side
        (zeros beyond the map, as the FPN's own padding)."""
        height, width = levels[level].shape[-2:]
        r0, r1, c0, c1 = max(rows[0] - 1, 0), min(rows[1] + 1, height), max(cols[0] - 1, 0), min(cols[1] + 1, width)
        inner = self._fpn_top_down(levels, level, (r0, r1), (c0, c1))
        pad = (c0 - (cols[0] - 1), (cols[1] + 1) - c1, r0 - (rows[0] - 1), (rows[1] + 1) - r1)
        out = self.backbone.fpn.get_result_from_layer_blocks(F.pad(inner, pad), level)
        return out[..., 1:-1, 1:-1]

    def _fpn_top_down(self, levels: list[Tensor], level: int, rows: tuple[int, int], cols: tuple[int, int]) -> Tensor:
        """The FPN's top-down sum at ``level`` (its lateral 1x1 conv plus the nearest-upsampled sum
        of the level above), before its 3x3 layer, on cells rows[0]:rows[1], cols[0]:cols[1]."""
        fpn = self.backbone.fpn
        out = fpn.get_result_from_inner_blocks(levels[level][..., rows[0] : rows[1], cols[0] : cols[1]], level)
        if level == len(levels) - 1:
            return out
        (height, width), (up_h, up_w) = levels[level].shape[-2:], levels[level + 1].shape[-2:]
        # nearest upsampling: cell i reads cell floor(i * up / size) of the level above
        device = out.device
        ri = torch.clamp(torch.arange(*rows, device=device) * up_h // height, max=up_h - 1)
        ci = torch.clamp(torch.arange(*cols, device=device) * up_w // width, max=up_w - 1)
        top = self._fpn_top_down(levels, level + 1, (int(ri[0]), int(ri[-1]) + 1), (int(ci[0]), int(ci[-1]) + 1))
        return out + top[..., ri - ri[0], :][..., ci - ci[0]]

    def forward(self, volumes, targets: list[dict[str, Tensor]] | None = None):
        if self.training and targets is None:
            raise SlamError("training mode needs targets (boxes, labels, optional slice) for every volume")
        images, targets = self.transform(list(volumes), targets)
        fused, logits = self.backbone.fused_levels(images.tensors)
        detections, losses = self.detect_fused(fused, images, targets)
        if not self.training:
            return detections, logits
        if targets and any("slice" in t for t in targets):
            slice_targets = torch.stack([t.get("slice", torch.tensor(-1)).reshape(()) for t in targets])
            slice_targets = slice_targets.to(device=logits.device, dtype=torch.long)
            known = slice_targets >= 0
            losses["loss_slice"] = (
                F.cross_entropy(logits[known], slice_targets[known]) if known.any() else logits.sum() * 0.0
            )
        return losses


class BaselineDetector(FasterRCNN):
    """A plain torchvision Faster R-CNN on single slices (B, 1, H, W) in [0, 1]: SLAM's comparison.

    Same feature extractor, FPN, anchors and heads as :class:`SlamDetector`; standard
    torchvision ``forward(images, targets=None)`` (losses in training, detections in eval).
    """

    def __init__(self, config: ModelConfig, imagenet_weights: str | Path | None = None):
        super().__init__(PerSliceBackbone(config, imagenet_weights), **_detector_kwargs(config))
        self.transform = _InputSizeTransform(max(config.input_size), max(config.input_size), [0.0], [1.0])
        self.config = config


def build_model(config: ModelConfig | None = None, imagenet_weights: str | Path | None = None) -> nn.Module:
    """A freshly initialised model (``weights=None``; ImageNet init from a local safetensors file)."""
    config = config or ModelConfig()
    return (SlamDetector if config.kind == "slam" else BaselineDetector)(config, imagenet_weights)


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Write ``path`` (.safetensors, the state dict) and its JSON config beside it; returns ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise SlamError(f"model weights are saved as .safetensors; got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt", "kind": model.config.kind})
    config_path(path).write_text(model.config.to_json() + "\n")
    return path


def load_model(path: str | Path, device: str | torch.device = "cpu", config: ModelConfig | None = None) -> nn.Module:
    """Rebuild the model from ``path`` (.safetensors) and the JSON config beside it, in eval mode.

    ``config`` (training: the run's model section) replaces the JSON's; the weights must fit it.
    """
    from safetensors.torch import load_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise SlamError(f"model weights must be a .safetensors file with a .json config beside it; got {path.name}")
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    cfg_file = config_path(path)
    if not cfg_file.is_file():
        raise SlamError(f"{cfg_file.name} (the model config) is missing beside {path.name}")
    if config is None:
        try:
            config = ModelConfig.from_dict(json.loads(cfg_file.read_text()))
        except json.JSONDecodeError as exc:
            raise SlamError(f"{cfg_file.name} is not a valid model config: {exc}") from None
    model = build_model(config)
    try:
        model.load_state_dict(load_file(str(path)))
    except RuntimeError as exc:
        raise SlamError(f"{path.name} does not match its config: {str(exc)[:200]}") from None
    return model.to(device).eval()
