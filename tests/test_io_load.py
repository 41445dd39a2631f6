"""Loading every accepted input, and the round trip write -> load, with identical pixels."""

from __future__ import annotations

import random
import shutil
import zipfile

import cv2
import numpy as np
import pydicom
import pytest
from conftest import breast_volume

from slam.io import load_study, write_series_dicom, write_volume_dicom

LOSSLESS = ["explicit", "rle", "jpeg2000", "jpegls"]


@pytest.mark.parametrize("syntax", LOSSLESS)
def test_multiframe_lossless_round_trip_identical(tmp_path, volume_left, syntax):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, transfer_syntax=syntax, laterality="L", view="CC",
                              bits_stored=12, window_center=1500, window_width=3000, pixel_spacing=(0.6, 0.5))
    study = load_study(path)
    assert study.pixels.dtype == np.uint16
    np.testing.assert_array_equal(study.pixels, volume_left)
    assert (study.laterality, study.view, study.dbtex_view) == ("L", "CC", "lcc")
    assert (study.window_center, study.window_width) == (1500.0, 3000.0)  # from the shared functional groups
    assert study.pixel_spacing == (0.6, 0.5)
    assert not study.flip_rows and not study.flip_cols


@pytest.mark.parametrize(("syntax", "max_error", "mean_error"), [("jpeg2000-lossy", 300, 30), ("jpegls-near", 2, 2)])
def test_multiframe_lossy_close(tmp_path, volume_left, syntax, max_error, mean_error):
    # Lossy coders are judged on image-like content (smooth), not on white noise.
    smooth = np.stack([cv2.GaussianBlur(s, (0, 0), 2.0) for s in volume_left])
    path = write_volume_dicom(tmp_path / "v.dcm", smooth, transfer_syntax=syntax, bits_stored=12)
    study = load_study(path)
    difference = np.abs(study.pixels.astype(np.int32) - smooth)
    assert difference.max() <= max_error
    assert difference.mean() <= mean_error


def test_jpeg_baseline_8bit(tmp_path, volume_left):
    volume8 = (volume_left >> 4).astype(np.uint8)
    study = load_study(write_volume_dicom(tmp_path / "v.dcm", volume8, transfer_syntax="jpeg"))
    assert study.pixels.dtype == np.uint8
    assert np.abs(study.pixels.astype(int) - volume8).mean() < 3


def test_series_ordered_by_position_not_file_order(tmp_path, volume_left):
    paths = write_series_dicom(tmp_path / "s", volume_left, laterality="L", view="MLO")
    shuffled = list(paths)
    random.Random(1).shuffle(shuffled)
    for index, path in enumerate(shuffled):  # names now say nothing about order
        path.rename(path.with_name(f"x{index:03d}.dcm"))
    study = load_study(tmp_path / "s")
    np.testing.assert_array_equal(study.pixels, volume_left)
    assert study.view == "MLO"
    assert study.source_format.startswith("DICOM series of 12 files")


def test_series_instance_number_fallback(tmp_path, volume_left):
    paths = write_series_dicom(tmp_path / "s", volume_left)
    for path in paths:
        ds = pydicom.dcmread(path)
        del ds.ImagePositionPatient
        ds.InstanceNumber = volume_left.shape[0] - ds.InstanceNumber + 1  # reversed on purpose
        ds.save_as(path)
    study = load_study(sorted(paths))
    np.testing.assert_array_equal(study.pixels, volume_left[::-1])


def test_list_of_files_and_stray_non_dicom_ignored(tmp_path, volume_left):
    paths = write_series_dicom(tmp_path / "s", volume_left)
    (tmp_path / "s" / "notes.txt").write_text("not an image")
    study = load_study(tmp_path / "s")
    np.testing.assert_array_equal(study.pixels, volume_left)
    np.testing.assert_array_equal(load_study(paths).pixels, volume_left)


@pytest.mark.parametrize("kind", ["multiframe", "series"])
def test_zip_of_study(tmp_path, volume_left, kind):
    if kind == "multiframe":
        files = [write_volume_dicom(tmp_path / "d" / "v.dcm", volume_left, transfer_syntax="rle")]
    else:
        files = write_series_dicom(tmp_path / "d", volume_left)
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, f"folder/{path.name}")
        zf.writestr("__MACOSX/._junk", b"resource fork")
    study = load_study(archive)
    np.testing.assert_array_equal(study.pixels, volume_left)
    assert study.source_format.startswith("zip: DICOM")


