"""Preprocessing (design.md §3) against direct float64 references on small images.

Tolerance: AWA output within 1 grey level of the float64 reference (ours runs in
float32), on every pixel including the 2-pixel border (same padding as the reference).
"""

import cv2
import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from slam.errors import SlamError
from slam.imaging.preprocess import (
    anscombe,
    artifact_band,
    awa_denoise,
    clahe,
    preprocess_slice,
    preprocess_volume,
    remove_border_artifacts,
)


def _phantom_slice(height: int, width: int, seed: int, peak: float = 3000.0) -> np.ndarray:
    """Poisson counts of a half-disc 'breast' touching the left edge, with texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    r = np.hypot((yy - height / 2) / (0.45 * height), xx / (0.8 * width))
    texture = scipy.ndimage.gaussian_filter(rng.standard_normal((height, width)), 3) * 4 * peak
    lam = np.clip(np.sqrt(np.clip(1 - r, 0, None)) * peak + 40 + texture * (r < 1), 0, None)
    return rng.poisson(lam).astype(np.uint16)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    if x.max() - x.min() <= 1e-9 * abs(x.max()):  # flat: ours gives zeros
        return np.zeros(x.shape, np.uint8)
    return np.round((x - x.min()) / (x.max() - x.min()) * 255).astype(np.uint8)


def _awa_scipy(image: np.ndarray, window: int = 5) -> np.ndarray:
    """The straightforward AWA: float64 Anscombe, scipy.signal.wiener, inverse, min-max."""
    y = 2 * np.sqrt(image.astype(np.float64) + 3 / 8)
    z = scipy.signal.wiener(y, window)
    return _to_uint8((z / 2) ** 2 - 1 / 8)


def _awa_spec_reflect(image: np.ndarray, window: int = 5) -> np.ndarray:
    """design.md §3 formula written out in float64 with mirrored borders (scipy's 'reflect')."""
    y = 2 * np.sqrt(image.astype(np.float64) + 3 / 8)
    mean = scipy.ndimage.uniform_filter(y, window, mode="reflect")
    var = scipy.ndimage.uniform_filter(y * y, window, mode="reflect") - mean**2
    noise = var.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var < noise, mean, mean + (1 - noise / var) * (y - mean))
    return _to_uint8((z / 2) ** 2 - 1 / 8)


def test_anscombe_matches_formula():
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    expected = 2 * np.sqrt(values.astype(np.float64) + 0.375)
    np.testing.assert_array_equal(anscombe(values), expected.astype(np.float32))  # correctly rounded
    np.testing.assert_array_equal(anscombe(values[:1].astype(np.uint8)), expected[:1].astype(np.float32))
    for dtype in (np.float32, np.int16, np.int64, np.float16):  # negative counts clip to 0
        values = np.array([[-5, 0, 2.5 if dtype in (np.float32, np.float16) else 2]], dtype)
        clipped = np.maximum(values.astype(np.float64), 0)
        np.testing.assert_allclose(anscombe(values), 2 * np.sqrt(clipped + 0.375), rtol=1e-6)


@pytest.mark.parametrize(("shape", "seed", "window"), [((150, 97), 0, 5), ((64, 64), 1, 5), ((131, 80), 2, 3)])
def test_awa_matches_scipy_wiener(shape, seed, window):
    image = _phantom_slice(*shape, seed)
    ours = awa_denoise(image, window=window)
    ref = _awa_scipy(image, window)
    assert ours.dtype == np.uint8 and ours.shape == shape
    diff = np.abs(ours.astype(int) - ref)
    assert diff.max() <= 1
    assert (diff > 0).mean() < 0.01
    # the filter does something: it is not the plain min-max of the input
    assert np.abs(ours.astype(int) - _to_uint8(image.astype(np.float64))).max() > 5


def test_awa_reflect_padding_matches_spec_formula():
    image = _phantom_slice(140, 90, 3)
    ours = awa_denoise(image, padding="reflect")
    assert np.abs(ours.astype(int) - _awa_spec_reflect(image)).max() <= 1
    # the padding matters: zero padding inflates the noise estimate where tissue meets the edge
    assert np.abs(ours.astype(int) - awa_denoise(image, padding="zero")).max() > 1


