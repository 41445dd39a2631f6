"""Per-slice preprocessing of DBT slices at native resolution (design.md §3).

Three composable steps on one slice, then a threaded volume function:

1. :func:`awa_denoise` — Anscombe transform, 5 x 5 Wiener filter, inverse transform,
   min-max to uint8 ("AWA").
2. :func:`remove_border_artifacts` — zero a band along the breast outline.
3. :func:`clahe` — contrast-limited adaptive histogram equalisation.

Speed: the Wiener filter's local mean and variance are OpenCV box filters in float32
(O(pixels)), computed on row strips that stay in cache, two passes per slice (the
noise estimate is global). :func:`preprocess_volume` runs slices on a thread pool
(OpenCV releases the GIL). Memory: besides the (D, H, W) uint8 output, each worker
holds one float32 slice, a few strips and a few uint8 slices.

Borders: ``padding="zero"`` (default) pads with zeros in the Anscombe domain, as
``scipy.signal.wiener`` (and so the original) does: the outermost 2 pixels get a
lower local mean and the zero-padded variances enter the noise estimate.
``padding="reflect"`` mirrors the image instead (``d c b | b c d``).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from slam.errors import SlamError

WIENER_WINDOW = 5
CANNY_LOW = 100
CANNY_HIGH = 200
BAND_SIZE = 15
CLAHE_CLIP_LIMIT = 1.0
CLAHE_TILES = 10
PADDINGS = {"zero": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT}

# Rows per strip of the Wiener filter: four float32 strips of ~2000-px rows (1 MB each) stay in
# cache between the ops on them; of 16-512 rows, 128 measured fastest.
_STRIP_ROWS = 128
_CV_DEPTHS = (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64)


def _anscombe_squared(image: np.ndarray, out: np.ndarray) -> np.ndarray:
    """y² = 4x + 1.5 in float32 (x clipped at 0), exact for integers below 2^22; one SIMD
    pass (affine map with conversion), plus a clip for signed or float input."""
    cv2.addWeighted(image, 4.0, image, 0.0, 1.5, dst=out, dtype=cv2.CV_32F)
    if image.dtype.kind != "u":
        cv2.max(out, 1.5, dst=out)
    return out


def anscombe(image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Anscombe transform y = 2·sqrt(x + 3/8) = sqrt(4x + 1.5), float32, same shape.

    Negative values are clipped to 0 (counts cannot be negative). For integer input
    below 2^22 the result is the correctly rounded float32 of the exact value (what a
    65536-entry table would give, but faster).
    """
    if image.dtype not in _CV_DEPTHS:
        image = image.astype(np.float64)
    if out is None:
        out = np.empty(image.shape, np.float32)
    return cv2.sqrt(_anscombe_squared(image, out), dst=out)


@functools.lru_cache(maxsize=64)
def _coverage(n: int, half: int, border: int) -> np.ndarray:
    """(n,) float64: how many times each index is read by a 1-D box filter of radius
    ``half`` run over all n output positions with OpenCV's ``border`` handling.

    The sum of a box-filtered image is then sum_ij cover_row[i] · cover_col[j] · x_ij / k²,
    which gives the Wiener noise estimate without filtering y² in the first pass.
    """
    q = np.arange(n)
    lo, hi = half, n - half  # output positions whose window lies inside: each reads 2·half+1 indices
    counts = np.clip(np.minimum(q + half, hi - 1) - np.maximum(q - half, lo) + 1, 0, None).astype(np.float64)
    for p in [*range(min(half, n)), *range(max(n - half, min(half, n)), n)]:
        for offset in range(-half, half + 1):
            index = cv2.borderInterpolate(p + offset, n, border)
            if index >= 0:  # -1: a constant (zero) pad value, read from no pixel
                counts[index] += 1
    return counts


