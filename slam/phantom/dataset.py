"""Phantom datasets in the BCS-DBT layout: DICOM files plus file-paths.csv, labels.csv, boxes.csv.

:func:`write_dataset` also writes studies.csv (each study's style and drawn parameters) and
lesions.csv (each box's margin, size, depth extent, interior, level and measured CNR): extra
files, so boxes.csv keeps BCS-DBT's columns.
"""

from __future__ import annotations

import csv
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from pydicom.uid import generate_uid

from slam.errors import SlamError
from slam.io import write_series_dicom, write_volume_dicom
from slam.io.csv_formats import (
    FilePath,
    GroundTruthBox,
    Label,
    write_boxes_csv,
    write_file_paths_csv,
    write_labels_csv,
)
from slam.io.write import TRANSFER_SYNTAXES
from slam.phantom.cnr import study_cnrs
from slam.phantom.study import PhantomStudy, generate_study
from slam.phantom.styles import resolve_styles

COLLECTION = "Breast-Cancer-Screening-DBT"
STUDY_DATE = "20000101"  # fixed, so that files are reproducible byte for byte
LOSSLESS = ("explicit", "rle", "jpeg2000", "jpegls")


def transfer_syntax_name(transfer_syntax: str | None) -> str:
    """Map a short name ("explicit", "rle", "jpeg2000", "jpegls") or a transfer syntax UID to the short name."""
    if transfer_syntax is None:
        return "explicit"
    for name in LOSSLESS:
        if transfer_syntax in (name, str(TRANSFER_SYNTAXES[name][0])):
            return name
    accepted = ", ".join(f"{n} ({TRANSFER_SYNTAXES[n][0]})" for n in LOSSLESS)
    raise SlamError(f"phantom transfer syntax {transfer_syntax!r} is not a lossless one we write; accepted: {accepted}")


def dataset_seed(seed: int, index: int) -> int:
    """Seed of study ``index`` (0-based, < 100000) of dataset ``seed``; distinct across datasets.

    The study's PatientID is DBT-P<that seed>: DBT-P00001, DBT-P00002, ... for dataset seed 0.
    """
    return int(seed) * 100_000 + index + 1


def _uid(study: PhantomStudy, what: str) -> str:
    return generate_uid(entropy_srcs=["slam-phantom", what, str(study.seed)])


def study_paths(study: PhantomStudy, number: int, suffix: str = ".dcm") -> tuple[str, str]:
    """BCS-DBT-like (descriptive_path, classic_path), relative, with '/' separators.

    The file is written at ``descriptive_path``; ``classic_path`` names it in TCIA's UID layout
    (as in BCS-DBT, where both layouts list the same file) and is not written.
    """
    pid = study.patient_id
    descriptive = f"{COLLECTION}/{pid}/01-01-2000-DBT-S{number:05d}-phantom/1.000000-{study.dbtex_view}/1-1{suffix}"
    classic = f"{COLLECTION}/{pid}/{study.study_uid}/{_uid(study, 'series')}/1-1{suffix}"
    return descriptive, classic


def dicom_meta(study: PhantomStudy) -> dict:
    """Keyword arguments of :func:`slam.io.write_volume_dicom` / ``write_series_dicom`` for ``study``."""
    return dict(
        laterality=study.laterality, view=study.view, pixel_spacing=study.pixel_spacing,
        slice_spacing=study.slice_spacing, window_center=study.window_center, window_width=study.window_width,
        bits_stored=study.bits_stored, patient_id=study.patient_id, patient_name=f"PHANTOM^{study.patient_id}",
        study_uid=study.study_uid, series_uid=_uid(study, "series"), sop_instance_uid=_uid(study, "sop"),
        frame_of_reference_uid=_uid(study, "frame"), study_date=STUDY_DATE, study_time="000000",
        series_description=f"SLAM phantom {study.dbtex_view} seed {study.seed}",
    )


