"""The BCS-DBT ground-truth CSVs and the DBTex predictions CSV (design.md §1); column names are a contract."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from pathlib import Path

from slam.errors import SlamError

FILE_PATHS_COLUMNS = ("PatientID", "StudyUID", "View", "descriptive_path", "classic_path")
LABELS_COLUMNS = ("PatientID", "StudyUID", "View", "Normal", "Actionable", "Benign", "Cancer")
BOXES_COLUMNS = (
    "PatientID", "StudyUID", "View", "Subject", "Slice", "X", "Y", "Width", "Height", "Class", "AD", "VolumeSlices",
)
PREDICTIONS_COLUMNS = ("PatientID", "StudyUID", "View", "X", "Width", "Y", "Height", "Z", "Depth", "Score")
VIEWS = ("lcc", "rcc", "lmlo", "rmlo")


@dataclass(frozen=True)
class FilePath:
    patient_id: str
    study_uid: str
    view: str
    descriptive_path: str
    classic_path: str


@dataclass(frozen=True)
class Label:
    patient_id: str
    study_uid: str
    view: str
    normal: int
    actionable: int
    benign: int
    cancer: int


@dataclass(frozen=True)
class GroundTruthBox:
    """A BCS-DBT box: X, Y top-left in original pixels; ``slice`` the central slice (0-based)."""

    patient_id: str
    study_uid: str
    view: str
    subject: str
    slice: int
    x: float
    y: float
    width: float
    height: float
    cls: str
    ad: int
    volume_slices: int


@dataclass(frozen=True)
class Prediction:
    """A DBTex prediction: X, Y, Width, Height in original pixels; Z first slice, Depth slice count."""

    patient_id: str
    study_uid: str
    view: str
    x: float
    width: float
    y: float
    height: float
    z: float
    depth: float
    score: float


def _rows(path: str | os.PathLike, columns: tuple[str, ...]) -> Iterable[tuple[int, dict[str, str]]]:
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise SlamError(f"{path.name}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
            yield from enumerate(reader, start=2)
    except UnicodeDecodeError:
        raise SlamError(f"{path.name}: not a UTF-8 text CSV; expected columns {', '.join(columns)}") from None


def _number(path: str | os.PathLike, line: int, row: dict[str, str], column: str, kind: type = float,
            minimum: float | None = None) -> float:
    text = (row.get(column) or "").strip()
    try:
        value = kind(float(text)) if kind is int else float(text)
    except ValueError:
        raise SlamError(f"{Path(path).name} line {line}: {column}={text!r} is not a number") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        raise SlamError(f"{Path(path).name} line {line}: {column}={text!r} must be a finite number >= {minimum}")
    return value


def _view(path: str | os.PathLike, line: int, row: dict[str, str]) -> str:
    view = (row.get("View") or "").strip().lower()
    if view not in VIEWS:
        raise SlamError(f"{Path(path).name} line {line}: View={view!r}; accepted: {', '.join(VIEWS)}")
    return view


def resolve_study_path(row: FilePath, base: Path) -> Path:
    """The study file a file-paths.csv ``row`` names: ``descriptive_path`` if it exists, else
    ``classic_path``; a relative entry is taken relative to ``base`` (the CSV's folder), never to
    the working directory, and an absolute one as is.

    Raises:
        SlamError: neither entry names an existing file or folder.
    """
    for entry in (row.descriptive_path, row.classic_path):
        if entry and (path := Path(base) / entry).exists():  # an absolute entry replaces base
            return path
    raise SlamError(f"file-paths.csv {row.patient_id} {row.view}: neither descriptive_path {row.descriptive_path!r} "
                    f"nor classic_path {row.classic_path!r} exists under {base}")  # fmt: skip


def read_file_paths_csv(path: str | os.PathLike) -> list[FilePath]:
    return [
        FilePath(row["PatientID"], row["StudyUID"], _view(path, line, row), row["descriptive_path"], row["classic_path"])
        for line, row in _rows(path, FILE_PATHS_COLUMNS)
    ]


def read_labels_csv(path: str | os.PathLike) -> list[Label]:
    return [
        Label(row["PatientID"], row["StudyUID"], _view(path, line, row),
              *(int(_number(path, line, row, c, int, 0)) for c in LABELS_COLUMNS[3:]))
        for line, row in _rows(path, LABELS_COLUMNS)
    ]


def read_boxes_csv(path: str | os.PathLike) -> list[GroundTruthBox]:
    boxes = []
    for line, row in _rows(path, BOXES_COLUMNS):
        volume_slices = int(_number(path, line, row, "VolumeSlices", int, 1))
        box = GroundTruthBox(
            row["PatientID"], row["StudyUID"], _view(path, line, row), row.get("Subject", ""),
            int(_number(path, line, row, "Slice", int, 0)),
            _number(path, line, row, "X", minimum=0), _number(path, line, row, "Y", minimum=0),
            _number(path, line, row, "Width", minimum=0), _number(path, line, row, "Height", minimum=0),
            row.get("Class", ""), int(_number(path, line, row, "AD", int, 0)), volume_slices,
        )
        if box.slice >= volume_slices:
            raise SlamError(f"{Path(path).name} line {line}: Slice={box.slice} outside a volume of {volume_slices} slices")
        boxes.append(box)
    return boxes


def read_predictions_csv(path: str | os.PathLike) -> list[Prediction]:
    return [
        Prediction(
            row["PatientID"], row["StudyUID"], _view(path, line, row),
            _number(path, line, row, "X"), _number(path, line, row, "Width", minimum=0),
            _number(path, line, row, "Y"), _number(path, line, row, "Height", minimum=0),
            _number(path, line, row, "Z"), _number(path, line, row, "Depth", minimum=0),
            _number(path, line, row, "Score"),
        )
        for line, row in _rows(path, PREDICTIONS_COLUMNS)
    ]


def _write(path: str | os.PathLike, columns: tuple[str, ...], rows: Iterable[tuple]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_predictions_csv(path: str | os.PathLike, predictions: Iterable[Prediction]) -> Path:
    """Write DBTex predictions; coordinates rounded to 0.1 px, scores to 6 digits."""
    return _write(path, PREDICTIONS_COLUMNS, (
        (p.patient_id, p.study_uid, p.view, round(p.x, 1), round(p.width, 1), round(p.y, 1), round(p.height, 1),
         int(p.z), int(p.depth), f"{p.score:.6g}")
        for p in predictions
    ))


def write_file_paths_csv(path: str | os.PathLike, rows: Iterable[FilePath]) -> Path:
    return _write(path, FILE_PATHS_COLUMNS, (astuple(r) for r in rows))


def write_labels_csv(path: str | os.PathLike, rows: Iterable[Label]) -> Path:
    return _write(path, LABELS_COLUMNS, (astuple(r) for r in rows))


def write_boxes_csv(path: str | os.PathLike, rows: Iterable[GroundTruthBox]) -> Path:
    return _write(path, BOXES_COLUMNS, (
        (b.patient_id, b.study_uid, b.view, b.subject, b.slice, int(round(b.x)), int(round(b.y)),
         int(round(b.width)), int(round(b.height)), b.cls, b.ad, b.volume_slices)
        for b in rows
    ))
