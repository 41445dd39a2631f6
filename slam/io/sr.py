"""Findings as a DICOM Comprehensive 3D SR (TID 1500 measurement report), built with highdicom, and back.

One planar ROI measurement group (TID 1410) per finding: its tracking identifier and UID, the box
as a closed polyline (SCOORD, stored-pixel column/row, (0, 0) the top-left corner of the top-left
pixel) on the DBT frame of the finding's central slice, the score as "Probability of cancer", and
the first slice and depth (slices) so that :func:`read_sr` gives back exactly what was written. The
observer is the algorithm as a device (name, version, weights SHA-256).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from slam.errors import SlamError
from slam.io.deid import deidentify
from slam.io.study import Study

_SCORE = codes.DCM.ProbabilityOfCancer
_FIRST_SLICE = hd.sr.CodedConcept("FirstSlice", "99SLAM", "First slice index (0-based)")
_DEPTH = hd.sr.CodedConcept("Depth", "99SLAM", "Number of slices")
_UNITY = hd.sr.CodedConcept("1", "UCUM", "no units")
_SLICES = hd.sr.CodedConcept("{slices}", "UCUM", "slices")
_FINDING = codes.DCM.Finding
_PROCEDURE = codes.DCM.MammographyCAD
SERIES_NUMBER = 901
SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."  # every SR storage SOP class (PS3.4 B.5)
_HEAD_BYTES = 64 * 1024


class FindingLike(Protocol):
    x: float
    y: float
    width: float
    height: float
    z: int
    depth: int
    score: float


@dataclass(frozen=True)
class Finding:
    """One finding read from an SR: box (x, y top-left, width, height) in stored pixels, z first slice
    (0-based), depth in slices, score; ``frame`` the 1-based referenced frame, ``sop_uid`` the DBT instance."""

    x: float
    y: float
    width: float
    height: float
    z: int
    depth: int
    score: float
    frame: int = 0
    sop_uid: str = ""


@dataclass(frozen=True)
class Algorithm:
    """The detector as the SR's observer device: name, version and the SHA-256 of its weights."""

    name: str
    version: str
    weights_sha256: str = ""

    @property
    def uid(self) -> str:
        """A UID fixed by name, version and weights: the same for every run of this algorithm version."""
        return generate_uid(entropy_srcs=["slam-algorithm", self.name, self.version, self.weights_sha256])


def algorithm_series_uid(study_uid: str, algorithm: Algorithm, kind: str) -> str:
    """The series UID of ``kind`` ("SR" or "SM") results of ``algorithm`` in study ``study_uid``:
    every run of the same algorithm version stores its new instances into the same series."""
    return generate_uid(entropy_srcs=["slam-results", study_uid, algorithm.uid, kind])


def _source_dataset(source: Study | Dataset) -> Dataset:
    header = source.header if isinstance(source, Study) else source
    if header is None or "SOPInstanceUID" not in header or "StudyInstanceUID" not in header:
        raise SlamError("an SR needs the source DICOM (its patient, study and instance); "
                        "accepted: a study loaded from DICOM or DICOMweb, not a numpy volume")
    return header


