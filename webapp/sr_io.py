"""DICOM SR in the web app: the session's findings as a Comprehensive 3D SR (download, or stored into
the PACS study they came from with the synthetic mammogram), and a SLAM SR read back over the open study.

The library does the DICOM work (``slam.io.sr``, ``slam.io.dicomweb``); these functions pick the
session's findings, convert their boxes from display to stored pixels and say what happened in one line.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from dicomweb_client.api import DICOMwebClient

from slam.detection.findings import Detection
from slam.errors import SlamError
from slam.io.sr import Algorithm
from webapp.state import Session

SR_EXPORT_NAME = "slam_findings_sr.dcm"
# The timings key (seconds) of findings read from an SR: they are not this detector's, so they are not
# exported or stored again under its name.
READ_SR = "read_sr"


def algorithm_of(weights: Path | None) -> Algorithm:
    """The SR's observer device: SLAM, its version and the SHA-256 of ``weights`` ('' without weights)."""
    import slam
    from slam.commands.predict import sha256_of

    return Algorithm(name="SLAM", version=slam.__version__,
                     weights_sha256=sha256_of(weights) if weights is not None and weights.is_file() else "")


def stored_findings(session: Session, threshold: float) -> list[Detection]:
    """The session's detections scoring ≥ ``threshold`` (best first), boxes in stored pixels.

    Raises:
        SlamError: no study, no detection yet, or none above the threshold (an SR needs one).
    """
    study = session.study
    if study is None:
        raise SlamError("no study loaded; open a file, a PACS study or an example first")
    if session.prediction is None:
        raise SlamError("no findings yet; press Detect first (or upload a SLAM SR of this study)")
    if READ_SR in session.prediction.timings:
        raise SlamError("these findings were read from an SR, not found by this app's detector; the SR itself "
                        "is their record (press Detect for this detector's own findings)")
    shown = [d for d in session.prediction.detections if d.score >= threshold]
    if not shown:
        raise SlamError(f"no finding above the threshold ({threshold:.2f}); an SR reports at least one finding "
                        "(lower the threshold to include weaker ones)")
    return [dataclasses.replace(d, **dict(zip(("x", "y", "width", "height"), study.box_to_stored(
        d.x, d.y, d.width, d.height), strict=True))) for d in shown]


def export_sr(session: Session, threshold: float, deidentify: bool, weights: Path | None) -> Path:
    """The findings ≥ ``threshold`` as a Comprehensive 3D SR file in the session folder (PS3.15
    basic profile applied when ``deidentify``)."""
    from slam.io.sr import write_sr

    findings = stored_findings(session, threshold)
    return write_sr(session.new_file(SR_EXPORT_NAME), session.study, findings, algorithm_of(weights),
                    deidentify_output=bool(deidentify))


def display_sm16(session: Session) -> np.ndarray:
    """The 16-bit synthetic mammogram to store, (H, W) uint16 in display orientation (as ``slam sm``
    and ``slam predict --store`` write it): the session's current one, else the default settings'."""
    from slam.imaging.orientation import flip_image
    from slam.imaging.sm import synthetic_mammogram

    study = session.study
    result = session.sm_result or synthetic_mammogram(study.pixels, invert=study.invert)
    return np.ascontiguousarray(flip_image(result.image16, study.flip_rows, study.flip_cols))


def store_to_pacs(session: Session, threshold: float, weights: Path | None, client: DICOMwebClient) -> str:
    """STOW-RS the SR of the findings ≥ ``threshold`` and the synthetic mammogram into the PACS study
    the open view came from; returns a one-line status.

    A second store adds new instances to the same two series (one per algorithm version) and replaces
    nothing (:func:`slam.io.dicomweb.store_findings`). The stored files keep the study's patient data:
    they go back to the study on the PACS the view was read from.

    Raises:
        SlamError: the view did not come from the PACS, no findings, or the server refused.
    """
    from slam.io.dicomweb import from_dicomweb, store_findings

    study = session.study
    if study is None or not from_dicomweb(study):
        raise SlamError("Store to PACS needs a study opened from the PACS (Open from PACS); "
                        "for an uploaded study, download the SR instead")
    findings = stored_findings(session, threshold)
    stored = store_findings(client, study, findings, algorithm_of(weights), sm_image=display_sm16(session))
    return (f"Stored {len(stored)} new instance(s) into the study on the PACS: the SR of {len(findings)} "
            f"finding{'s' if len(findings) > 1 else ''} ≥ {threshold:.2f} and the synthetic mammogram")


def split_sr(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(study files, SR files) of an upload: SRs are told apart by their SOP Class."""
    from slam.io.sr import is_sr

    studies, srs = [], []
    for path in paths:
        (srs if is_sr(path) else studies).append(path)
    return studies, srs


def apply_sr(session: Session, path: Path) -> str:
    """Show SLAM SR ``path``'s findings over the open study (they become the session's findings);
    returns a one-line status.

    Raises:
        SlamError: no study open, not a SLAM SR, or an SR of another study or view.
    """
    from slam.detection.findings import StudyPrediction
    from slam.io.sr import detections_for

    study = session.study
    if study is None:
        raise SlamError("an SR shows its findings over its study: open the study first, or upload both together")
    started = time.perf_counter()
    detections = detections_for(path, study, coords="display")
    best = detections[0]
    prediction = StudyPrediction(
        detections=detections, representative_slice=best.z + best.depth // 2,
        slice_weights=np.zeros(0, np.float32),  # an SR holds no slice attention: the chart stays empty
        sampled_indices=np.zeros(0, np.int64), slice_logits=None, coords="display",
        timings={READ_SR: time.perf_counter() - started})
    with session.lock:
        if session.study is not study:
            raise SlamError("a new study was opened while the SR was read; upload it again")
        session.prediction = prediction
    return f"Findings from the SR: {len(detections)} finding{'s' if len(detections) > 1 else ''} shown over the study"
