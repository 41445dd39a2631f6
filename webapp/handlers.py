"""What the UI's events do, as plain functions of a :class:`~webapp.state.Session` (no Gradio here).

The image work is in ``slam`` (``slam.imaging.viewport`` for the slice view, ``slam.imaging.sm``, ``slam.imaging.preprocess``,
``slam.detection.predictor``); these functions pick what to show and turn it into HTML, tables and files.
Boxes are kept in DISPLAY-orientation original pixels; exports convert where a format needs stored ones.
"""

from __future__ import annotations

import html
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slam.detection.weights import model_card as weights_card
from slam.detection.weights import resolve_weights
from slam.errors import SlamError
from slam.imaging.display import robust_window
from slam.imaging.orientation import flip_image
from slam.imaging.viewport import (
    BOX_COLOR,
    TOP_BOX_COLOR,
    View,
    draw_boxes,
    encode_jpeg,
    make_view,
    render_slice,
)
from slam.io import write_derived_dicom, write_png
from webapp.state import Session

ORIGINAL, PREPROCESSED = "Original", "Preprocessed"
PRESETS = ("DICOM", "Auto", "Full range", "High contrast")
# (h, w) of the slice view image: about the size the page shows it at (80 % of a 1000 px tall window);
# zoom shows finer detail. SLAM_VIEW_MAX=1024 suits large screens.
DISPLAY_MAX = (int(os.environ.get("SLAM_VIEW_MAX", "800")),) * 2
SM_PANEL_MAX = (1024, 1024)
DISCLAIMER = "Research software: not for clinical use. Findings are not a diagnosis."
EXTENSIONS = (".dcm", ".dicom", ".zip", ".npz", ".npy")


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


@dataclass(frozen=True)
class SMParams:
    """The SM controls (SPEC §7): slab centre/size in slices, MIP mode, weighting, and the [0, 1] scale
    threshold, window and level; CLAHE on the result."""

    center: float | None = None
    size: int | None = None
    mode: str = "max"
    weighting: str = "sigmoid"
    threshold: float = 0.8
    window: float = 0.70
    level: float = 0.62
    clahe: bool = False


# ---------------------------------------------------------------- loading


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
    study = session.study
    if source == PREPROCESSED:
        slope, intercept, dicom = 1.0, 0.0, (127.5, 255.0)
        low, high = 0.0, 255.0
    else:
        slope, intercept = study.rescale_slope, study.rescale_intercept
        dicom = (study.window_center, study.window_width)
        bits = study.bits_stored or study.pixels.dtype.itemsize * 8
        ends = (intercept, ((1 << bits) - 1) * slope + intercept)
        low, high = min(ends), max(ends)
    auto = robust_window(source_volume(session, source), slope, intercept)
    presets = {
        "DICOM": dicom,
        "Auto": auto,
        "Full range": ((low + high) / 2, max(high - low, 1.0)),
        "High contrast": (auto[0], max(auto[1] / 2, 1.0)),
    }
    session.presets[source] = presets
    return presets


def window_limits(session: Session, source: str) -> tuple[float, float]:
    """(low, high) of the window centre control; widths go from 1 to high - low."""
    full = window_presets(session, source)["Full range"]
    return full[0] - full[1] / 2, full[0] + full[1] / 2


# ---------------------------------------------------------------- slice view


def visible_findings(session: Session, threshold: float) -> list:
    """Detections scoring ≥ ``threshold``, best first (display pixels)."""
    if session.prediction is None:
        return []
    return [d for d in session.prediction.detections if d.score >= threshold]


def findings_on_slice(session: Session, index: int, threshold: float) -> list:
    """The visible detections whose slice range z..z+depth-1 contains ``index``."""
    return [d for d in visible_findings(session, threshold) if d.z <= index < d.z + d.depth]


def _box_overlay(detections: Sequence, top_score: float | None) -> tuple[list, list[str], list]:
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
            boxes, labels, colors = _box_overlay(shown, top)
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


EMPTY_VIEW = '<div class="slam-empty">Open a study or pick an example to start.</div>'


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


