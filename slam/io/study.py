"""The loaded study: pixels in stored orientation plus what is needed to display and report them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from slam.imaging.orientation import flip_box, flip_image

VIEWS = ("CC", "MLO")
LATERALITIES = ("L", "R")


@dataclass
class Study:
    """One DBT view of one breast.

    ``pixels`` is (D, H, W) in the stored dtype and the stored orientation (never converted to float).
    The display orientation follows the Duke BCS-DBT convention (design.md §1: chest wall at the right edge
    for right views, left for left views); ``flip_rows``/``flip_cols`` say how display differs from
    stored, and :meth:`box_to_stored` / :meth:`box_to_display` map boxes between the two.
    """

    pixels: np.ndarray
    window_center: float
    window_width: float
    laterality: str = ""
    laterality_source: str = ""  # "tag", "image" (edge rule) or "" (unknown)
    view: str = ""
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    photometric: str = "MONOCHROME2"
    flip_rows: bool = False
    flip_cols: bool = False
    pixel_spacing: tuple[float, float] | None = None  # (row, column) mm
    slice_spacing: float | None = None  # mm between reconstructed slices
    bits_stored: int | None = None
    patient: dict[str, str] = field(default_factory=dict)
    source_format: str = ""  # e.g. "DICOM multi-frame (JPEG 2000)", "npz"
    header: Any = None  # pydicom Dataset without pixel data (None for numpy input)

    @property
    def depth(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def invert(self) -> bool:
        """True when low stored values are bright (MONOCHROME1)."""
        return self.photometric == "MONOCHROME1"

    @property
    def dbtex_view(self) -> str:
        """View in BCS-DBT spelling: ``lcc``, ``rcc``, ``lmlo``, ``rmlo`` ('' when unknown)."""
        if self.laterality not in LATERALITIES or self.view not in VIEWS:
            return ""
        return f"{self.laterality}{self.view}".lower()

    def display_slice(self, index: int) -> np.ndarray:
        """Slice ``index`` as (H, W) stored values in display orientation (a view, no copy)."""
        if not 0 <= index < self.depth:
            raise IndexError(f"slice {index} outside 0..{self.depth - 1}")
        return flip_image(self.pixels[index], self.flip_rows, self.flip_cols)

    def display_volume(self) -> np.ndarray:
        """(D, H, W) stored values in display orientation (a view, no copy)."""
        return flip_image(self.pixels, self.flip_rows, self.flip_cols)

    def box_to_stored(self, x: float, y: float, width: float, height: float) -> tuple[float, float, float, float]:
        """Map a box (top-left x, y, width, height in pixels) from display to stored orientation."""
        return flip_box(x, y, width, height, self.height, self.width, self.flip_rows, self.flip_cols)

    # A flip is its own inverse.
    box_to_display = box_to_stored

    def metadata(self) -> dict[str, Any]:
        """JSON-ready summary (what ``slam info`` prints)."""
        return {
            "shape": list(self.pixels.shape),
            "dtype": str(self.pixels.dtype),
            "bits_stored": self.bits_stored,
            "source_format": self.source_format,
            "view": self.view,
            "laterality": self.laterality,
            "laterality_source": self.laterality_source,
            "dbtex_view": self.dbtex_view,
            "display_flip": {"rows": self.flip_rows, "cols": self.flip_cols},
            "photometric": self.photometric,
            "window": {"center": self.window_center, "width": self.window_width},
            "rescale": {"slope": self.rescale_slope, "intercept": self.rescale_intercept},
            "pixel_spacing_mm": list(self.pixel_spacing) if self.pixel_spacing else None,
            "slice_spacing_mm": self.slice_spacing,
            "patient": dict(self.patient),
        }
