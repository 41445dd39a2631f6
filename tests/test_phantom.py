"""slam.phantom: synthetic DBT studies, their BCS-DBT dataset files, the CLI and the committed examples."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from slam.cli import main
from slam.errors import SlamError
from slam.io import load_study
from slam.io.csv_formats import (
    BOXES_COLUMNS,
    FILE_PATHS_COLUMNS,
    LABELS_COLUMNS,
    read_boxes_csv,
    read_file_paths_csv,
    read_labels_csv,
)
from slam.phantom import FAMILIES, HELDOUT, SIZES, generate_study, resolve_styles, study_cnrs, write_dataset
from slam.phantom.dataset import dataset_seed, write_study
from slam.phantom.dbt import MARGINS, reconstruct
from slam.phantom.examples import EXAMPLES
from slam.phantom.lesions import MASS_CONTRAST, MASS_DIAMETER_MM

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def _lesion_twins(seed: int, laterality: str = "L", depth: int = 40):
    """The same study with one mass and without it (anatomy, texture and noise do not depend on masses)."""
    with_mass = generate_study(seed, n_lesions=1, depth=depth, view="CC", laterality=laterality)
    without = generate_study(seed, n_lesions=0, depth=depth, view="CC", laterality=laterality)
    return with_mass, without


def test_same_seed_same_study_other_seed_other_study():
    a = generate_study(11, depth=10)
    b = generate_study(11, depth=10)
    c = generate_study(12, depth=10)
    assert np.array_equal(a.volume, b.volume)
    assert (a.lesions, a.study_uid, a.patient_id, a.window_center) == (b.lesions, b.study_uid, b.patient_id,
                                                                        b.window_center)
    assert a.study_uid != c.study_uid and a.patient_id != c.patient_id
    assert not np.array_equal(a.volume, c.volume)


def test_small_study_format():
    s = generate_study(3)
    assert s.volume.dtype == np.uint16 and s.volume.shape == (s.depth, 384, 320)
    assert 40 <= s.depth <= 70
    assert s.pixel_spacing == (0.64, 0.64) and s.slice_spacing == 1.0
    assert s.volume.max() < 2 ** s.bits_stored and s.bits_stored == 12
    assert s.patient_id == "DBT-P00003" and s.study_uid.replace(".", "").isdigit()
    assert s.dbtex_view in ("lcc", "rcc", "lmlo", "rmlo")
    assert 0 < s.window_width < 4096 and 0 < s.window_center < 4096
    # background near 0 outside the breast (the edge away from the chest wall); the breast fills a good part
    mid = s.volume[s.depth // 2]
    assert mid[:, -1 if s.laterality == "L" else 0].mean() < 50
    assert 0.2 < (mid > 200).mean() < 0.95


@pytest.mark.parametrize("laterality", ["L", "R"])
@pytest.mark.parametrize("view", ["CC", "MLO"])
def test_chest_wall_at_the_edge_given_by_laterality(view, laterality):
    s = generate_study(21, view=view, laterality=laterality, depth=8)
    mid = s.volume[s.depth // 2].astype(np.float64)
    first, last = mid[:, 0].sum(), mid[:, -1].sum()
    chest, other = (first, last) if laterality == "L" else (last, first)
    assert chest > 20 * max(other, 1.0)  # the Duke reader's test: the brighter edge is the chest wall
    assert (s.view, s.laterality) == (view, laterality)


def test_pectoral_muscle_only_on_mlo():
    for seed in (5, 6, 7):
        mlo = generate_study(seed, view="MLO", laterality="L", depth=8)
        cc = generate_study(seed, view="CC", laterality="L", depth=8)
        mlo_mid, cc_mid = mlo.volume[4].astype(np.float32), cc.volume[4].astype(np.float32)
        corner = (slice(0, 15), slice(0, 15))  # top of the chest-wall edge, ~1 cm
        tissue = np.percentile(mlo_mid[mlo_mid > 100], 90)
        assert mlo_mid[corner].mean() > tissue  # the muscle outshines the breast tissue
        assert cc_mid[corner].mean() < 50  # CC: the breast does not reach the top edge; no muscle


@pytest.mark.parametrize("size", ["small", "medium"])
def test_masses_keep_their_physical_size(size):
    for seed in (1, 2):
        s = generate_study(seed, size, n_lesions=2, depth=12)
        rows, cols, px = SIZES[size]
        assert s.pixel_spacing == (px, px) and s.volume.shape[1:] == (rows, cols)
        assert s.lesions
        for les in s.lesions:
            lo, hi = MASS_DIAMETER_MM
            assert lo * 0.99 <= les.diameter_mm <= hi
            side_mm = max(les.width, les.height) * px
            assert 0.6 * les.diameter_mm <= side_mm <= 1.7 * les.diameter_mm + 2 * px


def test_mass_box_in_mm_is_the_same_at_small_and_medium_size():
    small = generate_study(4, "small", n_lesions=1, depth=12)
    medium = generate_study(4, "medium", n_lesions=1, depth=12)
    (a,), (b,) = small.lesions, medium.lesions
    assert a.diameter_mm == b.diameter_mm and a.slice == b.slice
    assert abs(a.width * 0.64 - b.width * 0.2) <= 1.5 and abs(a.height * 0.64 - b.height * 0.2) <= 1.5


def test_boxes_inside_the_image():
    for seed in range(30, 36):
        s = generate_study(seed, n_lesions=2, depth=20)
        for les in s.lesions:
            assert les.x >= 0 and les.x + les.width <= s.width and les.width > 0
            assert les.y >= 0 and les.y + les.height <= s.height and les.height > 0
            assert 0 <= les.slice < s.depth and les.cls in ("benign", "cancer")
            # the mass lies in the breast, not on the background
            assert s.volume[les.slice, les.y:les.y + les.height, les.x:les.x + les.width].min() > 100


def _box_contrast(with_mass, without, les, z: int) -> float:
    """Relative contrast of the mass over its box at slice ``z``, against the lesion-free twin."""
    box = (slice(les.y, les.y + les.height), slice(les.x, les.x + les.width))
    return float(with_mass.volume[z][box].astype(np.float64).mean()
                 / without.volume[z][box].astype(np.float64).mean() - 1.0)


def test_mass_contrast_at_central_slice_and_fading_away():
    for seed, laterality in ((8, "L"), (9, "R")):  # R: the box is mirrored with the image
        with_mass, without = _lesion_twins(seed, laterality)
        (les,) = with_mass.lesions
        lo, hi = MASS_CONTRAST
        assert lo <= les.contrast <= hi

        def contrast(z: int, with_mass=with_mass, without=without, les=les) -> float:
            return _box_contrast(with_mass, without, les, z)

        central = contrast(les.slice)
        assert 0.4 * les.contrast <= central <= 1.05 * les.contrast
        away = [contrast(les.slice + dz) for dz in (2, 4, 8)]
        assert central > away[0] > away[1] > away[2] >= -0.002
        assert away[2] < 0.25 * central
        # the other slices are untouched far from the mass
        far_z = les.slice + 15 if les.slice + 15 < with_mass.depth else les.slice - 15
        far = with_mass.volume[far_z].astype(np.int32) - without.volume[far_z]
        assert np.abs(far).max() <= 1


def test_mass_is_sharp_at_its_central_slice_and_blurred_away_from_it():
    with_mass, without = _lesion_twins(8)
    (les,) = with_mass.lesions
    cy, cx = les.y + les.height // 2, les.x + les.width // 2
    r = max(les.width, les.height)
    window = (slice(max(cy - r, 0), cy + r), slice(max(cx - r, 0), cx + r))

    def edge_energy(z: int) -> float:
        ratio = with_mass.volume[z][window].astype(np.float64) / np.maximum(without.volume[z][window], 1) - 1.0
        gy, gx = np.gradient(ratio)
        return float(np.hypot(gy, gx).mean() / max(np.abs(ratio).max(), 1e-6))

    # relative to its own amplitude, the mass's edges soften away from the central slice
    assert edge_energy(les.slice) > edge_energy(les.slice + 3) > edge_energy(les.slice + 5)


def test_overrides_and_bad_input():
    s = generate_study(2, view="MLO", laterality="R", n_lesions=0, depth=9)
    assert (s.view, s.laterality, s.depth, s.lesions, s.label) in [("MLO", "R", 9, [], "Normal"),
                                                                  ("MLO", "R", 9, [], "Actionable")]
    for kwargs in ({"size": "huge"}, {"view": "ML"}, {"laterality": "B"}, {"n_lesions": 7}, {"depth": 2}):
        with pytest.raises(SlamError):
            generate_study(1, **kwargs)
    with pytest.raises(SlamError):
        generate_study(-1)


def test_medium_size_is_the_full_size_field_of_view_at_coarser_pixels():
    s = generate_study(13, "medium", depth=5)
    assert s.volume.shape == (5, 1229, 998) and s.pixel_spacing == (0.2, 0.2)
    full_rows, full_cols, full_px = SIZES["full"]
    assert abs(full_rows * full_px - 1229 * 0.2) < 1 and abs(full_cols * full_px - 998 * 0.2) < 1


def test_write_dataset_layout_csvs_and_dicom(tmp_path):
    out = write_dataset(tmp_path / "ds", 3, seed=2, transfer_syntax="1.2.840.10008.1.2.5")  # RLE by UID
    for name, columns in (("file-paths.csv", FILE_PATHS_COLUMNS), ("labels.csv", LABELS_COLUMNS),
                          ("boxes.csv", BOXES_COLUMNS)):
        header = (out / name).read_text().splitlines()[0]
        assert tuple(header.split(",")) == columns
    paths, labels, boxes = (read_file_paths_csv(out / "file-paths.csv"), read_labels_csv(out / "labels.csv"),
                            read_boxes_csv(out / "boxes.csv"))
    assert len(paths) == len(labels) == 3
    for i, (fp, lab) in enumerate(zip(paths, labels, strict=True)):
        expected = generate_study(dataset_seed(2, i))
        assert fp.descriptive_path.startswith(f"Breast-Cancer-Screening-DBT/{expected.patient_id}/01-01-2000-DBT-S")
        assert fp.descriptive_path.endswith("/1-1.dcm") and fp.classic_path.endswith("/1-1.dcm")
        assert (fp.patient_id, fp.study_uid, fp.view) == (expected.patient_id, expected.study_uid, expected.dbtex_view)
        assert (lab.normal, lab.actionable, lab.benign, lab.cancer).count(1) == 1
        assert getattr(lab, expected.label.lower()) == 1
        loaded = load_study(out / fp.descriptive_path)
        assert np.array_equal(loaded.pixels, expected.volume)
        assert (loaded.laterality, loaded.view, loaded.pixel_spacing) == (expected.laterality, expected.view,
                                                                          expected.pixel_spacing)
        assert (loaded.flip_rows, loaded.flip_cols) == (False, False)  # tags and image edges agree
        assert loaded.header.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
        mine = [b for b in boxes if b.study_uid == expected.study_uid]
        assert [(b.x, b.y, b.width, b.height, b.slice) for b in mine] == expected.boxes
        assert all(b.volume_slices == expected.depth and b.view == expected.dbtex_view for b in mine)


def test_datasets_with_other_seeds_share_no_study():
    assert {dataset_seed(0, i) for i in range(1000)}.isdisjoint(dataset_seed(1, i) for i in range(1000))
    with pytest.raises(SlamError):
        write_dataset("unused", 2, 0, transfer_syntax="jpeg")  # lossy: refused before writing anything


def test_cli_writes_a_dataset(tmp_path, capsys):
    assert main(["phantom", str(tmp_path / "cli"), "--n", "2", "--seed", "5", "--transfer-syntax", "jpegls"]) == 0
    printed = capsys.readouterr().out
    assert "[1/2]" in printed and "[2/2]" in printed
    rows = read_file_paths_csv(tmp_path / "cli" / "file-paths.csv")
    assert len(rows) == 2 and all((tmp_path / "cli" / r.descriptive_path).is_file() for r in rows)
    assert (tmp_path / "cli" / "studies.csv").read_text().count("classic") == 2
    assert main(["phantom", str(tmp_path / "bad"), "--n", "0"]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["phantom", str(tmp_path / "bad"), "--style", "glossy"]) == 2
    assert "phantom style 'glossy' is not known; accepted: classic" in capsys.readouterr().err


def test_committed_examples_are_what_the_generator_makes():
    paths = read_file_paths_csv(EXAMPLES_DIR / "file-paths.csv")
    labels = read_labels_csv(EXAMPLES_DIR / "labels.csv")
    boxes = read_boxes_csv(EXAMPLES_DIR / "boxes.csv")
    assert len(paths) == len(labels) == len(EXAMPLES)
    files = [p for p in EXAMPLES_DIR.rglob("*") if p.is_file()]
    assert max(p.stat().st_size for p in files) <= 10_000_000
    assert sum(p.stat().st_size for p in files) <= 20_000_000
    assert {p.view for p in paths} == {"lcc", "rcc", "lmlo", "rmlo"}
    assert any(p.descriptive_path.endswith(".zip") for p in paths)
    assert {lab.normal for lab in labels} == {0, 1} and boxes
    # the first multi-frame example, pixel for pixel (the others follow the same code path)
    seed, view, laterality, masses, depth, _, _ = EXAMPLES[1]
    study = generate_study(seed, view=view, laterality=laterality, n_lesions=masses, depth=depth)
    loaded = load_study(EXAMPLES_DIR / paths[1].descriptive_path)
    assert np.array_equal(loaded.pixels, study.volume)
    assert [(b.x, b.y, b.width, b.height, b.slice) for b in boxes if b.study_uid == study.study_uid] == study.boxes
    zipped = next(p for p in paths if p.descriptive_path.endswith(".zip"))
    assert load_study(EXAMPLES_DIR / zipped.descriptive_path).depth == EXAMPLES[-1][4]


# ---- DBT-like style families (slam.phantom.styles, slam.phantom.dbt) ----

def test_styled_study_is_deterministic_per_seed_and_style():
    a = generate_study(3, style="fibrous", depth=10)
    b = generate_study(3, style="fibrous", depth=10)
    c = generate_study(3, style="dense-powerlaw", depth=10)
    assert np.array_equal(a.volume, b.volume) and a.lesions == b.lesions and a.style_draw == b.style_draw
    assert a.style == "fibrous" and a.study_uid != c.study_uid
    assert a.volume.shape != c.volume.shape or not np.array_equal(a.volume, c.volume)
    assert np.array_equal(generate_study(3, depth=10).volume, generate_study(3, depth=10, style="classic").volume)
    for bad in ("train", "nope"):  # a selection or an unknown name is not one style
        with pytest.raises(SlamError):
            generate_study(3, style=bad, depth=10)


@pytest.mark.parametrize("style", list(FAMILIES))
def test_each_style_writes_loadable_dicom(tmp_path, style):
    study = generate_study(5, style=style, depth=12, n_lesions=1)
    draw = study.style_draw
    assert 0.5 <= study.pixel_spacing[0] <= 0.7 and study.bits_stored == draw.bits_stored in (10, 12, 14)
    assert study.volume.max() < 2 ** study.bits_stored
    fp, _, boxes = write_study(tmp_path, study, 1)
    loaded = load_study(tmp_path / fp.descriptive_path)
    assert np.array_equal(loaded.pixels, study.volume) and loaded.bits_stored == study.bits_stored
    assert (loaded.photometric, loaded.laterality, loaded.view) == (study.photometric, study.laterality, study.view)
    assert (loaded.flip_rows, loaded.flip_cols) == (False, False)  # the image edges agree with the tag
    assert loaded.pixel_spacing == study.pixel_spacing
    if draw.window == "absent":
        assert "FrameVOILUTSequence" not in loaded.header.SharedFunctionalGroupsSequence[0]
    else:
        assert (loaded.window_center, loaded.window_width) == (study.window_center, study.window_width)
    assert [(b.x, b.y, b.width, b.height, b.slice) for b in boxes] == study.boxes


@pytest.mark.parametrize(("style", "seed"), [("fatty-powerlaw", 6), ("fibrous", 1)])
@pytest.mark.parametrize("laterality", ["L", "R"])
def test_monochrome1_studies_load_with_the_right_laterality(tmp_path, style, seed, laterality):
    study = generate_study(seed, style=style, depth=12, laterality=laterality, n_lesions=0)
    assert study.photometric == "MONOCHROME1"
    display = (2 ** study.bits_stored - 1) - study.volume[6].astype(np.float64)
    chest, other = (display[:, 0], display[:, -1]) if laterality == "L" else (display[:, -1], display[:, 0])
    assert chest.mean() > 3 * other.mean()  # displayed, the chest wall is the bright edge
    fp, _, _ = write_study(tmp_path, study, 1)
    loaded = load_study(tmp_path / fp.descriptive_path)
    assert loaded.laterality == laterality and (loaded.flip_rows, loaded.flip_cols) == (False, False)
    assert loaded.invert


def _band_energy(diff: np.ndarray, les) -> float:
    """Mean squared band-pass (Gaussian 1 px minus 3 px) of a slice's mass signal inside its box."""
    box = diff[les.y:les.y + les.height, les.x:les.x + les.width].astype(np.float32)
    return float(((cv2.GaussianBlur(box, (0, 0), 1.0) - cv2.GaussianBlur(box, (0, 0), 3.0)) ** 2).mean())


