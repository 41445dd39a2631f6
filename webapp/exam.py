"""The exam: up to four views of one study, opened together, hung as mammography readers expect
(RCC | LCC over RMLO | LMLO: right views on the left, breasts back to back), detected one view after
another, and the viewer component's value (the viewer contract) that shows them. No Gradio here.

Coordinates: detections are in DISPLAY-orientation native pixels (``slam.detection``); the component
gets them in display-STACK pixels (scaled by rows / full_rows). Windows go to the component in STORED
values (the stack carries stored values), converted from the modality units of ``viewing.study_presets``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from slam.errors import SlamError
from slam.imaging.sm import synthetic_mammogram
from slam.io import LoadLimits, Study, load_views, split_studies
from slam.io.limits import exam_room
from webapp import settings, stack_api, zerogpu
from webapp.loading import OVER_PIXEL_LIMIT
from webapp.state import SessionStore
from webapp.viewing import ORIGINAL, study_presets

HANGING = ("RCC", "LCC", "RMLO", "LMLO")  # position 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right
EXAM_HEADERS = ["View", "#", "Score", "Slices"]
NO_SPACING = "no pixel spacing in the file: the reading viewer measures it in pixels (no mm ruler, no scale bar)"
PRESET_NAMES = {"DICOM": "DICOM", "Auto": "auto", "Full range": "full range", "High contrast": "high contrast"}


@dataclass
class ExamView:
    """One hung view: ``id`` "RCC"… (or "VIEW1"… when the tags do not say), its place, study and token;
    ``presets`` its window presets in modality units (``viewing.study_presets``, made once: a full-size
    view's percentiles take ~0.1 s, and the viewer's value is rebuilt on every threshold or detection)."""

    id: str
    position: int
    study: Study
    token: str
    presets: dict[str, tuple[float, float]]
    prediction: object = None  # slam.detection.findings.StudyPrediction once detected


def example_exams(folder: Path) -> dict[str, list[Path]]:
    """The bundled exams under ``folder / "exam"`` (a BCS-DBT file-paths.csv, as ``slam phantom --exam``
    writes): "Exam <PatientID> (<n> views)" -> the views' paths, one entry per study."""
    from slam.io.csv_formats import read_file_paths_csv, resolve_study_path

    index = folder / "exam" / "file-paths.csv"
    if not index.is_file():
        return {}
    studies: dict[tuple[str, str], list[Path]] = {}
    for row in read_file_paths_csv(index):
        try:
            studies.setdefault((row.patient_id, row.study_uid), []).append(resolve_study_path(row, index.parent))
        except SlamError:  # a listed view that is not on disk is simply not offered
            continue
    return {f"Exam {pid} ({len(paths)} views)": paths for (pid, _), paths in studies.items()}


def view_id(study: Study) -> str:
    """"RCC", "LCC", "RMLO", "LMLO", or "" when laterality or view is unknown."""
    return f"{study.laterality}{study.view}" if study.dbtex_view else ""


def hang(studies: Sequence[Study]) -> list[tuple[str, int, Study]]:
    """(id, position, study) per study: a known view takes its place in :data:`HANGING`; views of unknown
    or repeated kind take the free places in the order given. Sorted by position; a lone view is at 0.

    Raises:
        SlamError: more than four views.
    """
    if not 1 <= len(studies) <= len(HANGING):
        raise SlamError(f"{len(studies)} views in one exam; accepted: 1 to 4 (RCC, LCC, RMLO, LMLO of one study)")
    placed: dict[int, tuple[str, Study]] = {}
    waiting = []
    for study in studies:
        known = view_id(study)
        if known and HANGING.index(known) not in placed:
            placed[HANGING.index(known)] = (known, study)
        else:
            waiting.append(study)
    free = [p for p in range(len(HANGING)) if p not in placed]
    for position, study in zip(free, waiting, strict=False):
        base = view_id(study) or "VIEW"
        taken = {name for name, _ in placed.values()}
        number = 2 if base != "VIEW" else 1
        while f"{base}{number}" in taken:
            number += 1
        placed[position] = (f"{base}{number}", study)  # a second RCC is "RCC2", unknown views "VIEW1", ...
    hung = [(name, position, study) for position, (name, study) in sorted(placed.items())]
    return [(name, 0, study) for name, _, study in hung] if len(hung) == 1 else hung  # one view fills the viewer


