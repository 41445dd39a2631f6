"""Benchmark: loading a full-size DBT study (64 x 2457 x 1996 uint16), time and peak memory.

Compares ``slam.io.load_study`` with the straightforward ``pydicom.dcmread(path).pixel_array``, each in
a fresh subprocess so that peak RSS (ru_maxrss) belongs to that load alone. Target: peak increase
over the interpreter's baseline <= 2x the pixel bytes.

    python bench/bench_load.py [--depth 64] [--rows 2457] [--cols 1996] [--syntax explicit]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
import numpy as np, pydicom
from slam.io import load_study

def high_water_kb():  # VmHWM: this process's own peak RSS (ru_maxrss survives exec on Linux)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

path, method = sys.argv[1], sys.argv[2]
base = high_water_kb()
t0 = time.perf_counter()
if method == "slam":
    pixels = load_study(path).pixels
else:
    pixels = pydicom.dcmread(path).pixel_array
elapsed = time.perf_counter() - t0
peak = high_water_kb()
print(json.dumps({"seconds": elapsed, "peak_increase_mb": (peak - base) / 1024, "checksum": int(pixels[::7, ::13, ::11].sum())}))
"""


def make_volume(depth: int, rows: int, cols: int) -> np.ndarray:
    """A breast-like uint16 volume built slice by slice (no float copy of the whole volume)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    inside = ((xx / (0.8 * cols)) ** 2 + ((yy - rows / 2) / (0.45 * rows)) ** 2) <= 1
    volume = np.zeros((depth, rows, cols), np.uint16)
    for index in range(depth):
        noise = rng.integers(0, 400, size=(rows, cols), dtype=np.uint16)
        volume[index] = np.where(inside, 1200 + noise, noise // 20)
    return volume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=64)
    parser.add_argument("--rows", type=int, default=2457)
    parser.add_argument("--cols", type=int, default=1996)
    parser.add_argument("--syntax", default="explicit", help="transfer syntax short name (slam.io.write)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
    from slam.io import write_volume_dicom

    with tempfile.TemporaryDirectory() as tmp:
        volume = make_volume(args.depth, args.rows, args.cols)
        pixel_mb = volume.nbytes / 1024**2
        t0 = time.perf_counter()
        path = write_volume_dicom(Path(tmp) / "study.dcm", volume, transfer_syntax=args.syntax, laterality="L",
                                  view="CC", bits_stored=12)
        write_s = time.perf_counter() - t0
        del volume
        print(f"study {args.depth} x {args.rows} x {args.cols} uint16 = {pixel_mb:.0f} MB pixels, "
              f"{args.syntax}, file {path.stat().st_size / 1024**2:.0f} MB (written in {write_s:.1f} s)")
        print(f"{'method':<28}{'time s':>8}{'peak +MB':>10}{'x pixels':>10}")
        results = {}
        for method, label in (("slam", "slam.io.load_study"), ("pydicom", "pydicom .pixel_array")):
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), method], capture_output=True,
                                 text=True, check=True, cwd=Path(__file__).resolve().parents[1])
            results[method] = json.loads(out.stdout)
            r = results[method]
            print(f"{label:<28}{r['seconds']:>8.2f}{r['peak_increase_mb']:>10.0f}{r['peak_increase_mb'] / pixel_mb:>10.2f}")
        assert results["slam"]["checksum"] == results["pydicom"]["checksum"], "the two loads disagree"
        print(f"target: peak <= 2.00 x pixels -> {'MET' if results['slam']['peak_increase_mb'] <= 2 * pixel_mb else 'MISSED'}")


if __name__ == "__main__":
    main()
