"""Every kind of bad input gives one SlamError with a one-line message that says what is accepted."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pydicom
import pytest
from conftest import breast_volume

from slam.errors import SlamError
from slam.io import LoadLimits, load_study, load_views, write_series_dicom, write_volume_dicom


def load_error(*args, **kwargs) -> str:
    with pytest.raises(SlamError) as info:
        load_study(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_not_dicom(tmp_path):
    (tmp_path / "x.dcm").write_bytes(b"hello, I am text" * 20)
    assert "not a DICOM file" in load_error(tmp_path / "x.dcm")
    assert "no such file" in load_error(tmp_path / "missing.dcm")


def test_dicom_without_pixel_data(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left)
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    assert "without pixel data" in load_error(path)


def test_single_2d_image(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left[:1])
    assert "not a tomosynthesis stack: 1 frame" in load_error(path)
    np.save(tmp_path / "flat.npy", volume_left[0])
    assert "not a tomosynthesis stack: 1 frame" in load_error(tmp_path / "flat.npy")


def test_too_few_slices(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left[:4])
    assert "only 4 slices" in load_error(path)
    assert load_study(path, LoadLimits(min_slices=3)).depth == 4


def test_frames_of_different_sizes(tmp_path, volume_left):
    paths = write_series_dicom(tmp_path / "s", volume_left)
    other = write_series_dicom(tmp_path / "o", breast_volume(depth=1, rows=80, cols=56))[0]
    ds = pydicom.dcmread(other)
    ds.SeriesInstanceUID = pydicom.dcmread(paths[0]).SeriesInstanceUID
    ds.save_as(paths[3])
    assert "frames of different sizes (72 x 56, 80 x 56)" in load_error(tmp_path / "s")


def test_mixed_series_named(tmp_path, volume_left):
    write_series_dicom(tmp_path / "s", volume_left, series_uid="1.2.3.4")
    write_series_dicom(tmp_path / "s2", volume_left, series_uid="1.2.3.5")
    for path in (tmp_path / "s2").iterdir():
        path.rename(tmp_path / "s" / f"other_{path.name}")
    message = load_error(tmp_path / "s")
    assert "mixed series" in message and "1.2.3.4" in message and "1.2.3.5" in message
    # ... while load_views takes each series of the folder as a view of an exam, with a multi-frame file beside them
    write_volume_dicom(tmp_path / "s" / "multi.dcm", np.concatenate([volume_left, volume_left]))
    views = load_views(tmp_path / "s")
    assert sorted(v.depth for v in views) == [len(volume_left)] * 2 + [2 * len(volume_left)]
    assert {str(v.header.SeriesInstanceUID) for v in views if v.depth == len(volume_left)} == {"1.2.3.4", "1.2.3.5"}
    # the exam's pixel limit holds for the views together, not for each: room for the largest view alone is
    # refused, while each view needs only to fit the per-view limit
    largest, total = max(v.pixels.nbytes for v in views), sum(v.pixels.nbytes for v in views)
    with pytest.raises(SlamError, match="limit"):
        load_views(tmp_path / "s", LoadLimits(max_exam_pixel_bytes=largest + 1))
    assert len(load_views(tmp_path / "s", LoadLimits(max_pixel_bytes=largest, max_exam_pixel_bytes=total))) == 3
    with pytest.raises(SlamError, match="limit"):
        load_views(tmp_path / "s", LoadLimits(max_pixel_bytes=largest - 1, max_exam_pixel_bytes=total))


def test_declared_dimensions_over_limit_checked_before_decoding(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left)
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 60000, 60000, 300  # pixel data itself is tiny: a bomb
    ds.save_as(path)
    assert "exceeds the limit" in load_error(path)
    assert "exceeds the" in load_error(write_volume_dicom(tmp_path / "w.dcm", volume_left),
                                        LoadLimits(max_pixel_bytes=10_000))


def test_truncated_pixel_data(tmp_path, volume_left):
    for syntax in ("explicit", "jpeg2000"):
        path = write_volume_dicom(tmp_path / f"{syntax}.dcm", volume_left, transfer_syntax=syntax)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - len(data) // 3])
        assert "truncated or corrupt pixel data" in load_error(path)


def test_corrupt_compressed_frame(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, transfer_syntax="jpegls")
    data = bytearray(path.read_bytes())
    start = data.index(b"\xff\xd8\xff")  # first JPEG-LS codestream
    data[start + 2 : start + 40] = b"\x00" * 38  # destroy its marker segments
    path.write_bytes(bytes(data))
    assert "truncated or corrupt pixel data" in load_error(path)


def test_unsupported_transfer_syntax(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, transfer_syntax="rle")
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: video, not an image codec
    ds.save_as(path)
    assert "MPEG2" in load_error(path) and "not supported" in load_error(path)


def test_missing_decoder_plugin_is_named(tmp_path, volume_left):
    """In an interpreter where the JPEG 2000 plugins cannot be imported, the message names them."""
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, transfer_syntax="jpeg2000")
    code = (
        "import sys\n"
        "for name in ('openjpeg', 'PIL', 'pylibjpeg'): sys.modules[name] = None\n"
        "from slam.cli import main\n"
        f"sys.exit(main(['info', {str(path)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "cannot decode JPEG 2000" in line and "pylibjpeg" in line


def test_zip_path_traversal(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left)
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.write(path, "../../evil.dcm")
    assert "unsafe path in zip" in load_error(tmp_path / "evil.zip")
    assert not (tmp_path.parent / "evil.dcm").exists()


def test_zip_caps(tmp_path, volume_left):
    paths = write_series_dicom(tmp_path / "s", volume_left)
    with zipfile.ZipFile(tmp_path / "s.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            zf.write(p, p.name)
    assert "exceed the limit of 5" in load_error(tmp_path / "s.zip", LoadLimits(max_zip_members=5))
    assert "uncompressed exceeds" in load_error(tmp_path / "s.zip", LoadLimits(max_zip_bytes=20_000))


def test_zip_problems(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    assert "not a readable zip" in load_error(tmp_path / "bad.zip")
    with zipfile.ZipFile(tmp_path / "text.zip", "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    assert "not a DICOM file" in load_error(tmp_path / "text.zip")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    assert "holds no files" in load_error(tmp_path / "empty.zip")


def test_numpy_problems(tmp_path, volume_left):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    assert "not a readable .npy/.npz" in load_error(tmp_path / "obj.npy")
    np.savez(tmp_path / "two.npz", a=volume_left, b=volume_left)
    assert "accepted: one array, or one named 'volume'" in load_error(tmp_path / "two.npz")
    np.save(tmp_path / "c.npy", volume_left.astype(np.complex64))
    assert "dtype complex64" in load_error(tmp_path / "c.npy")


def test_colour_dicom(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left)
    ds = pydicom.dcmread(path)
    ds.SamplesPerPixel = 3
    ds.save_as(path)
    assert "colour image" in load_error(path)
