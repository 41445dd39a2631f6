"""Shared fixtures: small synthetic volumes with a known chest-wall side."""

from __future__ import annotations

import numpy as np
import pytest


def breast_volume(depth: int = 12, rows: int = 72, cols: int = 56, chest_wall: str = "L", seed: int = 0) -> np.ndarray:
    """(D, H, W) uint16, 12-bit: a bright half-disc against the ``chest_wall`` edge, dark air elsewhere,
    plus noise, so that the image-edge laterality rule has something real to decide on."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols]
    edge_x = 0 if chest_wall == "L" else cols - 1
    inside = ((xx - edge_x) / (0.8 * cols)) ** 2 + ((yy - rows / 2) / (0.45 * rows)) ** 2 <= 1
    volume = rng.integers(0, 60, size=(depth, rows, cols)).astype(np.uint16)
    volume[:, inside] += rng.integers(1500, 2500, size=(depth, int(inside.sum()))).astype(np.uint16)
    return volume


@pytest.fixture
def volume_left() -> np.ndarray:
    return breast_volume(chest_wall="L")