# ---------------------------------------------------------------- preprocessing and SM


def run_preprocess(session: Session, progress: Callable[[int, int], None] | None = None, workers: int = 2) -> str:
    """SPEC §3 preprocessing of every slice into ``session.preprocessed`` ((D, H, W) uint8)."""
    require_study(session)
    from slam.imaging.preprocess import preprocess_volume

    study = session.study
    result = preprocess_volume(study.pixels, workers=workers, progress=progress, invert=study.invert)
    with session.lock:
        if session.study is study:  # a new study may have been opened meanwhile
            session.preprocessed = result
            session.presets.pop(PREPROCESSED, None)
    return f"Preprocessed {study.depth} slices (denoising, border artifacts, CLAHE)"


def compute_sm(session: Session, params: SMParams, source: str = ORIGINAL) -> np.ndarray:
    """The SM (SPEC §7) of the chosen source at native resolution: (H, W) uint8, display orientation.

    Stored in ``session.sm``; the 16-bit version is recomputed on export.
    """
    require_study(session)
    from slam.imaging.sm import synthetic_mammogram

    study = session.study
    result = synthetic_mammogram(
        source_volume(session, source), **_sm_kwargs(study.depth, params), invert=study.invert,
    )
    with session.lock:
        if session.study is not study:
            raise SlamError("a new study was opened while the SM was computed; try again")
        session.sm_result = result
        session.sm = np.ascontiguousarray(flip_image(result.image8, study.flip_rows, study.flip_cols))
    return session.sm


def _sm_kwargs(depth: int, params: SMParams) -> dict:
    size = None if params.size is None else int(np.clip(params.size, 1, depth))
    center = None if params.center is None else float(np.clip(params.center, 0, depth - 1))
    return dict(center_slice=center, num_slices=size, mode=params.mode, weighting=params.weighting,
                threshold=float(params.threshold), window=float(max(params.window, 1e-3)),
                level=float(params.level), apply_clahe=bool(params.clahe))


def sm_boxes(session: Session, threshold: float) -> tuple[list, list[str], list]:
    found = visible_findings(session, threshold)
    return _box_overlay(found, found[0].score if found else None)


def sm_panel(session: Session, overlay: bool, threshold: float) -> str | None:
    """A display-size JPEG of the current SM (boxes drawn when ``overlay``), in the session folder."""
    if session.sm is None:
        return None
    height, width = session.sm.shape
    view = make_view(height, width, 1.0, (0.5, 0.5), SM_PANEL_MAX)
    image = render_slice(session.sm, view, 127.5, 255.0)
    if overlay:
        boxes, labels, colors = sm_boxes(session, threshold)
        if boxes:
            image = draw_boxes(image, boxes, view, labels, colors)
    path = session.new_file("sm_view.jpg")
    path.write_bytes(encode_jpeg(image, 90))
    return str(path)


# ---------------------------------------------------------------- detection

_MODELS: dict[str, object] = {}
_MODELS_LOCK = threading.Lock()


def find_weights() -> Path | None:
    """The detector weights (``$SLAM_WEIGHTS``, else the shipped default), or None when there are none."""
    try:
        return resolve_weights()
    except SlamError:
        return None


def detector_unavailable(weights: Path | None) -> str | None:
    """Why detection cannot run here (a one-line message), or None when it can."""
    if weights is None or not weights.is_file():
        return "Detection is not available: no model weights found (slam/weights/*.safetensors or $SLAM_WEIGHTS)."
    return None


def model_card(weights: Path | None) -> str:
    """The model card (Markdown beside the weights), or ''."""
    return weights_card(weights) if weights is not None else ""


def card_disclaimer(card: str) -> str:
    """The model card's disclaimer: the section under a heading that names it, else the app's own."""
    lines = card.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#") and "disclaimer" in line.lower():
            body = []
            for following in lines[i + 1:]:
                if following.lstrip().startswith("#"):
                    break
                body.append(following)
            text = "\n".join(body).strip()
            if text:
                return text
    return DISCLAIMER


