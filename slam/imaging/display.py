"""Display mapping: stored pixel values -> 8-bit grey levels (modality rescale, VOI window, MONOCHROME1)."""

from __future__ import annotations

import numpy as np


def window_to_uint8(
    image: np.ndarray,
    center: float,
    width: float,
    slope: float = 1.0,
    intercept: float = 0.0,
    invert: bool = False,
) -> np.ndarray:
    """Apply the modality rescale and a linear VOI window, giving display grey levels.

    Args:
        image: (H, W) or (D, H, W) stored values, any integer or float dtype.
        center, width: window in modality units (after ``value * slope + intercept``); width > 0.
        slope, intercept: the DICOM modality rescale.
        invert: True for MONOCHROME1 (low values are bright).

    Returns:
        Array of the same shape, uint8, 0 = black.
    """
    if width <= 0:
        raise ValueError(f"window width must be > 0, got {width}")
    # Fold rescale and window into one affine map on stored values: a single float32 pass.
    low = (center - width / 2.0 - intercept) / slope
    scale = 255.0 * slope / width
    out = (image.astype(np.float32) - np.float32(low)) * np.float32(scale)
    np.clip(out, 0, 255, out=out)
    if invert:
        np.subtract(255, out, out=out)
    return (out + 0.5).astype(np.uint8)


def robust_window(
    volume: np.ndarray, slope: float = 1.0, intercept: float = 0.0, percentiles: tuple[float, float] = (0.5, 99.5)
) -> tuple[float, float]:
    """A display window (center, width) in modality units from robust percentiles of the tissue.

    Uses a strided subsample (at most ~2 M values) so it costs milliseconds on a full study. Air (values
    within 5 % of the range from the darkest, or for MONOCHROME1 the brightest, stored value) is left
    out when it covers 10-95 % of the sample, so the window spans the breast, not the empty field.

    Args:
        volume: (D, H, W) or (H, W) stored values.
    """
    step = max(1, int(np.ceil((volume.size / 2_000_000) ** 0.5)))
    sample = volume[..., ::step, ::step].reshape(-1).astype(np.float32)
    lowest, highest = np.percentile(sample, (0, 100))
    margin = 0.05 * (highest - lowest)
    for air in (sample <= lowest + margin, sample >= highest - margin):
        if 0.1 <= air.mean() <= 0.95:
            sample = sample[~air]
            break
    low, high = np.percentile(sample, percentiles)
    low, high = low * slope + intercept, high * slope + intercept
    if slope < 0:
        low, high = high, low
    width = max(float(high - low), 1.0)
    return float(low + width / 2.0), width