def _sum_box_of_squares(image: np.ndarray, clip: bool, half: int, border: int) -> float:
    """Sum over all pixels of box(y²), y² = 4·max(x, 0) + 1.5, straight from the input.

    With coverages c_r = k + d_r and c_c = k + d_c (d non-zero only within ``half`` of
    the ends), sum c_r[i]·c_c[j]·x_ij = k²·S + k·(d_r·row sums) + k·(d_c·column sums)
    + d_r·corners·d_c: one summing pass over the slice plus a few edge rows/columns.
    """
    if clip:
        image = np.maximum(image, 0)
    if image.dtype not in _CV_DEPTHS:
        image = image.astype(np.float64)
    height, width = image.shape
    rows, cols = _coverage(height, half, border), _coverage(width, half, border)
    k = 2 * half + 1
    er, ec = np.flatnonzero(rows != k), np.flatnonzero(cols != k)
    dr, dc = rows[er] - k, cols[ec] - k
    weighted = k * k * float(cv2.sumElems(image)[0])
    weighted += k * float(dr @ image[er, :].sum(axis=1, dtype=np.float64))
    weighted += k * float(dc @ image[:, ec].sum(axis=0, dtype=np.float64))
    weighted += float(dr @ image[np.ix_(er, ec)].astype(np.float64) @ dc)
    return (4.0 * weighted + 1.5 * rows.sum() * cols.sum()) / (k * k)


def _check_slice(image: np.ndarray, name: str = "slice") -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 2 or image.size == 0:
        shape = getattr(image, "shape", None)
        raise SlamError(f"{name} must be a non-empty 2-D (H, W) array, got shape {shape}")
    if not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise SlamError(f"{name} must hold integer or float pixels, got dtype {image.dtype}")


def _check_u8(image: np.ndarray, name: str) -> None:
    _check_slice(image, name)
    if image.dtype != np.uint8:
        raise SlamError(f"{name} must be uint8, got {image.dtype}; run awa_denoise first")


