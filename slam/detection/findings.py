"""What a detector found, without the model: a finding (:class:`Detection`), one volume's findings and
their per-slice evidence (:class:`StudyPrediction`), the verdict line and the DBTex rows. No torch here,
so the SR reader, the exports and the web app's start-up use them without loading the detector
(``slam.detection.predictor`` makes them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from slam.detection.config import ModelConfig
from slam.io.csv_formats import Prediction


@dataclass(frozen=True)
class Detection:
    """One finding: x, y (top-left), width, height in original pixels; z its first slice and depth
    its number of slices (original indices, as DBTex's Z/Depth); score in [0, 1]; ``slice`` the
    original slice where the model sees it best (Jump-to, the slice to show; z <= slice < z + depth).
    Omitted, ``slice`` is the middle of z..z+depth-1."""

    x: float
    y: float
    width: float
    height: float
    z: int
    depth: int
    score: float
    slice: int | None = None

    def __post_init__(self) -> None:
        if self.slice is None:
            object.__setattr__(self, "slice", int(self.z + (self.depth - 1) // 2))


def dbtex_rows(patient_id: str, study_uid: str, view: str, detections: Iterable[Detection]) -> list[Prediction]:
    """One volume's detections -> DBTex prediction rows (csv_formats.Prediction), in the same
    order and pixel frame as the detections (X, Y top-left, Width, Height; Z first slice, Depth)."""
    return [Prediction(patient_id, study_uid, view, x=d.x, width=d.width, y=d.y, height=d.height, z=d.z,
                       depth=d.depth, score=d.score) for d in detections]  # fmt: skip


@dataclass
class StudyPrediction:
    """Detections (highest score first, every candidate kept, at most the model's ``max_findings``)
    and the per-slice evidence behind them.

    ``representative_slice`` original slice index (SLAM: the attention's argmax; baseline: the best
    box's slice); ``slice_weights`` (D,) float32 over the original slices (sums to 1; the baseline
    uses each slice's best box score); ``sampled_indices`` (n,) original indices fed to the model;
    ``slice_logits`` (N,) float32 (SLAM only, else None); ``timings`` seconds per stage;
    ``threshold`` the operating point the findings are read at (the model's ``score_threshold``).
    """

    detections: list[Detection]
    representative_slice: int
    slice_weights: np.ndarray
    sampled_indices: np.ndarray
    slice_logits: np.ndarray | None
    coords: str = "stored"
    timings: dict[str, float] = field(default_factory=dict)
    threshold: float = ModelConfig.score_threshold

    @property
    def volume_score(self) -> float:
        """The volume's score: its best finding's score (0.0 when there is no candidate at all)."""
        return max((d.score for d in self.detections), default=0.0)

    def findings(self) -> list[Detection]:
        """The detections scoring at least :attr:`threshold`, best first."""
        return [d for d in self.detections if d.score >= self.threshold]


def verdict(prediction: StudyPrediction) -> str:
    """One line on what the detector found at its threshold t. Never a reading ("normal"): a
    detector's silence is "no finding above the threshold (t)"."""
    found, t = prediction.findings(), prediction.threshold
    if not found:
        return f"no finding above the threshold ({t:g}); best score {prediction.volume_score:.2f}"
    return f"{len(found)} finding{'s' if len(found) > 1 else ''} ≥ {t:g}; best score {prediction.volume_score:.2f}"
