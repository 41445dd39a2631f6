"""Masses and calcification clusters of phantom studies.

A mass is a 2D pattern drawn at its central slice (irregular lobulated outline, optionally
spicules, denser centre) that multiplies the tissue by ``1 + contrast * pattern``; the
pattern's mean over the mass body is 1, so ``contrast`` is the mean relative contrast at the
central slice. Away from it the pattern is blurred more and more (mostly along the image's
vertical axis, the tube-travel direction) and faded, as limited-angle DBT shows an object
out of its focal plane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from slam.phantom.anatomy import Anatomy, edge_shrink_mm, place_point

MASS_DIAMETER_MM = (6.0, 28.0)
MASS_CONTRAST = (0.03, 0.12)
MAX_BLUR_MM = 5.0  # out-of-plane blur is capped: a blurred-out mass is also faded out
FADE_CUTOFF = 0.04  # slices where the mass weighs less than this are left untouched
LESION_COUNT_P = (0.4, 0.42, 0.18)  # probabilities of 0, 1, 2 masses


@dataclass(frozen=True)
class MassSpec:
    """Physical description of one mass (mm, canonical orientation: chest wall at the left)."""

    center_mm: tuple[float, float]  # (row, col) of the centre
    slice: int  # central slice (0-based)
    diameter_mm: float
    aspect: float  # minor / major axis
    angle: float  # radians
    harmonics: tuple[tuple[int, float, float], ...]  # (order, relative amplitude, phase) of the outline
    edge_mm: float  # width of the margin ramp (ill-defined margins are wide)
    margin: str  # "irregular" or "spiculated"
    spicules: tuple[tuple[float, float, float, float, float], ...]  # (angle, length, width, strength, bend)
    contrast: float
    depth_sigma_mm: float  # Gaussian fade with distance from the central slice
    blur_rate: float  # in-plane blur sigma (mm) per mm away from the central slice
    cls: str  # "benign" or "cancer"
    # DBT-like styles only (slam.phantom.dbt): a solid body of this half-depth, its interior
    # mixing a uniform level (0) with the surrounding tissue's texture (1), ``level`` surround
    # stds above the surround's mean at its central slice
    half_depth_mm: float | None = None
    interior: float | None = None
    level: float | None = None


@dataclass(frozen=True)
class MassPattern:
    """A mass rendered at the study's pixel size: ``pattern`` (h, w) float32 placed at ``origin``."""

    spec: MassSpec
    pattern: np.ndarray
    origin: tuple[int, int]  # (row, col) of pattern[0, 0] in the canonical image
    box: tuple[int, int, int, int]  # (x, y, width, height) of the mass body, canonical pixels


def draw_mass_shape(rng: np.random.Generator) -> dict:
    """Size, outline, margin, contrast and class of one mass (placement comes later)."""
    margin = "spiculated" if rng.random() < 0.45 else "irregular"
    lo, hi = MASS_DIAMETER_MM
    diameter = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    amp = rng.uniform(0.06, 0.16) if margin == "irregular" else rng.uniform(0.03, 0.08)
    # low orders lobulate the outline, high orders (small) make the margin ragged rather than smooth
    harmonics = tuple((k, float(rng.normal(0.0, amp / k ** 0.7)), float(rng.uniform(0, 2 * np.pi)))
                      for k in range(2, 25))
    n_spic = int(rng.integers(10, 31)) if margin == "spiculated" else 0
    spicules = tuple(
        (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.6, 2.0)), float(rng.uniform(0.25, 0.7)),
         float(rng.uniform(0.45, 0.9)), float(rng.uniform(-0.25, 0.25)))
        for _ in range(n_spic)
    )
    cancer_p = 0.85 if margin == "spiculated" else 0.45
    return dict(
        diameter_mm=diameter, aspect=float(rng.uniform(0.65, 1.0)), angle=float(rng.uniform(0, np.pi)),
        harmonics=harmonics, edge_mm=float(rng.uniform(0.6, 2.0) if margin == "irregular" else rng.uniform(0.5, 1.5)),
        margin=margin, spicules=spicules, contrast=float(rng.uniform(*MASS_CONTRAST)),
        depth_sigma_mm=float(np.clip(0.2 * diameter, 1.5, 5.0) * rng.uniform(0.8, 1.2)),
        blur_rate=float(rng.uniform(0.25, 0.6)), cls="cancer" if rng.random() < cancer_p else "benign",
    )


