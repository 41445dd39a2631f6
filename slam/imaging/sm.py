"""Synthetic mammogram (SM): one 2-D image from a slab of DBT slices (design.md §7).

From the slab of ``num_slices`` slices around ``center_slice`` (clamped at the
volume ends, keeping the count):

- a MIP image: max, min or mean over the slab;
- a weighted image: sum(w_i · slice_i) / sum(w_i), with d_i = |i - center_slice|
  measured on GLOBAL slice indices (the original measured from the slab-local index,
  which skewed the weights to one end of the slab), and either a sigmoid
  w = 1 / (1 + exp(s·(d - c))) or an inverse log w = 1 / (1 + ln(1 + d·(b - 1)));
- both min-max normalised to [0, 1]; the MIP where it exceeds ``threshold``, else the
  weighted image;
- window/level on that [0, 1] scale, rescaled to uint16 (0-65535) and uint8 (0-255);
- optional border-artifact removal and CLAHE (design.md §3), optional burned-in boxes;
- optionally (``source_map``) the slice contributing most at each pixel, for jumping from a
  point of the SM to its slice: where the MIP is kept, the slice the max (min) came from;
  elsewhere the weighted average's highest-weight slice (the weights do not depend on the
  pixel, so that is one slice for the whole weighted part; for a "mean" MIP too).

Speed and memory: the slab is read once, in row strips processed on a thread pool;
each strip accumulates the MIP (volume dtype) and the weighted sum (float32) slice by
slice, so nothing of slab size is ever allocated — only a few (H, W) images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from slam.errors import SlamError
from slam.imaging.preprocess import CLAHE_CLIP_LIMIT, CLAHE_TILES, artifact_band, clahe

MODES = ("max", "min", "mean")
WEIGHTINGS = ("sigmoid", "log")
SIGMOID_SLOPE = 0.7
SIGMOID_CENTER = 5.0
LOG_BASE = math.e
THRESHOLD = 0.8
WINDOW = 0.70
LEVEL = 0.62

_STRIP_ROWS = 128  # a strip of the MIP and the weighted sum stays in cache while the slab streams by
_CV_DTYPES = (np.uint8, np.uint16, np.float32)


@dataclass
class SMResult:
    """A synthetic mammogram, in the volume's stored orientation.

    Attributes:
        image16: (H, W) uint16, windowed to 0-65535.
        image8: (H, W) uint8, windowed to 0-255.
        combined: (H, W) float32 in [0, 1], the image before window/level (for
            re-windowing with :func:`apply_window` without recomputing).
        slab: (first, stop) slice range used, stop exclusive.
        center_slice: the centre the weights were measured from (float).
        weights: (stop - first,) float64 normalised weights (sum 1) of the slab slices.
        source_slices: (H, W) uint16 global 0-based index of the slice contributing most at
            each pixel (see the module docstring), or None when not asked for.
    """

    image16: np.ndarray
    image8: np.ndarray
    combined: np.ndarray
    slab: tuple[int, int]
    center_slice: float
    weights: np.ndarray
    source_slices: np.ndarray | None = None


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SlamError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise SlamError(f"{name} must be finite, got {value!r}")
    return float(value)


def slab_range(depth: int, center_slice: float | None = None, num_slices: int | None = None) -> tuple[int, int]:
    """Slab ``(first, stop)`` of ``num_slices`` slices centred on ``center_slice``.

    ``None`` for ``num_slices`` means the whole volume; ``None`` for ``center_slice``
    the volume's middle. A slab that would cross an end is shifted inside, keeping
    its count. For an even count the extra slice goes after the centre.
    """
    if num_slices is None:
        num_slices = depth
    if isinstance(num_slices, bool) or not isinstance(num_slices, (int, np.integer)) or not 1 <= num_slices <= depth:
        raise SlamError(f"number of slab slices must be an integer 1..{depth} (the volume depth), got {num_slices!r}")
    center = (depth - 1) / 2 if center_slice is None else _number(center_slice, "center slice")
    if not 0 <= center <= depth - 1:
        raise SlamError(f"center slice {center_slice!r} is outside the volume; accepted: 0..{depth - 1}")
    first = math.floor(center - (num_slices - 1) / 2 + 0.5)
    first = min(max(first, 0), depth - num_slices)
    return first, first + num_slices


def slab_weights(first: int, stop: int, center_slice: float, weighting: str = "sigmoid",
                 sigmoid_slope: float = SIGMOID_SLOPE, sigmoid_center: float = SIGMOID_CENTER,
                 log_base: float = LOG_BASE) -> np.ndarray:
    """Normalised weights (sum 1) of slices ``first..stop-1``, float64 (stop - first,).

    d_i = |i - center_slice| on global indices; ``"sigmoid"``: w = 1 / (1 + exp(s·(d - c)))
    with s = ``sigmoid_slope``, c = ``sigmoid_center``; ``"log"``:
    w = 1 / (1 + ln(1 + d·(b - 1))) with b = ``log_base``.
    """
    if weighting not in WEIGHTINGS:
        raise SlamError(f"unknown weighting {weighting!r}; accepted: {', '.join(WEIGHTINGS)}")
    d = np.abs(np.arange(first, stop, dtype=np.float64) - float(center_slice))
    if weighting == "sigmoid":
        if _number(sigmoid_slope, "sigmoid slope") <= 0:
            raise SlamError(f"sigmoid slope must be > 0, got {sigmoid_slope!r}")
        # 1/(1+exp(t)) written with tanh so that large t gives 0, not an overflow warning
        w = 0.5 * (1.0 - np.tanh(0.5 * sigmoid_slope * (d - _number(sigmoid_center, "sigmoid center"))))
    else:
        if _number(log_base, "log base") <= 1:
            raise SlamError(f"log base must be > 1, got {log_base!r}")
        w = 1.0 / (1.0 + np.log1p(d * (log_base - 1.0)))
    total = w.sum()
    if not total > 0:
        raise SlamError("slab weights are all zero; use a smaller sigmoid slope or a larger sigmoid center")
    return w / total


def apply_window(combined: np.ndarray, window: float = WINDOW, level: float = LEVEL,
                 dtype: type = np.uint8) -> np.ndarray:
    """Window/level on the [0, 1] scale: clip to [level - window/2, level + window/2] and
    rescale to the full range of ``dtype`` (uint8 or uint16), rounding to nearest.

    Args:
        combined: (H, W) float32 image in [0, 1].
    """
    window = _number(window, "window")
    level = _number(level, "level")
    if window <= 0:
        raise SlamError(f"window must be > 0 (a width on the [0, 1] scale), got {window}")
    if dtype not in (np.uint8, np.uint16):
        raise SlamError(f"window output dtype must be uint8 or uint16, got {dtype}")
    top = float(np.iinfo(dtype).max)
    scale = top / window
    # addWeighted with an integer dtype clips and rounds like Mat::convertTo
    return cv2.addWeighted(combined, scale, combined, 0.0, -(level - window / 2) * scale,
                           dtype=cv2.CV_8U if dtype == np.uint8 else cv2.CV_16U)


def burn_boxes(image: np.ndarray, boxes: Sequence[Sequence[float]], thickness: int = 3) -> np.ndarray:
    """Draw ``(x, y, width, height)`` pixel boxes into ``image`` (in place) at its max value."""
    value = int(np.iinfo(image.dtype).max)
    for x, y, w, h in _boxes(boxes):
        cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), value, thickness)
    return image


def _boxes(boxes: Sequence[Sequence[float]]) -> list[tuple[int, int, int, int]]:
    """Validated (x, y, width, height) boxes rounded to whole pixels."""
    result = []
    for box in boxes:
        if len(box) != 4:
            raise SlamError(f"a box must be (x, y, width, height), got {box!r}")
        x, y, w, h = (int(round(_number(v, "box coordinate"))) for v in box)
        if w < 1 or h < 1:
            raise SlamError(f"box width and height must be >= 1 pixel, got {box!r}")
        result.append((x, y, w, h))
    return result


def boxes_rgb(image: np.ndarray, boxes: Sequence[Sequence[float]], color: tuple[int, int, int] = (255, 48, 48),
              thickness: int = 3) -> np.ndarray:
    """(H, W) uint8 grey image -> (H, W, 3) uint8 RGB copy with ``(x, y, width, height)`` boxes in ``color``."""
    if image.dtype != np.uint8 or image.ndim != 2:
        raise SlamError(f"boxes_rgb needs an (H, W) uint8 image, got {image.shape} {image.dtype}")
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    for x, y, w, h in _boxes(boxes):
        cv2.rectangle(rgb, (x, y), (x + w - 1, y + h - 1), tuple(int(c) for c in color), thickness)
    return rgb


def synthetic_mammogram(volume: np.ndarray, center_slice: float | None = None, num_slices: int | None = None,
                        mode: str = "max", weighting: str = "sigmoid", threshold: float = THRESHOLD,
                        window: float = WINDOW, level: float = LEVEL, sigmoid_slope: float = SIGMOID_SLOPE,
                        sigmoid_center: float = SIGMOID_CENTER, log_base: float = LOG_BASE,
                        invert: bool = False, remove_artifacts: bool = False, apply_clahe: bool = False,
                        clip_limit: float = CLAHE_CLIP_LIMIT, tiles: int = CLAHE_TILES,
                        boxes: Sequence[Sequence[float]] | None = None, box_thickness: int = 3,
                        workers: int = 2, source_map: bool = False) -> SMResult:
    """Synthetic mammogram of a slab (or the whole volume) at native resolution.

    Args:
        volume: (D, H, W) stored pixels (uint8, uint16 or float32 fastest; other real
            dtypes are converted strip by strip). Never copied.
        center_slice: slab centre, 0..D-1 (may be fractional); None = (D - 1) / 2.
        num_slices: slab size 1..D; None = the whole volume.
        mode: MIP over the slab, ``"max"``, ``"min"`` or ``"mean"``.
        weighting: ``"sigmoid"`` (s = ``sigmoid_slope``, c = ``sigmoid_center``) or
            ``"log"`` (b = ``log_base``); see :func:`slab_weights`.
        threshold: MIP value (after normalising to [0, 1]) above which the MIP is kept.
        window, level: display window on the [0, 1] scale (window > 0).
        invert: the stored values are MONOCHROME1 (bright = low): compute on display
            values M - v (max and min swap, normalised images become 1 - x), without
            copying the volume.
        remove_artifacts, apply_clahe, clip_limit, tiles: optional design.md §3 steps. The
            artifact band is found on the uint8 image and zeroed in both outputs; CLAHE
            runs on each output at its own bit depth.
        boxes: optional (x, y, width, height) boxes in pixels (stored orientation), burned
            in at full white; :func:`boxes_rgb` draws them in colour instead.
        workers: threads over row strips.
        source_map: also return :attr:`SMResult.source_slices` (an argmax over the slab, strip by strip).

    Returns:
        :class:`SMResult`.
    """
    if not isinstance(volume, np.ndarray) or volume.ndim != 3 or volume.size == 0:
        raise SlamError(f"volume must be a non-empty 3-D (D, H, W) array, got shape {getattr(volume, 'shape', None)}")
    if not (np.issubdtype(volume.dtype, np.integer) or np.issubdtype(volume.dtype, np.floating)):
        raise SlamError(f"volume must hold integer or float pixels, got dtype {volume.dtype}")
    if mode not in MODES:
        raise SlamError(f"unknown MIP mode {mode!r}; accepted: {', '.join(MODES)}")
    threshold = _number(threshold, "threshold")
    if not 0 <= threshold <= 1:
        raise SlamError(f"threshold must be in [0, 1] (the normalised MIP scale), got {threshold}")
    apply_window(np.zeros((1, 1), np.float32), window, level)  # validates window and level up front
    if apply_clahe:
        clahe(np.zeros((1, 1), np.uint8), clip_limit, tiles)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise SlamError(f"workers must be a positive integer, got {workers!r}")
    depth, height, width = volume.shape
    first, stop = slab_range(depth, center_slice, num_slices)
    center = (depth - 1) / 2 if center_slice is None else float(center_slice)
    weights = slab_weights(first, stop, center, weighting, sigmoid_slope, sigmoid_center, log_base)

    effective = {"max": "min", "min": "max", "mean": "mean"}[mode] if invert else mode
    native = volume.dtype in _CV_DTYPES
    mip = np.empty((height, width), volume.dtype if native and effective != "mean" else np.float32)
    weighted = np.empty((height, width), np.float32)
    peak = first + int(np.argmax(weights))
    tracked = source_map and effective != "mean"  # a mean MIP has no slice it came from
    source = np.full((height, width), peak, np.uint16) if source_map else None
    strips = [(r, min(r + _STRIP_ROWS, height)) for r in range(0, height, _STRIP_ROWS)]

    def rows(k: int, r0: int, r1: int) -> np.ndarray:
        part = volume[k, r0:r1]
        return part if native else part.astype(np.float32)

    def accumulate(strip: tuple[int, int]) -> tuple[float, float, float, float]:
        r0, r1 = strip
        m, s = mip[r0:r1], weighted[r0:r1]
        s[...] = m[...] = rows(first, r0, r1)
        if tracked:  # argmax/argmin over the slab strip: one C loop; on ties the first slice keeps the pixel
            pick = np.argmax if effective == "max" else np.argmin
            source[r0:r1] = first + pick(volume[first:stop, r0:r1], axis=0)
        running = weights[0]
        for j, k in enumerate(range(first + 1, stop), start=1):
            part = rows(k, r0, r1)
            running += weights[j]
            # running weighted mean: s <- (1 - a)·s + a·part with a = w_j / sum(w_0..w_j)
            cv2.accumulateWeighted(part, s, weights[j] / running)
            if effective == "max":
                cv2.max(m, part, dst=m)
            elif effective == "min":
                cv2.min(m, part, dst=m)
            else:
                cv2.accumulate(part, m)
        mlo, mhi, _, _ = cv2.minMaxLoc(m)
        slo, shi, _, _ = cv2.minMaxLoc(s)
        return mlo, mhi, slo, shi

    combined = weighted  # the weighted image becomes the combined image, in place
    image16 = np.empty((height, width), np.uint16)
    image8 = np.empty((height, width), np.uint8)

    def combine(strip: tuple[int, int], mip_map: tuple[float, float], w_map: tuple[float, float]) -> None:
        r0, r1 = strip
        m = cv2.addWeighted(mip[r0:r1], mip_map[0], mip[r0:r1], 0.0, mip_map[1], dtype=cv2.CV_32F)
        s = combined[r0:r1]
        cv2.addWeighted(s, w_map[0], s, 0.0, w_map[1], dst=s)
        kept = m > threshold
        np.copyto(s, m, where=kept)
        if source is not None:
            np.copyto(source[r0:r1], np.uint16(peak), where=~kept)
        cv2.addWeighted(s, 65535.0 / window, s, 0.0, -(level - window / 2) * 65535.0 / window,
                        dst=image16[r0:r1], dtype=cv2.CV_16U)
        cv2.addWeighted(s, 255.0 / window, s, 0.0, -(level - window / 2) * 255.0 / window,
                        dst=image8[r0:r1], dtype=cv2.CV_8U)

    with ThreadPoolExecutor(max_workers=min(workers, len(strips))) as pool:
        # for "mean" the MIP holds the slab sum: min-max normalising makes the 1/n irrelevant
        ranges = list(pool.map(accumulate, strips))
        mip_map = _normaliser(min(r[0] for r in ranges), max(r[1] for r in ranges), invert)
        w_map = _normaliser(min(r[2] for r in ranges), max(r[3] for r in ranges), invert)
        list(pool.map(lambda strip: combine(strip, mip_map, w_map), strips))

    if remove_artifacts:
        band = artifact_band(image8)
        if band is not None:
            np.copyto(image8, 0, where=band)
            np.copyto(image16, 0, where=band)
    if apply_clahe:
        image8 = clahe(image8, clip_limit, tiles)
        image16 = clahe(image16, clip_limit, tiles)
    if boxes:
        burn_boxes(image8, boxes, box_thickness)
        burn_boxes(image16, boxes, box_thickness)
    return SMResult(image16=image16, image8=image8, combined=combined, slab=(first, stop),
                    center_slice=center, weights=weights, source_slices=source)


def _normaliser(lo: float, hi: float, invert: bool) -> tuple[float, float]:
    """(scale, offset) mapping [lo, hi] onto [0, 1] (onto [1, 0] when inverted); a
    constant image maps to 0."""
    if hi <= lo:
        return 0.0, 0.0
    scale = 1.0 / (hi - lo)
    return (-scale, hi * scale) if invert else (scale, -lo * scale)