def _check_params(window: int, padding: str) -> int:
    if padding not in PADDINGS:
        raise SlamError(f"unknown padding {padding!r}; accepted: {', '.join(PADDINGS)}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1 or window % 2 == 0:
        raise SlamError(f"Wiener window must be an odd positive integer, got {window!r}")
    return PADDINGS[padding]


class _Workspace:
    """Scratch buffers for one worker: one float32 slice and a few strips, reused."""

    def __init__(self) -> None:
        self.shape: tuple[int, int] | None = None

    def ensure(self, height: int, width: int, halo: int) -> None:
        if self.shape == (height, width) and self.halo == halo:
            return
        rows = min(_STRIP_ROWS, height) + 2 * halo
        self.shape, self.halo = (height, width), halo
        self.z = np.empty((height, width), np.float32)
        self.t, self.y, self.box, self.tmp = (np.empty((rows, width), np.float32) for _ in range(4))


def _extremes(image: np.ndarray) -> tuple[float, float]:
    if image.dtype in _CV_DEPTHS:
        lo, hi, _, _ = cv2.minMaxLoc(image)  # one pass, several times faster than min() + max()
        return lo, hi
    return float(image.min()), float(image.max())


def _awa_into(image: np.ndarray, out: np.ndarray, ws: _Workspace, window: int, border: int) -> None:
    """AWA-denoise ``image`` (H, W) into ``out`` (H, W) uint8 using workspace ``ws``.

    Rows are processed in strips with ``halo`` extra real rows above and below (where
    they exist), so the box filters see the true neighbours; only at the image's own
    top and bottom does OpenCV's ``border`` padding apply, as for the whole image.
    """
    lo, hi = _extremes(image)
    if lo == hi:
        out[...] = 0  # no information to stretch (zero padding would otherwise leave a frame)
        return
    if image.dtype not in _CV_DEPTHS:
        image = image.astype(np.float64)
    height, width = image.shape
    halo = window // 2
    ws.ensure(height, width, halo)
    ksize = (window, window)
    strips = []
    for r0 in range(0, height, _STRIP_ROWS):
        r1 = min(r0 + _STRIP_ROWS, height)
        h0, h1 = max(r0 - halo, 0), min(r1 + halo, height)
        strips.append((r0, r1, h0, h1, r0 - h0, r1 - h0))
    # Pass 1: local means into the full-size buffer, and the noise = mean local variance
    # = (sum of box(y²) - sum of mean²) / pixels (scipy's estimate); the first sum comes
    # straight from the input.
    means = ws.z
    total = _sum_box_of_squares(image, lo < 0, halo, border)
    for r0, r1, h0, h1, a, b in strips:
        y, box = ws.y[: h1 - h0], ws.box[: h1 - h0]
        cv2.sqrt(_anscombe_squared(image[h0:h1], y), dst=y)
        cv2.boxFilter(y, -1, ksize, dst=box, normalize=True, borderType=border)
        means[r0:r1] = box[a:b]
        total -= cv2.norm(box[a:b], cv2.NORM_L2SQR)
    noise = max(total / (height * width), 0.0)
    # Pass 2: z = y - (y - mean) * noise / max(var, noise), which is the mean where
    # var < noise and mean + (1 - noise/var)(y - mean) elsewhere, with no 0/0. z replaces
    # the mean in the full-size buffer.
    zmin, zmax = math.inf, -math.inf
    for r0, r1, h0, h1, a, b in strips:
        t, box = ws.t[: h1 - h0], ws.box[: h1 - h0]
        _anscombe_squared(image[h0:h1], t)
        cv2.boxFilter(t, -1, ksize, dst=box, normalize=True, borderType=border)  # local mean of y²
        t, var, y, mean, tmp = t[a:b], box[a:b], ws.y[: b - a], means[r0:r1], ws.tmp[: b - a]
        cv2.sqrt(t, dst=y)
        cv2.multiply(mean, mean, dst=tmp)
        cv2.subtract(var, tmp, dst=var)
        cv2.max(var, noise, dst=var)
        if noise > 0:
            np.divide(noise, var, out=var)  # var now holds noise / max(var, noise) in [0, 1]
        else:
            var[...] = 0.0
        cv2.subtract(y, mean, dst=tmp)
        cv2.multiply(tmp, var, dst=tmp)
        cv2.subtract(y, tmp, dst=mean)
        lo, hi, _, _ = cv2.minMaxLoc(mean)
        zmin, zmax = min(zmin, lo), max(zmax, hi)
    z = means
    # Inverse Anscombe x = (z/2)^2 - 1/8 is increasing for z >= 0 (z lies between y and
    # the local mean, both >= 0), so min-max of x maps to (z^2 - zmin^2) / (zmax^2 - zmin^2).
    span = zmax * zmax - zmin * zmin
    if zmax - zmin <= 1e-5 * zmax:  # flat up to float32 rounding: nothing to stretch
        out[...] = 0
        return
    scale = 255.0 / span
    for r0, r1, *_ in strips:
        tmp = ws.tmp[: r1 - r0]
        cv2.multiply(z[r0:r1], z[r0:r1], dst=tmp, scale=scale)
        # addWeighted with an 8-bit dtype rounds and saturates like Mat::convertTo
        cv2.addWeighted(tmp, 1.0, tmp, 0.0, -zmin * zmin * scale, dst=out[r0:r1], dtype=cv2.CV_8U)


def awa_denoise(image: np.ndarray, window: int = WIENER_WINDOW, padding: str = "zero") -> np.ndarray:
    """Anscombe–Wiener–Anscombe denoising of one slice, min-max scaled to uint8.

    Args:
        image: (H, W) slice, any integer or float dtype (stored pixel values, >= 0).
        window: Wiener window side in pixels (odd; design.md §3 default 5).
        padding: ``"zero"`` (as ``scipy.signal.wiener``) or ``"reflect"``; see module doc.

    Returns:
        (H, W) uint8, the denoised slice with its min at 0 and max at 255 (rounded).
        A constant slice gives all zeros (scipy's zero-padded filter would turn it into
        a white image with a darker 2-pixel frame).
    """
    _check_slice(image)
    border = _check_params(window, padding)
    out = np.empty(image.shape, np.uint8)
    _awa_into(image, out, _Workspace(), window, border)
    return out


def remove_border_artifacts(image: np.ndarray, canny_low: float = CANNY_LOW, canny_high: float = CANNY_HIGH,
                            band: int = BAND_SIZE) -> np.ndarray:
    """Zero a band along the breast outline, where reconstruction leaves bright artifacts.

    Triangle-method threshold -> binary mask; Canny edges (canny_low, canny_high) of
    the mask; dilate with a ``band`` x ``band`` square; keep the band only inside the
    largest external contour of the mask (filled); set those pixels to 0.

    Args:
        image: (H, W) uint8 slice (e.g. from :func:`awa_denoise`).

    Returns:
        (H, W) uint8 copy with the band zeroed (unchanged when the mask is empty).
    """
    _check_band_params(image, band)
    out = image.copy()
    _remove_border_artifacts_into(out, canny_low, canny_high, band)
    return out


def artifact_band(image: np.ndarray, canny_low: float = CANNY_LOW, canny_high: float = CANNY_HIGH,
                  band: int = BAND_SIZE) -> np.ndarray | None:
    """(H, W) bool mask of the pixels :func:`remove_border_artifacts` zeroes, or None
    when the threshold mask is empty. ``image``: (H, W) uint8."""
    _check_band_params(image, band)
    return _artifact_band(image, canny_low, canny_high, band)


def _check_band_params(image: np.ndarray, band: int) -> None:
    _check_u8(image, "border-artifact removal input")
    if isinstance(band, bool) or not isinstance(band, (int, np.integer)) or band < 1:
        raise SlamError(f"band size must be a positive integer, got {band!r}")


def _artifact_band(image: np.ndarray, canny_low: float, canny_high: float, band: int) -> np.ndarray | None:
    _, mask = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_TRIANGLE)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    edges = cv2.Canny(mask, canny_low, canny_high)
    ring = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (band, band)))
    inside = np.zeros_like(mask)
    largest = max(contours, key=cv2.contourArea)
    cv2.drawContours(inside, [largest], -1, 255, thickness=cv2.FILLED)
    cv2.bitwise_and(ring, inside, dst=ring)
    return ring > 0


