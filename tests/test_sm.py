"""Synthetic mammogram (design.md §7): hand-computed values and a float64 per-slice reference."""

import math

import numpy as np
import pytest

from slam.errors import SlamError
from slam.imaging.preprocess import artifact_band, clahe
from slam.imaging.sm import apply_window, boxes_rgb, burn_boxes, slab_range, slab_weights, synthetic_mammogram


def _reference_sm(volume, first, stop, center, mode="max", weighting="sigmoid", threshold=0.8,
                  window=0.7, level=0.62, s=0.7, c=5.0, b=math.e):
    """The straightforward way: loop over slices in float64, as the original did (with global d)."""
    mip = None
    acc = np.zeros(volume.shape[1:], np.float64)
    total = 0.0
    for k in range(first, stop):
        image = volume[k].astype(np.float64)
        d = abs(k - center)
        w = 1 / (1 + math.exp(s * (d - c))) if weighting == "sigmoid" else 1 / (1 + math.log(1 + d * (b - 1)))
        acc += w * image
        total += w
        if mip is None:
            mip = image.copy()
        elif mode == "max":
            mip = np.maximum(mip, image)
        elif mode == "min":
            mip = np.minimum(mip, image)
        else:
            mip += image
    weighted = acc / total

    def norm(x):
        return (x - x.min()) / (x.max() - x.min()) if x.max() > x.min() else np.zeros_like(x)

    combined = np.where(norm(mip) > threshold, norm(mip), norm(weighted))
    scaled = np.clip((combined - (level - window / 2)) / window, 0, 1)
    return combined, np.round(scaled * 255).astype(np.uint8), np.round(scaled * 65535).astype(np.uint16)


def _volume(depth=9, height=150, width=45, seed=0, dtype=np.uint16):  # 2 strips of rows
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 400.0, (depth, height, width))
    base[:, 10:30, 10:20] += 3000 * np.hanning(depth)[:, None, None]  # a 'lesion' brightest mid-volume
    return np.clip(base, 0, 4095).astype(dtype)


def test_slab_range_clamps_and_keeps_count():
    assert slab_range(64, 30, 21) == (20, 41)
    assert slab_range(64, 30, 20) == (21, 41)  # even count: extra slice after the centre
    assert slab_range(64, 2, 20) == (0, 20)
    assert slab_range(64, 63, 20) == (44, 64)
    assert slab_range(64, None, None) == (0, 64)
    assert slab_range(64, 10, None) == (0, 64)
    assert slab_range(5, 0, 5) == (0, 5)


def test_sigmoid_weights_hand_computed():
    w = slab_weights(10, 15, 12, "sigmoid")
    raw = [1 / (1 + math.exp(0.7 * (d - 5))) for d in (2, 1, 0, 1, 2)]
    np.testing.assert_allclose(w, np.array(raw) / sum(raw), rtol=1e-12)
    assert w.sum() == pytest.approx(1.0)


def test_log_weights_hand_computed():
    w = slab_weights(0, 3, 1, "log")
    raw = np.array([0.5, 1.0, 0.5])  # d = 1: 1 / (1 + ln(e)) = 1/2; d = 0: 1
    np.testing.assert_allclose(w, raw / raw.sum(), rtol=1e-12)
    w = slab_weights(0, 3, 0, "log", log_base=3.0)
    raw = np.array([1.0, 1 / (1 + math.log(3)), 1 / (1 + math.log(5))])
    np.testing.assert_allclose(w, raw / raw.sum(), rtol=1e-12)


@pytest.mark.parametrize("weighting", ["sigmoid", "log"])
def test_weights_symmetric_around_slab_centre(weighting):
    first, stop = slab_range(80, 40, 21)
    w = slab_weights(first, stop, 40, weighting)
    np.testing.assert_allclose(w, w[::-1], rtol=1e-12)
    assert np.argmax(w) == 10
    # the original's defect measured d from the slab-local index (0..20) to the global centre 40:
    # the weights would then rise monotonically towards the slab's end
    assert not np.all(np.diff(w) > 0)


def test_weights_follow_the_requested_centre_when_clamped():
    first, stop = slab_range(30, 1, 9)
    assert (first, stop) == (0, 9)
    w = slab_weights(first, stop, 1)
    assert np.argmax(w) == 1


