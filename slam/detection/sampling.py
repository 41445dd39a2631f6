"""Which N slices of a DBT volume the detector sees (design.md §4).

The model takes N slices (default 27). The default sampler spreads N indices evenly
over the (trimmed) volume in slice order, repeating indices when the volume has
fewer than N slices. The original interleaved sampler is kept as an option for
compatibility only: for D >= 81 it ignores the bottom of the volume and for smaller
D it clusters at the top.

The returned index array *is* the sampled -> original mapping (position p of the
model input is original slice ``indices[p]``); :func:`representative_target` and
:func:`sampled_position` go the other way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slam.errors import SlamError

DEFAULT_NUM_SLICES = 27
METHODS = ("even", "interleaved")


def trim_range(depth: int) -> tuple[int, int]:
    """Slices kept after the original end-trimming: ``(first, last)``, inclusive.

    Volumes of 100-109 slices lose 3 slices at each end, 110-119 lose 6; all other
    depths keep every slice (the original's rule).
    """
    _check_positive_int(depth, "depth")
    trim = 3 if 100 <= depth <= 109 else 6 if 110 <= depth <= 119 else 0
    return trim, depth - 1 - trim


def sample_indices(depth: int, n: int = DEFAULT_NUM_SLICES, method: str = "even") -> np.ndarray:
    """Original slice indices of the N slices fed to the model.

    Args:
        depth: number of slices D in the volume (>= 1).
        n: number of slices N to sample (>= 1).
        method: ``"even"`` (default) spreads N indices evenly from the first to the
            last kept slice (rounding half up), so D = N gives every slice and D < N
            repeats slices; ``"interleaved"`` is the original sampler (indices
            i % 3 == 0, then == 1, then == 2 of the kept slices, first N of them),
            returned sorted into slice order; when it yields fewer than N indices
            (D < N) it falls back to the even spread.

    Returns:
        (N,) int64 array of original slice indices, non-decreasing.
    """
    _check_positive_int(depth, "depth")
    _check_positive_int(n, "number of sampled slices")
    if method not in METHODS:
        raise SlamError(f"unknown slice sampling method {method!r}; accepted: {', '.join(METHODS)}")
    first, last = trim_range(depth)
    if method == "interleaved" and last - first + 1 >= n:
        kept = np.arange(first, last + 1)
        order = np.concatenate([kept[(kept - first) % 3 == r] for r in range(3)])
        return np.sort(order[:n]).astype(np.int64)
    positions = np.linspace(first, last, n)
    return np.floor(positions + 0.5).astype(np.int64)


def representative_target(sampled_indices: Sequence[int] | np.ndarray, gt_slice: int) -> int:
    """Training target: position in the sampled list of the slice nearest ``gt_slice``.

    Args:
        sampled_indices: (N,) original slice indices from :func:`sample_indices`.
        gt_slice: the ground-truth lesion's central slice (0-based original index).

    Returns:
        Position p in [0, N). Ties (equal distance, or a repeated index) go to the
        first such position.
    """
    indices = np.asarray(sampled_indices)
    if indices.ndim != 1 or indices.size == 0:
        raise SlamError("sampled indices must be a non-empty 1-D list of slice indices")
    if isinstance(gt_slice, bool) or not float(gt_slice).is_integer() or gt_slice < 0:
        raise SlamError(f"ground-truth slice must be a non-negative integer, got {gt_slice!r}")
    return int(np.argmin(np.abs(indices.astype(np.int64) - int(gt_slice))))


def sampled_position(sampled_indices: Sequence[int] | np.ndarray, original_index: int) -> int:
    """Original -> sampled mapping: the sampled position nearest an original slice.

    Same rule as :func:`representative_target` (nearest, first on ties); use it to
    place any original slice (e.g. a box's slice) on the model's slice axis.
    """
    return representative_target(sampled_indices, original_index)


def _check_positive_int(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SlamError(f"{name} must be a positive integer, got {value!r}")