def draw_masses(rng: np.random.Generator, n_lesions: int | None, anat: Anatomy, depth: int,
                sdf: np.ndarray, pect: np.ndarray | None, cell: tuple[float, float],
                draw_shape: Callable[[np.random.Generator], dict] = draw_mass_shape) -> list[MassSpec]:
    """0-3 masses placed in the breast (``sdf``/``pect`` on the coarse grid of ``cell`` mm), apart from
    each other and from skin, chest wall and muscle; ``draw_shape`` gives each one's MassSpec fields."""
    drawn = int(rng.choice(len(LESION_COUNT_P), p=LESION_COUNT_P))
    count = drawn if n_lesions is None else n_lesions
    gh, gw = sdf.shape
    x_mm = (np.arange(gw) + 0.5)[None, :] * cell[1]
    y_mm = (np.arange(gh) + 0.5)[:, None] * cell[0]
    masses: list[MassSpec] = []
    for _ in range(count):
        shape = draw_shape(rng)
        z = int(rng.integers(round(0.25 * (depth - 1)), round(0.75 * (depth - 1)) + 1))
        inner = sdf - edge_shrink_mm(z, depth, anat.thickness_mm)
        spot = None
        while spot is None and shape["diameter_mm"] >= 6.0:
            body = 0.5 * shape["diameter_mm"] * 1.15
            allowed = (inner > body + 6.0) & (x_mm > body + 5.0)
            allowed &= (y_mm > body + 5.0) & (y_mm < gh * cell[0] - body - 5.0)
            if pect is not None:
                allowed &= pect < -(body + 4.0)
            for other in masses:
                gap = 0.5 * (shape["diameter_mm"] + other.diameter_mm) * 1.2 + 10.0
                allowed &= np.hypot(y_mm - other.center_mm[0], x_mm - other.center_mm[1]) > gap
            spot = place_point(rng, allowed, cell)
            if spot is None:  # the breast is too small for this mass: make it smaller
                shape["diameter_mm"] *= 0.8
        if spot is not None:
            masses.append(MassSpec(center_mm=spot, slice=z, **shape))
    return masses


def mass_extent_mm(shape: dict) -> float:
    """Radius (mm) that contains the body and its spicules."""
    r = 0.5 * shape["diameter_mm"] * (1.0 + sum(abs(a) for _, a, _ in shape["harmonics"]))
    longest = max((s[1] for s in shape["spicules"]), default=0.0)
    return r * (1.0 + longest) + 2.0 * shape["edge_mm"]


def _outline_radius(spec: MassSpec, theta: np.ndarray) -> np.ndarray:
    r = np.ones_like(theta)
    for k, a, ph in spec.harmonics:
        r += a * np.cos(k * theta + ph)
    return 0.5 * spec.diameter_mm * r


def render_mass(spec: MassSpec, pixel_mm: float, image_shape: tuple[int, int]) -> MassPattern:
    """Render ``spec`` at ``pixel_mm`` (area-averaged from a finer grid for coarse pixels)."""
    sub = max(1, int(np.ceil(pixel_mm / 0.16)))  # spicules are sub-millimetre: supersample
    extent = mass_extent_mm(spec.__dict__) + 2.5 * MAX_BLUR_MM
    half = int(np.ceil(extent / pixel_mm))
    cy, cx = spec.center_mm
    r0, c0 = int(cy / pixel_mm) - half, int(cx / pixel_mm) - half
    n = 2 * half + 1
    fine = (np.arange(n * sub) + 0.5) / sub
    y = ((r0 + fine) * pixel_mm - cy).astype(np.float32)[:, None]
    x = ((c0 + fine) * pixel_mm - cx).astype(np.float32)[None, :]
    ca, sa = np.cos(spec.angle), np.sin(spec.angle)
    u = x * ca + y * sa
    v = (-x * sa + y * ca) / spec.aspect
    rho = np.hypot(u, v)
    theta = np.arctan2(v, u)
    r_theta = _outline_radius(spec, theta)
    body = np.clip((r_theta - rho) / spec.edge_mm + 0.5, 0.0, 1.0)
    body = body * body * (3.0 - 2.0 * body)
    density = 0.8 + 0.4 * np.clip(1.0 - (rho / r_theta) ** 2, 0.0, 1.0)  # denser centre
    pattern = body * density
    for phi, length, width, strength, bend in spec.spicules:
        base_r = float(_outline_radius(spec, np.array([phi]))[0]) * 0.85
        bu, bv = base_r * np.cos(phi), base_r * np.sin(phi) * spec.aspect
        bx, by = bu * ca - bv * sa, bu * sa + bv * ca  # base point in image axes
        dx, dy = bx / np.hypot(bx, by), by / np.hypot(bx, by)
        length_mm = length * 0.5 * spec.diameter_mm
        along = ((x - bx) * dx + (y - by) * dy) / length_mm
        across = (x - bx) * -dy + (y - by) * dx - bend * length_mm * along ** 2
        t = np.clip(along, 0.0, 1.0)
        w = width * (1.0 - 0.8 * t)
        line = strength * (1.0 - 0.7 * t) * np.exp(-0.5 * (across / w) ** 2) * ((along >= 0) & (along <= 1))
        np.maximum(pattern, line, out=pattern)
    core = (rho < r_theta).astype(np.float32)
    if sub > 1:
        pattern = pattern.reshape(n, sub, n, sub).mean(axis=(1, 3))
        core = core.reshape(n, sub, n, sub).mean(axis=(1, 3))
    core_mask = core >= 0.5
    pattern = (pattern / pattern[core_mask].mean()).astype(np.float32)
    rows = np.flatnonzero(core_mask.any(axis=1))
    cols = np.flatnonzero(core_mask.any(axis=0))
    h, w = image_shape
    x0, y0 = max(c0 + cols[0], 0), max(r0 + rows[0], 0)
    x1, y1 = min(c0 + cols[-1] + 1, w), min(r0 + rows[-1] + 1, h)
    return MassPattern(spec=spec, pattern=pattern, origin=(r0, c0), box=(int(x0), int(y0), int(x1 - x0), int(y1 - y0)))


