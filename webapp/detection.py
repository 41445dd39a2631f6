"""The detector in the app: which weights, a detection run on the session's study (the model itself, loaded
once per process, is in ``webapp.zerogpu``), and how its output is shown (summary, findings table, slice-attention chart).

A detector's output is not a reading: the summary never says "Normal".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from slam.detection.weights import model_card as weights_card
from slam.detection.weights import resolve_weights
from slam.errors import SlamError
from webapp import zerogpu
from webapp.state import Session
from webapp.viewing import require_study, visible_findings

DISCLAIMER = "Research software: not for clinical use. Findings are not a diagnosis."


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


def run_detection(session: Session, weights: Path | None, stage: Callable[[str], None] = lambda text: None) -> str:
    """Run the detector (:mod:`webapp.zerogpu`) on the session's study and keep the result; ``stage`` hears
    "Loading the model…" (first run in this process) and "Running the detector". Returns a status line
    whose time is the user's wait: model loading included."""
    require_study(session)
    reason = detector_unavailable(weights)
    if reason:
        raise SlamError(reason)
    study = session.study
    if not zerogpu.model_loaded(weights):
        stage("Loading the model…")
    stage("Running the detector")
    (prediction,), timings = zerogpu.detect_views([study], weights)
    with session.lock:
        if session.study is not study:
            raise SlamError("a new study was opened while the detector ran; run it again")
        session.prediction = prediction
    return f"Detection done in {timings['total']:.1f} s{loading_note(timings)}: {len(prediction.detections)} candidate boxes"


def loading_note(timings: dict[str, float]) -> str:
    """' (including loading the model)' when the run loaded it (its time is in the total), else ''."""
    return " (including loading the model)" if timings.get("load", 0) >= 0.05 else ""


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


# One short word each: the table shares its row with the chart, and long headers wrap ("Widt h").
FINDINGS_HEADERS = ["#", "Score", "Slices", "Jump", "X", "Y", "W", "H"]


def findings_rows(session: Session, threshold: float) -> list[list]:
    """One row per visible finding (1-based slices; box in display pixels)."""
    rows = []
    for i, d in enumerate(visible_findings(session, threshold), start=1):
        rows.append([i, round(d.score, 3), f"{d.z + 1}–{d.z + d.depth}", jump_slice(session, d) + 1,
                     round(d.x), round(d.y), round(d.width), round(d.height)])
    return rows


def jump_slice(session: Session, detection) -> int:
    """The slice to show for a finding: its own (where the model sees it best)."""
    return int(detection.slice)


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


