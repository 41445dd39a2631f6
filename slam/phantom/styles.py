"""Style families of DBT-like phantom studies, and what each study draws from them.

A *family* fixes what a patient population and a reconstruction look like (texture model,
density, noise level and correlation); every study also draws what scanners and their DICOM
writers vary (bit depth, stored value range and offset, window convention, MONOCHROME1/2,
pixel spacing and field of view, tube angle) from ranges shared by all families, so a
held-out family differs from the training ones in anatomy and noise, not in file conventions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from slam.errors import SlamError

CLASSIC = "classic"  # the original generator (slam.phantom.study), kept bit for bit


@dataclass(frozen=True)
class Family:
    """Ranges (lo, hi) of one style family's tissue and noise parameters."""

    name: str
    texture: str  # "powerlaw", "blobs" or "fibrous"
    beta: tuple[float, float]  # power-law exponent of the in-plane spectrum (background texture)
    dense_fraction: tuple[float, float]  # share of the breast volume that is fibroglandular
    dense_gain: tuple[float, float]  # dense tissue = fat * (1 + gain)
    noise_rel: tuple[float, float]  # noise std / fat level, at 0.5 mm pixels
    noise_corr_px: tuple[float, float]  # Gaussian sigma (pixels) that correlates the noise


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("dense-powerlaw", "powerlaw", (2.4, 2.9), (0.35, 0.75), (0.3, 0.5), (0.010, 0.025), (0.0, 0.6)),
    Family("fatty-powerlaw", "powerlaw", (2.9, 3.5), (0.05, 0.35), (0.4, 0.7), (0.020, 0.040), (0.5, 1.2)),
    Family("fibrous", "fibrous", (2.8, 3.3), (0.05, 0.30), (0.35, 0.6), (0.015, 0.035), (0.3, 1.0)),
    Family("cluttered", "blobs", (2.8, 3.2), (0.30, 0.65), (0.3, 0.55), (0.020, 0.045), (0.8, 1.6)),
)}
HELDOUT = "cluttered"  # never in a "train" selection: the stand-in for another generator's studies
SELECTORS = ("train", "mixed", "heldout", "all")

# pixel spacing range (mm) per size class; the field of view is drawn separately
SPACING_MM: dict[str, tuple[float, float]] = {"small": (0.5, 0.7), "medium": (0.17, 0.25), "full": (0.085, 0.12)}
FOV_MM = ((220.0, 300.0), (170.0, 240.0))  # (height, width) ranges of the detector area
BITS = (10, 12, 14)
WINDOWS = ("tight", "wide", "absent")
MONOCHROME1_P = 0.3
TUBE_HALF_ANGLE_DEG = (7.5, 25.0)  # 15 deg (narrow-angle) to 50 deg (wide-angle) systems


@dataclass(frozen=True)
class StyleDraw:
    """One study's drawn style: tissue and noise from its family, scanner and file conventions."""

    family: str
    texture: str
    beta: float
    dense_fraction: float
    dense_gain: float
    noise_rel: float
    noise_corr_px: float
    pixel_mm: float
    fov_mm: tuple[float, float]
    tube_half_angle_deg: float
    focal_decay_mm: float  # out-of-plane weights fall off as exp(-distance / this)
    out_of_plane: float  # weight of a neighbouring slice relative to the focal one
    bits_stored: int
    top_fraction: float  # dense tissue maps to this fraction of the stored range
    offset: int  # stored value of air (pedestal)
    window: str  # "tight", "wide" or "absent"
    photometric: str  # "MONOCHROME1" or "MONOCHROME2"

    def row(self) -> dict[str, str]:
        """The draw as CSV fields (strings), for studies.csv."""
        return {k: (f"{v:.4g}" if isinstance(v, float) else "x".join(f"{x:.4g}" for x in v)
                    if isinstance(v, tuple) else str(v)) for k, v in asdict(self).items()}


def resolve_styles(styles: str | Sequence[str]) -> tuple[str, ...]:
    """Family names for a selection: "classic", a family name, "train" (= "mixed": every family but
    :data:`HELDOUT`), "heldout", "all", a comma-separated list or a sequence of names."""
    names = styles.split(",") if isinstance(styles, str) else list(styles)
    out: list[str] = []
    for name in (n.strip() for n in names):
        if name in ("train", "mixed"):
            out += [f for f in FAMILIES if f != HELDOUT]
        elif name == "heldout":
            out.append(HELDOUT)
        elif name == "all":
            out += list(FAMILIES)
        elif name in FAMILIES or name == CLASSIC:
            out.append(name)
        else:
            accepted = ", ".join((CLASSIC, *FAMILIES, *SELECTORS))
            raise SlamError(f"phantom style {name!r} is not known; accepted: {accepted} (or a comma-separated list)")
    return tuple(dict.fromkeys(out))


def draw_style(rng: np.random.Generator, family: Family, size: str) -> StyleDraw:
    """Draw one study's style from ``family``; ``size`` ("small", "medium", "full") picks the spacing range."""
    def u(lo_hi: tuple[float, float]) -> float:
        return float(rng.uniform(*lo_hi))

    bits = int(rng.choice(BITS))
    offset = int(rng.uniform(0.0, 0.12) * 2 ** bits)
    return StyleDraw(
        family=family.name, texture=family.texture, beta=u(family.beta), dense_fraction=u(family.dense_fraction),
        dense_gain=u(family.dense_gain), noise_rel=u(family.noise_rel), noise_corr_px=u(family.noise_corr_px),
        pixel_mm=round(u(SPACING_MM[size]), 3), fov_mm=(u(FOV_MM[0]), u(FOV_MM[1])),
        tube_half_angle_deg=u(TUBE_HALF_ANGLE_DEG), focal_decay_mm=u((3.0, 8.0)), out_of_plane=u((0.3, 0.6)),
        bits_stored=bits, top_fraction=u((0.45, 0.9)), offset=offset,
        window=str(rng.choice(WINDOWS)), photometric="MONOCHROME1" if rng.random() < MONOCHROME1_P else "MONOCHROME2",
    )
