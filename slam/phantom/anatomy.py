"""Breast anatomy of a phantom study: outline, pectoral muscle, tissue texture, intensities.

Everything is drawn in physical units (mm) and rendered in the *canonical* orientation
(chest wall at the left image edge, i.e. a left breast in the Duke convention); the
study flips right breasts at the end. Smooth fields live on a coarse grid of about
``GRID_MM`` and are upsampled per slice, so a full-size volume never needs a
full-resolution 3D float array.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.fft

GRID_MM = 0.8  # in-plane spacing of the coarse grid that holds the smooth fields
GRID_Z_MM = 2.0  # depth spacing of the texture grid (DBT structures are elongated in depth anyway)
BETA = 3.0  # power-law exponent of the texture spectrum within a slice, P(f) ~ 1/f^BETA
MAX_STORED = 4095  # 12-bit stored values


@dataclass(frozen=True)
class Anatomy:
    """Physical parameters of one breast (all lengths in mm, intensities in stored units)."""

    view: str  # "CC" or "MLO"
    laterality: str  # "L" or "R"
    thickness_mm: float  # compressed thickness = depth x slice spacing
    length_mm: float  # chest wall to nipple
    center_y_mm: float  # row of the nipple
    half_up_mm: float  # outline half-height above the nipple row (MLO: runs past the top edge)
    half_down_mm: float
    shape_power: float  # superellipse exponent of the outline
    wobble: tuple[tuple[float, float], ...]  # (amplitude, phase) of low harmonics of the outline
    pectoral_top_mm: float  # MLO: where the muscle edge meets the top image edge (0 for CC)
    pectoral_side_mm: float  # MLO: where it meets the chest-wall edge
    pectoral_bulge: float  # convexity of the muscle edge
    fat_level: float  # stored value of fatty tissue
    density_gain: float  # dense tissue = fat_level * (1 + density_gain)
    density_threshold: float  # texture level (unit std) above which tissue is dense
    density_softness: float
    subcutaneous_mm: float  # fat layer under the skin free of dense tissue
    strand_gain: float  # Cooper's ligament / fibrous strand brightness
    muscle_level: float
    skin_mm: float
    skin_gain: float
    background: float
    noise_rel: float  # quantum noise std relative to fat_level, at 0.1 mm pixels


def draw_anatomy(rng: np.random.Generator, view: str | None, laterality: str | None, depth: int | None,
                 fov_mm: tuple[float, float], slice_mm: float) -> Anatomy:
    """Draw a breast that fits a field of view of ``fov_mm`` = (height, width) mm.

    The same number of draws happens whatever the overrides, so overriding one
    parameter leaves the others unchanged for a given seed.
    """
    fov_h, fov_w = fov_mm
    drawn_view = "MLO" if rng.random() < 0.5 else "CC"
    drawn_lat = "R" if rng.random() < 0.5 else "L"
    drawn_depth = int(rng.integers(40, 71))
    view = view or drawn_view
    laterality = laterality or drawn_lat
    depth = depth or drawn_depth
    if view == "CC":
        length = rng.uniform(70.0, min(165.0, fov_w - 25.0))
        center_y = fov_h * rng.uniform(0.44, 0.56)
        half_up = min(rng.uniform(65.0, 110.0), center_y - 8.0)
        half_down = min(rng.uniform(65.0, 110.0), fov_h - center_y - 8.0)
        rng.uniform(size=4)  # keep the stream aligned with the MLO branch
        pect = (0.0, 0.0, 0.0)
    else:
        length = rng.uniform(90.0, min(175.0, fov_w - 25.0))
        center_y = fov_h * rng.uniform(0.50, 0.62)
        half_up = center_y / rng.uniform(0.62, 0.85)
        half_down = (fov_h - center_y) * rng.uniform(0.72, 0.95)
        u = rng.uniform(size=4)
        pect = (float(35.0 + u[0] * 45.0), float(95.0 + u[1] * 75.0), float(-0.05 + u[2] * 0.17))
    wobble = tuple((float(rng.uniform(-0.03, 0.03)), float(rng.uniform(0, 2 * np.pi))) for _ in range(3))
    fat = rng.uniform(600.0, 1000.0)
    return Anatomy(
        view=view, laterality=laterality, thickness_mm=depth * slice_mm, length_mm=float(length),
        center_y_mm=float(center_y), half_up_mm=float(half_up), half_down_mm=float(half_down),
        shape_power=float(rng.uniform(1.8, 2.8)), wobble=wobble,
        pectoral_top_mm=pect[0], pectoral_side_mm=pect[1], pectoral_bulge=pect[2],
        fat_level=float(fat), density_gain=float(rng.uniform(0.35, 0.7)),
        density_threshold=float(rng.uniform(-0.3, 1.3)), density_softness=float(rng.uniform(0.35, 0.8)),
        subcutaneous_mm=float(rng.uniform(3.0, 10.0)), strand_gain=float(rng.uniform(0.03, 0.1)),
        muscle_level=float(fat * (1.0 + rng.uniform(0.75, 1.0))), skin_mm=float(rng.uniform(1.2, 2.2)),
        skin_gain=float(rng.uniform(0.25, 0.5)), background=float(rng.uniform(0.0, 30.0)),
        noise_rel=float(rng.uniform(0.015, 0.035)),
    )


def outline_depth_mm(anat: Anatomy, y_mm: np.ndarray, fov_h: float) -> np.ndarray:
    """Distance (mm) from the chest wall to the skin along the rows at ``y_mm``; 0 outside the breast."""
    u = y_mm - anat.center_y_mm
    u = np.where(u < 0, u / anat.half_up_mm, u / anat.half_down_mm)
    p = anat.shape_power
    profile = np.clip(1.0 - np.abs(u) ** p, 0.0, None) ** (1.0 / p)
    wobble = 1.0 + sum(a * np.sin(2 * np.pi * (k + 1) * y_mm / fov_h + ph) for k, (a, ph) in enumerate(anat.wobble))
    return anat.length_mm * profile * wobble


def breast_sdf(anat: Anatomy, grid_shape: tuple[int, int], cell_mm: tuple[float, float]) -> np.ndarray:
    """Signed distance (mm, > 0 inside) to the skin on the coarse grid, (gh, gw) float32.

    The body behind the chest wall (and above the top edge on MLO views) counts as
    inside, so the image edges themselves are not skin.
    """
    gh, gw = grid_shape
    cy, cx = cell_mm
    pad = int(np.ceil(40.0 / min(cy, cx)))
    y_mm = (np.arange(-pad, gh + pad) + 0.5) * cy
    x_mm = (np.arange(-pad, gw + pad) + 0.5) * cx
    depth = outline_depth_mm(anat, y_mm, gh * cy)
    inside = (x_mm[None, :] < depth[:, None]) | ((x_mm[None, :] < 0) & (depth[:, None] > 0))
    inside = inside.astype(np.uint8)
    d_in = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # cells are ~square; the mean cell size converts grid distance to mm
    sdf = (d_in - d_out + np.where(inside > 0, -0.5, 0.5)).astype(np.float32) * np.float32(0.5 * (cy + cx))
    # the binary mask makes a staircase of +-half a cell; a distance field is locally linear,
    # so a slight blur removes the steps without moving the smooth outline
    sdf = cv2.GaussianBlur(sdf, (0, 0), 1.5)
    return np.ascontiguousarray(sdf[pad:pad + gh, pad:pad + gw])


def pectoral_sdf(anat: Anatomy, grid_shape: tuple[int, int], cell_mm: tuple[float, float]) -> np.ndarray | None:
    """Approximate signed distance (mm, > 0 inside the muscle) to the pectoral edge; None on CC views."""
    if anat.view != "MLO":
        return None
    gh, gw = grid_shape
    y = ((np.arange(gh) + 0.5) * cell_mm[0])[:, None]
    x = ((np.arange(gw) + 0.5) * cell_mm[1])[None, :]
    a, b = anat.pectoral_top_mm, anat.pectoral_side_mm
    s = x / a + y / b  # 1 on the straight edge from (a, 0) to (0, b)
    f = 1.0 - s + anat.pectoral_bulge * 4.0 * (x / a) * (y / b)  # bulge makes the edge convex or concave
    grad = np.hypot(1.0 / a, 1.0 / b)
    return (f / grad).astype(np.float32)


def power_law_fields(rng: np.random.Generator, shape: tuple[int, int, int],
                     cell_mm: tuple[float, float, float], beta: float = BETA,
                     depth_stretch: float = 2.0, stretch_x: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 3D Gaussian fields, each (gz, gh, gw) float32 with unit std.

    Their 3D power spectrum is ~ 1/f^(beta + 1), so that a slice through them has the
    2D spectrum ~ 1/f^beta measured on breast images (beta ~ 3).
    ``depth_stretch`` > 1 damps depth frequencies, elongating structures in depth as
    limited-angle DBT reconstruction does; ``stretch_x`` > 1 damps x frequencies, elongating them
    along x, from the chest wall to the nipple (fibrous strands). One complex inverse FFT gives both fields
    (its real and imaginary parts are independent).
    """
    freqs = [scipy.fft.fftfreq(n, d).astype(np.float32) for n, d in zip(shape, cell_mm, strict=True)]
    fz, fy, fx = np.meshgrid(*freqs, indexing="ij", sparse=True)
    fx = fx * np.float32(stretch_x) if stretch_x != 1.0 else fx
    f2 = fy * fy + fx * fx + (depth_stretch * fz) ** 2 + (1.0 / 80.0) ** 2  # roll-off beyond ~8 cm
    amp = f2 ** np.float32(-(beta + 1.0) / 4.0)
    spec = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
    spec *= amp
    spec[0, 0, 0] = 0
    field = scipy.fft.ifftn(spec, workers=-1, overwrite_x=True)
    out = []
    for part in (field.real, field.imag):
        part = part.astype(np.float32)
        part -= part.mean()
        part /= part.std() + 1e-12
        out.append(part)
    return out[0], out[1]


def edge_shrink_mm(z: int, depth: int, thickness_mm: float) -> float:
    """How far (mm) the skin line moves in at slice ``z``: the compressed breast's edge is rounded."""
    zeta = (z + 0.5) / depth * 2.0 - 1.0
    return 0.25 * thickness_mm * (1.0 - np.sqrt(max(1.0 - zeta * zeta, 0.0)))


def place_point(rng: np.random.Generator, allowed: np.ndarray,
                cell: tuple[float, float]) -> tuple[float, float] | None:
    """A uniformly random point (mm) in the cells where ``allowed`` holds, or None."""
    idx = np.flatnonzero(allowed)
    if idx.size == 0:
        return None
    i = int(idx[rng.integers(idx.size)])
    r, c = divmod(i, allowed.shape[1])
    jitter = rng.uniform(-0.5, 0.5, 2)
    return (r + 0.5 + jitter[0]) * cell[0], (c + 0.5 + jitter[1]) * cell[1]


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Cubic 0 -> 1 ramp on [0, 1], clipped outside, float32."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
