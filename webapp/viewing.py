"""The slice view: its controls (:class:`ViewParams`), window presets, the rendered slice with its boxes
and caption, and the study summary. Plain functions of a :class:`~webapp.state.Session` (no Gradio here).

The image work is in ``slam.imaging.viewport``; boxes are kept in DISPLAY-orientation original pixels.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slam.errors import SlamError
from slam.imaging.display import robust_window
from slam.imaging.viewport import (
    BOX_COLOR,
    TOP_BOX_COLOR,
    View,
    draw_boxes,
    encode_jpeg,
    make_view,
    render_slice,
)
from webapp.settings import DISPLAY_MAX
from webapp.state import Session

ORIGINAL, PREPROCESSED = "Original", "Preprocessed"
PRESETS = ("DICOM", "Auto", "Full range", "High contrast")
EMPTY_VIEW = '<div class="slam-empty">Open a study or pick an example to start.</div>'


@dataclass(frozen=True)
class ViewParams:
    """The slice view controls. ``center``/``width`` in the source's units (modality units for the
    original, 0-255 for preprocessed slices); ``focus`` (fx, fy) fractions of the slice."""

    slice: int = 0
    source: str = ORIGINAL
    center: float = 0.5
    width: float = 1.0
    invert: bool = False
    zoom: float = 1.0
    focus: tuple[float, float] = (0.5, 0.5)
    overlay: bool = True
    threshold: float = 0.5
    deidentify: bool = False



def require_study(session: Session) -> None:
    if session.study is None:
        raise SlamError("no study loaded; open a file or pick an example first")


def source_volume(session: Session, source: str) -> np.ndarray:
    """(D, H, W) stored-orientation pixels of the chosen source."""
    require_study(session)
    if source == PREPROCESSED and session.preprocessed is not None:
        return session.preprocessed
    return session.study.pixels


def active_source(session: Session, source: str) -> str:
    return PREPROCESSED if source == PREPROCESSED and session.preprocessed is not None else ORIGINAL


def window_presets(session: Session, source: str) -> dict[str, tuple[float, float]]:
    """Window (center, width) per preset name for the source, in its display units (cached)."""
    require_study(session)
    source = active_source(session, source)
    if source in session.presets:
        return session.presets[source]
    if source == PREPROCESSED:
        auto = robust_window(session.preprocessed)
        presets = {"DICOM": (127.5, 255.0), "Auto": auto, "Full range": (127.5, 255.0),
                   "High contrast": (auto[0], max(auto[1] / 2, 1.0))}
    else:
        presets = study_presets(session.study)
    session.presets[source] = presets
    return presets


def study_presets(study) -> dict[str, tuple[float, float]]:
    """Window (center, width) per preset name of a study's original pixels, in modality units."""
    slope, intercept = study.rescale_slope, study.rescale_intercept
    bits = study.bits_stored or study.pixels.dtype.itemsize * 8
    ends = (intercept, ((1 << bits) - 1) * slope + intercept)
    low, high = min(ends), max(ends)
    auto = robust_window(study.pixels, slope, intercept)
    return {
        "DICOM": (study.window_center, study.window_width),
        "Auto": auto,
        "Full range": ((low + high) / 2, max(high - low, 1.0)),
        "High contrast": (auto[0], max(auto[1] / 2, 1.0)),
    }


def window_limits(session: Session, source: str) -> tuple[float, float]:
    """(low, high) of the window centre control; widths go from 1 to high - low."""
    full = window_presets(session, source)["Full range"]
    return full[0] - full[1] / 2, full[0] + full[1] / 2


def visible_findings(session: Session, threshold: float) -> list:
    """Detections scoring ≥ ``threshold``, best first (display pixels)."""
    if session.prediction is None:
        return []
    return [d for d in session.prediction.detections if d.score >= threshold]


def findings_on_slice(session: Session, index: int, threshold: float) -> list:
    """The visible detections whose slice range z..z+depth-1 contains ``index``."""
    return [d for d in visible_findings(session, threshold) if d.z <= index < d.z + d.depth]


def box_overlay(detections: Sequence, top_score: float | None) -> tuple[list, list[str], list]:
    boxes = [(d.x, d.y, d.width, d.height) for d in detections]
    labels = [f"{d.score:.2f}" for d in detections]
    colors = [TOP_BOX_COLOR if top_score is not None and d.score >= top_score else BOX_COLOR for d in detections]
    return boxes, labels, colors


def render_view(session: Session, params: ViewParams) -> tuple[np.ndarray, View, int]:
    """The slice view as shown: (h, w) grey or (h, w, 3) RGB uint8, its :class:`View`, boxes drawn."""
    require_study(session)
    study = session.study
    index = int(np.clip(params.slice, 0, study.depth - 1))
    view = make_view(study.height, study.width, params.zoom, params.focus, DISPLAY_MAX)
    source = active_source(session, params.source)
    volume = source_volume(session, source)
    slope, intercept = (1.0, 0.0) if source == PREPROCESSED else (study.rescale_slope, study.rescale_intercept)
    image = render_slice(
        volume[index], view, params.center, max(params.width, 1e-6), slope=slope, intercept=intercept,
        invert=study.invert != params.invert, flip_rows=study.flip_rows, flip_cols=study.flip_cols,
    )
    drawn = 0
    if params.overlay:
        shown = findings_on_slice(session, index, params.threshold)
        if shown:
            top = visible_findings(session, params.threshold)[0].score
            boxes, labels, colors = box_overlay(shown, top)
            image = draw_boxes(image, boxes, view, labels, colors)
            drawn = len(shown)
    return image, view, drawn


