"""Handlers that wire preprocessing, the SM and the detector into the viewer."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pydicom
import pytest

from slam.detection import findings, model
from slam.imaging import sm as slam_sm
from slam.io.csv_formats import read_predictions_csv
from tests.webapp_support import open_study, write_study
from webapp import detection, exports, preprocessing, sm, viewing
from webapp.state import SessionStore


@pytest.fixture
def session(tmp_path):
    path = write_study(tmp_path / "r.dcm", depth=12, height=96, width=72, seed=3, laterality="R")
    store = SessionStore(tmp_path / "sessions")
    open_study(store, "s", path)
    return store.find("s")


def params(session, **kw):
    c, w = viewing.window_presets(session, viewing.ORIGINAL)["DICOM"]
    return viewing.ViewParams(**{"slice": 6, "center": c, "width": w, "threshold": 0.5, **kw})


def test_preprocess_then_view_and_back(session):
    calls = []
    message = preprocessing.run_preprocess(session, lambda done, total: calls.append((done, total)))
    assert "12 slices" in message and calls[-1] == (12, 12)
    assert session.preprocessed.shape == session.study.pixels.shape and session.preprocessed.dtype == np.uint8
    assert viewing.window_presets(session, viewing.PREPROCESSED)["DICOM"] == (127.5, 255.0)
    pre, _, _ = viewing.render_view(session, params(session, source=viewing.PREPROCESSED, center=127.5, width=255))
    orig, _, _ = viewing.render_view(session, params(session))
    assert pre.shape == orig.shape and not np.array_equal(pre, orig)
    assert "preprocessed" in viewing.caption(session, params(session, source=viewing.PREPROCESSED))
    assert "preprocessed" not in viewing.caption(session, params(session))


def test_sm_follows_display_orientation_and_exports(session):
    image = sm.compute_sm(session, sm.SMParams())
    study = session.study
    reference = slam_sm.synthetic_mammogram(study.pixels, invert=study.invert).image8
    expected = reference[::-1] if study.flip_rows else reference
    expected = expected[:, ::-1] if study.flip_cols else expected
    np.testing.assert_array_equal(image, expected)
    slab = sm.compute_sm(session, sm.SMParams(center=2, size=3, mode="mean", weighting="log", clahe=True))
    assert slab.shape == image.shape and not np.array_equal(slab, image)
    panel = sm.sm_panel(session, overlay=True, threshold=0.5)
    assert panel and cv2.imread(panel) is not None
    png = cv2.imread(str(exports.export_sm_png(session, with_boxes=False, threshold=0.5)), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(png, slab)
    ds = pydicom.dcmread(exports.export_sm_dicom(session, with_boxes=False, threshold=0.5, deidentify=True))
    assert (ds.Rows, ds.Columns) == slab.shape and ds.PatientID == "ANONYMOUS" and ds.BitsStored == 16
    assert "P0001" not in str(ds)


def prediction_of(session, detections, representative: int):
    """A real StudyPrediction built from given detections (display pixels), as the detector returns."""
    depth = session.study.depth
    weights = np.full(depth, 1.0 / depth, np.float32)
    return findings.StudyPrediction(
        detections=[findings.Detection(*d) for d in detections], representative_slice=representative,
        slice_weights=weights, sampled_indices=np.arange(depth), slice_logits=None, coords="display",
    )


def test_findings_overlay_table_summary_and_exports(session):
    # x, y, width, height (display pixels), z, depth, score
    session.prediction = prediction_of(session, [(10, 20, 20, 16, 4, 5, 0.9), (40, 60, 10, 10, 0, 2, 0.3)], 6)
    on_slice, _, drawn = viewing.render_view(session, params(session, slice=6))
    assert drawn == 1 and on_slice.ndim == 3  # the 0.3 box is under the threshold, and off this slice
    _, _, none_drawn = viewing.render_view(session, params(session, slice=10))
    assert none_drawn == 0
    _, _, hidden = viewing.render_view(session, params(session, slice=6, overlay=False))
    assert hidden == 0
    assert viewing.render_view(session, params(session, slice=1, threshold=0.2))[2] == 1
    assert "★ representative slice" in viewing.caption(session, params(session, slice=6))
    rows = detection.findings_rows(session, 0.5)
    assert rows == [[1, 0.9, "5–9", 7, 10, 20, 20, 16]]
    assert "Finding" in detection.summary(session, 0.5) and "No finding above the threshold (0.95)" in detection.summary(session, 0.95)
    assert "Normal" not in detection.summary(session, 0.95)
    figure = detection.attention_figure(session)
    assert len(figure.data[0].y) == session.study.depth

    predictions = read_predictions_csv(exports.export_findings_csv(session, deidentify=False))
    assert len(predictions) == 2 and predictions[0].patient_id == "P0001" and predictions[0].view == "rcc"
    study = session.study
    assert predictions[0].x == pytest.approx(study.box_to_stored(10, 20, 20, 16)[0])
    assert (predictions[0].z, predictions[0].depth) == (4, 5)
    document = json.loads(exports.export_findings_json(session, 0.5, deidentify=True).read_text())
    assert document["patient_id"] == "ANONYMOUS" and document["findings_at_threshold"] == 1
    assert "verdict" not in document and "normal" not in json.dumps(document).lower()
    assert [f["shown"] for f in document["findings"]] == [True, False]
    assert "P0001" not in json.dumps(document)


def test_real_detector_on_a_tiny_model(session, tmp_path):
    config = model.ModelConfig(backbone="resnet18", num_slices=6, input_size=(64, 64), fpn_channels=64)
    weights = model.save_model(model.build_model(config), tmp_path / "tiny.safetensors")
    assert detection.detector_unavailable(weights) is None
    stages = []
    message = detection.run_detection(session, weights, stage=stages.append)
    prediction = session.prediction
    assert "Detection done" in message and prediction.coords == "display"
    # The first run loads the model, says so while it does, and its reported time includes it.
    assert stages == ["Loading the model…", "Running the detector"] and "(including loading the model)" in message
    seconds = float(message.split(" in ")[1].split(" s")[0])
    assert seconds >= prediction.timings.get("total", 0) - 0.05
    stages.clear()
    again = detection.run_detection(session, weights, stage=stages.append)
    assert stages == ["Running the detector"] and "loading" not in again
    assert prediction.slice_weights.shape == (session.study.depth,)
    assert 0 <= prediction.representative_slice < session.study.depth
    for d in prediction.detections:
        assert 0 <= d.x <= session.study.width and d.score >= 0.05
    assert detection.summary(session, 0.5).startswith("### ")