def load_exam(paths: Sequence[Path], limits: LoadLimits, scratch_dir: str | os.PathLike | None = None
               ) -> tuple[list[Study], list[str]]:
    """The studies in ``paths`` (each multi-frame file one view, also inside a zip or folder; the single-frame
    files of each series one view), and a one-line notice per source that failed (it names the file; the
    others still load).

    Raises:
        SlamError: no view could be loaded (the notices, joined), or more than four views.
    """
    studies, notices = [], []
    for group in split_studies(paths, limits):
        name = group[0].name if len(group) == 1 else f"{len(group)} files"
        # the exam's pixel limit holds for its views together: each source gets what the ones before left
        left = exam_room(limits, sum(s.pixels.nbytes for s in studies))
        try:
            studies.extend(load_views(group[0] if len(group) == 1 else group, limits=left, scratch_dir=scratch_dir))
        except SlamError as exc:
            text = str(exc)
            notices.append(text if text.startswith(name) else f"{name}: {text}")
    if not studies:
        raise SlamError("; ".join(notices) if notices else "no file chosen; accepted: a DICOM study, a zip or an npz")
    if len(studies) > len(HANGING):
        raise SlamError(f"{len(studies)} views in one upload; accepted: up to 4 (RCC, LCC, RMLO, LMLO of one exam)")
    uids = {str(getattr(s.header, "StudyInstanceUID", "")) for s in studies if s.header is not None}
    if len(uids - {""}) > 1:
        notices.append(f"these {len(studies)} views come from {len(uids - {''})} different studies; "
                       "they are hung side by side all the same")
    return studies, notices


def open_exam_into(store: SessionStore, key: str, paths: Sequence[Path], label: str, limits: LoadLimits
                   ) -> tuple[list[ExamView], list[str]]:
    """Load ``paths`` as an exam into session ``key`` (created here) within the memory budget (the loader's
    pixel limit is the room left, as in ``loading.open_into``) and :func:`place_exam` it. Returns the views
    and the notices (files that did not load, views the reading viewer cannot show).

    Raises:
        SlamError: nothing loadable, too many views, or no memory left (the session keeps what it had).
    """
    session = store.get(key)
    room = store.room_for(key)
    budget = dataclasses.replace(limits, max_pixel_bytes=min(limits.max_pixel_bytes, room),
                                 max_exam_pixel_bytes=min(limits.max_exam_pixel_bytes, room))
    try:
        studies, notices = load_exam(paths, budget, session.workdir)
    except SlamError as exc:
        if room < limits.max_exam_pixel_bytes and any(m in str(exc) for m in OVER_PIXEL_LIMIT):
            raise SlamError(store.full_message(None, room)) from None  # over the room left, not the loader's cap
        raise
    views = place_exam(store, key, studies, label)
    return views, notices + [f"{v.id}: {NO_SPACING}" for v in views if not v.study.pixel_spacing]


def place_exam(store: SessionStore, key: str, studies: Sequence[Study], label: str) -> list[ExamView]:
    """Give session ``key`` the loaded ``studies`` as its exam if they fit the memory budget: hung, each
    with a display stack and token (webapp.stack_api) and an SM made on request. The session's ``study``
    becomes the first hung view (the single-view tools work on it).

    Raises:
        SlamError: too many views, or no memory left (the session keeps what it had).
    """
    session = store.get(key)
    hung = hang(studies)
    store.make_room(key, sum(int(s.pixels.nbytes) for s in studies))
    with ThreadPoolExecutor(len(hung)) as pool:  # numpy's copies and partitions release the GIL
        presets = list(pool.map(study_presets, [study for _, _, study in hung]))
    with session.lock:
        session.reset()  # drops the session's previous tokens too
        tokens = stack_api.register_views(stack_api.REGISTRY, key, [study for _, _, study in hung],
                                          settings.STACK_SIZE)
        views = [ExamView(name, position, study, token, window)
                 for (name, position, study), token, window in zip(hung, tokens, presets, strict=True)]
        for view in views:
            stack_api.REGISTRY.get(view.token).sm_source = sm_source(view.study)
        session.exam = views
        session.study = views[0].study
        session.presets[ORIGINAL] = views[0].presets
        session.label = label
    return views


def sm_source(study: Study) -> Callable[[], tuple]:
    """The view's whole-volume SM (default settings) and its source-slice map, made when first asked for."""

    def make():
        result = synthetic_mammogram(study.pixels, invert=study.invert, source_map=True)
        return result.image16, result.source_slices

    return make


def stored_window(study: Study, center: float, width: float) -> list[float]:
    """A (center, width) window in modality units -> [center, width] in stored values."""
    slope = study.rescale_slope or 1.0
    return [(center - study.rescale_intercept) / slope, width / abs(slope)]