def patient_line(session: Session, deidentify: bool) -> str:
    """'Name · ID · sex' of the loaded study, or a placeholder when de-identified."""
    if session.study is None:
        return ""
    if deidentify:
        return "patient hidden"
    patient = session.study.patient
    name = str(patient.get("PatientName", "") or "").replace("^", " ").strip() or "no name"
    pid = str(patient.get("PatientID", "") or "") or "no ID"
    sex = str(patient.get("PatientSex", "") or "") or "sex ?"
    return f"{name} · ID {pid} · {sex}"


def view_name(session: Session) -> str:
    study = session.study
    return (study.dbtex_view.upper() or study.view or "view ?") if study is not None else ""


def caption(session: Session, params: ViewParams, drawn: int = 0) -> str:
    """The text shown over the slice: slice k/D, view, patient (unless de-identified), source, marks."""
    study = session.study
    index = int(np.clip(params.slice, 0, study.depth - 1))
    parts = [f"Slice {index + 1} / {study.depth}", view_name(session), patient_line(session, params.deidentify)]
    if active_source(session, params.source) == PREPROCESSED:
        parts.append("preprocessed")
    if params.zoom > 1:
        parts.append(f"zoom {params.zoom:g}×")
    if session.prediction is not None and index == session.prediction.representative_slice:
        parts.append("★ representative slice")
    if drawn:
        parts.append(f"{drawn} finding{'s' if drawn > 1 else ''} here")
    return " · ".join(p for p in parts if p)


def file_url(path: Path) -> str:
    """URL of a session file, relative to the app root (works under a proxy prefix too)."""
    return f"gradio_api/file={path}"


def view_html(session: Session, params: ViewParams) -> str:
    """The slice view as HTML: the caption and the image (a display-size JPEG in the session folder).

    The image goes by URL, not inline: a few hundred bytes per slice change pass through Gradio's
    event path instead of ≈ 100 KB, and the browser fetches the JPEG directly.
    """
    if session.study is None:
        return EMPTY_VIEW
    image, view, drawn = render_view(session, params)
    index = int(np.clip(params.slice, 0, session.study.depth - 1))
    path = session.view_file()
    path.write_bytes(encode_jpeg(image, 85))
    return (
        f'<div class="slam-cap">{html.escape(caption(session, params, drawn))}</div>'
        f'<img class="slam-img" alt="slice {index + 1}" data-slice="{index}" data-boxes="{drawn}" '
        f'data-view="{view.x0},{view.y0},{view.x1},{view.y1}" src="{file_url(path)}">'
    )


def focus_from_click(session: Session, params: ViewParams, fx: float, fy: float) -> tuple[float, float]:
    """New view centre (fractions of the slice) for a click at (fx, fy) fractions of the shown image."""
    require_study(session)
    study = session.study
    view = make_view(study.height, study.width, params.zoom, params.focus, DISPLAY_MAX)
    x, y = view.to_original(float(np.clip(fx, 0, 1)), float(np.clip(fy, 0, 1)))
    return x / study.width, y / study.height


def study_info(session: Session, deidentify: bool) -> str:
    """Markdown summary of the loaded study (patient line hidden when de-identified)."""
    study = session.study
    if study is None:
        return "No study loaded."
    spacing = f" · {study.pixel_spacing[0]:.3g} mm pixels" if study.pixel_spacing else ""
    return (
        f"**{html.escape(patient_line(session, deidentify))}**  \n"
        f"{view_name(session)} · {study.depth} slices of {study.height} × {study.width}{spacing} · "
        f"{html.escape(study.source_format or 'unknown format')}"
    )




def number(value, name: str, low: float, high: float) -> float:
    """A control's value as a finite float clamped to [low, high].

    Raises:
        SlamError: not a finite number.
    """
    try:
        result = float(value)
    except (TypeError, ValueError):
        result = math.nan
    if not math.isfinite(result):
        raise SlamError(f"{name} must be a finite number; got {str(value)[:20]!r}")
    return min(max(result, low), high)


def params_of(slice_number, source, center, width, invert, zoom, pan_x, pan_y, overlay, threshold, deid) -> ViewParams:
    """UI values (raw: events skip Gradio's checks) -> ViewParams; the slider is 1-based, the index 0-based.

    Raises:
        SlamError: a value is not a finite number (out-of-range ones are clamped).
    """
    return ViewParams(
        slice=int(number(slice_number or 1, "slice", 1, 1e6)) - 1,
        source=PREPROCESSED if source == PREPROCESSED else ORIGINAL,
        center=number(center, "level", -1e9, 1e9), width=number(width, "window", 1e-6, 1e9),
        invert=bool(invert), zoom=number(zoom or 1, "zoom", 1, 8),
        focus=(number(pan_x, "pan x", 0, 1), number(pan_y, "pan y", 0, 1)), overlay=bool(overlay),
        threshold=number(threshold, "score threshold", 0, 1), deidentify=bool(deid),
    )
