"""The example exam (examples/exam/): the four screening views of ONE phantom patient.

RCC, LCC, RMLO and LMLO share PatientID and StudyInstanceUID (one study, four series), carry their
laterality and view tags, and one view (LMLO) holds a mass. Each view is drawn from its own seed, so
series and SOP UIDs differ. Small and thin (10 slices of 384 × 320, JPEG-LS lossless) so the four files
stay ≈ 2.7 MB beside the other examples (all of examples/ ≤ 20 MB, no LFS).

Regenerate with ``slam phantom examples/exam --exam`` (byte for byte the same files).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from pydicom.uid import generate_uid

from slam.phantom.dataset import write_csvs, write_study
from slam.phantom.study import PhantomStudy, generate_study

EXAM_SEED = 200  # PatientID DBT-P00200; the views use seeds 201-204
EXAM_DEPTH = 10
EXAM_SYNTAX = "jpegls"
# (view, laterality, masses), in the hanging order RCC | LCC / RMLO | LMLO
EXAM_VIEWS: tuple[tuple[str, str, int], ...] = (("CC", "R", 0), ("CC", "L", 0), ("MLO", "R", 0), ("MLO", "L", 1))


def exam_studies(seed: int = EXAM_SEED, depth: int = EXAM_DEPTH) -> list[PhantomStudy]:
    """The four views of patient DBT-P<seed>, in hanging order; one shared PatientID and StudyInstanceUID."""
    patient_id = f"DBT-P{int(seed):05d}"
    study_uid = generate_uid(entropy_srcs=["slam-phantom", "exam", str(int(seed))])
    return [dataclasses.replace(generate_study(seed + i, "small", view=view, laterality=laterality,
                                               n_lesions=masses, depth=depth),
                                patient_id=patient_id, study_uid=study_uid)
            for i, (view, laterality, masses) in enumerate(EXAM_VIEWS, start=1)]


def write_exam(out_dir: str | os.PathLike, seed: int = EXAM_SEED,
               progress: Callable[[int, int, PhantomStudy, Path], None] | None = None) -> Path:
    """Write the exam's four DICOM files (one study folder, a series folder per view) and its
    file-paths.csv, labels.csv, boxes.csv to ``out_dir``. Returns ``out_dir``."""
    out_dir = Path(out_dir)
    studies = exam_studies(seed)
    rows = []
    for number, study in enumerate(studies, start=1):
        rows.append(write_study(out_dir, study, 1, EXAM_SYNTAX))  # number 1: one study folder for all views
        if progress is not None:
            progress(number, len(studies), study, out_dir / rows[-1][0].descriptive_path)
    write_csvs(out_dir, rows)
    return out_dir
