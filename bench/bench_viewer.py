"""SlamViewer in Chromium through Playwright: slice change, cine, first slice, whole stack, bytes over the wire.

    PYTHONPATH=. python bench/bench_viewer.py [--size full|medium|small] [--depth 64]

Serves one phantom view (R CC, ``--depth`` slices) with the component's demo (components/slamviewer/demo/app.py;
the phantom is generated at start-up: ~10 s at full size on a quiet machine). Beside the client-side slice
change it measures, in the same page, the straightforward way: one server round trip per slice (fetch the
slice, then window and draw it on a canvas). Prints the figures with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "components" / "slamviewer" / "demo" / "app.py"
CHROMIUM = "/usr/bin/chromium"

# The straightforward way, in the page: fetch slice i from the server, window it and paint it on a canvas.
ROUND_TRIP_JS = """async ([template, rows, columns, count]) => {
    const canvas = document.createElement('canvas');
    canvas.width = columns; canvas.height = rows;
    const context = canvas.getContext('2d');
    const times = [];
    for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        const buffer = await (await fetch(template.replace('{index}', i), {cache: 'no-store'})).arrayBuffer();
        const values = new Uint16Array(buffer);
        const image = context.createImageData(columns, rows);
        for (let p = 0, q = 0; p < values.length; p++, q += 4) {
            const g = values[p] >> 4; image.data[q] = g; image.data[q + 1] = g; image.data[q + 2] = g; image.data[q + 3] = 255;
        }
        context.putImageData(image, 0, 0);
        await new Promise(r => requestAnimationFrame(r));
        times.push(performance.now() - t0);
    }
    return times;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_demo(size: str, depth: int) -> tuple[subprocess.Popen, str]:
    """The demo server with one view; returns (process, base URL) once it answers."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, str(DEMO), "--size", size, "--views", "1", "--depth", str(depth),
                                "--port", str(port)], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the demo exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return process, url
        except OSError:
            time.sleep(2)
    process.kill()
    raise SystemExit("the demo did not start in 30 min")


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def run(url: str, presses: int, cine_s: float, render: str) -> dict:
    from playwright.sync_api import sync_playwright

    with urllib.request.urlopen(url + "config") as response:
        config = json.load(response)
    value = next(c["props"]["value"] for c in config["components"] if c.get("props", {}).get("elem_id") == "viewer")
    spec = value["viewports"][0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        urls: dict[str, str] = {}
        wire = {"viewer JS": 0, "other JS": 0, "stack": 0}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))

        def finished(event: dict) -> None:
            address = urls.get(event["requestId"], "")
            if "/slam/stack/" in address:
                wire["stack"] += event["encodedDataLength"]
            elif address.split("?")[0].endswith(".js"):
                wire["viewer JS" if "/custom_component/" in address else "other JS"] += event["encodedDataLength"]

        cdp.on("Network.loadingFinished", finished)
        page.goto(url if render == "auto" else f"{url}?slam_render={render}")
        page.wait_for_function("() => { const v = Object.values(window.__slamviewer?.viewports ?? {});"
                               " return v.length === 1 && v[0].loaded === v[0].total; }", timeout=600_000)
        loaded = page.evaluate("() => Object.values(window.__slamviewer.viewports)[0]")
        page.locator(f'[data-viewport="{spec["id"]}"]').hover()
        current, step = loaded["slice"], 1
        for i in range(presses):  # one press at a time: the next key after the last slice was painted
            if not 0 <= current + step < spec["slices"]:
                step = -step  # bounce at the ends of the stack
            current += step
            page.keyboard.press("ArrowDown" if step > 0 else "ArrowUp")
            page.wait_for_function(f"() => window.__slamviewer.sliceLatenciesMs.length > {i}", timeout=10_000)
        latencies = page.evaluate("() => window.__slamviewer.sliceLatenciesMs")
        drawn = page.evaluate("() => window.__slamviewer.sliceDrawnMs")
        renderer = page.evaluate("() => window.__slamviewer.renderer")

        renders = "() => Object.values(window.__slamviewer.viewports)[0].renders"
        page.keyboard.press(" ")
        page.wait_for_timeout(1000)  # settle into the cine clock
        r0, t0 = page.evaluate(renders), time.monotonic()
        page.wait_for_timeout(cine_s * 1000)
        r1, t1 = page.evaluate(renders), time.monotonic()
        page.keyboard.press(" ")

        template = url.rstrip("/") + spec["stack_url"]
        round_trips = page.evaluate(ROUND_TRIP_JS, [template, spec["rows"], spec["columns"], min(20, spec["slices"])])
        browser.close()
    return {"spec": spec, "loaded": loaded, "latencies": latencies, "drawn": drawn, "cine": (r1 - r0) / (t1 - t0), "renderer": renderer,
            "round_trips": round_trips, "wire": wire}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "medium", "full"), default="full")
    parser.add_argument("--depth", type=int, default=64)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--cine-seconds", type=float, default=5.0)
    parser.add_argument("--render", default="auto,gpu",
                        help="comma-separated: auto (the viewer's choice), cpu, gpu (Cornerstone's two paths)")
    args = parser.parse_args()
    process, url = start_demo(args.size, args.depth)
    try:
        results = [run(url, args.presses, args.cine_seconds, render) for render in args.render.split(",")]
    finally:
        process.terminate()
        process.wait(timeout=30)
    mb = 1024 * 1024
    spec = results[0]["spec"]
    print(f"study: {spec['slices']} x {spec['full_rows']} x {spec['full_columns']} ({args.size}), display stack "
          f"{spec['slices']} x {spec['rows']} x {spec['columns']} uint16 = "
          f"{spec['slices'] * spec['rows'] * spec['columns'] * 2 / mb:.1f} MB raw")
    for result in results:
        loaded, latencies, renderer = result["loaded"], result["latencies"], result["renderer"]
        print(f"-- Cornerstone3D {renderer['backend'].upper()} rendering (WebGL: {renderer['webgl']})")
        drawn = result["drawn"]
        print(f"slice change, key press -> new slice drawn on the canvas: median {np.median(drawn):.1f} ms, p95 "
              f"{p95(drawn):.1f} ms over {len(drawn)} presses (target p95 <= 16 ms)")
        print(f"slice change, key press -> the next frame after it was drawn (on screen): median "
              f"{np.median(latencies):.1f} ms, p95 {p95(latencies):.1f} ms (includes the wait for the display's vsync)")
        print(f"straightforward way, one server round trip per slice: median {np.median(result['round_trips']):.1f} "
              f"ms, p95 {p95(result['round_trips']):.1f} ms over {len(result['round_trips'])} slices")
        print(f"cine at 20/s: {result['cine']:.1f} slices/s (target 20)")
        print(f"first slice on screen: {loaded['firstImageMs'] / 1000:.2f} s after the stack URL is known "
              "(target <= 1.5 s)")
        print(f"whole stack in the browser: {loaded['stackLoadedMs'] / 1000:.2f} s (target <= 5 s)")
        wire = result["wire"]
        print(f"over the wire: viewer JS {wire['viewer JS'] / mb:.2f} MB (target <= 3 MB), Gradio's own JS "
              f"{wire['other JS'] / mb:.2f} MB, stack {wire['stack'] / mb:.1f} MB (target <= 60 MB)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
