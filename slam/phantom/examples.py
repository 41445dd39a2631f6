"""The repository's example studies (examples/): a fixed, reproducible set of small phantom studies.

Regenerate with ``slam phantom examples --examples``. Files stay under the Hugging Face Spaces
limit without LFS (each <= 10 MB, all <= 20 MB): losslessly compressed, 40-56 slices.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from slam.phantom.dataset import write_csvs, write_study
from slam.phantom.study import PhantomStudy, generate_study

# (seed, view, laterality, masses, depth, transfer syntax, zip of single-frame files)
EXAMPLES: tuple[tuple[int, str, str, int, int, str, bool], ...] = (
    (101, "CC", "L", 0, 48, "jpegls", False),
    (102, "CC", "R", 1, 52, "jpegls", False),
    (103, "MLO", "L", 1, 50, "jpeg2000", False),
    (104, "MLO", "R", 2, 56, "jpegls", False),
    (105, "CC", "R", 1, 40, "explicit", True),
)


def write_examples(out_dir: str | os.PathLike,
                   progress: Callable[[int, int, PhantomStudy, Path], None] | None = None) -> Path:
    """Write the :data:`EXAMPLES` studies and their file-paths.csv, labels.csv, boxes.csv to ``out_dir``."""
    out_dir = Path(out_dir)
    rows = []
    for number, (seed, view, laterality, masses, depth, syntax, as_zip) in enumerate(EXAMPLES, start=1):
        study = generate_study(seed, "small", view=view, laterality=laterality, n_lesions=masses, depth=depth)
        rows.append(write_study(out_dir, study, number, syntax, as_zip=as_zip))
        if progress is not None:
            progress(number, len(EXAMPLES), study, out_dir / rows[-1][0].descriptive_path)
    write_csvs(out_dir, rows)
    return out_dir
