"""4-view exam benchmark over HTTP on loopback: ``python webapp/app.py`` with a full-size exam.

Writes four full-size views (RCC, LCC, RMLO, LMLO; D × 2457 × 1996 uint16, one multi-frame DICOM each),
starts the app, uploads them through Gradio's upload route and opens them as one exam (``open_files``),
then measures, as the viewer component fetches them (webapp.stack_api):

- open → all four initial slices received: from the open call (the upload has reached the server) until
  the fourth view's initial display slice has arrived (gzip);
- open → every slice of every view received (the whole exam scrollable);
- bytes over the wire per view (gzip) against the raw uint16 stack (the straightforward encoding);
- one display slice fetched AGAIN from the stack route (the server holds a slice only until it is sent, so
  this is a rebuild: flip + area resize + gzip of a native slice; the browser itself keeps what it got)
  against one slice rendered by the server per request (the single-view tab's ``show_slice``: the way
  every slice change worked before);
- the app's RSS with the exam loaded.

Run from the repository root: ``python bench/bench_exam.py [--slices 64]``. Prints the figures and writes
bench/results/exam.json. Needs ~4 × 0.6 GB of disk for the files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from slam.io import write_volume_dicom  # noqa: E402
from tests.test_security import call, file_data, tab, upload  # noqa: E402
from tests.webapp_support import AppServer, breast_volume  # noqa: E402

VIEWS = (("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO"))


def write_exam(folder: Path, depth: int) -> list[Path]:
    """Four full-size views of one synthetic patient, uncompressed multi-frame DICOM."""
    paths = []
    for seed, (laterality, view) in enumerate(VIEWS):
        volume = breast_volume(depth, 2457, 1996, seed, laterality)
        path = folder / f"{laterality}{view}.dcm"
        write_volume_dicom(path, volume, laterality=laterality, view=view, window_center=1600, window_width=2400,
                           bits_stored=12, pixel_spacing=(0.1, 0.1), patient_id="BENCH-1", study_uid="1.2.3.4.5")
        paths.append(path)
        del volume
    return paths


def fetch(client: httpx.Client, url: str) -> int:
    """GET a stack URL as the browser does (gzip accepted); the bytes that came over the wire."""
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    response.raise_for_status()
    return int(response.headers.get("content-length") or len(response.content))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=64)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "exam.json"))
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="slam-bench-exam-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        paths = write_exam(tmp, args.slices)
        print(f"wrote 4 views of {args.slices} × 2457 × 1996 in {time.perf_counter() - t:.0f} s")
        server = AppServer({"GRADIO_TEMP_DIR": str(tmp / "gradio"), "SLAM_APP_LOG": str(tmp / "app.log"),
                            "SLAM_MAX_UPLOAD": "4gb"}, timeout=180)
        try:
            browser = tab(server.url)  # one tab's cookies: a load accepts only that tab's uploads
            t = time.perf_counter()
            stored = upload(browser, *paths)
            uploaded = time.perf_counter() - t
            t0 = time.perf_counter()
            kind, outputs = call(browser, "open_files", [[file_data(p) for p in stored], False], session="bench")
            opened = time.perf_counter() - t0
            assert kind == "complete", outputs
            value = next(o for o in outputs if isinstance(o, dict) and "viewports" in o)
            ports = value["viewports"]
            base = server.url.rstrip("/")
            with httpx.Client(timeout=120) as client, ThreadPoolExecutor(4) as pool:
                first = list(pool.map(lambda p: fetch(client, base + p["stack_url"].format(index=p["initial_slice"])),
                                      ports))
                first_s = time.perf_counter() - t0
                wire = list(pool.map(lambda p: sum(fetch(client, base + p["stack_url"].format(index=k))
                                                   for k in range(p["slices"])), ports))
                all_s = time.perf_counter() - t0
                port = ports[0]
                refetched = []
                for k in range(10):
                    t = time.perf_counter()
                    fetch(client, base + port["stack_url"].format(index=k))
                    refetched.append(time.perf_counter() - t)
            rendered = []
            for k in range(10):
                t = time.perf_counter()
                kind, _ = call(browser, "show_slice", [k + 1, "Original", 1600, 2400, False, 1, 0.5, 0.5, True,
                                                          0.5, False], session="bench")
                rendered.append(time.perf_counter() - t)
            rss = server.rss_bytes()
            browser.close()
        finally:
            server.stop()
    raw = [p["rows"] * p["columns"] * 2 * p["slices"] for p in ports]
    result = {
        "slices": args.slices, "load_average": load, "upload_s": round(uploaded, 2), "open_s": round(opened, 2),
        "open_to_four_first_slices_s": round(first_s, 2), "open_to_whole_exam_s": round(all_s, 2),
        "display_stack": [ports[0]["rows"], ports[0]["columns"]],
        "wire_mb_per_view": [round(w / 1e6, 1) for w in wire], "raw_mb_per_view": [round(r / 1e6, 1) for r in raw],
        "first_slice_kb": [round(b / 1e3) for b in first],
        "refetch_slice_ms_median": round(1000 * statistics.median(refetched), 1),
        "server_render_ms_median": round(1000 * statistics.median(rendered), 1),
        "rss_gb": round(rss / 1e9, 2),
    }
    for key, item in result.items():
        print(f"{key}: {item}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