def write_study(out_dir: str | os.PathLike, study: PhantomStudy, number: int, transfer_syntax: str | None = None,
                as_zip: bool = False) -> tuple[FilePath, Label, list[GroundTruthBox]]:
    """Write one study under ``out_dir`` (one multi-frame DICOM, or a zip of single-frame files)
    and return its rows for the three CSVs."""
    name = transfer_syntax_name(transfer_syntax)
    out_dir = Path(out_dir)
    descriptive, classic = study_paths(study, number, ".zip" if as_zip else ".dcm")
    target = out_dir / descriptive
    if as_zip:
        if study.photometric != "MONOCHROME2":
            raise SlamError(f"a zip of single-frame files is written MONOCHROME2 only, not {study.photometric}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in write_series_dicom(tmp, study.volume, transfer_syntax=name, **dicom_meta(study)):
                info = zipfile.ZipInfo(path.name, date_time=(2000, 1, 1, 0, 0, 0))  # fixed stamp: reproducible
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    else:
        write_volume_dicom(target, study.volume, transfer_syntax=name, photometric=study.photometric,
                           **dicom_meta(study))
    key = (study.patient_id, study.study_uid, study.dbtex_view)
    label = study.label
    labels = Label(*key, *(int(label == c) for c in ("Normal", "Actionable", "Benign", "Cancer")))
    boxes = [GroundTruthBox(*key, str(i + 1), les.slice, les.x, les.y, les.width, les.height, les.cls, 0, study.depth)
             for i, les in enumerate(study.lesions)]
    return FilePath(*key, descriptive, classic), labels, boxes


def write_csvs(out_dir: str | os.PathLike, rows: list[tuple[FilePath, Label, list[GroundTruthBox]]]) -> None:
    """Write file-paths.csv, labels.csv and boxes.csv in ``out_dir``."""
    out_dir = Path(out_dir)
    write_file_paths_csv(out_dir / "file-paths.csv", [r[0] for r in rows])
    write_labels_csv(out_dir / "labels.csv", [r[1] for r in rows])
    write_boxes_csv(out_dir / "boxes.csv", [b for r in rows for b in r[2]])


STUDY_COLUMNS = ("PatientID", "StudyUID", "View", "Style", "Photometric", "BitsStored", "WindowCenter",
                 "WindowWidth", "PixelSpacing", "Rows", "Columns", "Slices", "Draw")
LESION_COLUMNS = ("PatientID", "StudyUID", "View", "Box", "Style", "Margin", "Class", "Slice", "Diameter_mm",
                  "HalfDepth_mm", "Interior", "Level", "Contrast", "CNR")


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def style_rows(study: PhantomStudy) -> tuple[list, list[list]]:
    """The study's studies.csv row and its lesions.csv rows (CNRs measured on its volume)."""
    draw = "" if study.style_draw is None else ";".join(f"{k}={v}" for k, v in study.style_draw.row().items())
    key = [study.patient_id, study.study_uid, study.dbtex_view]
    row = [*key, study.style, study.photometric, study.bits_stored, _fmt(study.window_center),
           _fmt(study.window_width), _fmt(study.pixel_spacing[0]), study.height, study.width, study.depth, draw]
    cnrs = study_cnrs(study) if study.lesion_masks else [None] * len(study.lesions)
    lesions = [[*key, i + 1, study.style, les.margin, les.cls, les.slice, _fmt(les.diameter_mm),
                _fmt(les.half_depth_mm), _fmt(les.interior), _fmt(les.level), _fmt(les.contrast), _fmt(cnr)]
               for i, (les, cnr) in enumerate(zip(study.lesions, cnrs, strict=True))]
    return row, lesions


def write_style_csvs(out_dir: str | os.PathLike, rows: list[tuple[list, list[list]]]) -> None:
    """Write studies.csv and lesions.csv (columns :data:`STUDY_COLUMNS`, :data:`LESION_COLUMNS`) in ``out_dir``."""
    out_dir = Path(out_dir)
    for name, columns, lines in (("studies.csv", STUDY_COLUMNS, [r[0] for r in rows]),
                                 ("lesions.csv", LESION_COLUMNS, [x for r in rows for x in r[1]])):
        with open(out_dir / name, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(lines)


def write_dataset(out_dir: str | os.PathLike, n: int, seed: int, size: str = "small", transfer_syntax: str | None = None,
                  progress: Callable[[int, int, PhantomStudy, Path], None] | None = None, *,
                  styles: str | Sequence[str] = "classic") -> Path:
    """Generate ``n`` studies and write them in the BCS-DBT layout under ``out_dir``.

    Study i uses seed :func:`dataset_seed` (seed, i), so datasets with different seeds share
    no study. ``transfer_syntax``: None (uncompressed), a short name or the UID of a lossless
    syntax (RLE, JPEG 2000 lossless, JPEG-LS lossless). ``progress(i, n, study, path)`` is called
    after each study. ``styles``: "classic" (default), a style family, "train" (= "mixed": every family
    but the held-out one), "heldout", "all" or a list (:func:`slam.phantom.styles.resolve_styles`);
    study i gets the (i mod k)-th of the k selected styles. Returns ``out_dir``.
    """
    if not isinstance(n, int) or not 1 <= n < 100_000:
        raise SlamError(f"phantom dataset size must be 1 to 99999 studies, got {n!r}")
    if not isinstance(seed, int) or seed < 0:
        raise SlamError(f"phantom seed must be a non-negative integer, got {seed!r}")
    transfer_syntax_name(transfer_syntax)  # fail before generating anything
    chosen = resolve_styles(styles)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, extra = [], []
    for i in range(n):
        study = generate_study(dataset_seed(seed, i), size, style=chosen[i % len(chosen)])
        rows.append(write_study(out_dir, study, i + 1, transfer_syntax))
        extra.append(style_rows(study))
        if progress is not None:
            progress(i + 1, n, study, out_dir / rows[-1][0].descriptive_path)
    write_csvs(out_dir, rows)
    write_style_csvs(out_dir, extra)
    return out_dir
