"""SlamViewer in a real browser: Playwright drives Debian's Chromium against the component's demo, which serves a
4-view phantom exam through routes that follow the viewer contract.

Skipped when /usr/bin/chromium is missing, unless SLAM_REQUIRE_BROWSER=1, where that fails. Screenshots go to
$SLAM_SCREENSHOTS (default: a temporary folder).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
DEMO = ROOT / "components" / "slamviewer" / "demo" / "app.py"
DEPTH = 16
HANGING = {"RCC": (0, 0), "LCC": (0, 1), "RMLO": (1, 0), "LMLO": (1, 1)}  # id -> (row, column) on screen


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("SLAM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and SLAM_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo server with the 4-view exam; yields (base URL, the viewer's value as the server sent it)."""
    _require_chromium()
    pytest.importorskip("gradio_slamviewer", reason="pip install ./components/slamviewer")
    port = _free_port()
    log = tmp_path_factory.mktemp("viewer") / "demo.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, str(DEMO), "--size", "small", "--views", "4", "--depth",
                                    str(DEPTH), "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    while True:
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as response:
                config = json.load(response)
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("the demo did not start in 240 s")
            time.sleep(1)
    value = next(c["props"]["value"] for c in config["components"] if c.get("props", {}).get("elem_id") == "viewer")
    yield url, value
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SLAM_SCREENSHOTS") or tmp_path_factory.mktemp("viewer-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(demo):
    from playwright.sync_api import sync_playwright

    url, _ = demo
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function(
            "() => { const v = Object.values(window.__slamviewer?.viewports ?? {});"
            " return v.length === 4 && v.every(x => x.loaded === x.total && x.renders > 0); }", timeout=90_000)
        yield page
        assert not errors, errors
        browser.close()


def _slice(page, view: str) -> int:
    return int(page.get_attribute(f'[data-viewport="{view}"]', "data-slice"))


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _spec(value: dict, view: str) -> dict:
    return next(v for v in value["viewports"] if v["id"] == view)


def _grab(page, view: str) -> np.ndarray:
    """The viewport's pixels on screen as a (H, W) grey array."""
    import cv2

    png = page.locator(f'[data-viewport="{view}"] canvas').first.screenshot()
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE).astype(np.float32)


def test_exam_hangs_rcc_lcc_over_rmlo_lmlo(page, shots):
    boxes = {view: page.locator(f'[data-viewport="{view}"]').bounding_box() for view in HANGING}
    xs = sorted({round(b["x"]) for b in boxes.values()})
    ys = sorted({round(b["y"]) for b in boxes.values()})
    assert len(xs) == 2 and len(ys) == 2, boxes
    for view, (row, column) in HANGING.items():
        assert (round(boxes[view]["y"]), round(boxes[view]["x"])) == (ys[row], xs[column]), view
    # Back to back: the chest wall (P) of the right views faces the left views across the middle.
    assert page.inner_text('[data-viewport="RCC"] .marker.right') == "P"
    assert page.inner_text('[data-viewport="LCC"] .marker.left') == "P"
    assert page.inner_text('[data-viewport="RCC"] .title') == "R CC"
    page.screenshot(path=str(shots / "viewer-2x2-hanging.png"))


def test_wheel_and_keys_change_the_slice_without_a_request(page, demo, shots):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    viewport = page.locator('[data-viewport="RCC"]')
    viewport.hover()
    start = _slice(page, "RCC")
    page.mouse.wheel(0, 120)
    page.wait_for_function(f'() => document.querySelector(\'[data-viewport="RCC"]\').dataset.slice != "{start}"')
    after_wheel = _slice(page, "RCC")
    assert after_wheel == start + 1
    for key, expected in (("ArrowDown", after_wheel + 1), ("ArrowUp", after_wheel), ("PageDown", None)):
        before = _slice(page, "RCC")
        page.keyboard.press(key)
        page.wait_for_function(
            f'() => document.querySelector(\'[data-viewport="RCC"]\').dataset.slice != "{before}"')
        if expected is not None:
            assert _slice(page, "RCC") == expected, key
    page.wait_for_timeout(500)  # anything a slice change would fetch has been asked for by now
    assert requests == [], requests
    page.screenshot(path=str(shots / "viewer-scrolled.png"))


def test_left_drag_changes_window_level(page, shots):
    before = _grab(page, "RCC")
    label_before = page.inner_text('[data-viewport="RCC"] .corner.bl span >> nth=0')
    box = page.locator('[data-viewport="RCC"]').bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 60, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    after = _grab(page, "RCC")
    changed = (np.abs(after - before) > 8).mean()
    assert changed > 0.05, f"only {changed:.1%} of the viewport's pixels changed"
    assert page.inner_text('[data-viewport="RCC"] .corner.bl span >> nth=0') != label_before
    page.screenshot(path=str(shots / "viewer-window-level.png"))