def build_sr(source: Study | Dataset, findings: Sequence[FindingLike], algorithm: Algorithm, *,
             deidentify_output: bool = False, uid_map: dict[str, str] | None = None,
             series_uid: str | None = None, instance_number: int = 1) -> hd.sr.Comprehensive3DSR:
    """The findings on DBT instance ``source`` as a Comprehensive 3D SR (a pydicom Dataset).

    Args:
        source: the DBT view (``Study`` from DICOM/DICOMweb, or its header Dataset); patient and study
            are copied from it.
        findings: objects with x, y, width, height (stored pixels), z (first slice, 0-based), depth, score.
        deidentify_output: apply the PS3.15 basic profile (:mod:`slam.io.deid`); ``uid_map`` keeps UIDs
            consistent with the other files of the same export (the referenced instance included).
        series_uid: default :func:`algorithm_series_uid` of the (possibly de-identified) study.
    """
    header = _source_dataset(source)
    if not findings:
        # TID 1500 needs at least one measurement group; an empty CAD report would not be valid.
        raise SlamError("no finding to report: a measurement report SR needs at least one finding; "
                        "accepted: one or more findings (lower the threshold, or write no SR)")
    evidence = deidentify(header, uid_map if uid_map is not None else {}) if deidentify_output else header
    frames = int(evidence.get("NumberOfFrames", 1) or 1)
    groups = []
    for number, finding in enumerate(findings, start=1):
        z, depth = int(finding.z), int(finding.depth)
        if not (0 <= z < frames and depth >= 1 and finding.width > 0 and finding.height > 0):
            raise SlamError(f"finding {number}: slices {z}..{z + depth - 1} or box {finding.width} x {finding.height} "
                            f"outside the study's {frames} frames; accepted: 0 <= z < {frames}, positive sizes")
        # The finding's own slice (a Detection's best slice) else the run's centre, as a 1-based frame number.
        frame = min(int(getattr(finding, "slice", z + depth // 2)), frames - 1) + 1
        x0, y0, x1, y1 = float(finding.x), float(finding.y), float(finding.x + finding.width), float(finding.y + finding.height)
        region = hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]),
            source_image=hd.sr.SourceImageForRegion(
                referenced_sop_class_uid=evidence.SOPClassUID,
                referenced_sop_instance_uid=evidence.SOPInstanceUID,
                referenced_frame_numbers=[frame]))
        measurements = [
            hd.sr.Measurement(name=_SCORE, value=float(finding.score), unit=_UNITY),
            hd.sr.Measurement(name=_FIRST_SLICE, value=z, unit=_SLICES),
            hd.sr.Measurement(name=_DEPTH, value=depth, unit=_SLICES),
        ]
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"Finding {number}"),
            referenced_region=region, finding_type=_FINDING, measurements=measurements,
            algorithm_id=hd.sr.AlgorithmIdentification(
                name=algorithm.name, version=algorithm.version,
                parameters=[f"weights sha256 {algorithm.weights_sha256}"] if algorithm.weights_sha256 else None)))
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=algorithm.uid, name=algorithm.name, manufacturer_name="SLAM",
            model_name=algorithm.version, serial_number=(algorithm.weights_sha256 or "none")[:64]))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=_PROCEDURE, imaging_measurements=groups)
    study_uid = str(evidence.StudyInstanceUID)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[evidence], content=report,
        series_instance_uid=series_uid or algorithm_series_uid(study_uid, algorithm, "SR"),
        series_number=SERIES_NUMBER, sop_instance_uid=generate_uid(), instance_number=instance_number,
        manufacturer="SLAM", series_description=f"{algorithm.name} {algorithm.version} findings"[:64],
        institution_name=None, is_complete=True, is_final=False)
    if deidentify_output:
        sr.PatientIdentityRemoved = "YES"
        sr.DeidentificationMethod = evidence.DeidentificationMethod
        sr.DeidentificationMethodCodeSequence = evidence.DeidentificationMethodCodeSequence
    return sr


def write_sr(path: str | os.PathLike, source: Study | Dataset, findings: Sequence[FindingLike],
             algorithm: Algorithm, **options) -> Path:
    """:func:`build_sr` written to ``path``; ``options`` as :func:`build_sr`."""
    sr = build_sr(source, findings, algorithm, **options)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sr.save_as(path, enforce_file_format=True)
    return path