def _remove_border_artifacts_into(image: np.ndarray, canny_low: float, canny_high: float, band: int) -> None:
    """In-place version of :func:`remove_border_artifacts` on a uint8 (H, W) array."""
    ring = _artifact_band(image, canny_low, canny_high, band)
    if ring is not None:
        np.copyto(image, 0, where=ring)


def clahe(image: np.ndarray, clip_limit: float = CLAHE_CLIP_LIMIT, tiles: int = CLAHE_TILES) -> np.ndarray:
    """OpenCV CLAHE with ``tiles`` x ``tiles`` tiles; (H, W) uint8 or uint16 -> same dtype."""
    _check_slice(image, "CLAHE input")
    if image.dtype not in (np.uint8, np.uint16):
        raise SlamError(f"CLAHE input must be uint8 or uint16, got {image.dtype}")
    if not np.isfinite(clip_limit) or clip_limit <= 0:
        raise SlamError(f"CLAHE clip limit must be a positive number, got {clip_limit!r}")
    if isinstance(tiles, bool) or not isinstance(tiles, (int, np.integer)) or tiles < 1:
        raise SlamError(f"CLAHE tiles must be a positive integer, got {tiles!r}")
    return cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=(int(tiles), int(tiles))).apply(image)


def preprocess_slice(image: np.ndarray, window: int = WIENER_WINDOW, padding: str = "zero",
                     invert: bool = False, remove_artifacts: bool = True, canny_low: float = CANNY_LOW,
                     canny_high: float = CANNY_HIGH, band: int = BAND_SIZE, apply_clahe: bool = True,
                     clip_limit: float = CLAHE_CLIP_LIMIT, tiles: int = CLAHE_TILES) -> np.ndarray:
    """The full design.md §3 chain on one (H, W) slice -> (H, W) uint8.

    AWA denoising, then (optionally) border-artifact removal, then (optionally) CLAHE;
    the parameters are those of :func:`awa_denoise`, :func:`remove_border_artifacts`
    and :func:`clahe`, with the design.md §3 defaults. ``invert=True`` (MONOCHROME1 input,
    bright = low values) turns the denoised uint8 into 255 - x before the artifact
    step, whose threshold expects a bright breast on a dark background.
    """
    _check_slice(image)
    return _preprocess_volume(image[None], 1, None, window, padding, invert, remove_artifacts, canny_low,
                              canny_high, band, apply_clahe, clip_limit, tiles)[0]