@pytest.mark.parametrize("shape", [(3, 7), (9, 4), (1, 6), (5, 5), (2, 2)])
def test_awa_tiny_images_both_paddings(shape):
    # images smaller than the window exercise every border case of the noise estimate
    image = np.random.default_rng(shape[0] * 10 + shape[1]).integers(0, 5000, shape).astype(np.uint16)
    assert np.abs(awa_denoise(image).astype(int) - _awa_scipy(image)).max() <= 1
    assert np.abs(awa_denoise(image, padding="reflect").astype(int) - _awa_spec_reflect(image)).max() <= 1


def test_awa_float_and_uint16_input_agree():
    image = _phantom_slice(70, 60, 4)
    assert np.abs(awa_denoise(image).astype(int) - awa_denoise(image.astype(np.float64))).max() <= 1


@pytest.mark.parametrize("value", [0, 7, 65535])
def test_constant_slices_pass_through(value):
    image = np.full((40, 30), value, np.uint16)
    out = preprocess_slice(image)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert out.min() == out.max()  # CLAHE lifts an all-zero tile to a constant grey; still flat
    assert (preprocess_slice(image, apply_clahe=False) == 0).all()
    assert (awa_denoise(image.astype(np.float32)) == 0).all()


def test_empty_and_single_pixel_slices():
    assert preprocess_slice(np.zeros((1, 1), np.uint16)).shape == (1, 1)
    with pytest.raises(SlamError, match="non-empty 2-D"):
        awa_denoise(np.zeros((0, 5), np.uint16))


def _disc_image(size: int = 160, radius: int = 45, centre=(80, 80), inside: int = 180, outside: int = 12):
    yy, xx = np.mgrid[0:size, 0:size]
    dist = np.hypot(yy - centre[0], xx - centre[1])
    return np.where(dist <= radius, inside, outside).astype(np.uint8), dist


def test_border_artifact_band_inside_the_outline():
    image, dist = _disc_image()
    out = remove_border_artifacts(image)
    depth_inside = 45 - dist
    # the band reaches ~7 px (half the 15 px square, measured from the 1-px Canny line) into the disc
    assert (out[(depth_inside >= 0) & (depth_inside <= 5)] == 0).all()
    np.testing.assert_array_equal(out[depth_inside >= 11], image[depth_inside >= 11])
    np.testing.assert_array_equal(out[dist > 46], image[dist > 46])  # outside the outline: untouched
    assert image[0, 0] == 12  # input not modified


def test_border_artifact_band_only_in_largest_contour():
    image, dist = _disc_image()
    image[5:15, 140:150] = 180  # a small bright blob outside the breast
    band = artifact_band(image)
    assert band.dtype == bool
    assert not band[0:25, 130:160].any()
    assert band[dist <= 45].any()


@pytest.mark.parametrize("value", [0, 99, 255])
def test_border_artifacts_constant_image_unchanged(value):
    image = np.full((50, 40), value, np.uint8)
    np.testing.assert_array_equal(remove_border_artifacts(image), image)


def test_clahe_defaults_and_effect():
    rng = np.random.default_rng(5)
    field = scipy.ndimage.gaussian_filter(rng.standard_normal((120, 100)), 4)
    image = np.clip(100 + 150 * field, 0, 255).astype(np.uint8)
    out = clahe(image)
    ref = cv2.createCLAHE(clipLimit=1.0, tileGridSize=(10, 10)).apply(image)
    np.testing.assert_array_equal(out, ref)
    assert out.std() > image.std()  # local contrast goes up
    assert not np.array_equal(clahe(image, clip_limit=40.0), out)
    assert clahe(image.astype(np.uint16) * 200).dtype == np.uint16


def test_preprocess_slice_is_the_composition():
    image = _phantom_slice(90, 70, 6)
    expected = clahe(remove_border_artifacts(awa_denoise(image)))
    np.testing.assert_array_equal(preprocess_slice(image), expected)
    np.testing.assert_array_equal(preprocess_slice(image, remove_artifacts=False, apply_clahe=False),
                                  awa_denoise(image))


