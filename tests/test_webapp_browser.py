"""End to end in a real browser: Playwright drives Debian's Chromium against ``python webapp/app.py``.

Skipped when /usr/bin/chromium is missing, unless SLAM_REQUIRE_BROWSER=1 (CI), where that fails.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urljoin

import cv2
import numpy as np
import pytest

from slam.imaging.viewport import BOX_COLOR, TOP_BOX_COLOR
from tests.webapp_support import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer, write_study
from webapp import detection

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = ROOT / "tests" / "artifacts"


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("SLAM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and SLAM_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    _require_chromium()
    base = tmp_path_factory.mktemp("webapp")
    examples = base / "examples"
    write_study(examples / "a_left.dcm", depth=20, height=256, width=200, seed=1)
    write_study(examples / "b_right.dcm", depth=16, height=240, width=180, seed=2, patient="ROE^ANN",
                patient_id="P0002", laterality="R")
    env = {"SLAM_EXAMPLES_DIR": str(examples), "GRADIO_TEMP_DIR": str(base / "gradio"),
           "SLAM_APP_LOG": str(base / "app.log")}
    if not os.environ.get("SLAM_WEIGHTS"):
        # A small, untrained model runs the real detection path with near-uniform attention, so its boxes
        # span every slice; the bundled demo weights (weak, with a peaked attention) may show none on the
        # slice under test, and this test is about the viewer drawing boxes, not about the model.
        from slam.detection.config import ModelConfig
        from slam.detection.model import build_model, save_model

        config = ModelConfig(backbone="resnet18", num_slices=8, input_size=(96, 96), fpn_channels=64)
        env["SLAM_WEIGHTS"] = str(save_model(build_model(config), base / "tiny.safetensors"))
    server = AppServer(env)
    weights = env.get("SLAM_WEIGHTS") or os.environ.get("SLAM_WEIGHTS") or detection.find_weights()
    yield server, base, weights
    server.stop()


@pytest.fixture
def page(app):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(app[0].url)
        page.wait_for_selector("#slam-load-example button, button#slam-load-example")
        yield page
        context.close()
        browser.close()


def caption(page) -> str:
    return page.inner_text("#slam-viewer .slam-cap")


def wait_caption(page, text: str) -> None:
    page.wait_for_function(
        "t => { const c = document.querySelector('#slam-viewer .slam-cap'); return c && c.innerText.includes(t); }",
        arg=text,
    )


def caption_settles(page, still_s: float = 1.5, within_s: float = 15.0) -> bool:
    """Whether the caption stays the same for ``still_s`` at some point within ``within_s``."""
    deadline, last, since = time.monotonic() + within_s, caption(page), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = caption(page)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still_s:
            return True
    return False


def header_lines(page) -> list[int]:
    """Per findings-table header cell, the number of text lines its words take."""
    return page.evaluate("""() => [...document.querySelectorAll('#slam-findings th')].map(th => {
      const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT), tops = new Set();
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.textContent.trim()) continue;
        const r = document.createRange(); r.selectNodeContents(n);
        for (const rect of r.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top));
      }
      return tops.size; }).filter(n => n > 0)""")


def error_badges(page) -> list[str]:
    """The ids of components showing Gradio's "Error" badge (toasts aside)."""
    return page.evaluate("""() => [...document.querySelectorAll('[class*=error]')]
      .filter(e => e.offsetParent !== null && !e.closest('.toast-wrap, [class*=toast]'))
      .map(e => (e.closest('[id]') || {}).id)""")


