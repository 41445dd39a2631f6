"""Synthetic DBT studies with ground truth (:func:`generate_study`)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import scipy.fft
from pydicom.uid import generate_uid

from slam.errors import SlamError
from slam.phantom.anatomy import (
    GRID_MM,
    GRID_Z_MM,
    MAX_STORED,
    Anatomy,
    breast_sdf,
    draw_anatomy,
    edge_shrink_mm,
    pectoral_sdf,
    place_point,
    power_law_fields,
    smoothstep,
)
from slam.phantom.dbt import render_dbt
from slam.phantom.lesions import (
    CalcCluster,
    apply_calcs,
    apply_mass,
    draw_calc_cluster,
    draw_masses,
    render_mass,
)
from slam.phantom.styles import CLASSIC, FAMILIES, StyleDraw, draw_style, resolve_styles

# name -> (rows, columns, pixel spacing mm). The field of view is ~246 x 200 mm at every size.
SIZES: dict[str, tuple[int, int, float]] = {
    "small": (384, 320, 0.64),
    "medium": (1229, 998, 0.2),
    "full": (2457, 1996, 0.1),
}
SLICE_MM = 1.0
CALC_P = 0.2  # probability of a calcification cluster (not boxed, as in BCS-DBT)
BITS_STORED = 12


@dataclass(frozen=True)
class Lesion:
    """Ground truth of one mass: box (pixels, stored orientation) at its central slice (0-based)."""

    x: int
    y: int
    width: int
    height: int
    slice: int
    cls: str  # "benign" or "cancer"
    diameter_mm: float
    contrast: float  # mean relative contrast of the mass body at the central slice
    margin: str  # classic: "irregular" or "spiculated"; DBT styles: circumscribed, lobulated, irregular, spiculated
    half_depth_mm: float | None = None  # DBT styles: the solid body's half extent in depth
    interior: float | None = None  # DBT styles: 0 uniform ... 1 the surrounding tissue's texture
    level: float | None = None  # DBT styles: drawn mean above the surround, in surround stds


@dataclass
class PhantomStudy:
    """One synthetic DBT view. ``volume`` is (D, H, W) uint16 of ``bits_stored`` bits (12, MONOCHROME2
    for "classic"), stored orientation (chest wall at the left edge for "L", the right edge for "R").
    ``lesion_masks[i]`` is lesion i's body (height, width) bool over its box at its central slice."""

    volume: np.ndarray
    lesions: list[Lesion]
    laterality: str
    view: str
    pixel_spacing: tuple[float, float]  # (row mm, column mm)
    slice_spacing: float  # mm
    patient_id: str
    study_uid: str
    window_center: float | None  # None: the style writes no window
    window_width: float | None
    seed: int
    size: str
    has_calcifications: bool = False
    bits_stored: int = BITS_STORED
    anatomy: Anatomy | None = field(default=None, repr=False)
    style: str = CLASSIC
    photometric: str = "MONOCHROME2"
    style_draw: StyleDraw | None = field(default=None, repr=False)
    lesion_masks: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def depth(self) -> int:
        return int(self.volume.shape[0])

    @property
    def height(self) -> int:
        return int(self.volume.shape[1])

    @property
    def width(self) -> int:
        return int(self.volume.shape[2])

    @property
    def dbtex_view(self) -> str:
        """BCS-DBT view name: "lcc", "rcc", "lmlo" or "rmlo"."""
        return f"{self.laterality}{self.view}".lower()

    @property
    def boxes(self) -> list[tuple[int, int, int, int, int]]:
        """Lesion boxes as (x, y, width, height, central slice) in pixels."""
        return [(les.x, les.y, les.width, les.height, les.slice) for les in self.lesions]

    @property
    def label(self) -> str:
        """BCS-DBT study label: "Cancer", "Benign", "Actionable" (calcifications only) or "Normal"."""
        if any(les.cls == "cancer" for les in self.lesions):
            return "Cancer"
        if self.lesions:
            return "Benign"
        return "Actionable" if self.has_calcifications else "Normal"


