"""DBT-like phantom volumes: a 3D object (tissue of one style family, solid 3D masses) seen through a
model of a limited-angle reconstruction.

Slice z of the output is the object's slice z (in focus) plus its neighbours at distance d,
each smeared along the tube travel (image rows) over 2 d tan(half angle) and blurred by
0.1 d, weighted ``out_of_plane * exp(-d / focal_decay_mm)``: in-focus structures stay sharp,
the tissue and lesions above and below appear as growing blur. The object lives on a grid of
at least ``OBJECT_MM`` pixels (finer pixels upsample it; the noise is added at native size).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.special

from slam.phantom.anatomy import (
    Anatomy,
    breast_sdf,
    draw_anatomy,
    edge_shrink_mm,
    pectoral_sdf,
    power_law_fields,
    smoothstep,
)
from slam.phantom.lesions import MassSpec, draw_masses, render_mass
from slam.phantom.styles import StyleDraw

OBJECT_MM = 0.5
TEX_MM = 0.8  # in-plane cell of the texture fields
TEX_Z_MM = 1.5
SLICE_MM = 1.0
MAX_REACH = 15  # slices on each side that feed a reconstructed slice
MARGINS = ("circumscribed", "lobulated", "irregular", "spiculated")
CANCER_P = {"circumscribed": 0.15, "lobulated": 0.35, "irregular": 0.7, "spiculated": 0.9}
LEVEL = (0.6, 5.0)  # mass mean above the surround, in surround stds (object domain, log-uniform)


@dataclass(frozen=True)
class DbtMass:
    """A mass of a DBT-like study: spec plus its box (x, y, w, h) and body mask at native pixels, canonical."""

    spec: MassSpec
    box: tuple[int, int, int, int]
    mask: np.ndarray  # (h, w) bool over the box
    contrast: float  # relative contrast of the body over its surround at the central slice, object domain


@dataclass(frozen=True)
class DbtVolume:
    """A rendered DBT-like view in canonical orientation (chest wall left), float32 in fat units."""

    slices: list[np.ndarray]  # D x (H, W) float32, noise included
    masses: list[DbtMass]
    anatomy: Anatomy


def draw_dbt_mass(rng: np.random.Generator) -> dict:
    """MassSpec fields of one DBT-like mass: margin class, size, outline, depth extent, interior, level."""
    margin = MARGINS[int(rng.integers(len(MARGINS)))]
    diameter = float(np.exp(rng.uniform(np.log(5.0), np.log(30.0))))
    orders = {"circumscribed": (2, 4, 0.03), "lobulated": (2, 6, 0.18), "irregular": (2, 25, 0.12),
              "spiculated": (2, 25, 0.05)}[margin]
    harmonics = tuple((k, float(rng.normal(0.0, orders[2] / k ** 0.7)), float(rng.uniform(0, 2 * np.pi)))
                      for k in range(orders[0], orders[1]))
    edge = {"circumscribed": (0.15, 0.4), "lobulated": (0.2, 0.5), "irregular": (1.0, 2.5),
            "spiculated": (0.4, 1.0)}[margin]
    spicules = tuple(
        (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.6, 2.0)), float(rng.uniform(0.25, 0.6)),
         float(rng.uniform(0.5, 0.9)), float(rng.uniform(-0.25, 0.25)))
        for _ in range(int(rng.integers(10, 31)) if margin == "spiculated" else 0))
    return dict(
        diameter_mm=diameter, aspect=float(rng.uniform(0.65, 1.0)), angle=float(rng.uniform(0, np.pi)),
        harmonics=harmonics, edge_mm=float(rng.uniform(*edge)), margin=margin, spicules=spicules, contrast=0.0,
        depth_sigma_mm=0.0, blur_rate=0.0, cls="cancer" if rng.random() < CANCER_P[margin] else "benign",
        half_depth_mm=float(max(1.5, 0.5 * diameter * rng.uniform(0.5, 1.0))), interior=float(rng.uniform()),
        level=float(np.exp(rng.uniform(*np.log(LEVEL)))),
    )


def _texture(rng: np.random.Generator, draw: StyleDraw, shape: tuple[int, int, int],
             cell: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(dense driver, strand field), each (gz, gh, gw) float32 with unit std, for the family's texture model."""
    fft_shape = tuple(scipy.fft.next_fast_len(n) for n in shape)
    crop = tuple(slice(0, n) for n in shape)
    if draw.texture == "fibrous":  # strands elongated towards the nipple dominate
        base, strands = power_law_fields(rng, fft_shape, cell, draw.beta, 1.0, stretch_x=2.5)
    else:
        base, strands = power_law_fields(rng, fft_shape, cell, draw.beta, 1.0)
    base, strands = base[crop], strands[crop]
    if draw.texture == "blobs":  # lobules: smoothed sparse impulses of both signs, 2-5 mm
        impulses = np.zeros(shape, np.float32)
        n = int(impulses.size * 0.004)
        idx = rng.integers(0, impulses.size, n)
        impulses.flat[idx] = rng.choice(np.float32([-1.0, 1.0]), n)
        sigma = [float(rng.uniform(2.0, 4.0)) / c for c in cell]
        blobs = scipy.ndimage.gaussian_filter(impulses, sigma)
        base = 0.35 * base + blobs / (blobs.std() + 1e-12)
        base /= base.std() + 1e-12
    return base, strands