def load_detector(weights: Path):
    """The model for ``weights``, loaded once per process (thread-safe)."""
    from slam.detection.model import load_model

    key = str(weights.resolve())
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_model(weights)
        return _MODELS[key]


def predict_study(study, weights: Path, device: str | None = None):
    """The detector's StudyPrediction for ``study`` (boxes in display pixels, all scores ≥ 0.05).

    A plain function of picklable arguments, so a ZeroGPU Space can run it on a borrowed GPU.
    """
    from slam.detection.predictor import Predictor

    reason = detector_unavailable(weights)
    if reason:
        raise SlamError(reason)
    predictor = Predictor(load_detector(weights), device=device, coords="display", score_threshold=0.05)
    return predictor.predict(study)


def run_detection(session: Session, weights: Path | None, predict: Callable = predict_study) -> str:
    """Run ``predict(study, weights)`` on the session's study and keep the result. Returns a status line."""
    require_study(session)
    reason = detector_unavailable(weights)
    if reason:
        raise SlamError(reason)
    study = session.study
    prediction = predict(study, weights)
    with session.lock:
        if session.study is not study:
            raise SlamError("a new study was opened while the detector ran; run it again")
        session.prediction = prediction
    return f"Detection done in {prediction.timings.get('total', 0):.1f} s: {len(prediction.detections)} candidate boxes"


def summary(session: Session, threshold: float) -> str:
    """Markdown summary of the detector's output: findings above the threshold or none, with the top score."""
    prediction = session.prediction
    if prediction is None:
        return ""
    found = visible_findings(session, threshold)
    rep = prediction.representative_slice + 1
    if not found:
        top = max((d.score for d in prediction.detections), default=0.0)
        # Worded as the model's output, not a normal read: a weak model (the demo weights) finds little.
        return (f"### No finding above the threshold ({threshold:.2f})\nTop score {top:.2f}. Representative slice: {rep}. "
                "The detector's measured sensitivity is in the model card: no finding is not a normal read.")
    best = found[0]
    return (f"### ⚠️ Finding\n{len(found)} finding{'s' if len(found) > 1 else ''} ≥ {threshold:.2f}; "
            f"top score **{best.score:.2f}** on slices {best.z + 1}–{best.z + best.depth}. "
            f"Representative slice: {rep}.")


FINDINGS_HEADERS = ["#", "Score", "Slices", "Jump to", "X", "Y", "Width", "Height"]


def findings_rows(session: Session, threshold: float) -> list[list]:
    """One row per visible finding (1-based slices; box in display pixels)."""
    rows = []
    for i, d in enumerate(visible_findings(session, threshold), start=1):
        rows.append([i, round(d.score, 3), f"{d.z + 1}–{d.z + d.depth}", jump_slice(session, d) + 1,
                     round(d.x), round(d.y), round(d.width), round(d.height)])
    return rows


def jump_slice(session: Session, detection) -> int:
    """The slice to show for a finding: the representative slice when inside its range, else its centre."""
    rep = session.prediction.representative_slice
    return rep if detection.z <= rep < detection.z + detection.depth else detection.z + detection.depth // 2


def attention_figure(session: Session):
    """Plotly bar chart of the slice-attention weights over the slices (None before detection)."""
    import plotly.graph_objects as go

    prediction = session.prediction
    if prediction is None:
        return None
    weights = np.asarray(prediction.slice_weights, dtype=float)
    slices = np.arange(1, len(weights) + 1)
    rep = prediction.representative_slice
    colors = ["#e8590c" if i == rep else "#4c6ef5" for i in range(len(weights))]
    figure = go.Figure(go.Bar(x=slices, y=weights, marker_color=colors, customdata=slices - 1,
                              hovertemplate="slice %{x}<br>weight %{y:.3f}<extra></extra>"))
    figure.update_layout(
        height=220, margin=dict(l=40, r=10, t=30, b=35), title=dict(text="Slice attention (click a bar to jump)", font_size=13),
        xaxis_title="slice", yaxis_title="weight", bargap=0.1, clickmode="event",
    )
    return figure


# ---------------------------------------------------------------- exports


