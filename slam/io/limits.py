"""Caps on what a load may cost, checked before any pixel is decoded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadLimits:
    """Limits for :func:`slam.io.load_study`.

    The defaults admit every DBT study we know of (≤ 200 slices of ≤ 4096 × 4096 at 16 bit is 6.4 GB,
    so the byte cap binds first: 3 GiB is ~4× a 90-slice 2457 × 1996 study) and refuse
    decompression bombs and non-DBT input early.
    """

    min_slices: int = 10
    max_slices: int = 400
    max_rows: int = 8192
    max_columns: int = 8192
    max_pixel_bytes: int = 3 * 1024**3
    max_zip_members: int = 1000
    max_zip_bytes: int = 4 * 1024**3
