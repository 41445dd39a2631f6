"""Phantom generation time and peak memory (small and full size), and the lesion CNR per style.

Run: python bench/bench_phantom.py [--full-only | --small-only | --cnr [--studies N]]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from slam.phantom import FAMILIES, HELDOUT, generate_study, study_cnrs


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--full-only", action="store_true")
    group.add_argument("--small-only", action="store_true")
    group.add_argument("--cnr", action="store_true", help="only the CNR table: --studies small studies per style")
    parser.add_argument("--studies", type=int, default=40)
    args = parser.parse_args()
    if args.cnr:
        cnr_table(args.studies)
        return
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


def cnr_table(studies: int) -> None:
    """Per style: CNR percentiles of the masses at their central slices (2 masses per small study)."""
    print(f"CNR at the central slice, {studies} small studies x 2 masses per style (depth 30)")
    print("style                 masses   p10   p25   p50   p75   p90   <1    1-3   >3    s/study")
    for style in ("classic", *FAMILIES):
        cnrs, start = [], time.perf_counter()
        for seed in range(studies):
            study = generate_study(seed, "small", n_lesions=2, depth=30, style=style)
            if style == "classic":  # no stored masks: the box interior against its ring
                cnrs += [_classic_cnr(study, les) for les in study.lesions]
            else:
                cnrs += study_cnrs(study)
        c = np.array(cnrs)
        p = np.percentile(c, (10, 25, 50, 75, 90))
        share = ((c < 1).mean(), ((c >= 1) & (c <= 3)).mean(), (c > 3).mean())
        name = style + (" (held out)" if style == HELDOUT else "")
        print(f"{name:<21} {len(c):>6} " + " ".join(f"{v:5.2f}" for v in p) + " "
              + " ".join(f"{v:5.0%}" for v in share) + f"  {(time.perf_counter() - start) / studies:6.2f}", flush=True)


def _classic_cnr(study, les) -> float:
    from slam.phantom.cnr import lesion_cnr

    mask = np.zeros(study.volume.shape[1:], bool)
    cy, cx, ry, rx = les.y + les.height / 2, les.x + les.width / 2, les.height / 2, les.width / 2
    yy, xx = np.ogrid[:mask.shape[0], :mask.shape[1]]
    mask[((yy + 0.5 - cy) / ry) ** 2 + ((xx + 0.5 - cx) / rx) ** 2 <= 1] = True  # the box's inscribed ellipse
    return lesion_cnr(study.volume[les.slice], mask, study.pixel_spacing[0])


if __name__ == "__main__":
    main()
