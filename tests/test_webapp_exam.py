"""The reading screen in a real browser (Playwright + Debian's Chromium against ``python webapp/app.py``):
the example exam hung RCC | LCC / RMLO | LMLO with no page scroll at 1440 × 900 and 1920 × 1080, detection
over the views, uploads after uploads, a bad file in an exam, and no error badge left after an error.

Screenshots go to $SLAM_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from slam.io.csv_formats import read_file_paths_csv
from tests.webapp_support import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXAM = ROOT / "examples" / "exam"
HANGING = ["RCC", "LCC", "RMLO", "LMLO"]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SLAM_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    base = tmp_path_factory.mktemp("exam-app")
    server = AppServer({"GRADIO_TEMP_DIR": str(base / "gradio"), "SLAM_APP_LOG": str(base / "app.log")})
    yield server, base
    server.stop()


@pytest.fixture(scope="module")
def browser(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, app, width: int = 1440, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)
    page.goto(app[0].url)
    page.wait_for_selector("#slam-load-example")
    return page


def status(page) -> str:
    return page.inner_text("#slam-status")


def wait_status(page, text: str, timeout: float = 60_000) -> str:
    page.wait_for_function("t => document.querySelector('#slam-status').innerText.includes(t)", arg=text,
                           timeout=timeout)
    return status(page)


def viewports(page) -> dict[str, dict]:
    """id -> {position, slice, box} of each viewport the component shows."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-viewport]')].map(v => {
        const r = v.getBoundingClientRect();
        return [v.dataset.viewport, {position: +v.dataset.position, slice: +v.dataset.slice,
                                     box: [r.left, r.top, r.right, r.bottom]}]; }))""")


def all_slices_loaded(page, count: int, timeout: float = 60_000) -> None:
    page.wait_for_function("n => document.querySelectorAll('[data-viewport]').length === n && "
                           "!document.querySelector('[data-viewport] .loading')", arg=count, timeout=timeout)


def visible(page, selector: str) -> bool:
    """The element is on screen (inside the window), not just in the page."""
    return page.evaluate("""s => { const e = document.querySelector(s); if (!e) return false;
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 1
               && r.right <= innerWidth + 1; }""", selector)


def error_badges(page) -> int:
    """Gradio's red 'Error' badges left on components by a failed event (not the toast, which fades by itself)."""
    return page.evaluate("() => [...document.querySelectorAll('.error')].filter(e => e.offsetParent !== null && "
                         "e.innerText.trim() === 'Error' && !e.closest('[data-testid=toast-body]')).length")


def exam_files(tmp_path: Path, order: list[int]) -> list[Path]:
    """The example exam's files under distinct flat names (as a user picks them), in ``order``."""
    rows = read_file_paths_csv(EXAM / "file-paths.csv")
    files = []
    for i in order:
        target = tmp_path / f"{rows[i].view}-upload.dcm"
        shutil.copy(EXAM / rows[i].descriptive_path, target)
        files.append(target)
    return files


@pytest.mark.timeout(240)
@pytest.mark.parametrize("size", [(1440, 900), (1920, 1080)])
def test_example_exam_hangs_with_no_page_scroll(browser, app, shots, size):
    page = open_page(browser, app, *size)
    assert page.input_value("#slam-example input").startswith("Exam DBT-P00200")
    start = time.perf_counter()
    page.click("#slam-load-example")
    wait_status(page, "Loaded example")
    page.wait_for_function("() => document.querySelectorAll('[data-viewport] .slice-label').length === 4")
    first = time.perf_counter() - start
    all_slices_loaded(page, 4)
    whole = time.perf_counter() - start
    print(f"{size}: four viewports {first:.2f} s, all slices {whole:.2f} s after the click")
    shown = viewports(page)
    assert {name: shown[name]["position"] for name in HANGING} == dict(zip(HANGING, range(4), strict=True))
    rcc, lcc, rmlo, lmlo = (shown[name]["box"] for name in HANGING)
    assert rcc[2] <= lcc[0] + 1 and rmlo[2] <= lmlo[0] + 1  # right views on the left
    assert rcc[3] <= rmlo[1] + 1 and lcc[3] <= lmlo[1] + 1  # CC above MLO
    assert "Loaded example Exam DBT-P00200 (4 views): 4 views (RCC, LCC, RMLO, LMLO)" in status(page)
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
    for selector in ("#slam-detect", "#slam-exam-findings", "[data-viewport='LMLO'] .slice-label",
                     "[data-viewport='RMLO']"):
        assert visible(page, selector), selector
    page.screenshot(path=str(shots / f"exam-{size[0]}x{size[1]}.png"))
    # Keys scroll the client-side viewer (synchronised) with no request to the server: the single-view
    # tab's key handler (live once that tab has been shown) stays out of it.
    page.get_by_role("tab", name="Single view and SM").click()
    page.wait_for_selector("#slam-viewer .slam-cap")
    page.get_by_role("tab", name="Reading").click()
    all_slices_loaded(page, 4)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.click("[data-viewport='RCC']")
    before = viewports(page)
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.wait_for_function("s => +document.querySelector(\"[data-viewport='RCC']\").dataset.slice !== s",
                           arg=before["RCC"]["slice"])
    time.sleep(0.5)
    after = viewports(page)
    assert after["RCC"]["slice"] != before["RCC"]["slice"] and after["LMLO"]["slice"] != before["LMLO"]["slice"]
    assert requests == [], requests
    page.close()


