"""Phantom generation time and peak memory: small and full size (prints figures; not a test).

Run: python bench/bench_phantom.py [--full-only | --small-only]
"""

from __future__ import annotations

import argparse
import resource
import time

from slam.phantom import generate_study


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--full-only", action="store_true")
    group.add_argument("--small-only", action="store_true")
    args = parser.parse_args()
    if not args.full_only:
        times = []
        for seed in range(10):
            start = time.perf_counter()
            study = generate_study(seed, "small")
            times.append(time.perf_counter() - start)
        print(f"small: 10 studies, {min(times):.2f}-{max(times):.2f} s each "
              f"(last {study.volume.shape}), peak RSS {_peak_mb():.0f} MB")
    if not args.small_only:
        start = time.perf_counter()
        study = generate_study(1, "full", depth=64)
        print(f"full: {study.volume.shape} uint16 ({study.volume.nbytes / 1e6:.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s, peak RSS {_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
