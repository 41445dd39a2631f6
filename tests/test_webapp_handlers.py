"""The web app's handlers on real DICOM studies, without a server (webapp.handlers, webapp.state)."""

from __future__ import annotations

import re
import time

import cv2
import numpy as np
import pytest

from slam.errors import SlamError
from slam.imaging.viewport import make_view
from slam.io import load_study
from tests.webapp_support import open_study, write_study
from webapp import detection, exports, loading, settings, viewing
from webapp.state import SessionStore


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "sessions", ttl_s=3600)


@pytest.fixture
def study_path(tmp_path):
    return write_study(tmp_path / "a.dcm", depth=12, height=96, width=72, seed=3, laterality="R")


def params(session, **kw):
    c, w = viewing.window_presets(session, viewing.ORIGINAL)["DICOM"]
    return viewing.ViewParams(**{"slice": 5, "center": c, "width": w, **kw})


def decode(html: str) -> np.ndarray:
    path = re.search(r'src="gradio_api/file=([^"]+)"', html).group(1)
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def test_open_study_and_view(store, study_path):
    session = store.get("s1")
    message = open_study(store, session.key, [str(study_path)], "upload")
    assert "12 slices of 96 × 72" in message
    html = viewing.view_html(session, params(session))
    assert "Slice 6 / 12" in html and "RCC" in html and "DOE JANE" in html and "P0001" in html
    image = decode(html)
    expected, view, drawn = viewing.render_view(session, params(session))
    assert image.shape == expected.shape == view.out_size and drawn == 0
    assert np.abs(image.astype(int) - expected.astype(int)).mean() < 3  # JPEG of the same pixels


