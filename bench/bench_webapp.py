"""Web viewer benchmark, measured from a real browser on loopback.

Generates a full-size study (64 × 2457 × 1996 uint16: ``slam.phantom`` when present, else a synthetic
breast volume), writes it as one multi-frame DICOM, starts ``python webapp/app.py``, and with
Playwright + Chromium measures:

- upload → first slice: from handing the file to the upload field until that study's middle slice is
  decoded on screen (the browser's upload, the server's load and the first render together);
- slice change round trip: key press → new slice decoded on screen, timed inside the page
  (``performance.now()``), N changes one after another;
- the app process RSS with that study loaded (and its peak, VmHWM).

Run from the repository root: ``python bench/bench_webapp.py [--slices 64] [--changes 100]``.
Prints the figures and writes bench/results/webapp.json; ``--screenshot docs/screenshot.png`` also
saves a screenshot of the viewer on a bundled example.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slam.io import write_volume_dicom  # noqa: E402
from tests.webapp_support import CHROMIUM, CHROMIUM_ARGS, AppServer, breast_volume  # noqa: E402

# One slice change, timed in the page: dispatch the key the viewer listens to, watch the DOM for the
# new <img> of the requested slice, wait until it is decoded.
ROUND_TRIP_JS = """
async (target) => {
  const root = document.querySelector('#slam-viewer');
  const shown = new Promise(resolve => {
    const observer = new MutationObserver(() => {
      const img = root.querySelector('img.slam-img');
      if (img && img.dataset.slice === String(target)) { observer.disconnect(); resolve(img); }
    });
    observer.observe(root, {subtree: true, childList: true, attributes: true});
  });
  const t0 = performance.now();
  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}));
  const img = await shown;
  await img.decode();
  return performance.now() - t0;
}
"""


def full_size_volume(depth: int):
    """(D, 2457, 1996) uint16 and its laterality."""
    try:
        from slam.phantom import generate_study

        study = generate_study(0, size="full", depth=depth, laterality="L")
        return study.volume, study.laterality, "slam.phantom"
    except ImportError:
        return breast_volume(depth, 2457, 1996, seed=0), "L", "synthetic (tests.webapp_support)"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=64)
    parser.add_argument("--changes", type=int, default=100, help="slice changes to time")
    parser.add_argument("--screenshot", type=Path, default=None, help="save a viewer screenshot here (PNG)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="slam-bench-webapp-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        volume, laterality, origin = full_size_volume(args.slices)
        path = write_volume_dicom(tmp / "full.dcm", volume, laterality=laterality, view="CC", bits_stored=12,
                                  patient_name="BENCH^FULL", patient_id="BENCH-1")
        shape = volume.shape
        del volume
        print(f"study: {shape[0]} × {shape[1]} × {shape[2]} uint16 ({origin}), "
              f"{path.stat().st_size / 1e6:.0f} MB DICOM, made in {time.perf_counter() - t:.0f} s")

        server = AppServer({"GRADIO_TEMP_DIR": str(tmp / "gradio"), "SLAM_APP_LOG": str(tmp / "app.log")})
        try:
            rss_idle = server.rss_bytes()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(server.url)
                page.wait_for_selector("#slam-upload input[type=file]", state="attached")
                middle = shape[0] // 2

                t0 = time.perf_counter()
                page.set_input_files("#slam-upload input[type=file]", str(path))
                page.wait_for_function(
                    "k => { const i = document.querySelector('#slam-viewer img.slam-img');"
                    " return i && i.dataset.slice === String(k) && i.complete && i.naturalWidth > 0; }",
                    arg=middle, polling="raf")
                first_slice_s = time.perf_counter() - t0
                time.sleep(3)  # let the SM computed after loading finish, so it does not share the timing
                rss_loaded = server.rss_bytes()

                times, current = [], middle
                for _ in range(args.changes):
                    target = current + 1 if current + 1 < shape[0] else 0
                    if target == 0:  # wrap around with a jump, untimed
                        page.evaluate("window.slamJump(0)")
                        page.wait_for_function("() => document.querySelector('#slam-viewer img').dataset.slice === '0'")
                        current, target = 0, 1
                    times.append(page.evaluate(ROUND_TRIP_JS, target))
                    current = target
                browser.close()
            rss_peak = 0
            for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    rss_peak = int(line.split()[1]) * 1024
        finally:
            server.stop()

    figures = {
        "study": list(shape), "study_origin": origin, "slice_change_all_ms": [round(t) for t in times],
        "upload_to_first_slice_s": round(first_slice_s, 2),
        "slice_change_ms": {"n": len(times), "median": round(statistics.median(times), 1),
                            "p95": round(percentile(times, 95), 1), "max": round(max(times), 1)},
        "rss_mb": {"idle": round(rss_idle / 2**20), "study_loaded": round(rss_loaded / 2**20),
                   "peak": round(rss_peak / 2**20)},
    }
    print(f"upload → first slice: {first_slice_s:.2f} s (target ≤ 5 s)")
    print(f"slice change round trip: median {figures['slice_change_ms']['median']} ms, "
          f"p95 {figures['slice_change_ms']['p95']} ms, max {figures['slice_change_ms']['max']} ms "
          f"over {len(times)} changes (target p95 ≤ 150 ms)")
    print(f"app RSS: idle {figures['rss_mb']['idle']} MB, study loaded {figures['rss_mb']['study_loaded']} MB, "
          f"peak {figures['rss_mb']['peak']} MB (target ≤ 2048 MB)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "webapp.json").write_text(json.dumps(figures, indent=2) + "\n")
    if args.screenshot:
        screenshot(args.screenshot)
    return 0


def screenshot(target: Path) -> None:
    """The viewer on the first bundled example (after detection when available), saved as a small PNG."""
    import cv2
    from playwright.sync_api import sync_playwright

    from webapp import detection

    server = AppServer()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(server.url)
            page.click("#slam-load-example")
            page.wait_for_selector("#slam-viewer img.slam-img")
            page.wait_for_selector("#slam-sm img")
            if not detection.detector_unavailable(detection.find_weights()):
                page.click("#slam-detect")
                page.wait_for_selector("#slam-verdict h3")
            time.sleep(1)
            png = page.screenshot()
            browser.close()
    finally:
        server.stop()
    image = cv2.imdecode(__import__("numpy").frombuffer(png, "uint8"), cv2.IMREAD_COLOR)
    small = cv2.resize(image, (1200, round(image.shape[0] * 1200 / image.shape[1])), interpolation=cv2.INTER_AREA)
    target.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"screenshot: {target} ({target.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    raise SystemExit(main())