def read_sr(source: str | os.PathLike | Dataset) -> list[Finding]:
    """The findings of an SR written by :func:`write_sr`, in its order (boxes in stored pixels).

    Raises:
        SlamError: not an SR, or an SR whose measurement groups SLAM did not write.
    """
    ds = source if isinstance(source, Dataset) else _read_dataset(source)
    try:
        sr = hd.sr.Comprehensive3DSR.from_dataset(ds)
    except (ValueError, AttributeError, TypeError) as exc:
        raise SlamError(f"not a readable DICOM SR ({type(exc).__name__}); accepted: a Comprehensive 3D SR "
                        "written by SLAM") from None
    findings = []
    for number, group in enumerate(sr.content.get_planar_roi_measurement_groups(), start=1):
        values = {m.name.value: m.value for m in group.get_measurements()}
        region = group.roi
        if region is None or _SCORE.value not in values or _FIRST_SLICE.value not in values:
            raise SlamError(f"SR measurement group {number} lacks SLAM's region, score or slices; "
                            "accepted: SRs written by SLAM")
        points = np.asarray(region.value, dtype=np.float64)
        reference = region.ReferencedImageSequence[0] if "ReferencedImageSequence" in region else None
        if reference is None and "ContentSequence" in region:
            reference = region.ContentSequence[0].ReferencedSOPSequence[0]
        frame = int(reference.get("ReferencedFrameNumber", 0)) if reference is not None else 0
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        findings.append(Finding(float(x0), float(y0), float(x1 - x0), float(y1 - y0), int(values[_FIRST_SLICE.value]),
                                int(values[_DEPTH.value]), float(values[_SCORE.value]), frame,
                                str(reference.ReferencedSOPInstanceUID) if reference is not None else ""))
    return findings


def detections_for(sr: str | os.PathLike | Dataset, study: Study, coords: str = "display") -> list:
    """The findings of SLAM SR ``sr`` that lie on DBT view ``study``, as
    :class:`slam.detection.findings.Detection` (highest score first), boxes in ``coords`` pixels
    ("display" or "stored"), slices 0-based.

    The SR must report on this study (its StudyInstanceUID) and on this view (the findings' referenced
    SOP Instance UID); a de-identified SR names neither any more, so it is refused too.

    Raises:
        SlamError: not a SLAM SR, another study or view, or findings outside the study's slices or pixels.
    """
    from slam.detection.findings import Detection  # slam.detection builds on slam.io, not the other way

    if coords not in ("display", "stored"):
        raise SlamError(f"coords {coords!r}; accepted: display or stored")
    header = _source_dataset(study)
    ds = sr if isinstance(sr, Dataset) else _read_dataset(sr)
    findings = read_sr(ds)
    accepted = "accepted: a SLAM SR of the open study, not de-identified"
    if str(ds.get("StudyInstanceUID", "")) != str(header.StudyInstanceUID):
        raise SlamError(f"this SR reports on another study, not the open one; {accepted}")
    mine = [f for f in findings if f.sop_uid == str(header.SOPInstanceUID)]
    if not mine:
        raise SlamError(f"this SR reports on another view (DBT instance) of this study, not the open one; {accepted}")
    detections = []
    for number, f in enumerate(mine, start=1):
        inside = f.x >= 0 and f.y >= 0 and f.x + f.width <= study.width + 1e-3 and f.y + f.height <= study.height + 1e-3
        if not (inside and f.z >= 0 and f.z + f.depth <= study.depth):
            raise SlamError(f"SR finding {number} lies outside the open study's {study.depth} slices of "
                            f"{study.height} x {study.width} pixels; {accepted}")
        box = study.box_to_display(f.x, f.y, f.width, f.height) if coords == "display" else (f.x, f.y, f.width, f.height)
        detections.append(Detection(*box, z=f.z, depth=f.depth, score=f.score))
    return sorted(detections, key=lambda d: -d.score)


def is_sr(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a DICOM file (with its file meta) of an SR storage class.

    Only the first 64 KiB are parsed, so a hostile upload (a header flood, a bomb) costs nothing here;
    the loader's own limits deal with it afterwards.
    """
    try:
        with open(path, "rb") as file:
            head = io.BytesIO(file.read(_HEAD_BYTES))
        meta = pydicom.dcmread(head, stop_before_pixels=True, specific_tags=["SOPClassUID"]).file_meta
    except Exception:  # anything unreadable in the head is simply not an SR: the loader reports on it
        return False
    return str(meta.get("MediaStorageSOPClassUID", "")).startswith(SR_CLASS_PREFIX)


def _read_dataset(path: str | os.PathLike) -> Dataset:
    try:
        return pydicom.dcmread(path)
    except (pydicom.errors.InvalidDicomError, OSError, ValueError, TypeError, AttributeError, EOFError) as exc:
        raise SlamError(f"not a readable DICOM SR ({type(exc).__name__}); accepted: a Comprehensive 3D SR "
                        "written by SLAM") from None