def test_sm_hand_computed_tiny_volume():
    volume = np.array([[[0, 10, 20]], [[0, 20, 40]], [[0, 0, 100]]], np.uint16)
    r = synthetic_mammogram(volume, center_slice=1, num_slices=3)
    a = 1 / (1 + math.exp(0.7 * (1 - 5)))  # d = 1, both ends
    b = 1 / (1 + math.exp(0.7 * (0 - 5)))  # d = 0, the centre
    weighted = np.array([0.0, (10 * a + 20 * b), (120 * a + 40 * b)]) / (2 * a + b)
    # MIP = [0, 20, 100] -> [0, 0.2, 1]; pixel 2 (1.0 > 0.8) takes the MIP, the others the weighted image
    expected = np.array([0.0, weighted[1] / weighted[2], 1.0])
    np.testing.assert_allclose(r.combined[0], expected, atol=1e-6)
    scaled = np.clip((expected - 0.27) / 0.70, 0, 1)
    np.testing.assert_array_equal(r.image8[0], np.round(scaled * 255).astype(np.uint8))
    np.testing.assert_array_equal(r.image16[0], np.round(scaled * 65535).astype(np.uint16))
    assert r.slab == (0, 3) and r.center_slice == 1.0


@pytest.mark.parametrize("mode", ["max", "min", "mean"])
@pytest.mark.parametrize("weighting", ["sigmoid", "log"])
def test_sm_matches_float64_reference(mode, weighting):
    volume = _volume()
    r = synthetic_mammogram(volume, center_slice=3, num_slices=5, mode=mode, weighting=weighting, threshold=0.6)
    combined, ref8, ref16 = _reference_sm(volume, 1, 6, 3, mode, weighting, threshold=0.6)
    assert r.image8.shape == volume.shape[1:] and r.image8.dtype == np.uint8 and r.image16.dtype == np.uint16
    assert np.abs(r.combined - combined).max() < 1e-5
    assert np.abs(r.image8.astype(int) - ref8).max() <= 1
    assert np.abs(r.image16.astype(int) - ref16).max() <= 2


def test_whole_volume_sm_when_no_slab():
    volume = _volume(depth=8)
    r = synthetic_mammogram(volume)
    assert r.slab == (0, 8) and r.center_slice == 3.5
    np.testing.assert_allclose(r.weights, r.weights[::-1])
    _, ref8, _ = _reference_sm(volume, 0, 8, 3.5)
    assert np.abs(r.image8.astype(int) - ref8).max() <= 1


def test_workers_and_dtypes_agree():
    volume = _volume(height=301)  # several 128-row strips, the last one partial
    one = synthetic_mammogram(volume, 4, 7, workers=1)
    two = synthetic_mammogram(volume, 4, 7, workers=2)
    np.testing.assert_array_equal(one.image16, two.image16)
    for dtype in (np.float32, np.float64, np.int32):
        other = synthetic_mammogram(volume.astype(dtype), 4, 7)
        assert np.abs(other.image8.astype(int) - one.image8).max() <= 1


def test_flipped_view_input():
    volume = _volume(seed=5)
    flipped = volume[:, ::-1, ::-1]
    np.testing.assert_array_equal(synthetic_mammogram(flipped, 4, 5).image16,
                                  synthetic_mammogram(np.ascontiguousarray(flipped), 4, 5).image16)


@pytest.mark.parametrize("mode", ["max", "min", "mean"])
def test_invert_equals_sm_of_display_values(mode):
    volume = _volume(seed=3)
    inverted = (4095 - volume).astype(np.uint16)
    a = synthetic_mammogram(volume, 4, 5, mode=mode, invert=True)
    b = synthetic_mammogram(inverted, 4, 5, mode=mode)
    assert np.abs(a.combined - b.combined).max() < 1e-5
    assert np.abs(a.image8.astype(int) - b.image8).max() <= 1


def test_window_level():
    combined = np.array([[0.0, 0.27, 0.445, 0.97, 1.0]], np.float32)
    np.testing.assert_array_equal(apply_window(combined), [[0, 0, 64, 255, 255]])
    np.testing.assert_array_equal(apply_window(combined, 1.0, 0.5, np.uint16), [[0, 17694, 29163, 63569, 65535]])


def test_constant_volume_gives_no_nan():
    r = synthetic_mammogram(np.full((4, 10, 12), 500, np.uint16))
    assert np.isfinite(r.combined).all() and (r.combined == 0).all()