def mass_weight(spec: MassSpec, z: int, slice_mm: float) -> float:
    """Fade factor of the mass at slice ``z`` (1 at its central slice)."""
    dz = (z - spec.slice) * slice_mm
    return float(np.exp(-0.5 * (dz / spec.depth_sigma_mm) ** 2))


def blurred(pattern: np.ndarray, sigma_rows: float, sigma_cols: float) -> np.ndarray:
    """Gaussian blur with sigmas in pixels; large sigmas blur a downsampled copy (same result, less work)."""
    if max(sigma_rows, sigma_cols) < 0.3:
        return pattern
    factor = max(1, int(max(sigma_rows, sigma_cols) / 4.0))
    h, w = pattern.shape
    small = pattern if factor == 1 else cv2.resize(pattern, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(sigma_cols / factor, 0.1), sigmaY=max(sigma_rows / factor, 0.1),
                             borderType=cv2.BORDER_CONSTANT)
    return small if factor == 1 else cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def apply_mass(image: np.ndarray, mass: MassPattern, z: int, pixel_mm: float, slice_mm: float) -> None:
    """Multiply the canonical float32 slice ``image`` (H, W) by the mass's contrast at slice ``z``, in place."""
    spec = mass.spec
    weight = mass_weight(spec, z, slice_mm)
    if weight < FADE_CUTOFF:
        return
    dz = abs(z - spec.slice) * slice_mm
    sigma = min(spec.blur_rate * dz, MAX_BLUR_MM) / pixel_mm
    # limited-angle blur is stronger along the tube travel (image rows) than across it
    pat = blurred(mass.pattern, sigma, 0.5 * sigma)
    r0, c0 = mass.origin
    h, w = image.shape
    ph, pw = pat.shape
    rs, cs = max(r0, 0), max(c0, 0)
    re, ce = min(r0 + ph, h), min(c0 + pw, w)
    if rs >= re or cs >= ce:
        return
    patch = pat[rs - r0:re - r0, cs - c0:ce - c0]
    image[rs:re, cs:ce] *= 1.0 + (spec.contrast * weight) * patch


@dataclass(frozen=True)
class CalcCluster:
    """Calcification specks around one centre: positions (mm, canonical), diameters (mm), relative brightness."""

    slice: int
    positions_mm: np.ndarray  # (n, 2) rows, cols
    diameters_mm: np.ndarray  # (n,)
    brightness: np.ndarray  # (n,) added intensity as a fraction of the fat level


def draw_calc_cluster(rng: np.random.Generator, center_mm: tuple[float, float], slice_: int) -> CalcCluster:
    n = int(rng.integers(5, 16))
    radius = rng.uniform(3.0, 8.0)
    ang = rng.uniform(0, 2 * np.pi, n)
    dist = radius * np.sqrt(rng.uniform(0, 1, n))
    pos = np.stack([center_mm[0] + dist * np.sin(ang), center_mm[1] + dist * np.cos(ang)], axis=1)
    return CalcCluster(slice=slice_, positions_mm=pos, diameters_mm=rng.uniform(0.15, 0.5, n),
                       brightness=rng.uniform(0.3, 1.0, n))


def apply_calcs(image: np.ndarray, calcs: CalcCluster, z: int, pixel_mm: float, fat_level: float) -> None:
    """Add the specks (sharp in their slice, a faint ghost one slice away) to ``image`` in place."""
    weight = {0: 1.0, 1: 0.3}.get(abs(z - calcs.slice), 0.0)
    if weight == 0.0:
        return
    h, w = image.shape
    for (py, px_), d, b in zip(calcs.positions_mm, calcs.diameters_mm, calcs.brightness, strict=True):
        sigma = max(d / 2.355 / pixel_mm, 0.5)
        # a speck smaller than a pixel keeps its integrated signal (partial volume): the
        # disc area pi d^2 / 4 spread over a Gaussian of area 2 pi sigma^2 (in pixels)
        peak = weight * b * fat_level * min(1.0, (d / pixel_mm) ** 2 / (8.0 * sigma ** 2) / 0.69)
        cy, cx = py / pixel_mm - 0.5, px_ / pixel_mm - 0.5
        rad = int(np.ceil(3 * sigma)) + 1
        r0, r1 = max(int(cy) - rad, 0), min(int(cy) + rad + 1, h)
        c0, c1 = max(int(cx) - rad, 0), min(int(cx) + rad + 1, w)
        if r0 >= r1 or c0 >= c1:
            continue
        yy = (np.arange(r0, r1) - cy)[:, None]
        xx = (np.arange(c0, c1) - cx)[None, :]
        image[r0:r1, c0:c1] += (peak * np.exp(-0.5 * (yy * yy + xx * xx) / sigma ** 2)).astype(np.float32)
