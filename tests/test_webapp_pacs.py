"""The web app's PACS side against a real Orthanc (tests/orthanc_support.py): the "Open from PACS"
panel's search, views and fetch; the SR export, Store to PACS and an SR read back over its study,
with a real (tiny, untrained) detector's forward pass. The browser checks are at the end."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import Comprehensive3DSRStorage, generate_uid

from slam.errors import SlamError
from slam.io import LoadLimits, load_study, write_derived_dicom, write_volume_dicom
from slam.io.dicomweb import connect, list_instances, retrieve_instance
from slam.io.sr import detections_for, read_sr
from tests.hostile_inputs import element_flood
from tests.orthanc_support import PASSWORD, USER, free_port, start_or_skip
from tests.test_sr import dciodvfy
from tests.webapp_support import breast_volume
from webapp import pacs_panel as panel
from webapp import sr_io
from webapp.loading import place as place_study
from webapp.state import SessionStore

EXAM_PATIENT, EXAM_ACCESSION, EXAM_DATE = "PACS-EXAM-1", "ACC-EX-1", "20240105"
ROWS, COLS = 384, 320  # the "small study" for the first-slice target
TINY = ["--backbone", "resnet18", "--num-slices", "4", "--input-size", "64", "64", "--fpn-channels", "16"]


class Exam:
    """What the test PACS holds: a 2-view DBT exam (L CC, R CC) and a single-frame (not DBT) study."""

    def __init__(self, server, folder: Path):
        self.server, self.url = server, server.url
        self.study_uid = generate_uid()
        self.files = []
        for seed, side in ((1, "L"), (2, "R")):  # both stored chest wall left: the R view is flipped on screen
            path = write_volume_dicom(folder / f"{side}cc.dcm", breast_volume(12, ROWS, COLS, seed, "L"),
                                      laterality=side, view="CC", bits_stored=12, window_center=1600,
                                      window_width=2400, patient_name="PACS^EXAM", patient_id=EXAM_PATIENT,
                                      accession_number=EXAM_ACCESSION, study_date=EXAM_DATE,
                                      study_uid=self.study_uid)
            self.files.append(path)
        flat = write_derived_dicom(folder / "flat.dcm", np.zeros((64, 48), np.uint16), None)
        ds = pydicom.dcmread(flat)
        ds.PatientID, ds.AccessionNumber = "PACS-FLAT-1", "ACC-FLAT-1"
        ds.save_as(flat)
        self.flat_uid = str(ds.StudyInstanceUID)
        connect(self.url, user=USER, password=PASSWORD).store_instances(
            [pydicom.dcmread(p) for p in [*self.files, flat]])


@pytest.fixture(scope="module")
def exam():
    folder = Path(tempfile.mkdtemp(prefix="slam-pacsapp-"))
    server = start_or_skip(folder)
    try:
        yield Exam(server, folder)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def env(exam, monkeypatch):
    """Credentials as an operator sets them: in the environment only."""
    monkeypatch.setenv("SLAM_DICOMWEB_USER", USER)
    monkeypatch.setenv("SLAM_DICOMWEB_PASSWORD", PASSWORD)
    return exam


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    from slam.cli import main

    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    assert main(["init-weights", str(path), "--kind", "slam", *TINY]) == 0
    return path


def detect(session, weights) -> None:
    """The real detector (tiny, untrained) on the session's study; every box kept (threshold 0)."""
    from slam.detection.model import load_model
    from slam.detection.predictor import Predictor

    predictor = Predictor(load_model(weights), device="cpu", coords="display", score_threshold=0.0)
    session.prediction = predictor.predict(session.study)
    assert session.prediction.detections


def views_of(exam, matches=None):
    matches = matches or panel.search(exam.url, EXAM_PATIENT, "", "", "", False)[1]
    return panel.dbt_views(exam.url, exam.study_uid, matches)


