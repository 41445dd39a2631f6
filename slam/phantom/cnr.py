"""Contrast-to-noise ratio of phantom lesions at their central slices."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from slam.phantom.dbt import ring_mask

if TYPE_CHECKING:
    from slam.phantom.study import PhantomStudy


def lesion_cnr(image: np.ndarray, mask: np.ndarray, pixel_mm: float) -> float:
    """(mean inside ``mask`` - mean of its ring) / std of the ring, on (H, W) display-oriented values.

    The ring is 1 mm to 1 + max(2 mm, half the mass radius) mm outside the mask (:func:`ring_mask`).
    """
    ring = ring_mask(mask, pixel_mm)
    values = image.astype(np.float64)
    return float((values[mask].mean() - values[ring].mean()) / (values[ring].std() + 1e-9))


def study_cnrs(study: PhantomStudy) -> list[float]:
    """CNR of each lesion of ``study`` at its central slice (MONOCHROME1 inverted first, so bright = dense)."""
    out = []
    for les, box_mask in zip(study.lesions, study.lesion_masks, strict=True):
        image = study.volume[les.slice].astype(np.float64)
        if study.photometric == "MONOCHROME1":
            image = (2 ** study.bits_stored - 1) - image
        mask = np.zeros(image.shape, bool)
        mask[les.y:les.y + les.height, les.x:les.x + les.width] = box_mask
        out.append(lesion_cnr(image, mask, study.pixel_spacing[0]))
    return out
