"""The exam (webapp.exam): loading several views with a bad file among them, the hanging, the viewer
value of the contract, and detection over the views with the real demo model, on the example exam."""

from __future__ import annotations

import dataclasses
import shutil
import zipfile

import pytest

from slam.detection.weights import resolve_weights
from slam.errors import SlamError
from slam.io import LoadLimits, load_study
from slam.io.csv_formats import read_file_paths_csv
from tests.webapp_support import ROOT
from webapp import exam, stack_api
from webapp.state import SessionStore

EXAM = ROOT / "examples" / "exam"
PATHS = [EXAM / row.descriptive_path for row in read_file_paths_csv(EXAM / "file-paths.csv")]  # RCC, LCC, RMLO, LMLO


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "sessions")


@pytest.fixture
def uploads(tmp_path):
    """The exam as a user uploads it: flat files named as Gradio keeps them, in a shuffled order, plus a bad one."""
    folder = tmp_path / "up"
    folder.mkdir()
    files = []
    for name, path in zip(("c.dcm", "a.dcm", "d.dcm", "b.dcm"), [PATHS[1], PATHS[3], PATHS[0], PATHS[2]], strict=True):
        shutil.copy(path, folder / name)
        files.append(folder / name)
    (folder / "notes.dcm").write_bytes(b"not a DICOM file at all" * 10)
    return files + [folder / "notes.dcm"]


def test_hanging_order_unknown_and_repeated_views():
    studies = [load_study(p) for p in PATHS]
    shuffled = [studies[3], studies[0], studies[2], studies[1]]
    assert [(n, p) for n, p, _ in exam.hang(shuffled)] == [("RCC", 0), ("LCC", 1), ("RMLO", 2), ("LMLO", 3)]
    unknown = dataclasses.replace(studies[0], laterality="", view="")
    assert [(n, p) for n, p, _ in exam.hang([studies[1], unknown, studies[1]])] == [
        ("VIEW1", 0), ("LCC", 1), ("LCC2", 2)]
    assert [(n, p) for n, p, _ in exam.hang([studies[3]])] == [("LMLO", 0)]  # a lone view fills the viewer
    with pytest.raises(SlamError, match="accepted: 1 to 4"):
        exam.hang(studies + studies[:1])


def test_bad_file_is_named_and_the_rest_load(store, uploads):
    views, notices = exam.open_exam_into(store, "s1", uploads, "upload", LoadLimits())
    assert [(v.id, v.position) for v in views] == [("RCC", 0), ("LCC", 1), ("RMLO", 2), ("LMLO", 3)]
    assert len(notices) == 1 and notices[0].startswith("notes.dcm: ") and "\n" not in notices[0]
    session = store.find("s1")
    assert session.study is views[0].study and session.exam == views
    assert stack_api.REGISTRY.tokens("s1") == [v.token for v in views]
    assert session.pixel_bytes() >= sum(v.study.pixels.nbytes for v in views)
    with pytest.raises(SlamError, match="^notes.dcm: "):  # nothing loadable: the one-line reason
        exam.open_exam_into(store, "s1", uploads[-1:], "upload", LoadLimits())
    assert session.exam == views  # a failed load leaves the open exam alone
    store.close("s1")
    assert all(stack_api.REGISTRY.get(v.token) is None for v in views)


def test_a_zip_of_the_whole_exam_opens_as_its_four_views(store, tmp_path):
    archive = tmp_path / "exam.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for i, path in enumerate(reversed(PATHS)):
            packed.write(path, f"exam/{i}/{path.name}")
    with pytest.raises(SlamError, match="4 multi-frame images found"):  # the one-view loader says what it takes
        load_study(archive)
    views, notices = exam.open_exam_into(store, "zip", [archive], "upload", LoadLimits())
    assert [(v.id, v.position) for v in views] == [("RCC", 0), ("LCC", 1), ("RMLO", 2), ("LMLO", 3)]
    assert notices == [] and all(v.study.source_format.startswith("zip: ") for v in views)
    store.close("zip")


def test_viewer_value_follows_the_contract(store):
    views, notices = exam.open_exam_into(store, "s2", PATHS, "example exam", LoadLimits())
    assert notices == []
    value = exam.viewer_value(views, threshold=0.4)
    assert value["threshold"] == 0.4 and value["sync"] is True and len(value["viewports"]) == 4
    for view, port in zip(views, value["viewports"], strict=True):
        study = view.study
        assert port["id"] == view.id and port["label"] == f"{study.laterality} {study.view}"
        assert (port["slices"], port["full_rows"], port["full_columns"]) == (study.depth, study.height, study.width)
        assert port["stack_url"] == f"/slam/stack/{view.token}/{{index}}"
        assert port["sm_url"] == f"/slam/sm/{view.token}" and port["sm_slice_url"] == f"/slam/smslice/{view.token}"
        assert set(port["presets"]) == {"DICOM", "auto", "full range", "high contrast"}
        assert port["window"] == {"center": study.window_center, "width": study.window_width}  # slope 1, intercept 0
        assert port["findings"] == [] and port["invert"] is False and port["initial_slice"] == study.depth // 2
    store.close("s2")
    assert exam.viewer_value(views) is None


def test_exam_detection_scores_and_findings_in_stack_pixels(store):
    views, _ = exam.open_exam_into(store, "s3", PATHS, "example exam", LoadLimits())
    seen = []
    exam.detect_exam(views, resolve_weights(), lambda text, fraction: seen.append(text))
    assert [t for t in seen if t.startswith("detected view")] == [f"detected view {k} of 4" for k in range(1, 5)]
    scores = exam.view_scores(views)
    assert list(scores) == ["RCC", "LCC", "RMLO", "LMLO"]
    top = max(scores.values())
    for threshold in (0.0, 1.01):
        text = exam.exam_summary(views, threshold)
        assert f"{top:.2f}" in text and "Normal" not in text and "normal read" not in text.split("\n")[0]
    assert exam.exam_summary(views, 1.01).startswith("### No finding above the threshold (1.01)")
    assert exam.exam_summary(views, 0.0).startswith("### ⚠️")
    # a view whose stack is half its native size gets its boxes at half the coordinates
    stack = stack_api.ViewStack.of(views[3].study, fit=192)
    found = exam.findings_of(views[3], stack)
    d = views[3].prediction.detections
    assert len(found) == len(d) > 0
    assert found[0]["x"] == pytest.approx(d[0].x / 2) and found[0]["height"] == pytest.approx(d[0].height / 2)
    assert found[0]["first_slice"] <= found[0]["slice"] <= found[0]["last_slice"] and found[0]["label"] == "F1"
    store.close("s3")


def test_a_view_without_pixel_spacing_is_shown_in_pixels_with_a_notice(store, tmp_path):
    import numpy as np

    npz = tmp_path / "volume.npz"
    np.savez(npz, volume=load_study(PATHS[0]).pixels)
    views, notices = exam.open_exam_into(store, "s4", [PATHS[1], npz], "upload", LoadLimits())
    assert [v.id for v in views] == ["VIEW1", "LCC"] and views[0].study.pixel_spacing is None
    assert notices == [f"VIEW1: {exam.NO_SPACING}"]
    ports = {p["id"]: p for p in exam.viewer_value(views)["viewports"]}
    assert list(ports) == ["VIEW1", "LCC"]  # hung as it came, measured in pixels in the viewer
    assert ports["VIEW1"]["pixel_spacing_mm"] is None and ports["LCC"]["pixel_spacing_mm"] is not None
    store.close("s4")