def test_search_by_each_filter(env):
    rows, matches = panel.search(env.url, EXAM_PATIENT, "", "", "", False)
    assert [m.study_uid for m in matches] == [env.study_uid]
    assert rows == [["2024-01-05", f"PACS EXAM · {EXAM_PATIENT}", EXAM_ACCESSION, "", "2 (MG)"]]
    assert [m.study_uid for m in panel.search(env.url, "", EXAM_ACCESSION, "", "", False)[1]] == [env.study_uid]
    assert env.study_uid in {m.study_uid for m in panel.search(env.url, "", "", "20240101-20240131", "", False)[1]}
    assert {env.study_uid, env.flat_uid} <= {m.study_uid for m in panel.search(env.url, "", "", "", "mg", False)[1]}
    assert panel.search(env.url, "NOBODY", "", "", "", False) == ([], [])
    hidden, _ = panel.search(env.url, EXAM_PATIENT, "", "", "", True)
    assert hidden[0][1] == "hidden" and EXAM_PATIENT not in str(hidden) and "PACS EXAM" not in str(hidden)
    assert panel.study_choices(matches)[0] == (f"1. 2024-01-05 · {EXAM_ACCESSION} · no description", env.study_uid)
    with pytest.raises(SlamError, match="enter a patient ID"):
        panel.search(env.url, " ", "", "", "", False)
    with pytest.raises(SlamError, match="accepted: YYYYMMDD"):
        panel.search(env.url, "", "", "2024-01-05", "", False)


def test_views_of_a_study_and_refusals(env):
    views = views_of(env)
    assert len(views) == 2 and all(v.frames == 12 for v in views)
    assert {v.sop_uid for v in views} == {str(pydicom.dcmread(p).SOPInstanceUID) for p in env.files}
    labels = [label for label, _ in panel.view_choices(views)]
    assert sorted(label.split(" ")[1] for label in labels) == ["L", "R"] and all("· 12 slices" in x for x in labels)
    flat = panel.search(env.url, "PACS-FLAT-1", "", "", "", False)[1]
    with pytest.raises(SlamError, match="not a DBT study: its 1 instance"):
        panel.dbt_views(env.url, env.flat_uid, flat)
    with pytest.raises(SlamError, match="choose a study from the search results"):
        panel.dbt_views(env.url, env.study_uid, flat)  # a UID this session's search did not return


def test_fetch_a_view_and_the_exam(env):
    views = views_of(env)
    seen = []
    one = panel.fetch(env.url, views[:1], LoadLimits(), 2**30, lambda i, done, total: seen.append((i, done, total)))
    local = {str(s.header.SOPInstanceUID): s for s in map(load_study, env.files)}
    assert np.array_equal(one[0].pixels, local[views[0].sop_uid].pixels)
    assert seen[0] == (0, 1, 12) and seen[-1] == (0, 12, 12)
    both = panel.fetch(env.url, views, LoadLimits(), 2**30)
    assert [str(s.header.SOPInstanceUID) for s in both] == [v.sop_uid for v in views]
    assert sorted(s.laterality for s in both) == ["L", "R"]
    assert panel.opened_message(both) == f"Opened the exam from the PACS: 2 DBT views (first: 12 slices of {ROWS} × {COLS})"
    view_bytes = 12 * ROWS * COLS * 2
    with pytest.raises(SlamError, match="exceeds the 0.0 GiB limit"):  # the budget bounds one view ...
        panel.fetch(env.url, views[:1], LoadLimits(), view_bytes - 1)
    with pytest.raises(SlamError, match="open fewer views at a time"):  # ... and the exam's views together
        panel.fetch(env.url, views, LoadLimits(), view_bytes)