def _require_sm(session: Session) -> None:
    require_study(session)
    if session.sm is None or session.sm_result is None:
        raise SlamError("no synthetic mammogram yet; it appears once a study is loaded")


def export_sm_png(session: Session, with_boxes: bool, threshold: float) -> Path:
    """The SM at native resolution as PNG (display orientation); boxes burned in colour when asked."""
    _require_sm(session)
    image = session.sm
    if with_boxes:
        boxes, labels, colors = sm_boxes(session, threshold)
        image = draw_boxes(image, boxes, None, labels, colors)
    return write_png(session.new_file("slam_sm.png"), image)


def export_sm_dicom(session: Session, with_boxes: bool, threshold: float, deidentify: bool) -> Path:
    """The SM as a derived 16-bit DICOM in the source's stored orientation (boxes burned in white)."""
    from slam.imaging.sm import burn_boxes

    _require_sm(session)
    study = session.study
    image = session.sm_result.image16
    if with_boxes:
        boxes = [study.box_to_stored(*b) for b in sm_boxes(session, threshold)[0]]
        if boxes:
            image = burn_boxes(image.copy(), [b for b in boxes if b[2] >= 1 and b[3] >= 1])
    return write_derived_dicom(session.new_file("slam_sm.dcm"), image, study, deidentify=deidentify)


def _identity(session: Session, deidentify: bool) -> tuple[str, str]:
    if deidentify:
        return "ANONYMOUS", ""
    patient = session.study.patient
    return str(patient.get("PatientID", "") or ""), str(patient.get("StudyInstanceUID", "") or "")


def export_findings_csv(session: Session, deidentify: bool) -> Path:
    """Every detection (all scores, for FROC) in the DBTex format: stored pixels, 0-based slices."""
    import dataclasses

    from slam.detection.predictor import dbtex_rows
    from slam.io.csv_formats import write_predictions_csv

    require_study(session)
    if session.prediction is None:
        raise SlamError("no findings yet; press Detect first")
    study = session.study
    patient_id, study_uid = _identity(session, deidentify)
    stored = []
    for d in session.prediction.detections:
        x, y, w, h = study.box_to_stored(d.x, d.y, d.width, d.height)
        stored.append(dataclasses.replace(d, x=x, y=y, width=w, height=h))
    rows = dbtex_rows(patient_id, study_uid, study.dbtex_view, stored)
    return write_predictions_csv(session.new_file("slam_findings.csv"), rows)


def export_findings_json(session: Session, threshold: float, deidentify: bool) -> Path:
    """Findings, verdict inputs and slice weights as JSON (boxes in both display and stored pixels)."""
    require_study(session)
    prediction = session.prediction
    if prediction is None:
        raise SlamError("no findings yet; press Detect first")
    study = session.study
    patient_id, study_uid = _identity(session, deidentify)
    findings = []
    for d in prediction.detections:
        stored = study.box_to_stored(d.x, d.y, d.width, d.height)
        findings.append({
            "score": round(float(d.score), 6), "z": int(d.z), "depth": int(d.depth),
            "box_display": [round(float(v), 1) for v in (d.x, d.y, d.width, d.height)],
            "box_stored": [round(float(v), 1) for v in stored],
            "shown": bool(d.score >= threshold),
        })
    document = {
        "patient_id": patient_id, "study_uid": study_uid, "view": study.dbtex_view,
        "shape": [study.depth, study.height, study.width], "threshold": threshold,
        "verdict": "finding" if visible_findings(session, threshold) else "normal",
        "representative_slice": int(prediction.representative_slice),
        "slice_weights": [round(float(w), 6) for w in prediction.slice_weights],
        "findings": findings, "frames": "box_* = [x, y, width, height] pixels; slices 0-based",
        "disclaimer": DISCLAIMER,
    }
    path = session.new_file("slam_findings.json")
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def export_view_png(session: Session, params: ViewParams) -> Path:
    """The slice view as shown (zoom, window, boxes), without the text caption."""
    image, _, _ = render_view(session, params)
    return write_png(session.new_file(f"slam_view_slice{int(params.slice) + 1:03d}.png"), image)
