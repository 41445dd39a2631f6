"""Writers: DBT volumes as DICOM (multi-frame or single-frame series), derived 2D images, PNG."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    generate_uid,
)

from slam.errors import SlamError
from slam.io.deid import deidentify as deidentify_dataset
from slam.io.study import Study

BTO_SOP_CLASS = UID("1.2.840.10008.5.1.4.1.1.13.1.3")  # Breast Tomosynthesis Image Storage
MG_SOP_CLASS = UID("1.2.840.10008.5.1.4.1.1.1.2")  # Digital Mammography X-Ray Image Storage - For Presentation
SC_SOP_CLASS = UID("1.2.840.10008.5.1.4.1.1.7")  # Secondary Capture (colour images with burned-in boxes)

# Short names for the CLI and tests; the value is the UID plus encoder options.
TRANSFER_SYNTAXES: dict[str, tuple[UID, dict[str, Any]]] = {
    "explicit": (ExplicitVRLittleEndian, {}),
    "rle": (RLELossless, {}),
    "jpeg2000": (JPEG2000Lossless, {}),
    "jpeg2000-lossy": (JPEG2000, {"j2k_cr": [20]}),
    "jpegls": (JPEGLSLossless, {}),
    "jpegls-near": (JPEGLSNearLossless, {"jls_error": 2}),
    "jpeg": (JPEGBaseline8Bit, {}),  # 8-bit only: the volume is scaled to 8 bits first
}
_VIEW_CODES = {"CC": ("399162004", "cranio-caudal"), "MLO": ("399368009", "medio-lateral oblique")}
_PATIENT_STUDY_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
    "ReferringPhysicianName", "StudyDescription",
)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _sequence(**keywords: Any) -> DicomSequence:
    item = Dataset()
    for keyword, value in keywords.items():
        setattr(item, keyword, value)
    return DicomSequence([item])


def _base_dataset(sop_class: UID, meta: dict[str, Any]) -> Dataset:
    now = _dt.datetime.now()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.get("sop_instance_uid") or generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = meta.get("patient_name", "PHANTOM^SLAM")
    ds.PatientID = meta.get("patient_id", "SLAM-0001")
    ds.PatientSex = meta.get("patient_sex", "F")
    ds.PatientBirthDate = meta.get("patient_birth_date", "")
    ds.StudyInstanceUID = meta.get("study_uid") or generate_uid()
    ds.SeriesInstanceUID = meta.get("series_uid") or generate_uid()
    ds.FrameOfReferenceUID = meta.get("frame_of_reference_uid") or generate_uid()
    ds.StudyDate = meta.get("study_date", now.strftime("%Y%m%d"))
    ds.StudyTime = meta.get("study_time", now.strftime("%H%M%S"))
    ds.ContentDate, ds.ContentTime = ds.StudyDate, ds.StudyTime
    ds.StudyID = meta.get("study_id", "1")
    ds.AccessionNumber = meta.get("accession_number", "")
    ds.ReferringPhysicianName = ""
    ds.Modality = "MG"
    ds.Manufacturer = meta.get("manufacturer", "SLAM")
    ds.SeriesNumber = meta.get("series_number", 1)
    ds.SeriesDescription = meta.get("series_description", "")
    ds.PositionReferenceIndicator = ""
    return ds


def _image_pixel_module(ds: Dataset, rows: int, cols: int, bits_stored: int, photometric: str) -> None:
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits_stored <= 8 else 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0


def _set_pixels(ds: Dataset, array: np.ndarray, transfer_syntax: str) -> None:
    """Store ``array`` ((D, H, W) or (H, W) unsigned) in ``ds`` under the named transfer syntax."""
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise SlamError(f"unknown transfer syntax {transfer_syntax!r}; accepted: {', '.join(TRANSFER_SYNTAXES)}")
    uid, options = TRANSFER_SYNTAXES[transfer_syntax]
    if uid == JPEGBaseline8Bit:
        if array.dtype != np.uint8:
            raise SlamError("JPEG baseline stores 8-bit images; accepted: a uint8 volume for 'jpeg'")
        frames = array if array.ndim == 3 else array[None]
        encoded = []
        for frame in frames:
            ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if not ok:
                raise SlamError("JPEG encoding failed")
            encoded.append(data.tobytes())
        ds.PixelData = encapsulate(encoded)
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = uid
        ds.LossyImageCompression = "01"
        return
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if uid == ExplicitVRLittleEndian:
        ds.PixelData = np.ascontiguousarray(array).tobytes()
        ds["PixelData"].VR = "OW" if array.dtype.itemsize == 2 else "OB"
        return
    ds.compress(uid, np.ascontiguousarray(array), generate_instance_uid=False, **options)
    if uid in (JPEG2000, JPEGLSNearLossless):
        ds.LossyImageCompression = "01"


def _check_volume(volume: np.ndarray) -> None:
    if volume.ndim != 3 or volume.dtype.kind != "u":
        raise SlamError(f"volume must be (D, H, W) unsigned integers, got {volume.shape} {volume.dtype}")


def write_volume_dicom(
    path: str | os.PathLike,
    volume: np.ndarray,
    *,
    transfer_syntax: str = "explicit",
    laterality: str = "",
    view: str = "",
    pixel_spacing: tuple[float, float] = (0.1, 0.1),
    slice_spacing: float = 1.0,
    window_center: float | None = None,
    window_width: float | None = None,
    bits_stored: int | None = None,
    photometric: str = "MONOCHROME2",
    **meta: Any,
) -> Path:
    """Write a (D, H, W) unsigned volume as one Enhanced multi-frame Breast Tomosynthesis DICOM.

    Window, pixel measures and laterality go into the shared functional groups, where scanners put
    them; each frame gets its plane position (mm) and in-stack position.

    Args:
        volume: (D, H, W) uint16 (or uint8; 'jpeg' needs uint8).
        transfer_syntax: a key of :data:`TRANSFER_SYNTAXES`.
        pixel_spacing: (row, column) mm. slice_spacing: mm between slices.
        meta: patient_name, patient_id, patient_sex, study_uid, series_uid, sop_instance_uid, study_date,
            ... (strings).
    """
    _check_volume(volume)
    depth, rows, cols = volume.shape
    bits_stored = bits_stored or volume.dtype.itemsize * 8
    ds = _base_dataset(BTO_SOP_CLASS, meta)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "TOMOSYNTHESIS", "NONE"]
    ds.InstanceNumber = 1
    ds.NumberOfFrames = depth
    ds.ImageLaterality = laterality
    ds.PresentationLUTShape = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
    if view in _VIEW_CODES:
        ds.ViewCodeSequence = DicomSequence([_code(*_VIEW_CODES[view][:1], "SCT", _VIEW_CODES[view][1])])
    _image_pixel_module(ds, rows, cols, bits_stored, photometric)

    shared = Dataset()
    shared.PixelMeasuresSequence = _sequence(
        PixelSpacing=[f"{pixel_spacing[0]:.6g}", f"{pixel_spacing[1]:.6g}"],
        SliceThickness=f"{slice_spacing:.6g}",
        SpacingBetweenSlices=f"{slice_spacing:.6g}",
    )
    shared.PlaneOrientationSequence = _sequence(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    shared.PixelValueTransformationSequence = _sequence(RescaleIntercept=0, RescaleSlope=1, RescaleType="US")
    shared.FrameAnatomySequence = _sequence(FrameLaterality=laterality or "U")
    if window_center is not None and window_width is not None:
        shared.FrameVOILUTSequence = _sequence(WindowCenter=f"{window_center:.6g}", WindowWidth=f"{window_width:.6g}")
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for index in range(depth):
        group = Dataset()
        group.FrameContentSequence = _sequence(InStackPositionNumber=index + 1, DimensionIndexValues=[index + 1])
        group.PlanePositionSequence = _sequence(ImagePositionPatient=[0, 0, f"{index * slice_spacing:.6g}"])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    _set_pixels(ds, volume, transfer_syntax)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_series_dicom(
    directory: str | os.PathLike,
    volume: np.ndarray,
    *,
    transfer_syntax: str = "explicit",
    laterality: str = "",
    view: str = "",
    pixel_spacing: tuple[float, float] = (0.1, 0.1),
    slice_spacing: float = 1.0,
    window_center: float | None = None,
    window_width: float | None = None,
    bits_stored: int | None = None,
    **meta: Any,
) -> list[Path]:
    """Write a (D, H, W) volume as D single-frame DICOM files of one series (``slice_0000.dcm``, ...).

    Each file carries ImagePositionPatient / ImageOrientationPatient and InstanceNumber, the keys a
    reader orders slices by. Returns the paths in slice order.
    """
    _check_volume(volume)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta.setdefault("series_uid", generate_uid())
    meta.setdefault("study_uid", generate_uid())
    meta.setdefault("frame_of_reference_uid", generate_uid())
    bits_stored = bits_stored or volume.dtype.itemsize * 8
    paths = []
    base_sop = meta.pop("sop_instance_uid", None)  # a reproducible writer derives one UID per slice from it
    for index, frame in enumerate(volume):
        sop = generate_uid(entropy_srcs=[base_sop, str(index)]) if base_sop else None
        ds = _base_dataset(MG_SOP_CLASS, {**meta, "sop_instance_uid": sop})
        ds.ImageType = ["ORIGINAL", "PRIMARY", "TOMOSYNTHESIS"]
        ds.InstanceNumber = index + 1
        ds.ImageLaterality = laterality
        ds.ViewPosition = view
        ds.PixelSpacing = [f"{pixel_spacing[0]:.6g}", f"{pixel_spacing[1]:.6g}"]
        ds.ImagerPixelSpacing = ds.PixelSpacing
        ds.SliceThickness = f"{slice_spacing:.6g}"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0, 0, f"{index * slice_spacing:.6g}"]
        if window_center is not None and window_width is not None:
            ds.WindowCenter, ds.WindowWidth = f"{window_center:.6g}", f"{window_width:.6g}"
        _image_pixel_module(ds, *frame.shape, bits_stored, "MONOCHROME2")
        _set_pixels(ds, frame, transfer_syntax)
        path = directory / f"slice_{index:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_derived_dicom(
    path: str | os.PathLike,
    image: np.ndarray,
    source: Study | None,
    *,
    description: str = "SLAM synthetic mammogram",
    deidentify: bool = False,
    uid_map: dict[str, str] | None = None,
) -> Path:
    """Write a derived 2D image (e.g. the synthetic mammogram) as DICOM beside its source study.

    Patient and study modules are copied from ``source.header`` (same StudyInstanceUID, so PACS files
    it with the study); series and instance UIDs are new; ImageType DERIVED\\SECONDARY, a derivation
    description and a reference to the source instance are added. ``deidentify`` applies the PS3.15
    Basic Application Level Confidentiality Profile (:func:`slam.io.deid.deidentify`); pass one
    ``uid_map`` to every file of an export so their UIDs are replaced consistently.

    Args:
        image: (H, W) uint8/uint16 grey (Digital Mammography For Presentation) or (H, W, 3) uint8 RGB,
            e.g. with boxes burned in (Secondary Capture).
    """
    rgb = image.ndim == 3 and image.shape[2] == 3
    if not (image.ndim == 2 or rgb) or image.dtype not in (np.uint8, np.uint16) or (rgb and image.dtype != np.uint8):
        raise SlamError(f"derived image must be (H, W) uint8/uint16 or (H, W, 3) uint8, got {image.shape} {image.dtype}")
    header = source.header if source is not None else None
    ds = _base_dataset(SC_SOP_CLASS if rgb else MG_SOP_CLASS, {})
    for keyword in _PATIENT_STUDY_KEYWORDS:
        if header is not None and keyword in header:
            setattr(ds, keyword, header[keyword].value)
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.DerivationDescription = description
    ds.SeriesDescription = description
    ds.SeriesNumber = 900
    ds.InstanceNumber = 1
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES" if rgb else "NO"
    if source is not None:
        ds.ImageLaterality = source.laterality
        if source.view:
            ds.ViewPosition = source.view
        if source.pixel_spacing:
            ds.PixelSpacing = [f"{v:.6g}" for v in source.pixel_spacing]
        if header is not None and "SOPInstanceUID" in header:
            ds.SourceImageSequence = _sequence(
                ReferencedSOPClassUID=header.SOPClassUID, ReferencedSOPInstanceUID=header.SOPInstanceUID
            )
    if rgb:
        ds.Rows, ds.Columns = image.shape[:2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit, ds.PixelRepresentation = 7, 0
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PixelData = np.ascontiguousarray(image).tobytes()
    else:
        _image_pixel_module(ds, *image.shape, image.dtype.itemsize * 8, "MONOCHROME2")
        ds.WindowCenter = (int(np.iinfo(image.dtype).max) + 1) // 2
        ds.WindowWidth = int(np.iinfo(image.dtype).max) + 1
        _set_pixels(ds, image, "explicit")
    if deidentify:
        ds = deidentify_dataset(ds, uid_map)
        ds.DerivationDescription = ds.SeriesDescription = description  # our own text, not the source's
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write (H, W) uint8/uint16 grey or (H, W, 3) uint8 RGB as PNG (16-bit grey is kept at 16 bits)."""
    if image.dtype not in (np.uint8, np.uint16) or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise SlamError(f"PNG needs (H, W) uint8/uint16 or (H, W, 3) uint8, got {image.shape} {image.dtype}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    if not cv2.imwrite(str(path), data):
        raise SlamError(f"could not write PNG to {path.name}")
    return path
