"""Volume augmentation (design.md §6): ONE spatial transform for every slice of a volume and its boxes.

torchvision transforms v2 do the geometry: the (N, h, w) volume is one ``tv_tensors.Image``
whose N slices are its channels, and the boxes a ``tv_tensors.BoundingBoxes`` on the same
canvas, so ``v2.functional.affine`` moves all of them with the same matrix. Boxes are
transformed by their corners (a rotated box becomes its enclosing box), clipped to the image
and dropped when less than a quarter of their area stays inside. Intensity changes are
applied to the whole volume: brightness shift and contrast factor, Gaussian blur, noise.
The parameters come from the caller's ``numpy`` generator (reproducible per sample).
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as TF

from train.config import Augment


def augment_volume(volume: torch.Tensor, boxes: torch.Tensor, rng: np.random.Generator,
                   params: Augment) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, h, w) uint8 volume and (k, 4) float32 xyxy boxes -> augmented copies (same dtypes).

    ``params`` (train.config.Augment): rotate_deg (+-), scale (+- fraction), translate (+- fraction of the size),
    brightness (+- shift on [0, 1]), contrast (+- factor), blur_p, noise_p, noise_sigma.
    """
    n, h, w = volume.shape
    angle = float(rng.uniform(-1, 1) * params.rotate_deg)
    scale = float(1.0 + rng.uniform(-1, 1) * params.scale)
    shift = rng.uniform(-1, 1, 2) * params.translate
    translate = [float(shift[0] * w), float(shift[1] * h)]
    image = TF.affine(tv_tensors.Image(volume), angle=angle, translate=translate, scale=scale, shear=[0.0, 0.0])
    if len(boxes):
        boxed = tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(h, w))
        moved = TF.affine(boxed, angle=angle, translate=translate, scale=scale, shear=[0.0, 0.0])
        area_before = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])
        clipped = TF.clamp_bounding_boxes(moved).as_subclass(torch.Tensor)
        area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        boxes = clipped[(area >= 0.25 * area_before) & (area > 1.0)]
    x = image.as_subclass(torch.Tensor).float() * (1.0 / 255.0)
    contrast = 1.0 + rng.uniform(-1, 1) * params.contrast
    brightness = rng.uniform(-1, 1) * params.brightness
    x = (x - 0.5) * contrast + 0.5 + brightness
    if rng.random() < params.blur_p:
        x = TF.gaussian_blur(x, kernel_size=[5, 5], sigma=[float(rng.uniform(0.3, 1.2))] * 2)
    if rng.random() < params.noise_p:
        g = torch.Generator().manual_seed(int(rng.integers(2**31)))
        x = x + torch.randn(x.shape, generator=g) * params.noise_sigma
    out = (x.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return out, boxes.float().contiguous()
