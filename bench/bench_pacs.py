"""Benchmark: opening a study from a PACS (a real Orthanc with DICOMweb on loopback).

1. time to the first frame of a small (12 x 384 x 320) phantom study, and to the whole study
   (target: first slice <= 2 s);
   Then the same through the web app's open path (``webapp.pacs_panel.fetch``, ``loading.place`` and
   the first slice's view HTML, ``wiring.loaded_outputs``): the server's share of "first slice on screen";
2. peak memory while streaming a full-size (64 x 2457 x 1996) JPEG 2000 study frame by frame, as the
   increase of this process's VmHWM over its baseline, against the pixel array's size (target <= 1.2x).
   Each measurement runs in a fresh subprocess, so the peak belongs to that retrieval alone.

    python bench/bench_pacs.py [--depth 64] [--rows 2457] [--cols 1996] [--syntax jpeg2000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, time
from slam.io.dicomweb import connect, retrieve_study

def high_water_kb():  # VmHWM: this process's own peak RSS
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

url, user, password, study_uid = sys.argv[1:5]
client = connect(url, user=user, password=password, timeout=120)
base = high_water_kb()
first = []
t0 = time.perf_counter()
study = retrieve_study(client, study_uid, progress=lambda done, total: first or first.append(time.perf_counter() - t0))
elapsed = time.perf_counter() - t0
print(json.dumps({"first_frame_s": first[0], "seconds": elapsed, "peak_increase_mb": (high_water_kb() - base) / 1024,
                  "pixel_mb": study.pixels.nbytes / 1024**2, "shape": list(study.pixels.shape)}))
"""


def measure(server, study_uid: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, server.url, *server.auth, study_uid], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def app_open(server, study_uid: str, folder: Path) -> tuple[float, float]:
    """Seconds for the web app to open ``study_uid``'s view: (fetch, fetch + place + first view HTML)."""
    import os

    from slam.io import LoadLimits
    from webapp import loading, pacs_panel, wiring
    from webapp.state import SessionStore

    os.environ["SLAM_DICOMWEB_USER"], os.environ["SLAM_DICOMWEB_PASSWORD"] = server.auth
    matches = pacs_panel.search(server.url, "", "", "", "MG", False)[1]
    views = pacs_panel.dbt_views(server.url, study_uid, matches)
    store = SessionStore(folder / "sessions")
    t0 = time.perf_counter()
    study = pacs_panel.fetch(server.url, views[:1], LoadLimits(), 2**31)[0]
    fetched = time.perf_counter() - t0
    wiring.loaded_outputs(loading.place(store, "bench", study, pacs_panel.LABEL), "opened", False)
    return fetched, time.perf_counter() - t0


def upload(server, path: Path) -> None:
    import pydicom
    from dicomweb_client.api import DICOMwebClient
    from dicomweb_client.session_utils import create_session_from_user_pass

    client = DICOMwebClient(server.url, session=create_session_from_user_pass(*server.auth), timeout=300)
    client.store_instances([pydicom.dcmread(path)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=64)
    parser.add_argument("--rows", type=int, default=2457)
    parser.add_argument("--cols", type=int, default=1996)
    parser.add_argument("--syntax", default="jpeg2000", help="transfer syntax short name (slam.io.write)")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # run from a checkout without install
    from bench_load import make_volume

    from slam.io import write_volume_dicom
    from slam.phantom import generate_study
    from slam.phantom.dataset import dicom_meta
    from tests.orthanc_support import OrthancServer, pacs_available

    if pacs_available():
        sys.exit(f"bench_pacs: {pacs_available()}")
    folder = Path(tempfile.mkdtemp(prefix="slam-bench-pacs-"))
    server = OrthancServer(folder)
    try:
        phantom = generate_study(1, "small", depth=12)
        small = write_volume_dicom(folder / "small.dcm", phantom.volume, transfer_syntax=args.syntax,
                                   **dicom_meta(phantom))
        upload(server, small)
        r = measure(server, phantom.study_uid)
        print(f"small study {r['shape']}, {args.syntax}: first frame {r['first_frame_s']:.3f} s, "
              f"whole study {r['seconds']:.2f} s (target first slice <= 2 s: "
              f"{'MET' if r['first_frame_s'] <= 2 else 'MISSED'})")
        fetched, shown = app_open(server, phantom.study_uid, folder)
        print(f"web app open path: fetch {fetched:.3f} s, + session and first slice's view {shown:.3f} s "
              f"(target first slice on screen <= 2 s: {'MET' if shown <= 2 else 'MISSED'} on the server's side)")

        volume = make_volume(args.depth, args.rows, args.cols)
        t0 = time.perf_counter()
        big = write_volume_dicom(folder / "big.dcm", volume, transfer_syntax=args.syntax, laterality="L", view="CC",
                                 bits_stored=12, study_uid="1.2.826.0.1.3680043.8.498.1", patient_id="BENCH")
        del volume
        upload(server, big)
        print(f"full study {args.depth} x {args.rows} x {args.cols} {args.syntax}: file "
              f"{big.stat().st_size / 1024**2:.0f} MB, written and stored in {time.perf_counter() - t0:.0f} s")
        r = measure(server, "1.2.826.0.1.3680043.8.498.1")
        ratio = r["peak_increase_mb"] / r["pixel_mb"]
        print(f"streamed in {r['seconds']:.1f} s (first frame {r['first_frame_s']:.2f} s); peak +{r['peak_increase_mb']:.0f} MB "
              f"for {r['pixel_mb']:.0f} MB of pixels = {ratio:.2f} x (target <= 1.2 x: {'MET' if ratio <= 1.2 else 'MISSED'})")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
