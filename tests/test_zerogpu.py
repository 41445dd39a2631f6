"""ZeroGPU detection path (webapp.zerogpu) with the ``spaces`` package importable, on a machine without a GPU:
the app starts, and the exam's views are detected on the CPU with the real demo model."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
import spaces  # requirements-dev.txt: the test runs with ZeroGPU's package importable, as on a Space

from slam.detection.model import load_model
from slam.detection.predictor import Predictor
from slam.detection.weights import resolve_weights
from slam.io import load_study
from slam.io.csv_formats import read_file_paths_csv
from tests.test_security import call
from tests.webapp_support import ROOT, AppServer
from webapp import zerogpu

EXAM = ROOT / "examples" / "exam"


@pytest.fixture(scope="module")
def exam():
    return [load_study(EXAM / row.descriptive_path) for row in read_file_paths_csv(EXAM / "file-paths.csv")]


def test_spaces_is_imported_and_off_zerogpu_forward_is_plain():
    assert zerogpu.spaces is spaces and not zerogpu.on_zero_gpu()
    # spaces.GPU returns the function itself off a ZeroGPU Space: forward runs in this process
    assert zerogpu.forward.__module__ == "webapp.zerogpu" and not hasattr(zerogpu.forward, "zerogpu")


def test_exam_detection_on_cpu_matches_the_predictor(exam, monkeypatch):
    monkeypatch.setattr(zerogpu, "PREDICTOR", None)  # a fresh process: the first detection loads the model
    weights = resolve_weights()
    seen = []
    predictions, timings = zerogpu.detect_views(exam, weights, lambda text, fraction: seen.append((text, fraction)))
    assert seen[0] == ("loading the model…", 0.0) and timings["load"] > 0
    assert [t for t, _ in seen][-4:] == [f"detected view {k} of 4" for k in range(1, 5)]
    assert [f for _, f in seen] == sorted(f for _, f in seen)  # progress only moves forward
    assert any(p.detections for p in predictions)  # candidates to compare, not empty lists
    reference = Predictor(load_model(weights), device="cpu", coords="display", score_threshold=0.05)
    for study, prediction in zip(exam, predictions, strict=True):
        expected = reference.predict(study)
        assert prediction.detections == expected.detections  # same model, same input, same CPU
        assert prediction.coords == "display" and prediction.representative_slice == expected.representative_slice
        assert all(d.x >= 0 and d.x + d.width <= study.width + 1e-3 for d in prediction.detections)
    again = []
    _, second = zerogpu.detect_views(exam[:1], weights, lambda text, fraction: again.append(text))
    assert "loading the model…" not in again and second["load"] < 0.01
    # the GPU time asked for a 4-view exam covers what the slower CPU needed for it
    assert timings["detect"] < zerogpu.gpu_seconds([None] * 4, [None] * 4) - zerogpu.START_S


def test_forward_gets_the_prepared_inputs_not_the_pixels(exam, monkeypatch):
    """On ZeroGPU the arguments are pickled to a forked worker: they must be the small model inputs."""
    predictor = zerogpu.load_predictor(resolve_weights())
    inputs = [predictor.prepare(s) for s in exam]
    shapes = [zerogpu.ViewShape(s.depth, s.height, s.width) for s in exam]
    sent = len(pickle.dumps((inputs, shapes)))
    assert sent <= sum(a.nbytes for a in inputs) + 4096
    assert zerogpu.gpu_seconds(inputs, shapes) == zerogpu.START_S + 4 * zerogpu.PER_VIEW_S <= 60


def test_no_weights_is_one_clear_line(exam, monkeypatch, tmp_path):
    monkeypatch.setattr(zerogpu, "PREDICTOR", None)
    with pytest.raises(Exception, match="^detection is not available: no model weights found"):
        zerogpu.detect_views(exam, tmp_path / "none.safetensors")
    with pytest.raises(Exception, match="no view to detect on"):
        zerogpu.detect_views([], resolve_weights())


@pytest.mark.timeout(180)
def test_app_starts_and_detects_with_spaces_importable(tmp_path):
    server = AppServer({"GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "SLAM_APP_LOG": str(tmp_path / "app.log")})
    try:
        kind, _ = call(server.url, "load_example", ["DBT-P00102 rcc", False], session="zerogpu")
        assert kind == "complete"
        kind, outputs = call(server.url, "detect", [True], session="zerogpu")
        assert kind == "complete", outputs
        assert outputs[0].startswith("Detection done")
    finally:
        server.stop()
    assert "Traceback" not in (tmp_path / "app.log").read_text()


def test_off_zerogpu_the_app_starts_without_torch():
    # torch and the detector (~0.7 GB resident) come with the first detection, not at start-up: a full-size
    # 4-view exam (2.5 GB of pixels) then fits the 3 GB the app may use, and the app starts faster
    code = "import sys, webapp.app; sys.exit(int('torch' in sys.modules or 'torchvision' in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-500:]