def preprocess_volume(volume: np.ndarray, workers: int = 2, progress: Callable[[int, int], None] | None = None,
                      window: int = WIENER_WINDOW, padding: str = "zero", invert: bool = False,
                      remove_artifacts: bool = True,
                      canny_low: float = CANNY_LOW, canny_high: float = CANNY_HIGH, band: int = BAND_SIZE,
                      apply_clahe: bool = True, clip_limit: float = CLAHE_CLIP_LIMIT,
                      tiles: int = CLAHE_TILES) -> np.ndarray:
    """:func:`preprocess_slice` on every slice of a (D, H, W) volume -> (D, H, W) uint8.

    Args:
        volume: (D, H, W) stored pixels, any integer or float dtype; never copied.
        workers: threads (slices run in parallel; OpenCV's own threading is turned
            off meanwhile so the two do not compete for cores).
        progress: called as ``progress(done, total)`` from the calling thread after
            each slice finishes; an exception it raises cancels the remaining slices.
        Other parameters: as :func:`preprocess_slice`.
    """
    if not isinstance(volume, np.ndarray) or volume.ndim != 3 or volume.size == 0:
        raise SlamError(f"volume must be a non-empty 3-D (D, H, W) array, got shape {getattr(volume, 'shape', None)}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise SlamError(f"workers must be a positive integer, got {workers!r}")
    return _preprocess_volume(volume, workers, progress, window, padding, invert, remove_artifacts, canny_low,
                              canny_high, band, apply_clahe, clip_limit, tiles)


def _preprocess_volume(volume, workers, progress, window, padding, invert, remove_artifacts, canny_low,
                       canny_high, band, apply_clahe, clip_limit, tiles) -> np.ndarray:
    _check_slice(volume[0], "volume slice")
    border = _check_params(window, padding)
    if isinstance(band, bool) or not isinstance(band, (int, np.integer)) or band < 1:
        raise SlamError(f"band size must be a positive integer, got {band!r}")
    if apply_clahe:  # validates clip_limit and tiles before any work
        clahe(np.zeros((1, 1), np.uint8), clip_limit, tiles)
    depth = volume.shape[0]
    out = np.empty(volume.shape, np.uint8)
    local = threading.local()

    def work(k: int) -> None:
        if not hasattr(local, "ws"):
            local.ws = _Workspace()
            local.clahe = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=(int(tiles), int(tiles)))
        _awa_into(volume[k], out[k], local.ws, window, border)
        if invert:
            cv2.bitwise_not(out[k], dst=out[k])
        if remove_artifacts:
            _remove_border_artifacts_into(out[k], canny_low, canny_high, band)
        if apply_clahe:
            out[k] = local.clahe.apply(out[k])

    workers = min(workers, depth)
    previous = cv2.getNumThreads()
    if workers > 1:
        cv2.setNumThreads(1)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(work, k) for k in range(depth)]
            try:
                for done, future in enumerate(futures, start=1):
                    future.result()
                    if progress is not None:
                        progress(done, depth)
            except BaseException:  # a failed slice, a raising callback (cancel) or Ctrl-C: stop early
                for future in futures:
                    future.cancel()
                raise
    finally:
        cv2.setNumThreads(previous)
    return out