def _check_args(seed: int, size: str, view: str | None, laterality: str | None,
                n_lesions: int | None, depth: int | None) -> None:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SlamError(f"phantom seed must be a non-negative integer, got {seed!r}")
    if size not in SIZES:
        raise SlamError(f"phantom size {size!r} is not known; accepted: {', '.join(SIZES)}")
    if view not in (None, "CC", "MLO"):
        raise SlamError(f"phantom view {view!r} is not known; accepted: CC, MLO")
    if laterality not in (None, "L", "R"):
        raise SlamError(f"phantom laterality {laterality!r} is not known; accepted: L, R")
    if n_lesions is not None and not 0 <= n_lesions <= 3:
        raise SlamError(f"phantom n_lesions must be 0 to 3, got {n_lesions}")
    if depth is not None and not 4 <= depth <= 200:
        raise SlamError(f"phantom depth must be 4 to 200 slices, got {depth}")


def _grid(fov_mm: tuple[float, float]) -> tuple[tuple[int, int], tuple[float, float]]:
    gh, gw = round(fov_mm[0] / GRID_MM), round(fov_mm[1] / GRID_MM)
    return (gh, gw), (fov_mm[0] / gh, fov_mm[1] / gw)


def _draw_calcs(rng: np.random.Generator, anat: Anatomy, depth: int, sdf: np.ndarray,
                pect: np.ndarray | None, cell: tuple[float, float]) -> CalcCluster | None:
    present = rng.random() < CALC_P
    z = int(rng.integers(round(0.2 * (depth - 1)), round(0.8 * (depth - 1)) + 1))
    allowed = sdf - edge_shrink_mm(z, depth, anat.thickness_mm) > 15.0
    if pect is not None:
        allowed &= pect < -10.0
    spot = place_point(rng, allowed, cell)
    cluster = draw_calc_cluster(rng, spot or (0.0, 0.0), z)
    return cluster if present and spot is not None else None


def _lerp_depth(field3d: np.ndarray, z: int) -> np.ndarray:
    zf = (z + 0.5) * SLICE_MM / GRID_Z_MM
    k = int(zf)
    f = np.float32(zf - k)
    return (1 - f) * field3d[k] + f * field3d[k + 1]


def _window(canonical_slice: np.ndarray, sdf_full: np.ndarray, pect_full: np.ndarray | None) -> tuple[float, float]:
    """Display window from the breast pixels (skin and pectoral muscle excluded) of the central slice."""
    tissue = sdf_full > 5.0
    if pect_full is not None:
        tissue &= pect_full < 0
    values = canonical_slice[tissue]
    if values.size == 0:
        return float(MAX_STORED) / 2, float(MAX_STORED)
    lo, hi = np.percentile(values, (0.2, 99.8))
    return round(float(lo + hi) / 2, 1), round(float(hi - lo) * 1.2 + 1.0, 1)


