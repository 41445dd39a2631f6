"""What the model sees of a study: sampled slices resized to the model's input, and boxes in input pixels.

Training (``train/``) and inference (``slam.detection.predictor``) both build their inputs here,
so the two never drift apart.

- Orientation: DISPLAY (``Study.display_slice``: the Duke BCS-DBT convention, so every breast has its
  chest wall on the side it had in training).
- Resize: the (H, W) slice is scaled to (h, w) = ``input_size`` with OpenCV's area filter, each axis
  on its own (no padding, no crop): the aspect ratio is NOT kept, every input pixel carries breast
  data, and boxes map back with separate factors W / w and H / h.
- Grey levels (``ModelConfig.grey_levels``): "uint8" — without preprocessing, the study's own display
  window (centre/width, modality rescale, MONOCHROME1 inverted) gives 8-bit levels, divided by 255; with
  preprocessing, the 8-bit output of ``slam.imaging.preprocess.preprocess_slice`` (inverted for
  MONOCHROME1) divided by 255. "tissue" — the breast's own robust percentiles (:func:`tissue_levels`,
  once per study): the file's window tags and stored range play no part, so two writers' files of the
  same anatomy give the same input. Both are quantised to 8-bit levels (the training cache is uint8).
"""

from __future__ import annotations

import numpy as np

from slam.errors import SlamError
from slam.imaging.orientation import flip_image

# "tissue" grey levels: the breast is what lies above AIR_FRACTION of the way from the darkest to the
# brightest value (air and the detector's pedestal below); its TISSUE_PERCENTILES map to FAT_LEVEL and 1,
# so fat stays above the background level the post-processing treats as air (0.1) and air goes to 0.
AIR_FRACTION = 0.15
TISSUE_PERCENTILES = (1.0, 99.5)
FAT_LEVEL = 0.15
_LEVEL_SLICES = 8  # slices (evenly spread) and pixel stride the percentiles are measured on
_LEVEL_STRIDE = 4


def tissue_levels(study) -> tuple[float, float]:
    """(lo, hi): stored values of the breast's p1 and p99.5, "bright = dense" (MONOCHROME1 negated).

    Measured on ``_LEVEL_SLICES`` evenly spread slices every ``_LEVEL_STRIDE`` pixels, so it is one
    number pair per study whatever slices a model samples. A MONOCHROME1 study returns its values
    negated (lo < hi always); :func:`_tissue_to_uint8` applies the same negation.
    """
    picks = np.unique(np.linspace(0, study.depth - 1, _LEVEL_SLICES).round().astype(int))
    values = study.pixels[picks, ::_LEVEL_STRIDE, ::_LEVEL_STRIDE].astype(np.float32).ravel()
    if study.invert:
        values = -values
    dark, bright = np.percentile(values, (0.1, 99.9))
    breast = values[values > dark + AIR_FRACTION * (bright - dark)]
    if breast.size < 0.05 * values.size:  # no clear air/tissue split: the whole image is tissue
        breast = values
    lo, hi = np.percentile(breast, TISSUE_PERCENTILES)
    return float(lo), float(max(hi, lo + 1e-3 * max(abs(lo), 1.0)))


def _tissue_to_uint8(image: np.ndarray, levels: tuple[float, float], invert: bool) -> np.ndarray:
    """Stored values (any shape) -> uint8: ``levels`` (lo, hi) to FAT_LEVEL..1 of 255, clipped."""
    lo, hi = levels
    sign = -1.0 if invert else 1.0
    scale = 255.0 * (1.0 - FAT_LEVEL) / (hi - lo)
    out = (image.astype(np.float32) * np.float32(sign) - np.float32(lo)) * np.float32(scale) + np.float32(255.0 * FAT_LEVEL)
    return np.rint(np.clip(out, 0.0, 255.0, out=out)).astype(np.uint8)


def slice_to_input(study, index: int, input_size: tuple[int, int], preprocess: bool = False,
                   grey_levels: str = "uint8", levels: tuple[float, float] | None = None) -> np.ndarray:
    """Original slice ``index`` as the model sees it: (h, w) float32 in [0, 1], display orientation.

    Resized in stored orientation and flipped afterwards (the area filter is mirror
    symmetric), so a flipped study costs no full-size copy. ``grey_levels`` "tissue" uses
    ``levels`` (:func:`tissue_levels` of the study; measured here when None).
    """
    import cv2

    from slam.imaging.display import window_to_uint8

    h, w = input_size
    image = study.pixels[index]
    if grey_levels not in ("uint8", "tissue"):
        raise SlamError(f"grey_levels {grey_levels!r} is unknown; accepted: uint8, tissue")
    if grey_levels == "tissue" and preprocess:
        raise SlamError("grey_levels 'tissue' replaces the window; it does not combine with preprocess")
    if grey_levels == "tissue":
        small = cv2.resize(image.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        small = _tissue_to_uint8(small, levels or tissue_levels(study), study.invert)
    elif preprocess:
        from slam.imaging.preprocess import preprocess_slice

        u8 = preprocess_slice(image, invert=study.invert)
        small = cv2.resize(u8, (w, h), interpolation=cv2.INTER_AREA)
    else:
        if image.dtype not in (np.uint8, np.uint16, np.int16, np.float32):
            image = image.astype(np.float32)
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        small = window_to_uint8(
            small, study.window_center, study.window_width, study.rescale_slope, study.rescale_intercept,
            invert=study.invert,
        )  # fmt: skip
    return flip_image(small, study.flip_rows, study.flip_cols).astype(np.float32) * np.float32(1.0 / 255.0)


def volume_to_input(study, indices, input_size: tuple[int, int], preprocess: bool = False,
                    grey_levels: str = "uint8") -> np.ndarray:
    """The model input for original slices ``indices``: (n, h, w) float32 in [0, 1] (repeats computed once)."""
    out = np.empty((len(indices), *input_size), dtype=np.float32)
    levels = tissue_levels(study) if grey_levels == "tissue" else None
    first: dict[int, int] = {}
    for p, k in enumerate(int(i) for i in indices):
        if k in first:
            out[p] = out[first[k]]
        else:
            out[p] = slice_to_input(study, k, input_size, preprocess, grey_levels, levels)
            first[k] = p
    return out


def input_scale(study, input_size: tuple[int, int]) -> tuple[float, float]:
    """(sx, sy): original pixels per input pixel along x (width) and y (height)."""
    return study.width / input_size[1], study.height / input_size[0]


def box_to_input(study, x, y, width, height, input_size: tuple[int, int], coords: str = "stored"):
    """A box in original pixels (``coords`` frame) -> (x1, y1, x2, y2) in model input pixels (display)."""
    if coords == "stored":
        x, y, width, height = study.box_to_display(x, y, width, height)
    sx, sy = input_scale(study, input_size)
    return x / sx, y / sy, (x + width) / sx, (y + height) / sy