def test_server_failures_are_one_line(env, monkeypatch):
    views = views_of(env)
    monkeypatch.setenv("SLAM_DICOMWEB_PASSWORD", "wrong")
    with pytest.raises(SlamError, match=r"refused the credentials \(HTTP 401\)") as err:
        panel.search(env.url, EXAM_PATIENT, "", "", "", False)
    assert "wrong" not in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setenv("SLAM_DICOMWEB_PASSWORD", PASSWORD)
    with pytest.raises(SlamError, match="cannot reach the DICOMweb server"):
        panel.search(f"http://127.0.0.1:{free_port()}/dicom-web", EXAM_PATIENT, "", "", "", False)
    gone = [type(views[0])(generate_uid(), views[0].series_uid, views[0].sop_uid, views[0].sop_class_uid, 12, "")]
    with pytest.raises(SlamError, match="not found on the DICOMweb server"):
        panel.fetch(env.url, gone, LoadLimits(), 2**30)
    with pytest.raises(SlamError, match="took longer than the 0 s limit"):
        panel.fetch(env.url, views[:1], LoadLimits(max_seconds=0), 2**30)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with pytest.raises(SlamError, match=r"did not answer the study search within 0.5 s \(timeout\)"):
            panel.search(f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web", "X", "", "", "", False, timeout=0.5)


def test_sr_export_read_back_and_store(env, weights, tmp_path):
    views = views_of(env)
    right = next(s for s in panel.fetch(env.url, views, LoadLimits(), 2**30) if s.laterality == "R")
    store = SessionStore(tmp_path / "sessions")
    session = place_study(store, "a", right, panel.LABEL)
    detect(session, weights)
    threshold = sorted(d.score for d in session.prediction.detections)[len(session.prediction.detections) // 2]
    shown = [d for d in session.prediction.detections if d.score >= threshold]

    path = sr_io.export_sr(session, threshold, False, weights)
    dciodvfy(path)
    ds = pydicom.dcmread(path)
    assert (ds.PatientID, ds.StudyInstanceUID) == (EXAM_PATIENT, env.study_uid)
    back = detections_for(ds, right, coords="display")  # display boxes: the R view is flipped on screen
    assert [(round(d.x, 3), round(d.y, 3), round(d.width, 3), d.z, d.depth, round(d.score, 6)) for d in back] == [
        (round(d.x, 3), round(d.y, 3), round(d.width, 3), d.z, d.depth, round(d.score, 6)) for d in shown]
    assert right.flip_cols and [f.x for f in read_sr(path)] != [d.x for d in shown]  # the SR holds stored pixels

    hidden = pydicom.dcmread(sr_io.export_sr(session, threshold, True, weights))
    assert hidden.PatientIdentityRemoved == "YES" and EXAM_PATIENT not in str(hidden) and "PACS^EXAM" not in str(hidden)
    with pytest.raises(SlamError, match="another study"):
        detections_for(hidden, right)  # its UIDs were replaced: it no longer names this study

    client = connect(env.url)
    before = {i.sop_uid for i in list_instances(client, env.study_uid)}
    for _ in range(2):
        assert sr_io.store_to_pacs(session, threshold, weights, client).startswith("Stored 2 new instance(s)")
    new = [i for i in list_instances(client, env.study_uid) if i.sop_uid not in before]
    srs = [i for i in new if i.sop_class_uid == Comprehensive3DSRStorage]
    sms = [i for i in new if i.sop_class_uid != Comprehensive3DSRStorage]
    assert len(srs) == 2 and len(sms) == 2 and len({i.series_uid for i in srs}) == len({i.series_uid for i in sms}) == 1
    stored_sr = retrieve_instance(client, srs[0])
    assert [d.score for d in detections_for(stored_sr, right)] == [d.score for d in back]

    # The stored SR, read back into a fresh session holding the same view, shows the same boxes.
    other = place_study(store, "b", right, panel.LABEL)
    stored_path = tmp_path / "stored_sr.dcm"
    stored_sr.save_as(stored_path)
    assert sr_io.apply_sr(other, stored_path) == f"Findings from the SR: {len(shown)} findings shown over the study"
    assert [(d.x, d.y, d.z, d.score) for d in other.prediction.detections] == [(d.x, d.y, d.z, d.score) for d in back]
    assert other.prediction.representative_slice == back[0].z + back[0].depth // 2
    with pytest.raises(SlamError, match="read from an SR"):  # not re-exported under this detector's name
        sr_io.export_sr(other, 0.0, False, weights)


def test_sr_refusals(env, weights, tmp_path):
    left_file, right_file = env.files
    store = SessionStore(tmp_path / "sessions")
    uploaded = place_study(store, "a", load_study(right_file), "upload")  # the same view, but uploaded: not from the PACS
    detect(uploaded, weights)
    with pytest.raises(SlamError, match="needs a study opened from the PACS"):
        sr_io.store_to_pacs(uploaded, 0.0, weights, connect(env.url))
    with pytest.raises(SlamError, match=r"no finding above the threshold \(1.01\)"):
        sr_io.export_sr(uploaded, 1.01, False, weights)
    sr_path = sr_io.export_sr(uploaded, 0.0, False, weights)
    assert sr_io.split_sr([right_file, sr_path, left_file]) == ([right_file, left_file], [sr_path])
    flood = element_flood(tmp_path)  # a hostile upload: only its head is parsed, the loader refuses it later
    assert sr_io.split_sr([flood]) == ([flood], [])

    left = place_study(store, "b", load_study(left_file), "upload")
    with pytest.raises(SlamError, match="another view"):
        sr_io.apply_sr(left, sr_path)
    elsewhere = tmp_path / "elsewhere.dcm"
    write_volume_dicom(elsewhere, breast_volume(12, 64, 48, 3, "L"), laterality="L", view="CC")
    with pytest.raises(SlamError, match="another study"):
        sr_io.apply_sr(place_study(store, "c", load_study(elsewhere), "upload"), sr_path)
    with pytest.raises(SlamError, match="not a readable DICOM SR"):
        sr_io.apply_sr(left, left_file)
    with pytest.raises(SlamError, match="open the study first"):
        sr_io.apply_sr(store.get("empty"), sr_path)
    assert left.prediction is None  # a refused SR changes nothing


def test_concurrent_fetches_keep_their_own_frames(env):
    """Two sessions fetching at once (the app runs two loads in parallel) each get their own view."""
    views = views_of(env)
    got: dict[int, np.ndarray] = {}

    def run(index: int) -> None:
        got[index] = panel.fetch(env.url, [views[index]], LoadLimits(), 2**30)[0].pixels

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    local = {str(s.header.SOPInstanceUID): s.pixels for s in map(load_study, env.files)}
    assert all(np.array_equal(got[i], local[views[i].sop_uid]) for i in (0, 1))


# ---- the real app in a real browser (Playwright + Debian's Chromium)


def app_server(tmp_path: Path, url: str, weights: Path | None = None):
    from tests.webapp_support import AppServer

    tmp_path.mkdir(parents=True, exist_ok=True)
    env = {"SLAM_DICOMWEB_URL": url, "SLAM_DICOMWEB_USER": USER, "SLAM_DICOMWEB_PASSWORD": PASSWORD,
           "GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "SLAM_EXAMPLES_DIR": str(tmp_path / "no-examples"),
           "SLAM_APP_LOG": str(tmp_path / "app.log")}
    if weights is not None:
        env["SLAM_WEIGHTS"] = str(weights)
    return AppServer(env)


def browser_page(playwright, server):
    from tests.webapp_support import CHROMIUM, CHROMIUM_ARGS

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True).new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.wait_for_selector("#slam-load-example")
    return browser, page


@pytest.mark.browser
@pytest.mark.slow
def test_panel_in_the_browser(env, tmp_path):
    """Hidden without a server; with one: search, pick, open (first slice timed), detect, SR out and back in."""
    from playwright.sync_api import sync_playwright

    from tests.test_webapp_browser import ARTIFACTS, _require_chromium

    _require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from slam.detection.config import ModelConfig
    from slam.detection.model import build_model, save_model

    # As in test_webapp_browser: a small untrained model whose boxes clear the app's 0.05 floor.
    config = ModelConfig(backbone="resnet18", num_slices=8, input_size=(96, 96), fpn_channels=64)
    weights = save_model(build_model(config), tmp_path / "tiny.safetensors")
    server = app_server(tmp_path / "pacs", env.url, weights)
    try:
        with sync_playwright() as playwright:
            browser, page = browser_page(playwright, server)
            assert "open" not in page.get_attribute("#slam-pacs", "class").split()  # the sidebar starts closed
            page.click("#slam-pacs > button.toggle-button")
            page.wait_for_selector("#slam-pacs.open")
            page.fill("#slam-pacs-patient input, #slam-pacs-patient textarea", EXAM_PATIENT)
            page.click("#slam-pacs-search")
            page.wait_for_function("t => document.querySelector('#slam-pacs-results')?.innerText.includes(t)",
                                   arg=EXAM_ACCESSION)
            page.locator("#slam-pacs-results [data-testid='cell-0-2']").click()
            page.wait_for_function("() => document.querySelector('#slam-pacs-status')?.innerText.includes('2 DBT views')")
            started = time.perf_counter()
            page.click("#slam-pacs-open")
            page.get_by_role("tab", name="Single view and SM").click()  # the server-rendered view of it
            page.wait_for_function("() => document.querySelector('#slam-viewer .slam-cap')?.innerText"
                                   ".includes('Slice 7 / 12')")
            first_slice = time.perf_counter() - started
            print(f"first slice on screen {first_slice:.2f} s after Open view (load {os.getloadavg()[0]:.1f})")
            page.screenshot(path=str(ARTIFACTS / "pacs_opened.png"))
            page.click("#slam-pacs > button.toggle-button")  # closed again: it covers the page's right side
            page.wait_for_selector("#slam-pacs:not(.open)")

            page.click("#slam-detect")
            page.wait_for_selector("#slam-verdict h3")
            page.fill("#slam-threshold input[type=number]", "0")
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.querySelector('#slam-verdict')?.innerText.includes('≥ 0.00')")
            rows = int(re.search(r"(\d+) findings? ≥ 0.00", page.inner_text("#slam-verdict")).group(1))
            page.get_by_text("Exports", exact=True).click()  # the sidebar's exports fold away
            page.click("#slam-export-sr")
            page.wait_for_function("() => (document.querySelector('#slam-download td.filename') || {}).innerText"
                                   "?.includes('slam_findings_sr')")
            with page.expect_download() as download:
                page.locator("#slam-download a.download-link").first.click()
            sr_path = tmp_path / "sr.dcm"
            download.value.save_as(sr_path)
            dciodvfy(sr_path)
            assert len(read_sr(sr_path)) == rows

            page.click("#slam-store-pacs")
            page.wait_for_function("() => document.querySelector('#slam-status')?.innerText.includes('Stored 2 new')")

            # Opened afresh (no findings), then the SR uploaded alone: its boxes become the findings.
            page.click("#slam-pacs > button.toggle-button")
            page.click("#slam-pacs-open")
            page.wait_for_function("() => !document.querySelector('#slam-findings [data-testid=\"cell-0-1\"]')")
            page.click("#slam-pacs > button.toggle-button")
            page.set_input_files("#slam-upload input[type=file]", str(sr_path))
            page.wait_for_function("() => document.querySelector('#slam-status')?.innerText.includes('Findings from the SR')")
            page.wait_for_function("() => document.querySelector('#slam-verdict')?.innerText.includes('≥ 0.00')")
            assert f"{rows} finding" in page.inner_text("#slam-verdict")
            page.wait_for_selector("#slam-findings [data-testid='cell-0-1']")  # the table lists them
            page.screenshot(path=str(ARTIFACTS / "pacs_sr_read_back.png"), full_page=True)
            browser.close()
    finally:
        server.stop()

    plain = app_server(tmp_path / "plain", "")
    try:
        with sync_playwright() as playwright:
            browser, page = browser_page(playwright, plain)
            assert page.locator("#slam-pacs").count() == 0 and page.locator("#slam-pacs-search").count() == 0
            assert page.locator("#slam-store-pacs").count() == 0
            browser.close()
    finally:
        plain.stop()
