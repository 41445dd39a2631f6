"""Exports of a session's results: the SM as PNG or derived DICOM, findings as DBTex CSV or JSON, and
the current view as PNG. Files go to the session's folder; boxes are converted to stored pixels where
a format needs them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from slam.errors import SlamError
from slam.imaging.viewport import draw_boxes
from slam.io import write_derived_dicom, write_png
from webapp.detection import DISCLAIMER
from webapp.sm import sm_boxes
from webapp.state import Session
from webapp.viewing import ViewParams, render_view, require_study, visible_findings


def require_sm(session: Session) -> None:
    require_study(session)
    if session.sm is None or session.sm_result is None:
        raise SlamError("no synthetic mammogram yet; it appears once a study is loaded")


def export_sm_png(session: Session, with_boxes: bool, threshold: float) -> Path:
    """The SM at native resolution as PNG (display orientation); boxes burned in colour when asked."""
    require_sm(session)
    image = session.sm
    if with_boxes:
        boxes, labels, colors = sm_boxes(session, threshold)
        image = draw_boxes(image, boxes, None, labels, colors)
    return write_png(session.new_file("slam_sm.png"), image)


def export_sm_dicom(session: Session, with_boxes: bool, threshold: float, deidentify: bool) -> Path:
    """The SM as a derived 16-bit DICOM in the source's stored orientation (boxes burned in white)."""
    from slam.imaging.sm import burn_boxes

    require_sm(session)
    study = session.study
    image = session.sm_result.image16
    if with_boxes:
        boxes = [study.box_to_stored(*b) for b in sm_boxes(session, threshold)[0]]
        if boxes:
            image = burn_boxes(image.copy(), [b for b in boxes if b[2] >= 1 and b[3] >= 1])
    return write_derived_dicom(session.new_file("slam_sm.dcm"), image, study, deidentify=deidentify)


def identity(session: Session, deidentify: bool) -> tuple[str, str]:
    if deidentify:
        return "ANONYMOUS", ""
    patient = session.study.patient
    return str(patient.get("PatientID", "") or ""), str(patient.get("StudyInstanceUID", "") or "")


def export_findings_csv(session: Session, deidentify: bool) -> Path:
    """Every detection (all scores, for FROC) in the DBTex format: stored pixels, 0-based slices."""
    from slam.detection.findings import dbtex_rows
    from slam.io.csv_formats import write_predictions_csv

    require_study(session)
    if session.prediction is None:
        raise SlamError("no findings yet; press Detect first")
    study = session.study
    patient_id, study_uid = identity(session, deidentify)
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
    patient_id, study_uid = identity(session, deidentify)
    findings = []
    for d in prediction.detections:
        stored = study.box_to_stored(d.x, d.y, d.width, d.height)
        findings.append({
            "score": round(float(d.score), 6), "slice": int(d.slice), "z": int(d.z), "depth": int(d.depth),
            "box_display": [round(float(v), 1) for v in (d.x, d.y, d.width, d.height)],
            "box_stored": [round(float(v), 1) for v in stored],
            "shown": bool(d.score >= threshold),
        })
    document = {
        "patient_id": patient_id, "study_uid": study_uid, "view": study.dbtex_view,
        "shape": [study.depth, study.height, study.width], "threshold": threshold,
        # What the detector measured, not a reading: never "normal".
        "findings_at_threshold": len(visible_findings(session, threshold)),
        "volume_score": round(float(prediction.volume_score), 6),
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
