"""The example exam (examples/exam): four views of one phantom patient, reproducible from the generator."""

from __future__ import annotations

import pydicom

from slam.cli import main
from slam.io import load_study
from slam.io.csv_formats import read_boxes_csv, read_file_paths_csv
from slam.phantom.exam import EXAM_DEPTH, exam_studies
from tests.webapp_support import ROOT

EXAM_DIR = ROOT / "examples" / "exam"


def test_committed_exam_is_what_the_generator_makes(tmp_path):
    assert main(["phantom", str(tmp_path), "--exam"]) == 0
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(EXAM_DIR) for p in EXAM_DIR.rglob("*") if p.is_file())
    assert made == committed and len(made) == 7  # 4 DICOM files and the 3 CSVs
    for path in made:
        assert (tmp_path / path).read_bytes() == (EXAM_DIR / path).read_bytes(), path
    assert sum((EXAM_DIR / p).stat().st_size for p in committed) <= 3_000_000


def test_exam_is_one_patient_one_study_four_views():
    rows = read_file_paths_csv(EXAM_DIR / "file-paths.csv")
    assert [r.view for r in rows] == ["rcc", "lcc", "rmlo", "lmlo"]
    headers = [pydicom.dcmread(EXAM_DIR / r.descriptive_path, stop_before_pixels=True) for r in rows]
    assert {h.PatientID for h in headers} == {"DBT-P00200"}
    assert len({h.StudyInstanceUID for h in headers}) == 1
    assert len({h.SeriesInstanceUID for h in headers}) == len({h.SOPInstanceUID for h in headers}) == 4
    studies = [load_study(EXAM_DIR / r.descriptive_path) for r in rows]
    assert [(s.laterality, s.view, s.laterality_source) for s in studies] == [
        ("R", "CC", "tag"), ("L", "CC", "tag"), ("R", "MLO", "tag"), ("L", "MLO", "tag")]
    assert {s.depth for s in studies} == {EXAM_DEPTH}
    boxes = read_boxes_csv(EXAM_DIR / "boxes.csv")
    assert [b.view for b in boxes] == ["lmlo"]  # a lesion in one view only
    lmlo = exam_studies()[3]
    assert [(b.x, b.y, b.width, b.height, b.slice) for b in boxes] == lmlo.boxes