@pytest.mark.parametrize(("style", "seed"), [("dense-powerlaw", 2), ("cluttered", 4), ("fatty-powerlaw", 5)])
def test_dbt_mass_is_sharpest_within_its_body_and_fades_beyond(style, seed):
    with_mass = generate_study(seed, style=style, n_lesions=1, depth=30, view="CC")
    without = generate_study(seed, style=style, n_lesions=0, depth=30, view="CC")
    (les,) = with_mass.lesions
    diff = with_mass.volume.astype(np.int32) - without.volume
    energy = [_band_energy(diff[z], les) for z in range(with_mass.depth)]
    # the peak lies within the solid body's depth extent (at the central slice +-1 for half the masses
    # measured; the replaced in-focus tissue texture moves it by up to 3 slices in the others)
    reach = max(1, int(les.half_depth_mm))
    assert abs(int(np.argmax(energy)) - les.slice) <= reach
    far = [energy[z] for z in (les.slice - reach - 4, les.slice + reach + 4) if 0 <= z < with_mass.depth]
    assert far and max(far) < 0.5 * energy[les.slice]
    # the surrounding tissue is that of its own depth: the lesion-free twin differs between slices
    assert np.abs(without.volume[les.slice].astype(np.int32) - without.volume[les.slice + 6]).mean() > 5