def generate_study(seed: int, size: str = "small", *, view: str | None = None, laterality: str | None = None,
                   n_lesions: int | None = None, depth: int | None = None, style: str = CLASSIC,
                   progress: Callable[[int, int], None] | None = None) -> PhantomStudy:
    """Generate one synthetic DBT view, deterministic per ``seed``.

    ``size`` is a key of :data:`SIZES` (pixel grid and spacing; anatomy and masses keep
    their size in mm). ``view`` ("CC"/"MLO"), ``laterality`` ("L"/"R"), ``n_lesions``
    (0-3 masses) and ``depth`` (slices, 1 mm apart) override the seeded draws; the
    anatomy, texture and noise do not depend on ``n_lesions``, so the same seed with
    ``n_lesions=0`` gives the lesion-free twin of a study. ``progress(done, total)`` is
    called after each slice. Returns a :class:`PhantomStudy` with a (D, H, W) uint16 volume.

    ``style`` "classic" is the original generator; a name of :data:`slam.phantom.styles.FAMILIES`
    makes a DBT-like study of that family (docs/phantom-styles.md): then ``size`` picks the pixel
    spacing range, and image size, bit depth, window and photometric are drawn per seed.
    """
    _check_args(seed, size, view, laterality, n_lesions, depth)
    if resolve_styles(style) != (style,):
        raise SlamError(f"phantom style {style!r} names a selection; generate_study needs one style: "
                        f"{', '.join((CLASSIC, *FAMILIES))}")
    if style != CLASSIC:
        return _dbt_study(int(seed), size, style, view, laterality, n_lesions, depth)
    rng_anat, rng_tex, rng_mass, rng_calc, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5))
    height, width, px = SIZES[size]
    fov = (height * px, width * px)
    anat = draw_anatomy(rng_anat, view, laterality, depth, fov, SLICE_MM)
    depth = round(anat.thickness_mm / SLICE_MM)
    grid_shape, cell = _grid(fov)
    sdf = breast_sdf(anat, grid_shape, cell)
    pect = pectoral_sdf(anat, grid_shape, cell)

    tex_shape = (int(np.ceil(depth * SLICE_MM / GRID_Z_MM)) + 2, *grid_shape)
    fft_shape = tuple(scipy.fft.next_fast_len(n) for n in tex_shape)
    tissue_field, strand_field = power_law_fields(rng_tex, fft_shape, (GRID_Z_MM, *cell))
    tissue_field = tissue_field[:tex_shape[0], :tex_shape[1], :tex_shape[2]]
    # smoother field -> longer, gently curved strands instead of contour-line squiggles
    strand_field = np.stack([cv2.GaussianBlur(p, (0, 0), 2.0) for p in strand_field[:tex_shape[0], :tex_shape[1],
                                                                                    :tex_shape[2]]])
    strand_field /= strand_field.std()

    masses = [render_mass(spec, px, (height, width))
              for spec in draw_masses(rng_mass, n_lesions, anat, depth, sdf, pect, cell)]
    calcs = _draw_calcs(rng_calc, anat, depth, sdf, pect, cell)

    full = (width, height)  # cv2 sizes are (columns, rows)
    sdf_full = cv2.resize(sdf, full, interpolation=cv2.INTER_LINEAR)
    pect_full = None if pect is None else cv2.resize(pect, full, interpolation=cv2.INTER_LINEAR)
    noise_sd = anat.noise_rel * anat.fat_level * np.sqrt(0.1 / px)  # coarser pixels average noise down
    volume = np.empty((depth, height, width), dtype=np.uint16)
    window = (0.0, 0.0)
    for z in range(depth):
        img = _render_tissue(anat, z, depth, px, sdf_full, pect_full,
                             cv2.resize(_lerp_depth(tissue_field, z), full, interpolation=cv2.INTER_CUBIC),
                             cv2.resize(_lerp_depth(strand_field, z), full, interpolation=cv2.INTER_CUBIC))
        for mass in masses:
            apply_mass(img, mass, z, px, SLICE_MM)
        if calcs is not None:
            apply_calcs(img, calcs, z, px, anat.fat_level)
        noise = rng_noise.standard_normal(img.shape, dtype=np.float32)
        img += noise_sd * np.sqrt(np.maximum(img, 0.0) / anat.fat_level) * noise
        np.clip(img, 0, MAX_STORED, out=img)
        if z == depth // 2:
            window = _window(img, sdf_full, pect_full)
        out = np.rint(img).astype(np.uint16)
        volume[z] = out if anat.laterality == "L" else out[:, ::-1]
        if progress is not None:
            progress(z + 1, depth)

    lesions = []
    for mass in masses:
        x, y, w, h = mass.box
        if anat.laterality == "R":
            x = width - x - w
        spec = mass.spec
        lesions.append(Lesion(x=x, y=y, width=w, height=h, slice=spec.slice, cls=spec.cls,
                              diameter_mm=round(spec.diameter_mm, 2), contrast=round(spec.contrast, 4),
                              margin=spec.margin))
    return PhantomStudy(
        volume=volume, lesions=lesions, laterality=anat.laterality, view=anat.view,
        pixel_spacing=(px, px), slice_spacing=SLICE_MM, patient_id=f"DBT-P{int(seed):05d}",
        study_uid=generate_uid(entropy_srcs=["slam-phantom", "study", str(int(seed))]),
        window_center=window[0], window_width=window[1], seed=int(seed), size=size,
        has_calcifications=calcs is not None, anatomy=anat,
    )