def _object_slice(anat: Anatomy, draw: StyleDraw, z: int, depth: int, px: float, sdf: np.ndarray,
                  pect: np.ndarray | None, base: np.ndarray, strands: np.ndarray) -> np.ndarray:
    """Tissue-only object slice (h, w) float32: air 0, fat 1, dense 1 + gain, muscle and skin brighter."""
    sd = sdf - np.float32(edge_shrink_mm(z, depth, anat.thickness_mm))
    threshold = float(scipy.special.ndtri(1.0 - draw.dense_fraction))
    dense = 0.5 + 0.5 * np.tanh((base + 0.5 * smoothstep(sd / 40.0) - threshold) / 0.5)
    dense *= smoothstep((sd - anat.subcutaneous_mm) / 8.0)
    width = 0.05 if draw.texture == "fibrous" else 0.04
    gain = 0.25 if draw.texture == "fibrous" else anat.strand_gain
    strand = np.exp(-0.5 * (strands / width) ** 2) * smoothstep(sd / 2.0)
    img = 1.0 + draw.dense_gain * dense + gain * strand * (1.0 - 0.5 * dense)
    if pect is not None:
        muscle = np.clip(pect / px + 0.5, 0.0, 1.0)
        img += (1.0 + draw.dense_gain + 0.25 + 0.04 * base - img) * muscle
    img += anat.skin_gain * np.exp(-0.5 * ((sd - 0.5 * anat.skin_mm) / (0.5 * anat.skin_mm)) ** 2)
    return (img * np.clip(sd / px + 0.5, 0.0, 1.0)).astype(np.float32)


def _clip_to(origin: tuple[int, int], pshape: tuple[int, int], ishape: tuple[int, int]):
    """(image slices, pattern slices) of a pattern at ``origin`` (row, col), clipped to the image; None if outside."""
    r0, c0 = origin
    rs, cs, re, ce = max(r0, 0), max(c0, 0), min(r0 + pshape[0], ishape[0]), min(c0 + pshape[1], ishape[1])
    if rs >= re or cs >= ce:
        return None
    return (slice(rs, re), slice(cs, ce)), (slice(rs - r0, re - r0), slice(cs - c0, ce - c0))


def ring_mask(mask: np.ndarray, pixel_mm: float, gap_mm: float = 1.0) -> np.ndarray:
    """The surround of ``mask`` (H, W) bool: pixels gap_mm to gap_mm + max(2 mm, half the mass radius) away."""
    radius_mm = np.sqrt(mask.sum() / np.pi) * pixel_mm
    dist = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) * pixel_mm
    return (dist > gap_mm) & (dist <= gap_mm + max(2.0, 0.5 * radius_mm))


def _insert_mass(obj: np.ndarray, spec: MassSpec, px: float) -> float:
    """Add a solid 3D mass to the object volume (D, h, w) in place; returns its relative contrast."""
    central = render_mass(spec, px, obj.shape[1:])
    clip = _clip_to(central.origin, central.pattern.shape, obj.shape[1:])
    img_sl, pat_sl = clip
    core = np.zeros(obj.shape[1:], bool)
    core[img_sl] = central.pattern[pat_sl] >= 0.5
    ring = ring_mask(core, px)
    tissue = obj[spec.slice]
    ref, std = float(tissue[ring].mean()), float(tissue[ring].std()) + 1e-3
    t = spec.interior
    delta = spec.level * std - t * (float(tissue[core].mean()) - ref)
    ph, pw = central.pattern.shape
    cy = spec.center_mm[0] / px - central.origin[0] - 0.5
    cx = spec.center_mm[1] / px - central.origin[1] - 0.5
    for z in range(obj.shape[0]):
        # a slice is a 1 mm slab: average the ellipsoid's cross-sections over it, so the margin is
        # sharp at the central slice and smeared where the surface is oblique
        p = np.zeros(central.pattern[pat_sl].shape, np.float32)
        for dz in (z - spec.slice + np.array([-0.375, -0.125, 0.125, 0.375])) * SLICE_MM:
            if abs(dz) >= spec.half_depth_mm:
                continue
            s = float(np.sqrt(1.0 - (dz / spec.half_depth_mm) ** 2))  # ellipsoid cross-section
            m = np.float32([[s, 0, cx * (1 - s)], [0, s, cy * (1 - s)]])
            # the contrast also falls off (by s) over the mass's depth extent
            p += np.float32(s / 4) * cv2.warpAffine(central.pattern, m, (pw, ph), flags=cv2.INTER_LINEAR)[pat_sl]
        if not p.any():
            continue
        region = obj[z][img_sl]
        region += np.clip(p, 0.0, 1.0) * (1.0 - t) * (ref - region) + np.float32(delta) * p
    return delta / ref