def test_ruler_shows_mm_matching_the_pixel_spacing(page, demo, shots):
    _, value = demo
    spec = _spec(value, "RCC")
    page.dblclick('[data-viewport="RCC"] .corner.tr', force=True)  # 1 x 1
    page.wait_for_timeout(500)
    page.click("button:has-text('ruler')")
    canvas = page.locator('[data-viewport="RCC"] canvas').first.bounding_box()
    # Reset fits the whole image in the viewport: screen px per display pixel is the smaller ratio.
    px_per_pixel = min(canvas["width"] / spec["columns"], canvas["height"] / spec["rows"])
    cx, cy, length_px = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2, 400
    page.mouse.move(cx - length_px / 2, cy)
    page.mouse.down()
    page.mouse.move(cx + length_px / 2, cy, steps=10)
    page.mouse.up()
    texts = page.eval_on_selector_all('[data-viewport="RCC"] svg text', "nodes => nodes.map(n => n.textContent)")
    lengths = [float(t.split()[0]) for t in texts if t.strip().endswith(" mm") and _number(t.split()[0])]
    expected = length_px / px_per_pixel * spec["pixel_spacing_mm"][1]
    page.screenshot(path=str(shots / "viewer-ruler.png"))
    assert lengths, f"no length shown ({texts!r})"
    # the scale bar is a round number of mm too; the ruler is the one nearest the expected length
    measured = min(lengths, key=lambda mm: abs(mm - expected))
    assert abs(measured - expected) / expected < 0.01, (measured, expected, lengths)


def test_clicking_a_finding_on_the_sm_jumps_to_its_slice(page, demo, shots):
    url, value = demo
    spec = _spec(value, "LCC")
    finding = max(spec["findings"], key=lambda f: f["score"])
    page.click('[data-viewport="LCC"] button.mode')
    page.wait_for_selector('[data-viewport="LCC"][data-mode="sm"]')
    label = page.locator(f'[data-viewport="LCC"] [data-finding="{finding["label"]}"] text')
    label.wait_for()
    page.screenshot(path=str(shots / "viewer-sm.png"))
    label.click()
    page.wait_for_selector('[data-viewport="LCC"][data-mode="slices"]')
    assert _slice(page, "LCC") == finding["slice"]
    page.wait_for_function(
        "(label) => document.querySelector('#selected')?.innerText.includes(label)", arg=finding["label"])
    assert '"LCC"' in page.inner_text("#selected")

    # A point of the SM jumps to the slice that contributes most there (the server's slice map).
    with urllib.request.urlopen(url.rstrip("/") + spec["sm_slice_url"]) as response:
        slice_map = np.frombuffer(response.read(), "<u2").reshape(spec["rows"], spec["columns"])
    page.click('[data-viewport="LCC"] button.mode')
    page.wait_for_selector('[data-viewport="LCC"][data-mode="sm"]')
    rect = page.locator(f'[data-viewport="LCC"] [data-finding="{finding["label"]}"] rect').bounding_box()
    page.locator("label:has-text('boxes') input").click()  # boxes off: no label lies over the point
    page.mouse.click(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    page.wait_for_selector('[data-viewport="LCC"][data-mode="slices"]')
    page.wait_for_function("() => window.__slamviewer.lastSmClick !== null")
    clicked = page.evaluate("() => window.__slamviewer.lastSmClick")
    # the pixel looked up is the one under the cursor (the box centre), and its slice is the server's
    centre = (finding["x"] + finding["width"] / 2, finding["y"] + finding["height"] / 2)
    assert abs(clicked["x"] - centre[0]) <= 1.5 and abs(clicked["y"] - centre[1]) <= 1.5, (clicked, centre)
    page.wait_for_function(f"() => document.querySelector('[data-viewport=\"LCC\"]').dataset.slice"
                           f" == '{int(slice_map[clicked['y'], clicked['x']])}'")


def test_threshold_slider_hides_findings_client_side(page, demo):
    _, value = demo
    scores = sorted(f["score"] for f in _spec(value, "RCC")["findings"])
    page.click('[data-viewport="RCC"] button.mode')
    page.wait_for_selector('[data-viewport="RCC"][data-mode="sm"]')
    count = page.locator('[data-viewport="RCC"] [data-finding]').count
    assert count() == sum(s >= value["threshold"] for s in scores)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.locator('input[aria-label="score threshold"]').fill(str((scores[-1] + scores[-2]) / 2))
    page.wait_for_timeout(200)
    assert count() == 1
    page.locator("label:has-text('boxes') input").click()
    page.wait_for_timeout(200)
    assert count() == 0
    assert requests == [], requests


def test_synchronised_scrolling_by_relative_depth(page, demo, shots):
    _, value = demo
    slices = {view: _spec(value, view)["slices"] for view in HANGING}
    page.locator('[data-viewport="RCC"]').hover()
    page.keyboard.press("End")
    page.wait_for_function('() => document.querySelector(\'[data-viewport="LCC"]\').dataset.slice'
                           f' == "{slices["LCC"] - 1}"')
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('[data-viewport=\"RMLO\"]').dataset.slice == '0'")
    for _ in range(5):
        page.keyboard.press("ArrowDown")
    page.wait_for_function('() => document.querySelector(\'[data-viewport="RCC"]\').dataset.slice == "5"')
    page.wait_for_timeout(200)
    for view in ("LCC", "RMLO", "LMLO"):
        expected = round(5 / (slices["RCC"] - 1) * (slices[view] - 1))
        assert _slice(page, view) == expected, view
    page.screenshot(path=str(shots / "viewer-synchronised.png"))
    page.keyboard.press("s")  # sync off: the others stay
    others = {view: _slice(page, view) for view in ("LCC", "RMLO", "LMLO")}
    page.keyboard.press("ArrowDown")
    page.wait_for_function('() => document.querySelector(\'[data-viewport="RCC"]\').dataset.slice == "6"')
    page.wait_for_timeout(200)
    assert {view: _slice(page, view) for view in others} == others