def _dbt_study(seed: int, size: str, style: str, view: str | None, laterality: str | None,
               n_lesions: int | None, depth: int | None) -> PhantomStudy:
    """A DBT-like study of family ``style``: render, map to stored values, window, orientation."""
    seq = np.random.SeedSequence([seed, zlib.crc32(style.encode())])
    rng_style, rng_render = (np.random.default_rng(s) for s in seq.spawn(2))
    draw = draw_style(rng_style, FAMILIES[style], size)
    rendered = render_dbt(np.random.SeedSequence(int(rng_render.integers(2 ** 63))), draw, view, laterality,
                          n_lesions, depth)
    anat = rendered.anatomy
    top = 2 ** draw.bits_stored - 1
    gain = draw.top_fraction * (top - draw.offset) / (1.0 + draw.dense_gain)
    height, width = rendered.slices[0].shape
    volume = np.empty((len(rendered.slices), height, width), np.uint16)
    for z, img in enumerate(rendered.slices):
        stored = np.clip(np.rint(draw.offset + gain * img), 0, top)
        if draw.photometric == "MONOCHROME1":
            stored = top - stored
        volume[z] = stored if anat.laterality == "L" else stored[:, ::-1]
    window = _style_window(volume[len(volume) // 2], draw, top)
    lesions, masks = [], []
    for mass in rendered.masses:
        x, y, w, h = mass.box
        mask = mass.mask
        if anat.laterality == "R":
            x, mask = width - x - w, mask[:, ::-1]
        spec = mass.spec
        lesions.append(Lesion(x=x, y=y, width=w, height=h, slice=spec.slice, cls=spec.cls,
                              diameter_mm=round(spec.diameter_mm, 2), contrast=mass.contrast, margin=spec.margin,
                              half_depth_mm=round(spec.half_depth_mm, 2), interior=round(spec.interior, 3),
                              level=round(spec.level, 3)))
        masks.append(np.ascontiguousarray(mask))
    return PhantomStudy(
        volume=volume, lesions=lesions, laterality=anat.laterality, view=anat.view,
        pixel_spacing=(draw.pixel_mm, draw.pixel_mm), slice_spacing=SLICE_MM, patient_id=f"DBT-P{seed:05d}",
        study_uid=generate_uid(entropy_srcs=["slam-phantom", "study", style, str(seed)]),
        window_center=window[0], window_width=window[1], seed=seed, size=size, bits_stored=draw.bits_stored,
        anatomy=anat, style=style, photometric=draw.photometric, style_draw=draw, lesion_masks=masks,
    )


def _style_window(middle: np.ndarray, draw: StyleDraw, top: int) -> tuple[float | None, float | None]:
    """The window the style's writer stores: "tight" on the breast, "wide" (2.5x, or the range) or none."""
    if draw.window == "absent":
        return None, None
    air = top - draw.offset if draw.photometric == "MONOCHROME1" else draw.offset
    tissue = middle[np.abs(middle.astype(np.int32) - air) > 0.2 * (top - draw.offset) * draw.top_fraction]
    lo, hi = np.percentile(tissue, (1, 99)) if tissue.size else (0.0, float(top))
    width = (hi - lo) * (1.1 if draw.window == "tight" else 2.5) + 1.0
    return round(float(lo + hi) / 2, 1), round(float(width), 1)


def _render_tissue(anat: Anatomy, z: int, depth: int, px: float, sdf_full: np.ndarray,
                   pect_full: np.ndarray | None, tissue: np.ndarray, strands: np.ndarray) -> np.ndarray:
    """Noise-free canonical slice ``z`` (H, W) float32 without lesions.

    ``tissue`` and ``strands`` are the slice's texture fields (unit std) at full resolution;
    the non-linear maps below run at full resolution so tissue edges stay sharp.
    """
    sd = sdf_full - np.float32(edge_shrink_mm(z, depth, anat.thickness_mm))
    # dense tissue: thresholded texture, more likely deep in the breast, none in the fat under the skin
    dense = tissue + 0.6 * smoothstep(sd / 40.0) - anat.density_threshold
    dense = 0.5 + 0.5 * np.tanh(dense / (2.0 * anat.density_softness))
    dense *= smoothstep((sd - anat.subcutaneous_mm * (1.0 + 0.4 * strands)) / 8.0)
    # fibrous strands (Cooper's ligaments) in the fat: thin curves along the zero set of a second field
    strand = np.exp(-0.5 * (strands / 0.06) ** 2) * smoothstep(sd / 2.0) * (1.0 - dense)
    img = anat.fat_level * (1.0 + anat.density_gain * dense + anat.strand_gain * strand)
    if pect_full is not None:
        muscle = np.clip(pect_full + 0.5, 0.0, 1.0)  # ~1 mm wide edge
        img += (anat.muscle_level * (1.0 + 0.04 * tissue) - img) * muscle
    half_skin = 0.5 * anat.skin_mm
    img += anat.fat_level * anat.skin_gain * np.exp(-0.5 * ((sd - half_skin) / half_skin) ** 2)
    inside = np.clip(sd / px + 0.5, 0.0, 1.0)
    img = anat.background + (img - anat.background) * inside
    return img.astype(np.float32, copy=False)


__all__ = ["SIZES", "Lesion", "PhantomStudy", "edge_shrink_mm", "generate_study"]
