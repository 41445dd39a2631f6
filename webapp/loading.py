"""Opening a study in a session: the bundled examples, the memory and time budget of a load, and the
session folders' clean start. Which uploaded files a request may name is ``webapp.uploads``."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from slam.errors import SlamError
from slam.io import LoadLimits, Study, load_study
from webapp.state import Session, SessionStore

EXTENSIONS = (".dcm", ".dicom", ".zip", ".npz", ".npy")
# How slam.io words a refusal over LoadLimits.max_pixel_bytes (DICOM, numpy).
OVER_PIXEL_LIMIT = ("declared pixel data of", "declared arrays of")


def list_examples(folder: Path) -> dict[str, Path]:
    """The bundled example studies in ``folder``: label -> path, in a stable order.

    A ``file-paths.csv`` (BCS-DBT layout, as ``slam phantom`` writes) names them "PatientID view";
    otherwise every study file (.dcm/.zip/.npz/.npy) or folder of .dcm files under ``folder`` counts,
    labelled by its relative path.
    """
    from slam.io.csv_formats import read_file_paths_csv, resolve_study_path

    if not folder.is_dir():
        return {}
    index = folder / "file-paths.csv"
    if index.is_file():
        found = {}
        for row in read_file_paths_csv(index):
            try:
                found[f"{row.patient_id} {row.view}"] = resolve_study_path(row, folder)
            except SlamError:  # a listed study that is not on disk is simply not offered
                continue
        return found
    visible = [p for p in sorted(folder.rglob("*")) if not any(x.startswith(".") for x in p.relative_to(folder).parts)]
    series = [p for p in visible if p.is_dir() and any(f.suffix.lower() in (".dcm", ".dicom") for f in p.iterdir())]
    files = [p for p in visible if p.is_file() and p.suffix.lower() in EXTENSIONS and p.parent not in series]
    return {str(p.relative_to(folder)): p for p in sorted(series + files)}


def parse_size(text: str) -> int:
    """'700mb', '2 GiB', '1gb', '123' -> bytes (k/m/g/t, with or without 'i'/'b')."""
    value = text.strip().lower().replace(" ", "").removesuffix("b").removesuffix("i")
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in "kmgt" else value
    try:
        return int(float(number) * scale)
    except ValueError:
        raise SlamError(f"bad size {text!r}; accepted: a number of bytes with an optional kb/mb/gb suffix") from None


def reset_session_root(session_root: Path) -> None:
    """At start-up: delete what a previous (possibly killed) process left in the session folders."""
    shutil.rmtree(session_root, ignore_errors=True)
    session_root.mkdir(parents=True, exist_ok=True)


def open_into(store: SessionStore, key: str, source, label: str, limits: LoadLimits) -> tuple[Session, Study]:
    """Load ``source`` for session ``key`` within the memory budget and ``limits``; the session (created
    here, the only place sessions are created) gets the study only if it fits.

    The loader gets the room left in the budget as its pixel limit, so a study declaring more is
    refused from its header, before its pixels are decoded.

    Raises:
        SlamError: bad input, over the limits or time budget, or no memory left (the session keeps its study).
    """
    session = store.get(key)
    room = store.room_for(key)
    budget = dataclasses.replace(limits, max_pixel_bytes=min(limits.max_pixel_bytes, room))
    try:
        study = load_study(source, limits=budget, scratch_dir=session.workdir)
    except SlamError as exc:
        if room < limits.max_pixel_bytes and any(m in str(exc) for m in OVER_PIXEL_LIMIT):
            raise SlamError(store.full_message(None, room)) from None  # over the room left, not the loader's cap
        raise
    return place(store, key, study, label), study


def place(store: SessionStore, key: str, study: Study, label: str) -> Session:
    """Give session ``key`` (created when missing: a load) the already loaded ``study`` if it fits the
    memory budget (a study from the PACS arrives this way).

    Raises:
        SlamError: no memory left (the session keeps its study).
    """
    session = store.get(key)
    store.make_room(key, int(study.pixels.nbytes))
    with session.lock:
        session.reset()
        session.study = study
        session.label = label
    return session


def app_limits(max_seconds: float) -> LoadLimits:
    """The loader's default limits with a time budget of ``max_seconds`` per load."""
    return dataclasses.replace(LoadLimits(), max_seconds=max_seconds)