@pytest.mark.timeout(300)
def test_detect_over_the_exam(browser, app, shots):
    page = open_page(browser, app)
    page.click("#slam-load-example")
    wait_status(page, "Loaded example")
    all_slices_loaded(page, 4)
    page.click("#slam-detect")
    text = wait_status(page, "Detection done", timeout=240_000)
    assert "over 4 views" in text and "loading the model" in text  # a fresh app: the time includes it
    page.wait_for_function("() => document.querySelector('#slam-exam-verdict').innerText.includes('Exam score')")
    verdict = page.inner_text("#slam-exam-verdict")
    assert "Exam score" in verdict and "per view: RCC" in verdict and "Normal" not in verdict
    # One threshold: the viewer starts at the model's operating point; lowered there, the exam's verdict and
    # table and the single-view tab's slider follow.
    operating_point = float(page.input_value("#slam-exam-viewer input[aria-label='score threshold']"))
    assert f"{operating_point:.2f}" in verdict
    page.fill("#slam-exam-viewer input[aria-label='score threshold']", "0")
    page.wait_for_function("() => document.querySelector('#slam-exam-verdict').innerText.includes('≥ 0.00')")
    assert page.locator("#slam-exam-findings tbody tr").count() > 0
    page.wait_for_selector("[data-viewport] g.finding")
    page.get_by_role("tab", name="Single view and SM").click()
    page.wait_for_function("() => document.querySelector('#slam-threshold input[type=number]')?.value === '0'")
    page.get_by_role("tab", name="Reading").click()
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
    page.screenshot(path=str(shots / "exam-detected-1440x900.png"))
    page.click("#slam-detect")  # the second detection finds the model loaded
    page.wait_for_function("() => { const t = document.querySelector('#slam-status').innerText;"
                           " return t.includes('Detection done') && !t.includes('loading the model'); }",
                           timeout=240_000)
    page.close()


@pytest.mark.timeout(240)
def test_upload_after_upload_and_a_bad_file_in_an_exam(browser, app, shots, tmp_path):
    page = open_page(browser, app)
    two = exam_files(tmp_path, [1, 0])  # LCC, RCC
    page.set_input_files("#slam-upload input[type=file]", [str(p) for p in two])
    assert "Loaded upload: 2 views (RCC, LCC)" in wait_status(page, "Loaded upload")
    all_slices_loaded(page, 2)
    one = exam_files(tmp_path, [3])
    page.set_input_files("#slam-upload input[type=file]", [str(p) for p in one])
    assert "Loaded upload: 10 slices of 384 × 320" in wait_status(page, "10 slices")
    all_slices_loaded(page, 1)
    assert list(viewports(page)) == ["LMLO"]
    junk = tmp_path / "scan-notes.dcm"
    junk.write_bytes(b"this is not a DICOM file" * 40)
    four = exam_files(tmp_path, [3, 2, 1, 0])
    page.set_input_files("#slam-upload input[type=file]", [str(p) for p in [*four, junk]])
    text = wait_status(page, "not loaded: scan-notes.dcm")
    assert "Loaded upload: 4 views (RCC, LCC, RMLO, LMLO)" in text and "\n" not in text.strip()
    all_slices_loaded(page, 4)
    assert {name: v["position"] for name, v in viewports(page).items()} == dict(zip(HANGING, range(4), strict=True))
    page.screenshot(path=str(shots / "exam-upload-with-bad-file.png"))
    page.close()


@pytest.mark.timeout(240)
def test_bad_upload_then_example_leaves_no_error_badge(browser, app, shots, tmp_path):
    page = open_page(browser, app)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a DICOM file" * 64)
    page.set_input_files("#slam-upload input[type=file]", str(junk))
    toast = page.locator("[data-testid=toast-body]").filter(has_text="junk.dcm")
    toast.first.wait_for()  # the failure is told in one line naming the file...
    assert "Traceback" not in toast.first.inner_text()
    page.screenshot(path=str(shots / "exam-bad-upload.png"))
    page.click("#slam-load-example")
    wait_status(page, "Loaded example")
    all_slices_loaded(page, 4)
    assert error_badges(page) == 0  # ...and leaves no badge over the page once the next action succeeded
    page.close()