def toast(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for()


def test_viewer_end_to_end(page, app, tmp_path):
    server, _, _ = app
    # Load an example: the middle slice, patient data, view (the single-view tab shows the first view).
    page.click("#slam-load-example")
    page.get_by_role("tab", name="Single view and SM").click()
    wait_caption(page, "Slice 11 / 20")
    assert "LCC" in caption(page) and "DOE JANE" in caption(page)
    page.screenshot(path=str(ARTIFACTS / "01_loaded.png"))

    # The slider (keyboard on its range input), the page keys and the buttons all move the slice.
    page.focus("#slam-slice input[type=range]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_caption(page, "Slice 13 / 20")
    page.click("#slam-viewer")  # focus back on the page, away from inputs (also recentres the view)
    page.keyboard.press("PageUp")
    wait_caption(page, "Slice 3 / 20")
    page.click("#slam-next")
    wait_caption(page, "Slice 4 / 20")

    # De-identify hides the patient in the view.
    page.click("#slam-deid input")
    wait_caption(page, "patient hidden")
    assert "DOE" not in caption(page) and "DOE" not in page.inner_text("#slam-info")
    page.click("#slam-load-example")  # a new load keeps patient data hidden
    wait_caption(page, "Slice 11 / 20 · LCC · patient hidden")
    page.click("#slam-deid input")
    wait_caption(page, "DOE JANE")
    assert page.inner_text("#slam-card-disclaimer").strip()

    # The SM panel appears for the whole volume by default.
    page.wait_for_selector("#slam-sm img")

    # Detection: real boxes drawn on the slice (bundled weights, else a small untrained model).
    page.click("#slam-detect")
    page.wait_for_selector("#slam-verdict h3", timeout=120_000)  # the first detection loads the model
    assert "(including loading the model)" in page.inner_text("#slam-status")
    page.fill("#slam-threshold input[type=number]", "0")
    page.keyboard.press("Enter")
    page.wait_for_selector("#slam-findings [data-testid='cell-0-1']")
    # A findings row jumps to the finding's own slice, where its box is drawn.
    page.click("#slam-viewer")  # keys go to the viewer, not the threshold box
    page.keyboard.press("End")
    wait_caption(page, "Slice 20 / 20")
    assert header_lines(page) and max(header_lines(page)) == 1, header_lines(page)  # no header wraps at 1440 px
    jump = page.inner_text("#slam-findings [data-testid='cell-0-3']").strip()
    page.click("#slam-findings [data-testid='cell-0-1']")
    wait_caption(page, f"Slice {jump} / 20")
    page.wait_for_selector("#slam-viewer img[data-boxes]:not([data-boxes='0'])")
    # The served image at its own resolution (the page scales it, blending a box's 1-px lines away); it is
    # a JPEG, so the box colours are matched within a tolerance.
    served = page.request.get(urljoin(page.url, page.get_attribute("#slam-viewer img", "src"))).body()
    rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(served, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    distance = [np.abs(rgb.astype(int) - colour).max(axis=-1) for colour in (BOX_COLOR, TOP_BOX_COLOR)]
    box_pixels = (np.minimum(*distance) < 90).sum()
    assert box_pixels > 20, "no box colour on the slice"
    # A chart bar jumps to its slice too.
    page.locator("#slam-attention .bars path").nth(9).click(force=True)
    wait_caption(page, "Slice 10 / 20")
    page.screenshot(path=str(ARTIFACTS / "02_detect.png"), full_page=True)

    # Cine: play advances the slices by itself; pause stops it.
    page.click("#slam-play")
    start = caption(page)
    page.wait_for_function("s => document.querySelector('#slam-viewer .slam-cap').innerText !== s", arg=start)
    page.click("#slam-play")
    assert caption_settles(page), "cine did not stop after pause"  # a tick already in flight may land first

    # Zoom through the number box; the caption says so.
    page.click("#slam-viewer")
    page.get_by_text("Zoom and pan").click()
    page.fill("#slam-zoom input[type=number]", "2")
    page.keyboard.press("Enter")
    wait_caption(page, "zoom 2×")

    # Preprocess (progress bar), the view switches to the preprocessed slices, and back.
    page.click("#slam-preprocess")
    wait_caption(page, "preprocessed")
    page.get_by_label("Original").check()
    page.wait_for_function("() => !document.querySelector('#slam-viewer .slam-cap').innerText.includes('preprocessed')")
    before = page.get_attribute("#slam-sm img", "src")  # an SM control recomputes the panel
    page.get_by_label("mean").check()
    page.wait_for_function("s => document.querySelector('#slam-sm img').getAttribute('src') !== s", arg=before)

    # Download the SM as PNG (native resolution) and the current view (display size), from the sidebar.
    page.get_by_text("Exports", exact=True).click()
    exports = [("#slam-export-view", "slam_view", None), ("#slam-export-sm-png", "slam_sm", (256, 200))]
    for button, stem, shape in exports:
        page.click(button)
        page.wait_for_function("s => (document.querySelector('#slam-download td.filename') || {}).innerText"
                               "?.includes(s)", arg=stem)
        with page.expect_download() as download_info:
            page.locator("#slam-download a.download-link").first.click()
        target = tmp_path / f"{stem}.png"
        download_info.value.save_as(target)
        image = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
        assert image is not None and (shape is None or image.shape[:2] == shape)

    # A bad upload gives a one-line error and the app stays usable.
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"this is not DICOM" * 20)
    page.set_input_files("#slam-upload input[type=file]", str(junk))
    toast(page, "junk.dcm")
    page.click("#slam-viewer")
    page.keyboard.press("Home")
    wait_caption(page, "Slice 1 / 20")
    page.click("#slam-next")
    wait_caption(page, "Slice 2 / 20")
    page.screenshot(path=str(ARTIFACTS / "03_after_error.png"))
    assert server.process.poll() is None
    assert "1GB" in page.inner_text("#slam-upload-cap")
    assert not error_badges(page)  # the toast said it; no "Error" badge stays on the page

    # Uploads in a row from the same tab each load (the File list does not keep the deleted upload).
    for name, pid in (("up1.dcm", "U0001"), ("up2.dcm", "U0002")):
        path = write_study(tmp_path / name, depth=12, height=64, width=48, patient_id=pid)
        page.set_input_files("#slam-upload input[type=file]", str(path))
        wait_caption(page, f"ID {pid}")
        # the box empties itself after the load: the next pick must not race that clearing
        page.wait_for_function("n => !document.querySelector('#slam-upload').innerText.includes(n)", arg=name)

    # Closing the tab ends the session: its folder (rendered slices, exports) is deleted.
    sessions = app[1] / "gradio" / "slam-sessions"
    assert any(sessions.iterdir())
    page.context.close()
    deadline = time.monotonic() + 30
    while any(sessions.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(sessions.iterdir()), "the session folder outlived the tab"