def reconstruct(obj: np.ndarray, px: float, draw: StyleDraw) -> np.ndarray:
    """Model of a DBT reconstruction of ``obj`` (D, h, w) float32 at ``px`` mm pixels, 1 mm slices."""
    depth = obj.shape[0]
    reach = min(MAX_REACH, int(np.ceil(3.0 * draw.focal_decay_mm / SLICE_MM)), depth - 1)
    out = obj.copy()
    wsum = np.ones(depth, np.float32)
    tan = np.tan(np.radians(draw.tube_half_angle_deg))
    for k in range(1, reach + 1):
        dist = k * SLICE_MM
        w = np.float32(draw.out_of_plane * np.exp(-dist / draw.focal_decay_mm))
        sigma = max(0.1 * dist / px, 0.3)
        gauss = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma).ravel()
        length = max(1, int(round(2 * dist * tan / px)))
        along = np.convolve(np.full(length, 1.0 / length), gauss).astype(np.float32)
        for z in range(depth):
            partners = [p for p in (z - k, z + k) if 0 <= p < depth]
            if not partners:
                continue
            smeared = cv2.sepFilter2D(obj[z], -1, gauss.astype(np.float32), along, borderType=cv2.BORDER_REFLECT)
            for p in partners:
                out[p] += w * smeared
                wsum[p] += w
    out /= wsum[:, None, None]
    return out


def render_dbt(seed_seq: np.random.SeedSequence, draw: StyleDraw, view: str | None, laterality: str | None,
               n_lesions: int | None, depth: int | None) -> DbtVolume:
    """Render one DBT-like view for ``draw`` (canonical orientation, fat units, noise included)."""
    rng_anat, rng_tex, rng_mass, rng_noise = (np.random.default_rng(s) for s in seed_seq.spawn(4))
    px = draw.pixel_mm
    height, width = round(draw.fov_mm[0] / px), round(draw.fov_mm[1] / px)
    fov = (height * px, width * px)
    anat = draw_anatomy(rng_anat, view, laterality, depth, fov, SLICE_MM)
    depth = round(anat.thickness_mm / SLICE_MM)
    factor = max(1, int(OBJECT_MM / px))
    lo_shape = (int(np.ceil(height / factor)), int(np.ceil(width / factor)))
    lo_px = px * factor
    tex_grid = (round(fov[0] / TEX_MM), round(fov[1] / TEX_MM))
    tex_cell = (fov[0] / tex_grid[0], fov[1] / tex_grid[1])
    sdf_tex = breast_sdf(anat, tex_grid, tex_cell)
    pect_tex = pectoral_sdf(anat, tex_grid, tex_cell)
    tex_shape = (int(np.ceil(depth * SLICE_MM / TEX_Z_MM)) + 2, *tex_grid)
    base, strands = _texture(rng_tex, draw, tex_shape, (TEX_Z_MM, *tex_cell))

    lo_size = (lo_shape[1], lo_shape[0])  # cv2 sizes are (columns, rows)
    sdf = cv2.resize(sdf_tex, lo_size, interpolation=cv2.INTER_LINEAR)
    pect = None if pect_tex is None else cv2.resize(pect_tex, lo_size, interpolation=cv2.INTER_LINEAR)
    obj = np.empty((depth, *lo_shape), np.float32)
    for z in range(depth):
        zf = (z + 0.5) * SLICE_MM / TEX_Z_MM
        k, f = int(zf), np.float32(zf - int(zf))
        fields = [cv2.resize((1 - f) * a[k] + f * a[k + 1], lo_size, interpolation=cv2.INTER_CUBIC)
                  for a in (base, strands)]
        obj[z] = _object_slice(anat, draw, z, depth, lo_px, sdf, pect, *fields)

    specs = draw_masses(rng_mass, n_lesions, anat, depth, sdf_tex, pect_tex, tex_cell, draw_dbt_mass)
    masses = []
    for spec in specs:
        contrast = _insert_mass(obj, spec, lo_px)
        native = render_mass(spec, px, (height, width))
        x, y, w, h = native.box
        r0, c0 = native.origin
        mask = native.pattern[y - r0:y - r0 + h, x - c0:x - c0 + w] >= 0.5
        masses.append(DbtMass(spec=spec, box=native.box, mask=mask, contrast=round(contrast, 4)))

    recon = reconstruct(obj, lo_px, draw)
    noise_sd = draw.noise_rel * np.sqrt(OBJECT_MM / px)
    sigma = draw.noise_corr_px
    slices = []
    for z in range(depth):
        img = recon[z] if factor == 1 else cv2.resize(recon[z], (width, height), interpolation=cv2.INTER_CUBIC)
        img = img[:height, :width]
        noise = rng_noise.standard_normal(img.shape, dtype=np.float32)
        if sigma > 0.3:
            kernel = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma)
            noise = cv2.sepFilter2D(noise, -1, kernel, kernel) / np.float32((kernel ** 2).sum())
        slices.append(img + noise_sd * np.sqrt(np.maximum(img, 0.05)) * noise)
    return DbtVolume(slices=slices, masses=masses, anatomy=anat)