def test_out_of_plane_blur_grows_with_distance():
    obj = np.zeros((21, 81, 81), np.float32)
    obj[10, 40, 20:60] = 1.0  # a thin horizontal line in slice 10
    draw = generate_study(1, style="fibrous", depth=8).style_draw
    recon = reconstruct(obj, 0.5, replace(draw, out_of_plane=0.5, focal_decay_mm=6.0))
    rows = np.arange(81, dtype=np.float64)

    def spread(z: int) -> float:  # std of the line's profile across it (along the tube travel)
        profile = recon[z, :, 40].astype(np.float64)
        return float(np.sqrt((profile * (rows - 40) ** 2).sum() / profile.sum()))

    widths = [spread(10 + d) for d in (0, 2, 5, 9)]
    assert widths == sorted(widths) and widths[0] < 0.1 < widths[1] and widths[3] > 2 * widths[1]
    assert recon[10, 40, 40] > 5 * recon[12, 40, 40]  # in focus it is strongest


def test_lesion_cnr_spans_barely_to_clearly_visible():
    cnrs = [c for seed in range(6) for c in study_cnrs(generate_study(seed, style="fatty-powerlaw", n_lesions=2,
                                                                        depth=24))]
    assert len(cnrs) >= 10
    assert 0.8 <= float(np.median(cnrs)) <= 3.0  # docs/phantom-styles.md: most in 1-3
    assert min(cnrs) < 1.2 and max(cnrs) > 2.0 and all(-1.0 < c < 10.0 for c in cnrs)


def test_heldout_family_is_excluded_from_train_and_written_alone(tmp_path):
    train = resolve_styles("train")
    assert HELDOUT not in train and len(train) >= 3 and resolve_styles("mixed") == train
    assert resolve_styles("heldout") == (HELDOUT,) and set(resolve_styles("all")) == set(FAMILIES)
    with pytest.raises(SlamError):
        resolve_styles("dense-powerlaw,unknown")
    out = write_dataset(tmp_path / "held", 2, seed=9, styles="heldout")
    studies = list(csv.DictReader((out / "studies.csv").open()))
    assert [s["Style"] for s in studies] == [HELDOUT, HELDOUT]
    assert tuple((out / "boxes.csv").read_text().splitlines()[0].split(",")) == BOXES_COLUMNS
    lesions = list(csv.DictReader((out / "lesions.csv").open()))
    boxes = read_boxes_csv(out / "boxes.csv")
    assert len(lesions) == len(boxes) and all(float(r["CNR"]) > -5 and r["Margin"] in MARGINS for r in lesions)