def findings_of(view: ExamView, stack: stack_api.ViewStack) -> list[dict]:
    """The view's detections (score ≥ 0.05, best first) in display-stack pixels, each with its slices."""
    prediction = view.prediction
    if prediction is None:
        return []
    sx, sy = stack.columns / view.study.width, stack.rows / view.study.height
    found = []
    for number, d in enumerate(prediction.detections, start=1):
        found.append({"x": d.x * sx, "y": d.y * sy, "width": d.width * sx, "height": d.height * sy,
                      "slice": d.slice, "first_slice": d.z, "last_slice": d.z + d.depth - 1,
                      "score": round(d.score, 4), "label": f"F{number}"})
    return found


def viewer_value(views: Sequence[ExamView], threshold: float = 0.5, show_boxes: bool = True, sync: bool = True
                 ) -> dict | None:
    """The viewer component's value (the viewer contract) for ``views``; None when none is open."""
    viewports = []
    for view in views:
        stack = stack_api.REGISTRY.get(view.token)
        if stack is None:
            continue
        study = view.study
        presets = {PRESET_NAMES[name]: stored_window(study, *window) for name, window in view.presets.items()}
        viewports.append({
            "id": view.id, "position": view.position,
            "label": f"{study.laterality} {study.view}" if view_id(study) else view.id,
            "laterality": study.laterality, "view": study.view,
            **stack.describe(view.token),
            "window": dict(zip(("center", "width"), presets["DICOM"], strict=True)),
            "presets": presets, "invert": study.invert,
            "findings": findings_of(view, stack),
        })
    if not viewports:
        return None
    return {"viewports": viewports, "threshold": float(threshold), "show_boxes": bool(show_boxes), "sync": bool(sync)}


def detect_exam(views: Sequence[ExamView], weights: Path,
                progress: Callable[[str, float], None] | None = None) -> dict[str, float]:
    """Run the detector on every view, one after another (one ZeroGPU call for the exam); keeps each
    view's prediction. Returns the timings (webapp.zerogpu.detect_views)."""
    predictions, timings = zerogpu.detect_views([v.study for v in views], weights, progress)
    for view, prediction in zip(views, predictions, strict=True):
        view.prediction = prediction
    return timings


def view_scores(views: Sequence[ExamView]) -> dict[str, float]:
    """Per view, its highest finding score (0 when it has none), in hanging order."""
    return {v.id: max((d.score for d in v.prediction.detections), default=0.0) for v in views if v.prediction}


def exam_summary(views: Sequence[ExamView], threshold: float) -> str:
    """Markdown verdict of the detector over the exam: the exam score (the highest finding score over the
    views) and per-view scores. Worded as the model's output, never as a reading ("Normal")."""
    scores = view_scores(views)
    if not scores:
        return ""
    exam_score = max(scores.values())
    per_view = " · ".join(f"{name} {score:.2f}" for name, score in scores.items())
    if exam_score < threshold:
        return (f"### No finding above the threshold ({threshold:.2f})\nExam score {exam_score:.2f} (per view: "
                f"{per_view}). No finding is not a normal read: the detector's sensitivity is in the model card.")
    best = max(scores, key=scores.get)
    count = sum(1 for v in views if v.prediction for d in v.prediction.detections if d.score >= threshold)
    return (f"### ⚠️ {count} finding{'s' if count > 1 else ''} ≥ {threshold:.2f}\nExam score **{exam_score:.2f}** "
            f"({best}); per view: {per_view}.")


def exam_rows(views: Sequence[ExamView], threshold: float) -> list[list]:
    """One row per finding ≥ ``threshold`` over the views, best first: view, label (as drawn), score, slices (1-based)."""
    rows = [[v.id, f"F{n}", round(d.score, 3), f"{d.z + 1}–{d.z + d.depth}"]
            for v in views if v.prediction for n, d in enumerate(v.prediction.detections, start=1) if d.score >= threshold]
    return sorted(rows, key=lambda row: -row[2])


def finding_text(views: Sequence[ExamView], selected: dict) -> str:
    """The details of the finding the viewer's ``select`` event names ({"viewport", "slice", "finding"})."""
    view = next((v for v in views if v.id == selected.get("viewport")), None)
    label = selected.get("finding")
    if view is None or view.prediction is None or not isinstance(label, str) or not label[1:].isdigit():
        return ""
    number = int(label[1:])
    if not 1 <= number <= len(view.prediction.detections):
        return ""
    d = view.prediction.detections[number - 1]
    return (f"**{view.id} {label}**: score {d.score:.2f}, slices {d.z + 1}–{d.z + d.depth}, "
            f"{d.width:.0f} × {d.height:.0f} px at ({d.x:.0f}, {d.y:.0f}) (display pixels)")
