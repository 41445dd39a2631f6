"""What a viewer shows of one slice: zoom/pan crop, downscale to display size, window, overlays.

Everything here works on the displayed pixels only, so the cost of a slice change is one crop,
one area resize and one window of at most ``max_size`` pixels, whatever the study size.

Frames: a *view* is a rectangle of the slice in display orientation (``Study.display_slice``),
``(x0, y0, x1, y1)`` in original pixels, plus the ``scale`` (output pixels per original pixel, ≤ 1)
it was rendered at. Boxes are (x, y, width, height) in display-orientation original pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from slam.imaging.display import window_to_uint8
from slam.imaging.orientation import flip_box, flip_image

# Overlay colours (RGB): findings, the top finding, text outline.
BOX_COLOR = (255, 170, 0)
TOP_BOX_COLOR = (255, 40, 40)


@dataclass(frozen=True)
class View:
    """The displayed rectangle of a (H, W) slice and the output scale (see module docstring)."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float

    @property
    def out_size(self) -> tuple[int, int]:
        """(height, width) of the rendered image in pixels."""
        return (max(1, round((self.y1 - self.y0) * self.scale)), max(1, round((self.x1 - self.x0) * self.scale)))

    def to_original(self, fx: float, fy: float) -> tuple[float, float]:
        """A point given as fractions (0..1) of the rendered image -> display-orientation original pixels."""
        return self.x0 + fx * (self.x1 - self.x0), self.y0 + fy * (self.y1 - self.y0)


def make_view(
    height: int, width: int, zoom: float = 1.0, focus: tuple[float, float] = (0.5, 0.5),
    max_size: tuple[int, int] = (1024, 1024),
) -> View:
    """The rectangle to show of an (height, width) slice at ``zoom`` (≥ 1) centred near ``focus``.

    Args:
        zoom: 1 shows the whole slice; z shows 1/z of each side.
        focus: (fx, fy) centre of the view as fractions of width and height; the rectangle is
            shifted to stay inside the slice.
        max_size: (max_h, max_w) of the rendered image; the view is only ever downscaled.
    """
    zoom = max(1.0, float(zoom))
    crop_w, crop_h = max(1, round(width / zoom)), max(1, round(height / zoom))
    cx, cy = float(np.clip(focus[0], 0, 1)) * width, float(np.clip(focus[1], 0, 1)) * height
    x0 = int(np.clip(round(cx - crop_w / 2), 0, width - crop_w))
    y0 = int(np.clip(round(cy - crop_h / 2), 0, height - crop_h))
    scale = min(1.0, max_size[0] / crop_h, max_size[1] / crop_w)
    return View(x0, y0, x0 + crop_w, y0 + crop_h, scale)


def crop_resize(image: np.ndarray, view: View, flip_rows: bool = False, flip_cols: bool = False) -> np.ndarray:
    """The ``view`` of a STORED-orientation (H, W) slice, downscaled and in display orientation.

    The crop is taken in stored orientation and the small result flipped (the area filter is mirror
    symmetric), so no full-size flipped copy is made. Returns the input dtype (uint8/uint16/float32).
    """
    height, width = image.shape
    x0, y0, crop_w, crop_h = flip_box(
        view.x0, view.y0, view.x1 - view.x0, view.y1 - view.y0, height, width, flip_rows, flip_cols
    )
    crop = image[y0 : y0 + crop_h, x0 : x0 + crop_w]
    if crop.dtype not in (np.uint8, np.uint16, np.float32):
        crop = crop.astype(np.float32)
    out_h, out_w = view.out_size
    if (out_h, out_w) != crop.shape:
        crop = cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(flip_image(crop, flip_rows, flip_cols))


def render_slice(
    image: np.ndarray, view: View, center: float, width: float, *, slope: float = 1.0, intercept: float = 0.0,
    invert: bool = False, flip_rows: bool = False, flip_cols: bool = False,
) -> np.ndarray:
    """Crop, downscale and window a STORED (H, W) slice: (h, w) uint8 grey in display orientation.

    The window is applied after the area resize (a linear average of stored values), which is what
    a display of that size would show and costs ``max_size`` pixels instead of the full slice.
    """
    small = crop_resize(image, view, flip_rows, flip_cols)
    return window_to_uint8(small, center, width, slope, intercept, invert=invert)


def draw_boxes(
    image: np.ndarray,
    boxes: Sequence[tuple[float, float, float, float]],
    view: View | None = None,
    labels: Sequence[str] | None = None,
    colors: Sequence[tuple[int, int, int]] | None = None,
) -> np.ndarray:
    """Burn boxes (and labels) into an image, returning a new (h, w, 3) uint8 RGB array.

    Args:
        image: (h, w) uint8 grey or (h, w, 3) uint8 RGB, the rendering of ``view``.
        boxes: (x, y, width, height) in display-orientation original pixels.
        view: the rendered rectangle (None: the image is the full slice at scale 1).
        labels: text drawn above each box (e.g. its score); colors: RGB per box (default orange).
    """
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    h, w = rgb.shape[:2]
    x0, y0, scale = (view.x0, view.y0, view.scale) if view is not None else (0, 0, 1.0)
    thickness = max(1, round(max(h, w) / 400))
    font_scale = max(0.4, max(h, w) / 1600)
    for i, (bx, by, bw, bh) in enumerate(boxes):
        color = tuple(int(c) for c in (colors[i] if colors is not None else BOX_COLOR))
        p1 = (round((bx - x0) * scale), round((by - y0) * scale))
        p2 = (round((bx + bw - x0) * scale), round((by + bh - y0) * scale))
        if p2[0] < 0 or p2[1] < 0 or p1[0] >= w or p1[1] >= h:
            continue  # outside the zoomed view
        cv2.rectangle(rgb, p1, p2, color, thickness, cv2.LINE_8)  # crisp, exact colour
        if labels is not None and labels[i]:
            org = (max(0, p1[0]), max(12, p1[1] - 4 * thickness))
            cv2.putText(rgb, labels[i], org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
            cv2.putText(rgb, labels[i], org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, color, thickness, cv2.LINE_AA)
    return rgb


def encode_jpeg(image: np.ndarray, quality: int = 88) -> bytes:
    """(h, w) grey or (h, w, 3) RGB uint8 -> JPEG bytes."""
    data = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buffer = cv2.imencode(".jpg", data, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()
