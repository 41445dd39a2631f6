"""Stored <-> display orientation: the one flip helper.

A study's display orientation differs from its stored one by a flip of rows and/or columns
(the Duke BCS-DBT reader's 180° rotation is both; ``slam.io.Study.flip_rows``/``flip_cols``).
A flip is its own inverse, so the same functions map stored -> display and display -> stored.
"""

from __future__ import annotations

import numpy as np


def flip_image(image: np.ndarray, flip_rows: bool, flip_cols: bool) -> np.ndarray:
    """``image`` (..., H, W) with its last two axes flipped as asked: a view, no copy."""
    if flip_rows:
        image = image[..., ::-1, :]
    if flip_cols:
        image = image[..., ::-1]
    return image


def flip_box(
    x: float, y: float, width: float, height: float, image_height: int, image_width: int,
    flip_rows: bool, flip_cols: bool,
) -> tuple[float, float, float, float]:
    """A box (top-left x, y, width, height in pixels) in the other orientation of an (H, W) image."""
    if flip_cols:
        x = image_width - x - width
    if flip_rows:
        y = image_height - y - height
    return x, y, width, height