def test_preprocess_volume_threads_and_progress():
    volume = np.stack([_phantom_slice(80, 66, s) for s in range(5)] + [np.zeros((80, 66), np.uint16)])
    calls = []
    out = preprocess_volume(volume, workers=2, progress=lambda done, total: calls.append((done, total)))
    assert out.shape == volume.shape and out.dtype == np.uint8
    for k in range(volume.shape[0]):
        np.testing.assert_array_equal(out[k], preprocess_slice(volume[k]))
    assert calls == [(k, 6) for k in range(1, 7)]
    assert cv2.getNumThreads() >= 1  # OpenCV threading restored


def test_preprocess_volume_views_and_cancel():
    volume = np.stack([_phantom_slice(50, 40, s) for s in range(4)])
    flipped = volume[:, ::-1, ::-1]  # e.g. Study.display_volume(): a view with negative strides
    np.testing.assert_array_equal(preprocess_volume(flipped), preprocess_volume(np.ascontiguousarray(flipped)))

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        preprocess_volume(np.repeat(volume, 10, axis=0), workers=1, progress=cancel)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: awa_denoise(np.zeros((8, 8)), window=4), "odd positive"),
        (lambda: awa_denoise(np.zeros((8, 8)), padding="wrap"), "zero, reflect"),
        (lambda: awa_denoise(np.zeros((2, 8, 8))), "2-D"),
        (lambda: awa_denoise(np.zeros((8, 8), bool)), "integer or float"),
        (lambda: remove_border_artifacts(np.zeros((8, 8), np.uint16)), "uint8"),
        (lambda: remove_border_artifacts(np.zeros((8, 8), np.uint8), band=0), "band size"),
        (lambda: artifact_band(np.zeros((8, 8), np.float32)), "uint8"),
        (lambda: clahe(np.zeros((8, 8), np.uint8), clip_limit=0), "clip limit"),
        (lambda: clahe(np.zeros((8, 8), np.uint8), tiles=0), "tiles"),
        (lambda: clahe(np.zeros((8, 8), np.float32)), "uint8 or uint16"),
        (lambda: preprocess_volume(np.zeros((8, 8))), "3-D"),
        (lambda: preprocess_volume(np.zeros((2, 8, 8)), workers=0), "workers"),
        (lambda: preprocess_volume(np.zeros((2, 8, 8)), tiles=0), "tiles"),
    ],
)
def test_bad_parameters(call, match):
    with pytest.raises(SlamError, match=match):
        call()


def test_invert_flips_the_denoised_slice():
    image = _phantom_slice(60, 50, 8)
    np.testing.assert_array_equal(preprocess_slice(image, invert=True, remove_artifacts=False, apply_clahe=False),
                                  255 - awa_denoise(image))


def test_cli_preprocess_npz_and_dicom(tmp_path, capsys):
    from slam.cli import main
    from slam.io import load_study, write_volume_dicom

    volume = np.stack([_phantom_slice(64, 48, s) for s in range(10)])
    source = write_volume_dicom(tmp_path / "study.dcm", volume, laterality="L", view="MLO", patient_id="P9")
    assert main(["preprocess", str(source), "-o", str(tmp_path / "pre.npz")]) == 0
    assert "10/10" in capsys.readouterr().err
    again = load_study(tmp_path / "pre.npz")
    np.testing.assert_array_equal(again.pixels, preprocess_volume(volume))
    assert (again.laterality, again.view) == ("L", "MLO")
    assert main(["preprocess", str(source), "-o", str(tmp_path / "pre.dcm"), "--no-clahe"]) == 0
    dicom = load_study(tmp_path / "pre.dcm")
    np.testing.assert_array_equal(dicom.pixels, preprocess_volume(volume, apply_clahe=False))
    assert dicom.patient["PatientID"] == "P9"
    assert main(["preprocess", str(source), "-o", str(tmp_path / "pre.png")]) == 2
    assert "accepted: .dcm, .npz" in capsys.readouterr().err