def test_view_follows_the_slice_and_the_window(store, study_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    study = load_study(study_path)
    a, _, _ = viewing.render_view(session, params(session, slice=0))
    b, _, _ = viewing.render_view(session, params(session, slice=6))
    assert not np.array_equal(a, b)  # the mass is brightest mid-volume
    wide, _, _ = viewing.render_view(session, params(session, slice=6, width=40000))
    assert wide.std() < b.std()
    inverted, _, _ = viewing.render_view(session, params(session, slice=6, invert=True))
    assert np.abs(inverted.astype(int) - (255 - b.astype(int))).max() <= 1  # rounding at .5
    assert study.flip_cols == session.study.flip_cols


def test_deidentify_hides_patient_everywhere_shown(store, study_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    html = viewing.view_html(session, params(session, deidentify=True))
    info = viewing.study_info(session, True)
    for text in (html, info):
        assert "DOE" not in text and "P0001" not in text and "patient hidden" in text


def test_bad_input_is_one_line_and_keeps_the_previous_study(store, study_path, tmp_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom at all" * 10)
    with pytest.raises(SlamError) as info:
        open_study(store, session.key, [str(junk)], "upload")
    assert "\n" not in str(info.value)
    assert session.study is not None and session.study.depth == 12
    with pytest.raises(SlamError):
        open_study(store, session.key, [], "upload")


def test_no_study_gives_a_clear_error(store):
    session = store.get("empty")
    assert viewing.view_html(session, viewing.ViewParams()) == viewing.EMPTY_VIEW
    with pytest.raises(SlamError, match="no study loaded"):
        viewing.render_view(session, viewing.ViewParams())


def test_presets_and_limits(store, study_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    presets = viewing.window_presets(session, viewing.ORIGINAL)
    assert presets["DICOM"] == (1600, 2400)
    assert presets["Full range"] == (2047.5, 4095)  # 12 bits stored
    low, high = viewing.window_limits(session, viewing.ORIGINAL)
    assert (low, high) == (0, 4095) and low < presets["Auto"][0] < high
    assert presets["High contrast"][1] == pytest.approx(presets["Auto"][1] / 2)


def test_zoom_and_click_to_centre(store, study_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    zoomed, view, _ = viewing.render_view(session, params(session, zoom=2, focus=(0.25, 0.25)))
    assert zoomed.shape == (48, 36) and (view.x0, view.y0) == (0, 0)
    assert viewing.focus_from_click(session, params(session), 0.25, 0.75) == pytest.approx((0.25, 0.75))
    fx, fy = viewing.focus_from_click(session, params(session, zoom=2), 1.0, 0.5)  # right edge of a centred 2x view
    assert (fx, fy) == pytest.approx((0.75, 0.5))


def test_export_view_png(store, study_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    path = exports.export_view_png(session, params(session, slice=3))
    assert path.is_relative_to(session.workdir) and "DOE" not in path.name
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(image, viewing.render_view(session, params(session, slice=3))[0])


def test_sessions_are_separate_and_cleaned_up(store, study_path, tmp_path):
    other = write_study(tmp_path / "b.dcm", depth=10, height=64, width=48, seed=4, patient="ROE^ANN", patient_id="P0002")
    one, two = store.get("one"), store.get("two")
    open_study(store, one.key, study_path, "x")
    open_study(store, two.key, other, "y")
    assert "P0001" in viewing.view_html(one, params(one)) and "P0002" in viewing.view_html(two, params(two))
    exported = exports.export_view_png(one, params(one))
    store.close("one")
    assert not exported.exists() and not one.workdir.exists()
    assert store.get("two").study.depth == 10 and len(store) == 1


def test_idle_sessions_expire_and_the_pixel_budget_evicts_the_idle(tmp_path, study_path):
    store = SessionStore(tmp_path / "s", ttl_s=0.05)
    open_study(store, "old", study_path)
    session = store.find("old")
    time.sleep(0.1)
    store.sweep()
    assert "old" not in store and not session.workdir.exists()
    one_study = 12 * 96 * 72 * load_study(study_path).pixels.itemsize
    store = SessionStore(tmp_path / "b", ttl_s=3600, budget_bytes=2 * one_study, min_idle_s=1.0)
    for key in ("a", "b"):
        open_study(store, key, study_path, key)
    with pytest.raises(SlamError, match="server is full"):  # nobody idle long enough: refused, nothing closed
        open_study(store, "c", study_path)
    time.sleep(1.1)
    store.find("a")  # "b" is now the least recently used idle one
    open_study(store, "c", study_path)
    assert store.find("a").study is not None and store.find("c").study is not None and "b" not in store
    with pytest.raises(SlamError, match="closed to free memory"):  # its user is told, once
        store.find("b")
    assert store.find("b") is None


def test_examples_listing(tmp_path, study_path):
    (tmp_path / "ex").mkdir()
    (tmp_path / "ex" / "one.dcm").write_bytes(study_path.read_bytes())
    (tmp_path / "ex" / "notes.txt").write_text("x")
    series = tmp_path / "ex" / "series"
    series.mkdir()
    (series / "slice_0000.dcm").write_bytes(b"")
    assert loading.list_examples(tmp_path / "ex") == {"one.dcm": tmp_path / "ex" / "one.dcm", "series": series}
    assert loading.list_examples(tmp_path / "missing") == {}
    (tmp_path / "ex" / "file-paths.csv").write_text(
        "PatientID,StudyUID,View,descriptive_path,classic_path\n"
        "DBT-1,1.2.3,lcc,one.dcm,x\nDBT-2,1.2.4,rcc,gone.dcm,x\n")
    assert loading.list_examples(tmp_path / "ex") == {"DBT-1 lcc": tmp_path / "ex" / "one.dcm"}


def test_detection_unavailable_without_weights(store, study_path, tmp_path):
    session = store.get("s1")
    open_study(store, session.key, study_path, "x")
    reason = detection.detector_unavailable(tmp_path / "none.safetensors")
    assert reason and "not available" in reason
    with pytest.raises(SlamError, match="not available"):
        detection.run_detection(session, tmp_path / "none.safetensors")
    assert session.prediction is None
    with pytest.raises(SlamError, match="Detect first"):
        exports.export_findings_csv(session, False)


def test_view_max_size_is_display_size(store, tmp_path):
    big = write_study(tmp_path / "big.dcm", depth=10, height=1300, width=1000, seed=5)
    session = store.get("big")
    open_study(store, session.key, big, "big")
    image, view, _ = viewing.render_view(session, params(session))
    assert max(image.shape) <= max(settings.DISPLAY_MAX) and view == make_view(1300, 1000, max_size=settings.DISPLAY_MAX)


def test_model_card_disclaimer():
    card = "# Model\nSmall model.\n\n## Disclaimer\nTrained on phantoms only.\nNot for clinical use.\n\n## Data\nx"
    assert detection.card_disclaimer(card) == "Trained on phantoms only.\nNot for clinical use."
    assert detection.card_disclaimer("# Model\nno such section") == detection.DISCLAIMER
    assert detection.model_card(None) == ""


def test_open_series_files_and_npz(store, tmp_path):
    from slam.io import write_series_dicom
    from tests.webapp_support import breast_volume

    volume = breast_volume(10, 64, 48, seed=7)
    files = write_series_dicom(tmp_path / "series", volume, laterality="L", view="MLO")
    session = store.get("s")
    assert "10 slices of 64 × 48" in open_study(store, session.key, [str(p) for p in files], "upload")
    np.testing.assert_array_equal(session.study.pixels, volume)
    np.savez(tmp_path / "v.npz", volume=volume[:, :, :40])
    assert "10 slices of 64 × 40" in open_study(store, session.key, [str(tmp_path / "v.npz")], "upload")


def test_a_study_over_the_room_left_is_refused_before_its_pixels_are_decoded(tmp_path, study_path):
    import tracemalloc

    held = write_study(tmp_path / "held.dcm", depth=20, height=256, width=400, patient_id="HELD")  # 4 MB
    big = write_study(tmp_path / "big.dcm", depth=30, height=512, width=400, patient_id="BIG")  # 12 MB
    budget = 14 * 2**20  # the big study fits the budget, but not beside the held one
    store = SessionStore(tmp_path / "m", ttl_s=3600, budget_bytes=budget, min_idle_s=3600)
    open_study(store, "a", held, "a")  # in use: not closable
    assert store.room_for("b") == budget - 20 * 256 * 400 * 2 and store.room_for("a") == budget
    tracemalloc.start()
    try:
        with pytest.raises(SlamError, match="^the server is full: this study needs more image memory than is free"):
            open_study(store, "b", big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20, f"{peak / 2**20:.1f} MiB allocated: the pixels were decoded"
    assert store.find("a").study is not None and store.find("b").study is None
    open_study(store, "b", study_path, "b")  # what fits still loads