def test_numpy_inputs(tmp_path, volume_left):
    np.save(tmp_path / "v.npy", volume_left)
    np.savez_compressed(tmp_path / "v.npz", volume=volume_left, laterality="L", view="CC", pixel_spacing=[0.6, 0.6])
    from_npy = load_study(tmp_path / "v.npy")
    from_npz = load_study(tmp_path / "v.npz")
    np.testing.assert_array_equal(from_npy.pixels, volume_left)
    np.testing.assert_array_equal(from_npz.pixels, volume_left)
    assert from_npy.laterality == "L" and from_npy.laterality_source == "image"
    assert (from_npz.view, from_npz.pixel_spacing, from_npz.laterality_source) == ("CC", (0.6, 0.6), "tag")
    assert from_npy.window_width > 0  # robust percentiles when no window is stored


def test_robust_window_spans_tissue_not_air(tmp_path, volume_left):
    study = load_study(write_volume_dicom(tmp_path / "v.dcm", volume_left))
    low = study.window_center - study.window_width / 2
    high = study.window_center + study.window_width / 2
    tissue = volume_left[volume_left > 1000]
    assert low > 500 and np.percentile(tissue, 1) > low - 200 and high >= np.percentile(tissue, 99) - 10


def test_monochrome1_laterality_on_display_values(tmp_path):
    """MONOCHROME1: the chest wall is the DISPLAY-bright edge = the low stored values."""
    volume = breast_volume(chest_wall="R")
    inverted = (4095 - volume).astype(np.uint16)  # stored bright air, dark tissue: tissue displays bright
    path = write_volume_dicom(tmp_path / "m1.dcm", inverted, photometric="MONOCHROME1", bits_stored=12)
    study = load_study(path)
    assert study.invert and study.laterality == "R" and study.laterality_source == "image"
    # With a correct tag the image must not be rotated (the defect design.md §1 warns about).
    study = load_study(write_volume_dicom(tmp_path / "m1t.dcm", inverted, photometric="MONOCHROME1",
                                          bits_stored=12, laterality="R"))
    assert not study.flip_rows and not study.flip_cols


def test_large_study_memory_stays_single_copy(tmp_path):
    """The decoded array is the only copy: nothing holds a second volume-sized buffer."""
    volume = breast_volume(depth=40, rows=512, cols=400)
    study = load_study(write_volume_dicom(tmp_path / "big.dcm", volume))
    assert study.pixels.base is None or study.pixels.base.nbytes == volume.nbytes
    assert study.header is not None and "PixelData" not in study.header


def test_zip_cleanup_leaves_no_files(tmp_path, volume_left, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left)
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        zf.write(path, "v.dcm")
    load_study(tmp_path / "s.zip")
    assert list((tmp_path / "tmp").iterdir()) == []
    shutil.rmtree(tmp_path / "tmp")


def test_zip_of_npy(tmp_path, volume_left):
    np.save(tmp_path / "v.npy", volume_left)
    with zipfile.ZipFile(tmp_path / "v.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(tmp_path / "v.npy", "volume.npy")
    study = load_study(tmp_path / "v.zip")
    assert study.source_format == "zip: npy" and np.array_equal(study.pixels, volume_left)


@pytest.mark.parametrize(("signed", "parts"), [(False, 1), (True, 1), (False, 3)])
def test_uncompressed_frames_read_in_one_go_equal_pydicom(tmp_path, volume_left, signed, parts, monkeypatch):
    # Explicit and implicit VR little endian go straight from the file into the volume (in one read, or in
    # `parts` threads as large files are); the bits above BitsStored (12) hold garbage here (an overlay, a
    # careless writer) and must be cleared or sign-extended exactly as pydicom's own decoding does; a
    # single-frame series takes the same path.
    monkeypatch.setattr("slam.io.dicom_read.PARALLEL_READ_BYTES", 0 if parts > 1 else 1 << 40)
    monkeypatch.setattr("slam.io.dicom_read.READ_PARTS", parts)
    rng = np.random.default_rng(0)
    raw = (volume_left.astype(np.int32) & 0x0FFF) | (rng.integers(0, 16, volume_left.shape) << 12)
    for implicit in (False, True):
        path = write_volume_dicom(tmp_path / f"{implicit}{signed}.dcm", volume_left, bits_stored=12)
        ds = pydicom.dcmread(path)
        ds.PixelRepresentation = int(signed)
        ds.PixelData = raw.astype(np.uint16).tobytes()
        if implicit:
            ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        ds.save_as(path, enforce_file_format=True)
        expected = pydicom.dcmread(path).pixel_array
        assert expected.dtype == (np.int16 if signed else np.uint16) and (expected < 0).any() == signed
        with monkeypatch.context() as patch:  # not through the per-frame decoders
            patch.setattr("slam.io.dicom_read.iter_pixels", lambda *a, **k: iter(()))
            assert np.array_equal(load_study(path).pixels, expected)
    series = write_series_dicom(tmp_path / "series", volume_left[:10], bits_stored=12)
    assert np.array_equal(load_study(series).pixels, volume_left[:10])
