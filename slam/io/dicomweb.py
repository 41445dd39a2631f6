"""Studies from a PACS over DICOMweb (QIDO-RS search, WADO-RS frames, STOW-RS store), on ``dicomweb-client``.

A DBT view is fetched frame by frame straight into a preallocated ``Study.pixels`` array: nothing is
written to disk and at most one encoded frame is held beside the array. The metadata goes through the
same checks and display defaults as a file (``slam.io.dicom_read``), so a study from the PACS equals
the one ``load_study`` reads from the same file.

Server and credentials come from the arguments or the environment: ``SLAM_DICOMWEB_URL``, then
``SLAM_DICOMWEB_TOKEN`` (a bearer token) or ``SLAM_DICOMWEB_USER`` + ``SLAM_DICOMWEB_PASSWORD``. They
are never logged or put in error messages (URLs with a user:password part are refused).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import requests
from dicomweb_client.api import DICOMwebClient
from highdicom.frame import decode_frame
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels.utils import pixel_dtype
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from slam.errors import SlamError
from slam.io.dicom_read import _check_decodable, _check_depth, _check_geometry, _study_from
from slam.io.limits import Deadline, LoadLimits
from slam.io.study import Study

# Media types a frame may come back as when the transfer syntax is not named (PS3.18 8.7.3.5).
_MEDIA_TYPE_SYNTAX = {
    "application/octet-stream": ExplicitVRLittleEndian,
    "image/jp2": JPEG2000Lossless,
    "image/jls": JPEGLSLossless,
    "image/x-jls": JPEGLSLossless,
    "image/dicom-rle": RLELossless,
    "image/x-dicom-rle": RLELossless,
}
_NATIVE = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_DATE = re.compile(r"^\d{8}(-\d{8})?$|^\d{8}-$|^-\d{8}$")
_STUDY_FIELDS = ("00100020", "00100010", "00080020", "00080050", "00081030", "00080061", "00201206", "00201208")
_INSTANCE_FIELDS = ("00280008", "00080016", "00200011", "0008103E", "00080060", "00200062", "00185101")
SOURCE_FORMAT = "DICOMweb multi-frame"  # Study.source_format of a retrieved view, then its transfer syntax
_response_type = threading.local()  # Content-Type of this thread's last response: it names the frame's syntax


@dataclass(frozen=True)
class StudyMatch:
    """One QIDO-RS study match (strings as the server sent them; '' when absent)."""

    study_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    accession: str
    description: str
    modalities: str  # e.g. "MG" or "MG\\SR"
    series: int
    instances: int


@dataclass(frozen=True)
class InstanceMatch:
    """One image instance of a study; ``frames`` is NumberOfFrames (1 when absent)."""

    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    frames: int
    series_description: str
    laterality: str = ""  # ImageLaterality, '' when the server does not return it
    view: str = ""  # ViewPosition (CC, MLO, ...), likewise

    @property
    def is_dbt(self) -> bool:
        """A multi-frame image: a tomosynthesis stack (Breast Tomosynthesis Image Storage or similar)."""
        return self.frames > 1


def connect(url: str | None = None, *, token: str | None = None, user: str | None = None,
            password: str | None = None, timeout: float = 30.0) -> DICOMwebClient:
    """A client for the DICOMweb root ``url`` (e.g. ``http://pacs:8042/dicom-web``).

    Missing arguments come from ``SLAM_DICOMWEB_URL``, ``SLAM_DICOMWEB_TOKEN``, ``SLAM_DICOMWEB_USER``
    and ``SLAM_DICOMWEB_PASSWORD``. ``timeout`` is seconds per HTTP request (connect and read).
    Nothing is sent until the first request.
    """
    url = (url or os.environ.get("SLAM_DICOMWEB_URL", "")).strip().rstrip("/")
    if not url:
        raise SlamError("no DICOMweb server: pass --url or set SLAM_DICOMWEB_URL (e.g. http://localhost:8042/dicom-web)")
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SlamError("DICOMweb URL must start with http:// or https:// and name a host, "
                        "e.g. http://localhost:8042/dicom-web")
    if parts.username or parts.password:
        raise SlamError("DICOMweb URL holds credentials; accepted: a URL without user:password, "
                        "with SLAM_DICOMWEB_TOKEN or SLAM_DICOMWEB_USER/SLAM_DICOMWEB_PASSWORD")
    token = token or os.environ.get("SLAM_DICOMWEB_TOKEN") or None
    user = user or os.environ.get("SLAM_DICOMWEB_USER") or None
    password = password or os.environ.get("SLAM_DICOMWEB_PASSWORD") or None
    if timeout <= 0:
        raise SlamError(f"timeout must be positive seconds, got {timeout}")
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    elif user:
        session.auth = (user, password or "")
    session.hooks["response"].append(_remember_content_type)
    try:
        client = DICOMwebClient(url, session=session, timeout=timeout)
    except ValueError:
        raise SlamError("malformed DICOMweb URL; accepted: http(s)://host[:port]/path") from None
    client.set_http_retry_params(max_attempts=2, wait_exponential_multiplier=200)  # a busy server gets one retry
    return client


def _remember_content_type(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _response_type.value = response.headers.get("Content-Type", "")


def _server(client: DICOMwebClient) -> str:
    return f"{client.host}:{client.port}"


def _call(client: DICOMwebClient, what: str, func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run one dicomweb-client call; every transport or HTTP failure becomes a one-line SlamError."""
    try:
        return func(*args, **kwargs)
    except requests.exceptions.Timeout:
        raise SlamError(f"the DICOMweb server {_server(client)} did not answer {what} within "
                        f"{client._timeout} s (timeout)") from None
    except requests.exceptions.ConnectionError:
        raise SlamError(f"cannot reach the DICOMweb server {_server(client)} ({what}); check the URL "
                        "(--url or SLAM_DICOMWEB_URL) and that the server is running") from None
    except requests.exceptions.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        if code == 401:
            raise SlamError(f"the DICOMweb server {_server(client)} refused the credentials (HTTP 401) for {what}; "
                            "set SLAM_DICOMWEB_TOKEN or SLAM_DICOMWEB_USER and SLAM_DICOMWEB_PASSWORD") from None
        if code == 403:
            raise SlamError(f"the DICOMweb server {_server(client)} does not allow {what} (HTTP 403) "
                            "for these credentials") from None
        if code == 404:
            raise SlamError(f"not found on the DICOMweb server {_server(client)}: {what} (HTTP 404)") from None
        raise SlamError(f"the DICOMweb server {_server(client)} answered HTTP {code} to {what}") from None
    except requests.exceptions.RequestException as exc:
        raise SlamError(f"DICOMweb request failed ({what}): {type(exc).__name__}") from None


def _value(item: dict, tag: str) -> str:
    """First value of DICOM JSON attribute ``tag`` as a string ('' when absent; a PN as its Alphabetic)."""
    values = item.get(tag, {}).get("Value") or [""]
    first = values[0]
    if isinstance(first, dict):
        first = first.get("Alphabetic", "")
    return "\\".join(str(v) for v in values) if tag == "00080061" else str(first)


def search_studies(client: DICOMwebClient, *, patient_id: str | None = None, accession: str | None = None,
                   date: str | None = None, modality: str | None = None, limit: int = 100) -> list[StudyMatch]:
    """QIDO-RS study search; every given filter must match (``*`` wildcards as the server allows them).

    ``date`` is YYYYMMDD or a range YYYYMMDD-YYYYMMDD (open ends allowed); ``modality`` a modality in
    the study, e.g. MG. At most ``limit`` matches, in the server's order.
    """
    filters: dict[str, str] = {}
    if patient_id:
        filters["PatientID"] = patient_id
    if accession:
        filters["AccessionNumber"] = accession
    if date:
        if not _DATE.match(date):
            raise SlamError(f"date {date!r}: accepted: YYYYMMDD or a range YYYYMMDD-YYYYMMDD")
        filters["StudyDate"] = date
    if modality:
        if not re.fullmatch(r"[A-Z]{2,16}", modality.upper()):
            raise SlamError(f"modality {modality!r}: accepted: a DICOM modality code such as MG")
        filters["ModalitiesInStudy"] = modality.upper()
    if limit < 1:
        raise SlamError(f"limit must be at least 1, got {limit}")
    found = _call(client, "the study search", client.search_for_studies, search_filters=filters, limit=limit,
                  fields=list(_STUDY_FIELDS))
    return [StudyMatch(_value(s, "0020000D"), _value(s, "00100020"), _value(s, "00100010"), _value(s, "00080020"),
                       _value(s, "00080050"), _value(s, "00081030"), _value(s, "00080061"),
                       int(_value(s, "00201206") or 0), int(_value(s, "00201208") or 0)) for s in found]


def list_instances(client: DICOMwebClient, study_uid: str) -> list[InstanceMatch]:
    """Every instance of study ``study_uid`` (QIDO-RS), DBT stacks (``is_dbt``) first."""
    found = _call(client, f"the instances of study {study_uid}", client.search_for_instances,
                  study_uid, fields=list(_INSTANCE_FIELDS))
    if not found:
        raise SlamError(f"not found on the DICOMweb server {_server(client)}: study {study_uid} (no instances)")
    matches = [InstanceMatch(_value(i, "0020000D") or study_uid, _value(i, "0020000E"), _value(i, "00080018"),
                             _value(i, "00080016"), int(_value(i, "00280008") or 1), _value(i, "0008103E"),
                             _value(i, "00200062"), _value(i, "00185101")) for i in found]
    return sorted(matches, key=lambda m: not m.is_dbt)


def choose_view(instances: Sequence[InstanceMatch], series_uid: str | None = None,
                sop_uid: str | None = None) -> InstanceMatch:
    """The one DBT instance that ``series_uid`` / ``sop_uid`` select; SlamError when none or several do."""
    picked = [i for i in instances if (not series_uid or i.series_uid == series_uid)
              and (not sop_uid or i.sop_uid == sop_uid)]
    if not picked:
        raise SlamError(f"no instance {sop_uid or ''} {('in series ' + series_uid) if series_uid else ''} in the study")
    dbt = [i for i in picked if i.is_dbt]
    if not dbt:
        raise SlamError(f"not a DBT study/instance: {len(picked)} single-frame instance(s); accepted: a multi-frame "
                        "tomosynthesis image (Breast Tomosynthesis Image Storage)")
    if len(dbt) > 1:
        raise SlamError(f"the study holds {len(dbt)} DBT views; choose one by series or SOP instance UID: "
                        + ", ".join(f"{i.series_description or i.series_uid}" for i in dbt))
    return dbt[0]


def _frame_syntax(content_type: str) -> UID:
    """The transfer syntax of a WADO-RS frames response, from its Content-Type (PS3.18 8.7.3.5)."""
    named = re.search(r"transfer-syntax=\"?([0-9.]+)", content_type)
    if named:
        return UID(named.group(1))
    media = re.search(r"type=\"?([\w./+-]+)", content_type)
    media_type = (media.group(1) if media else content_type.split(";")[0]).strip().lower()
    if media_type not in _MEDIA_TYPE_SYNTAX:
        raise SlamError(f"the server sent frames as {media_type!r}; accepted: DICOM frame encodings "
                        "(application/octet-stream, image/jp2, image/jls, image/dicom-rle)")
    return _MEDIA_TYPE_SYNTAX[media_type]


def _metadata_dataset(client: DICOMwebClient, view: InstanceMatch) -> Dataset:
    metadata = _call(client, f"the metadata of instance {view.sop_uid}", client.retrieve_instance_metadata,
                     view.study_uid, view.series_uid, view.sop_uid)
    try:
        ds = Dataset.from_json(metadata, bulk_data_uri_handler=lambda *args: None)  # no bulk data is fetched
    except (ValueError, TypeError, KeyError) as exc:
        raise SlamError(f"unreadable metadata for instance {view.sop_uid} ({type(exc).__name__})") from None
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            del ds[keyword]
    return ds


def retrieve_study(client: DICOMwebClient, study_uid: str, *, series_uid: str | None = None,
                   sop_uid: str | None = None, limits: LoadLimits = LoadLimits(),
                   progress: Callable[[int, int], None] | None = None) -> Study:
    """Fetch one DBT view of ``study_uid`` into a :class:`Study`, frame by frame (WADO-RS), never to disk.

    The view is the study's only multi-frame instance, or the one ``series_uid``/``sop_uid`` pick.
    ``limits`` are checked on the metadata before any frame is fetched, ``limits.max_seconds`` between
    frames. ``progress(done, total)`` is called after each frame. Returns pixels (D, H, W) in the stored dtype, as :func:`slam.io.load_study`.

    Raises:
        SlamError: unreachable server, 401/403, unknown UID, not a DBT instance, timeout, limits, bad frames.
    """
    deadline = Deadline(limits.max_seconds)
    view = choose_view(list_instances(client, study_uid), series_uid, sop_uid)
    ds = _metadata_dataset(client, view)
    name = f"instance {view.sop_uid}"
    if "Rows" not in ds or "Columns" not in ds:
        raise SlamError(f"{name} is not an image; accepted: a multi-frame DBT image")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    _check_depth(name, frames, limits)
    _check_geometry(name, ds, frames, limits)
    rows, cols = int(ds.Rows), int(ds.Columns)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian  # decoded frames are little-endian native
    pixels = np.empty((frames, rows, cols), dtype=pixel_dtype(ds))
    syntax = None
    for index in range(frames):
        deadline.check(name)
        _response_type.value = ""
        data = _call(client, f"frame {index + 1} of {name}", client.retrieve_instance_frames, view.study_uid,
                     view.series_uid, view.sop_uid, [index + 1], media_types=(("application/octet-stream", "*"),))
        if len(data) != 1:
            raise SlamError(f"{name}: the server sent {len(data)} parts for frame {index + 1}; expected 1")
        frame_syntax = _frame_syntax(_response_type.value)
        if syntax is None:
            syntax = frame_syntax
            ds.file_meta.TransferSyntaxUID = syntax
            _check_decodable(name, ds)
        pixels[index] = _decode(name, index, data[0], frame_syntax, ds, pixels.itemsize)
        data = None  # drop the encoded frame before the next one arrives
        if progress is not None:
            progress(index + 1, frames)
    return _study_from(ds, pixels, f"{SOURCE_FORMAT} ({syntax.name})", frames // 2)


def from_dicomweb(study: Study) -> bool:
    """Whether ``study`` was fetched by :func:`retrieve_study` (so its study exists on the server)."""
    return study.source_format.startswith(SOURCE_FORMAT) and study.header is not None


def _decode(name: str, index: int, data: bytes, syntax: UID, ds: Dataset, itemsize: int) -> np.ndarray:
    """One frame (H, W) from its WADO-RS payload."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    if syntax in _NATIVE and len(data) < rows * cols * itemsize:
        raise SlamError(f"{name}: frame {index + 1} holds {len(data)} bytes, an uncompressed "
                        f"{rows} x {cols} frame needs {rows * cols * itemsize}")
    try:
        return decode_frame(bytes(data), transfer_syntax_uid=syntax, rows=rows, columns=cols,
                            samples_per_pixel=int(ds.get("SamplesPerPixel", 1)),
                            bits_allocated=int(ds.BitsAllocated), bits_stored=int(ds.get("BitsStored", ds.BitsAllocated)),
                            photometric_interpretation=str(ds.get("PhotometricInterpretation", "MONOCHROME2")),
                            pixel_representation=int(ds.get("PixelRepresentation", 0)))
    except Exception as exc:  # decoders raise many types; all mean the same to the user
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise SlamError(f"{name}: frame {index + 1} is corrupt or undecodable ({detail})") from None


def store_instances(client: DICOMwebClient, datasets: Sequence[Dataset]) -> list[str]:
    """STOW-RS ``datasets`` into their study; returns the stored SOP Instance UIDs.

    Nothing on the server is replaced: an instance whose SOP Instance UID the server already holds is
    refused before anything is sent, and any instance the server reports as failed raises.
    """
    if not datasets:
        raise SlamError("nothing to store")
    studies = {str(ds.StudyInstanceUID) for ds in datasets}
    if len(studies) != 1:
        raise SlamError(f"store one study at a time; got instances of {len(studies)} studies")
    study_uid = studies.pop()
    for ds in datasets:
        held = _call(client, "the duplicate check", client.search_for_instances, study_uid,
                     search_filters={"SOPInstanceUID": str(ds.SOPInstanceUID)})
        if held:
            raise SlamError(f"the server already holds instance {ds.SOPInstanceUID}; refusing to replace it")
    response = _call(client, f"storing {len(datasets)} instance(s)", client.store_instances, list(datasets), study_uid)
    failed = response.get("FailedSOPSequence", [])
    if failed:
        reasons = ", ".join(f"{item.get('ReferencedSOPInstanceUID', '?')} (reason {item.get('FailureReason', '?')})"
                            for item in failed)
        raise SlamError(f"the server refused {len(failed)} of {len(datasets)} instance(s): {reasons}")
    return [str(item.ReferencedSOPInstanceUID) for item in response.get("ReferencedSOPSequence", [])]


def next_instance_number(client: DICOMwebClient, study_uid: str, series_uid: str) -> int:
    """1 + the highest InstanceNumber in series ``series_uid`` of the study on the server (1 when empty)."""
    found = _call(client, f"the instances of series {series_uid}", client.search_for_instances, study_uid,
                  series_uid, fields=["00200013"])
    numbers = [int(_value(i, "00200013") or 0) for i in found]
    return max(numbers, default=0) + 1


def retrieve_instance(client: DICOMwebClient, view: InstanceMatch) -> Dataset:
    """The whole instance ``view`` (WADO-RS), pixel data included, as a pydicom Dataset in memory."""
    return _call(client, f"instance {view.sop_uid}", client.retrieve_instance, view.study_uid, view.series_uid,
                 view.sop_uid)


def store_findings(client: DICOMwebClient, study: Study, findings: Sequence[Any], algorithm: Any,
                   sm_image: np.ndarray | None = None) -> list[str]:
    """Store a run's results into ``study``'s own study on the server: the findings as an SR and,
    when given, the synthetic mammogram ``sm_image`` ((H, W) uint8/uint16, display orientation as
    :func:`slam.io.write_derived_dicom` takes it) as a derived MG image.

    Each kind goes into one series per algorithm version (:func:`slam.io.sr.algorithm_series_uid`)
    as a new instance numbered after the ones already there; nothing is replaced. ``findings`` as
    :func:`slam.io.sr.build_sr` takes them; ``algorithm`` an :class:`slam.io.sr.Algorithm`.
    Returns the stored SOP Instance UIDs.
    """
    import tempfile

    import pydicom

    from slam.io.sr import algorithm_series_uid, build_sr
    from slam.io.write import write_derived_dicom

    study_uid = str(study.header.StudyInstanceUID) if study.header is not None else ""
    sr_series = algorithm_series_uid(study_uid, algorithm, "SR")
    datasets = [build_sr(study, findings, algorithm, series_uid=sr_series,
                         instance_number=next_instance_number(client, study_uid, sr_series))]
    if sm_image is not None:
        sm_series = algorithm_series_uid(study_uid, algorithm, "SM")
        with tempfile.TemporaryDirectory(prefix="slam-sm-") as tmp:
            sm = pydicom.dcmread(write_derived_dicom(Path(tmp) / "sm.dcm", sm_image, study))
        sm.SeriesInstanceUID = sm_series
        sm.InstanceNumber = next_instance_number(client, study_uid, sm_series)
        sm.SeriesDescription = f"{algorithm.name} {algorithm.version} synthetic mammogram"[:64]
        datasets.append(sm)
    return store_instances(client, datasets)