def test_optional_steps():
    volume = _volume(depth=6, height=90, width=80, seed=2)
    volume[:, :, 60:] = 0  # background on the right: an outline to find
    plain = synthetic_mammogram(volume, 3, 5)
    cleaned = synthetic_mammogram(volume, 3, 5, remove_artifacts=True)
    band = artifact_band(plain.image8)
    assert band.any()
    assert (cleaned.image8[band] == 0).all() and (cleaned.image16[band] == 0).all()
    np.testing.assert_array_equal(cleaned.image8[~band], plain.image8[~band])
    enhanced = synthetic_mammogram(volume, 3, 5, apply_clahe=True)
    np.testing.assert_array_equal(enhanced.image8, clahe(plain.image8))
    boxed = synthetic_mammogram(volume, 3, 5, boxes=[(5, 6, 20, 10)], box_thickness=1)
    assert (boxed.image8[6, 5:25] == 255).all() and (boxed.image16[15, 5:25] == 65535).all()
    assert (boxed.image8[7:15, 6:24] == plain.image8[7:15, 6:24]).all()


def test_boxes_rgb():
    gray = np.full((20, 30), 90, np.uint8)
    rgb = boxes_rgb(gray, [(2.4, 3, 10, 5)], color=(255, 0, 0), thickness=1)
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8
    assert (rgb[3, 2:12] == [255, 0, 0]).all() and (rgb[7, 2] == [255, 0, 0]).all()
    assert (rgb[5, 5] == [90, 90, 90]).all() and (gray == 90).all()
    with pytest.raises(SlamError, match="uint8"):
        boxes_rgb(gray.astype(np.uint16), [])


def test_burn_boxes_rejects_bad_boxes():
    with pytest.raises(SlamError, match="x, y, width, height"):
        burn_boxes(np.zeros((5, 5), np.uint8), [(1, 2, 3)])
    with pytest.raises(SlamError, match=">= 1 pixel"):
        burn_boxes(np.zeros((5, 5), np.uint8), [(1, 2, 0, 3)])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"center_slice": 9}, r"outside the volume; accepted: 0\.\.8"),
        ({"center_slice": -1}, "outside the volume"),
        ({"num_slices": 10}, r"1\.\.9"),
        ({"num_slices": 0}, r"1\.\.9"),
        ({"window": 0}, "window must be > 0"),
        ({"window": -0.5}, "window must be > 0"),
        ({"level": float("nan")}, "level must be finite"),
        ({"mode": "median"}, "max, min, mean"),
        ({"weighting": "gauss"}, "sigmoid, log"),
        ({"threshold": 1.5}, r"threshold must be in \[0, 1\]"),
        ({"sigmoid_slope": 0}, "sigmoid slope"),
        ({"weighting": "log", "log_base": 1.0}, "log base"),
        ({"workers": 0}, "workers"),
        ({"apply_clahe": True, "tiles": 0}, "tiles"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(SlamError, match=match):
        synthetic_mammogram(_volume(depth=9, height=8, width=8), **kwargs)


def test_bad_volume():
    with pytest.raises(SlamError, match="3-D"):
        synthetic_mammogram(np.zeros((8, 8), np.uint16))


def test_cli_sm_png_dicom_and_errors(tmp_path, capsys):
    import cv2
    import pydicom

    from slam.cli import main
    from slam.io import load_study, write_volume_dicom

    volume = _volume(depth=10, height=60, width=48, seed=7)
    source = write_volume_dicom(tmp_path / "study.dcm", volume, laterality="R", view="CC", patient_id="P7")
    study = load_study(source)
    assert main(["sm", str(source), "-o", str(tmp_path / "sm.png"), "--center-slice", "4", "--num-slices", "5"]) == 0
    expected = synthetic_mammogram(study.pixels, 4, 5)
    png = cv2.imread(str(tmp_path / "sm.png"), cv2.IMREAD_UNCHANGED)
    flipped = expected.image8[::-1] if study.flip_rows else expected.image8
    flipped = flipped[:, ::-1] if study.flip_cols else flipped
    np.testing.assert_array_equal(png, flipped)
    printed = capsys.readouterr()
    assert "slices 2..6" in printed.err
    size = (tmp_path / "sm.png").stat().st_size / 1024
    assert printed.out == f"{tmp_path / 'sm.png'} (48 x 60 px, 8-bit, {size:.1f} KiB)\n"  # one line on success

    assert main(["sm", str(source), "-o", str(tmp_path / "sm.dcm"), "--mode", "mean", "--clahe"]) == 0
    ds = pydicom.dcmread(tmp_path / "sm.dcm")
    assert ds.pixel_array.shape == (60, 48) and ds.pixel_array.dtype == np.uint16 and ds.PatientID == "P7"

    capsys.readouterr()
    assert main(["sm", str(source), "-o", str(tmp_path / "x.png"), "--window", "0"]) == 2
    printed = capsys.readouterr()
    assert "window must be > 0" in printed.err and printed.out == ""
    assert main(["sm", str(source), "-o", str(tmp_path / "x.png"), "--center-slice", "10"]) == 2
    assert "outside the volume" in capsys.readouterr().err
    assert main(["sm", str(source), "-o", str(tmp_path / "x.bmp")]) == 2
    assert "accepted: .png" in capsys.readouterr().err


@pytest.mark.parametrize("patient", ["DBT-P00103", "DBT-P00105"])  # JPEG 2000 multi-frame; zip of a series
def test_cli_on_examples(tmp_path, patient):
    from pathlib import Path

    import cv2

    from slam.cli import main
    from slam.io import load_study

    source = next((Path(__file__).parents[1] / "examples" / "Breast-Cancer-Screening-DBT" / patient).rglob("1-1.*"))
    assert main(["sm", str(source), "-o", str(tmp_path / "sm.png"), "--center-slice", "20", "--num-slices", "20",
                 "--remove-artifacts"]) == 0
    study = load_study(source)
    png = cv2.imread(str(tmp_path / "sm.png"), cv2.IMREAD_UNCHANGED)
    assert png.shape == (study.height, study.width) and png.dtype == np.uint8 and png.std() > 10
    assert main(["preprocess", str(source), "-o", str(tmp_path / "pre.npz")]) == 0
    assert load_study(tmp_path / "pre.npz").pixels.shape == study.pixels.shape


def test_cli_defaults_are_the_library_defaults():
    import argparse

    from slam.commands import sm as command
    from slam.imaging import sm

    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["s.dcm", "-o", "x.png"])
    assert (args.window, args.level, args.threshold) == (sm.WINDOW, sm.LEVEL, sm.THRESHOLD)
    assert (args.mode, args.weighting) == (sm.MODES[0], sm.WEIGHTINGS[0])


