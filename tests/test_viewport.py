"""slam.imaging.viewport: the displayed rectangle, crop + downscale + window, box overlays."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from slam.imaging.display import window_to_uint8
from slam.imaging.orientation import flip_image
from slam.imaging.viewport import (
    BOX_COLOR,
    View,
    crop_resize,
    draw_boxes,
    encode_jpeg,
    make_view,
    render_slice,
)


def test_make_view_whole_slice_fits_max_size():
    view = make_view(2457, 1996, max_size=(1024, 1024))
    assert (view.x0, view.y0, view.x1, view.y1) == (0, 0, 1996, 2457)
    h, w = view.out_size
    assert h == 1024 and abs(w - 1996 * 1024 / 2457) <= 1


def test_make_view_small_slice_is_never_upscaled():
    assert make_view(100, 80, max_size=(1024, 1024)).scale == 1.0


def test_make_view_zoom_crops_around_focus_and_stays_inside():
    view = make_view(400, 300, zoom=2, focus=(0.5, 0.5))
    assert (view.x0, view.y0, view.x1, view.y1) == (75, 100, 225, 300)
    corner = make_view(400, 300, zoom=4, focus=(1.0, 0.0))
    assert (corner.x1, corner.y0) == (300, 0) and corner.x1 - corner.x0 == 75


def test_view_to_original_maps_fractions_of_the_rendered_image():
    view = View(100, 50, 300, 250, 0.5)
    assert view.to_original(0.0, 0.0) == (100, 50)
    assert view.to_original(0.5, 1.0) == (200, 250)


@pytest.mark.parametrize("flip_rows,flip_cols", [(False, False), (False, True), (True, True)])
def test_crop_resize_equals_flipping_first(flip_rows, flip_cols):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 4096, (240, 180)).astype(np.uint16)
    view = make_view(240, 180, zoom=2, focus=(0.3, 0.7), max_size=(60, 60))
    display = image[::-1] if flip_rows else image
    display = display[:, ::-1] if flip_cols else display
    crop = np.ascontiguousarray(display[view.y0:view.y1, view.x0:view.x1])
    expected = cv2.resize(crop, view.out_size[::-1], interpolation=cv2.INTER_AREA)
    got = crop_resize(image, view, flip_rows, flip_cols)
    assert got.shape == view.out_size and got.dtype == np.uint16
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_render_slice_at_full_scale_is_the_window():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 4096, (50, 40)).astype(np.uint16)
    view = make_view(50, 40)
    out = render_slice(image, view, 2000, 1000, invert=True)
    np.testing.assert_array_equal(out, window_to_uint8(image, 2000, 1000, invert=True))


def test_draw_boxes_maps_through_the_view_and_skips_boxes_outside():
    image = np.zeros((100, 100), np.uint8)
    view = View(100, 100, 300, 300, 0.5)  # 200 x 200 original pixels shown at half size
    out = draw_boxes(image, [(140, 160, 40, 40), (10, 10, 20, 20)], view, labels=["0.9", "0.1"])
    assert out.shape == (100, 100, 3) and image.max() == 0  # the input is left alone
    assert tuple(out[40, 20]) == BOX_COLOR  # left edge of box 1: x = (140 - 100) * 0.5 = 20, y in 30..50
    assert out[:, 60:].max() == 0 and out[80:].max() == 0  # box 2 lies outside the view: nothing else drawn


def test_flip_image_and_jpeg():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(flip_image(image, True, True), image[::-1, ::-1])
    np.testing.assert_array_equal(flip_image(image, False, True), image[:, ::-1])
    decoded = cv2.imdecode(np.frombuffer(encode_jpeg(np.full((16, 16), 128, np.uint8)), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded.shape == (16, 16) and abs(int(decoded.mean()) - 128) <= 1