def _reference_source(volume, first, stop, center, mode="max", threshold=0.8, weighting="sigmoid"):
    """The straightforward way: per pixel, the slab slice the MIP value came from where the MIP is kept,
    else the slab's highest-weight slice (float64, first slice on ties)."""
    slab = volume[first:stop].astype(np.float64)
    mip = slab.max(0) if mode == "max" else slab.min(0)
    came_from = first + (slab.argmax(0) if mode == "max" else slab.argmin(0))
    norm = (mip - mip.min()) / (mip.max() - mip.min())
    peak = first + int(np.argmax(slab_weights(first, stop, center, weighting)))
    return np.where(norm > threshold, came_from, peak)


@pytest.mark.parametrize("mode", ["max", "min"])
def test_source_slices_match_reference(mode):
    volume = _volume()
    result = synthetic_mammogram(volume, center_slice=4.3, num_slices=7, mode=mode, threshold=0.6, source_map=True)
    first, stop = result.slab
    expected = _reference_source(volume, first, stop, 4.3, mode, 0.6)
    assert result.source_slices.dtype == np.uint16 and result.source_slices.shape == volume.shape[1:]
    np.testing.assert_array_equal(result.source_slices, expected)
    assert len(np.unique(result.source_slices)) > 2  # the MIP part really points at several slices


def test_source_slice_of_a_bright_spot_is_its_slice():
    volume = np.full((12, 40, 30), 100, np.uint16)
    volume[9, 5:8, 6:9] = 4000  # only on slice 9
    volume[2, 30:33, 20:24] = 3000  # only on slice 2
    result = synthetic_mammogram(volume, source_map=True, threshold=0.5)
    assert (result.source_slices[5:8, 6:9] == 9).all()
    assert (result.source_slices[30:33, 20:24] == 2).all()
    peak = int(np.argmax(result.weights))  # the whole volume: the middle slice weighs most
    assert peak in (5, 6) and (result.source_slices[15:25, 0:5] == peak).all()


def test_source_slices_inverted_and_mean_and_default():
    volume = _volume()
    display = (4095 - volume).astype(np.uint16)
    inverted = synthetic_mammogram(volume, invert=True, threshold=0.6, source_map=True)
    plain = synthetic_mammogram(display, threshold=0.6, source_map=True)
    np.testing.assert_array_equal(inverted.source_slices, plain.source_slices)  # brightest on screen
    mean = synthetic_mammogram(volume, mode="mean", source_map=True)
    assert (mean.source_slices == mean.slab[0] + int(np.argmax(mean.weights))).all()
    assert synthetic_mammogram(volume).source_slices is None
