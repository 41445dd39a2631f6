"""Reading DBT DICOM: one multi-frame file, or a series of single-frame files, into a :class:`Study`."""

from __future__ import annotations

import io
import os
import struct
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import iter_pixels
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import pixel_dtype
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from slam.errors import SlamError
from slam.imaging.display import robust_window
from slam.io.limits import Deadline, LoadLimits
from slam.io.study import Study

PATIENT_FIELDS = (
    "PatientName", "PatientID", "PatientSex", "PatientBirthDate", "PatientAge",
    "StudyInstanceUID", "StudyDate", "StudyDescription", "AccessionNumber",
    "SeriesInstanceUID", "SeriesDescription", "Modality", "Manufacturer", "ManufacturerModelName",
)
# ViewPosition spellings (DICOM CID 4014 abbreviations) that BCS-DBT folds into its two views.
_VIEW_ALIASES = {"CC": "CC", "XCCL": "CC", "XCCM": "CC", "FB": "CC", "MLO": "MLO", "LMO": "MLO", "SIO": "MLO"}
# ViewCodeSequence codes: SNOMED-RT (SRT) and SNOMED CT for cranio-caudal and medio-lateral oblique.
_VIEW_CODES = {"R-10242": "CC", "399162004": "CC", "R-10226": "MLO", "399368009": "MLO"}
_DICOMDIR_SOP = "1.2.840.10008.1.3.10"
# Threads reading one uncompressed file: reading into fresh memory is bound by page faults and copying,
# not by the disk, so two threads read a full-size view (0.6 GB from the page cache) in 0.6 x the time.
READ_PARTS = 2
PARALLEL_READ_BYTES = 64 << 20  # smaller reads in one part: threads cost more than they save
_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR "
                 b"US UT UV".split())
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())


class _BoundedReader(io.BufferedReader):
    """A file whose reads stop after ``max_reads`` calls or once ``deadline`` passes (pydicom reads per element).

    A subclass of ``io.BufferedReader`` so that pydicom treats it as a file on disk and re-opens deferred
    values by name.
    """

    def __init__(self, path: Path, max_reads: int, deadline: Deadline):
        super().__init__(io.FileIO(str(path), "rb"))  # a str name: pydicom re-opens deferred values by it
        self._max_reads, self._reads, self._deadline, self._path = max_reads, 0, deadline, path

    def read(self, size: int | None = -1) -> bytes:
        self._reads += 1
        if self._reads > self._max_reads:
            raise SlamError(f"{self._path.name}: the DICOM header has more than {self._max_reads} elements; "
                            "accepted: DICOM images with an ordinary header")
        self._deadline.check(self._path.name)
        return super().read(size)


def sniff_dicom(head: bytes) -> str:
    """What the first bytes of a file say: ``"preamble"``, ``"bare"`` (a plausible first element) or ``""``.

    ``head`` is the first 132 bytes. "bare" is a DICOM data set without the 128-byte preamble (old writers):
    its first element must be in group 0x0002 or 0x0008 with an element number < 0x0100, a known VR when
    explicit, and an even length <= 1024 bytes. Zeros, text and other files fail it at once.
    """
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "preamble"
    if len(head) < 12:
        return ""
    group, element = struct.unpack("<HH", head[:4])
    if group not in (0x0002, 0x0008) or element >= 0x0100:
        return ""
    vr = head[4:6]
    if vr in _VRS:
        long_form = vr in _LONG_VRS
        if long_form and head[6:8] != b"\x00\x00":
            return ""
        length = struct.unpack("<I", head[8:12])[0] if long_form else struct.unpack("<H", head[6:8])[0]
    else:
        length = struct.unpack("<I", head[4:8])[0]  # implicit VR: a 4-byte length follows the tag
    return "bare" if length <= 1024 and length % 2 == 0 else ""


def read_header(path: Path, limits: LoadLimits, deadline: Deadline) -> Dataset:
    """The dataset without pixel data values (they stay on disk until decoded).

    The first bytes are sniffed (:func:`sniff_dicom`) before pydicom parses anything, and the parse is
    bounded by ``limits.max_header_reads`` and ``deadline``: any other file is refused at once.
    """
    with open(path, "rb") as handle:
        kind = sniff_dicom(handle.read(132))
    if not kind:
        raise SlamError(f"{path.name}: not a DICOM file (neither the DICOM preamble nor a DICOM first element); "
                        "accepted: DICOM (.dcm), a .zip of DICOM files, or a .npy/.npz volume")
    try:
        with warnings.catch_warnings(record=True) as caught, _BoundedReader(path, limits.max_header_reads,
                                                                            deadline) as reader:
            warnings.simplefilter("always")
            # defer_size keeps large values (pixel data) unread; force only for a sniffed preamble-less data set.
            ds = pydicom.dcmread(reader, defer_size=4096, force=kind == "bare")
    except SlamError:
        raise
    except RecursionError:
        raise SlamError(f"{path.name}: sequences nested too deeply; accepted: DICOM images with an ordinary "
                        "header") from None
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise SlamError(f"{path.name}: not a readable DICOM file ({type(exc).__name__}); "
                        "accepted: DICOM (.dcm), a .zip of DICOM files, or a .npy/.npz volume") from None
    if any("End of file reached" in str(w.message) for w in caught):
        raise SlamError(f"{path.name}: truncated or corrupt pixel data (the file ends early)")
    if _transfer_syntax(ds) is None and ds.original_encoding[0] is not None:
        # No file meta (old writers): record the encoding pydicom inferred, which decoders need.
        implicit, little = ds.original_encoding
        ds.file_meta = getattr(ds, "file_meta", None) or FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
        )
    if "Rows" not in ds or "Columns" not in ds:
        if ds.get("SOPClassUID", "") == _DICOMDIR_SOP or "SOPClassUID" in ds:
            raise SlamError(f"{path.name}: DICOM file without pixel data (no image); "
                            "accepted: DICOM images with pixel data")
        raise SlamError(f"{path.name}: not a DICOM file; accepted: DICOM (.dcm), a .zip of DICOM files, "
                        "or a .npy/.npz volume")
    return ds


def _first(value) -> float:
    """First element of a possibly multi-valued numeric DICOM value."""
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        value = value[0]
    return float(value)


def _group_item(ds: Dataset, sequence: str, frame: int | None = None) -> Dataset | None:
    """Item of a functional-group macro (e.g. 'FrameVOILUTSequence'), per-frame first, then shared."""
    groups = []
    if frame is not None and "PerFrameFunctionalGroupsSequence" in ds:
        per_frame = ds.PerFrameFunctionalGroupsSequence
        if frame < len(per_frame):
            groups.append(per_frame[frame])
    if "SharedFunctionalGroupsSequence" in ds and len(ds.SharedFunctionalGroupsSequence):
        groups.append(ds.SharedFunctionalGroupsSequence[0])
    for group in groups:
        if sequence in group and len(group[sequence].value):
            return group[sequence].value[0]
    return None


def _window(ds: Dataset, frame: int) -> tuple[float, float] | None:
    for source in (_group_item(ds, "FrameVOILUTSequence", frame), ds):
        if source is not None and "WindowCenter" in source and "WindowWidth" in source:
            try:
                center, width = _first(source.WindowCenter), _first(source.WindowWidth)
            except (TypeError, ValueError, IndexError):
                continue
            if width > 0:
                return center, width
    return None


def _rescale(ds: Dataset, frame: int) -> tuple[float, float]:
    for source in (_group_item(ds, "PixelValueTransformationSequence", frame), ds):
        if source is not None and "RescaleSlope" in source:
            slope = _first(source.RescaleSlope)
            intercept = _first(source.get("RescaleIntercept", 0.0))
            if slope != 0:
                return slope, intercept
    return 1.0, 0.0


def _spacing(ds: Dataset) -> tuple[tuple[float, float] | None, float | None]:
    measures = _group_item(ds, "PixelMeasuresSequence", 0)
    pixel, between = None, None
    for source in (measures, ds):
        if source is None:
            continue
        for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
            if pixel is None and keyword in source and len(source[keyword].value) == 2:
                pixel = (float(source[keyword].value[0]), float(source[keyword].value[1]))
        for keyword in ("SpacingBetweenSlices", "SliceThickness"):
            if between is None and source.get(keyword) not in (None, ""):
                between = float(source[keyword].value)
    return pixel, between


def _tag_laterality(ds: Dataset) -> str:
    anatomy = _group_item(ds, "FrameAnatomySequence", 0)
    for source, keyword in ((ds, "ImageLaterality"), (anatomy, "FrameLaterality"), (ds, "Laterality")):
        if source is not None and str(source.get(keyword, "")).upper() in ("L", "R"):
            return str(source.get(keyword)).upper()
    return ""


def _tag_view(ds: Dataset) -> str:
    position = str(ds.get("ViewPosition", "")).strip().upper()
    if position in _VIEW_ALIASES:
        return _VIEW_ALIASES[position]
    for item in ds.get("ViewCodeSequence", []):
        code = str(item.get("CodeValue", ""))
        meaning = str(item.get("CodeMeaning", "")).lower().replace("-", "").replace(" ", "")
        if code in _VIEW_CODES:
            return _VIEW_CODES[code]
        if "craniocaudal" in meaning:
            return "CC"
        if "mediolateraloblique" in meaning:
            return "MLO"
    # Some writers only name the view in free text, e.g. "R MLO Tomo".
    text = " ".join(str(ds.get(k, "")) for k in ("SeriesDescription", "ProtocolName", "ViewName")).upper()
    words = set(text.replace("_", " ").replace("-", " ").split())
    for word, view in (("MLO", "MLO"), ("CC", "CC"), ("RMLO", "MLO"), ("LMLO", "MLO"), ("RCC", "CC"), ("LCC", "CC")):
        if word in words:
            return view
    return ""


def edge_laterality(display_values: np.ndarray, invert: bool) -> str:
    """Laterality by the BCS-DBT image-edge rule (design.md §1): the chest wall is the brighter vertical edge.

    Args:
        display_values: (H, W) one slice in display orientation, stored values.
        invert: True for MONOCHROME1, whose bright pixels have low values.

    Returns:
        "L" when the left edge is brighter (left breast), else "R".
    """
    band = max(1, display_values.shape[1] // 50)  # a 2 % band: robust to a dark first/last column
    left = float(display_values[:, :band].astype(np.float64).sum())
    right = float(display_values[:, -band:].astype(np.float64).sum())
    if invert:
        left, right = -left, -right
    return "L" if left > right else "R"


def _check_geometry(name: str, ds: Dataset, frames: int, limits: LoadLimits) -> None:
    rows, cols = int(ds.Rows), int(ds.Columns)
    samples = int(ds.get("SamplesPerPixel", 1))
    if samples != 1:
        raise SlamError(f"{name}: colour image (SamplesPerPixel={samples}); accepted: grayscale DBT slices")
    if rows > limits.max_rows or cols > limits.max_columns:
        raise SlamError(f"{name}: declared size {rows} x {cols} exceeds the limit "
                        f"{limits.max_rows} x {limits.max_columns}")
    if frames > limits.max_slices:
        raise SlamError(f"{name}: {frames} slices exceed the limit of {limits.max_slices}")
    nbytes = frames * rows * cols * ((int(ds.get("BitsAllocated", 16)) + 7) // 8)
    if nbytes > limits.max_pixel_bytes:
        raise SlamError(f"{name}: declared pixel data of {nbytes / 1024**3:.1f} GiB exceeds the "
                        f"{limits.max_pixel_bytes / 1024**3:.1f} GiB limit")


def _check_file_size(path: Path, ds: Dataset, frames: int, limits: LoadLimits) -> None:
    """Declared pixel bytes against the file's bytes, before decoding anything.

    Native pixel data must fit in the file; compressed pixel data may declare at most
    ``limits.max_compression_ratio`` times the file (a 26 KB file declaring 2.5 GiB is a bomb).
    """
    declared = frames * int(ds.Rows) * int(ds.Columns) * ((int(ds.get("BitsAllocated", 16)) + 7) // 8)
    size = max(1, path.stat().st_size)
    uid = _transfer_syntax(ds)
    if uid is not None and (uid.is_compressed or uid.is_deflated):
        if declared > limits.max_compression_ratio * size:
            raise SlamError(f"{path.name}: declares {declared / 2**20:.0f} MiB of pixels in a {size / 2**20:.2f} MiB "
                            f"file (compression {declared / size:.0f} : 1); accepted: up to "
                            f"{limits.max_compression_ratio:g} : 1")
    elif declared > size:
        raise SlamError(f"{path.name}: truncated or corrupt pixel data (declares {declared} bytes of pixels, "
                        f"the file holds {size})")


def _check_depth(name: str, frames: int, limits: LoadLimits) -> None:
    if frames <= 1:
        raise SlamError(f"{name}: not a tomosynthesis stack: {frames} frame; accepted: a multi-frame DBT "
                        "image or a series of slices")
    if frames < limits.min_slices:
        raise SlamError(f"{name}: only {frames} slices; a DBT stack needs at least {limits.min_slices}")


def _transfer_syntax(ds: Dataset):
    meta = getattr(ds, "file_meta", None)
    return meta.get("TransferSyntaxUID") if meta is not None else None


def _check_decodable(name: str, ds: Dataset) -> None:
    uid = _transfer_syntax(ds)
    if uid is None:
        return  # no meta header: pydicom assumes Implicit VR Little Endian, always decodable
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        raise SlamError(f"{name}: transfer syntax {uid.name} ({uid}) is not supported for pixel data; "
                        "accepted: uncompressed, RLE, JPEG, JPEG-LS, JPEG 2000") from None
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies) or "a decoding plugin"
        raise SlamError(f"{name}: cannot decode {uid.name}: install {missing}")


def _has_pixel_data(ds: Dataset) -> bool:
    for keyword in ("FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            raise SlamError(f"float pixel data ({keyword}) is not supported; accepted: integer pixel data")
    return "PixelData" in ds


def _read_at(path: Path, offset: int, buffer: memoryview) -> bool:
    """Fill ``buffer`` with the bytes of ``path`` from ``offset``, in :data:`READ_PARTS` threads where the
    platform has ``os.preadv`` (it releases the GIL). False when the file ends first."""

    def read_part(start: int, stop: int) -> bool:
        with open(path, "rb", buffering=0) as handle:
            while start < stop:  # a read returns at most ~2 GiB, and may return less
                count = os.preadv(handle.fileno(), [buffer[start:stop]], offset + start)
                if count <= 0:
                    return False
                start += count
        return True

    size = len(buffer)
    if not hasattr(os, "preadv"):
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.readinto(buffer) == size
    parts = READ_PARTS if size >= PARALLEL_READ_BYTES else 1
    bounds = [size * k // parts for k in range(parts + 1)]
    with ThreadPoolExecutor(parts) as pool:
        return all(pool.map(read_part, bounds[:-1], bounds[1:]))


def _read_native_into(path: Path, ds: Dataset, out: np.ndarray) -> bool:
    """Uncompressed little-endian grey pixel data straight from the file into ``out`` (F, H, W) (C-contiguous):
    one read, no per-frame decode and copy (a full-size BCS-DBT view is 0.6 GB). The bits above BitsStored
    are cleared (unsigned) or sign-extended (signed), as pydicom's decoders do. False, with ``out``
    untouched, when the file is not such a file or holds fewer bytes than ``out``: the decoders take it
    (and name the fault)."""
    syntax = _transfer_syntax(ds)
    if syntax is None or syntax.is_compressed or syntax.is_deflated or not syntax.is_little_endian:
        return False
    element = ds.get_item("PixelData", keep_deferred=True)  # its place in the file, not its value
    offset, length = getattr(element, "value_tell", None), getattr(element, "length", None)
    bits = int(ds.get("BitsAllocated", 0) or 0)
    if offset is None or length is None or length == 0xFFFFFFFF or length < out.nbytes \
            or int(ds.get("SamplesPerPixel", 1) or 1) != 1 or bits != 8 * out.dtype.itemsize:
        return False
    if not _read_at(path, offset, memoryview(out).cast("B")):
        return False
    stored = int(ds.get("BitsStored", bits) or bits)
    if 0 < stored < bits:
        if out.dtype.kind == "u":
            np.bitwise_and(out, out.dtype.type((1 << stored) - 1), out=out)
        else:  # two's complement of BitsStored bits: shift the sign bit to the top and back
            np.left_shift(out, bits - stored, out=out)
            np.right_shift(out, bits - stored, out=out)
    return True


def _decode_into(path: Path, ds: Dataset, out: np.ndarray, start: int, expected_frames: int,
                 deadline: Deadline) -> None:
    """Decode the frames of ``path`` (header ``ds``) into ``out[start:start + expected_frames]``, frame by frame,
    checking ``deadline`` between frames (uncompressed files in one read: :func:`_read_native_into`)."""
    if _read_native_into(path, ds, out[start:start + expected_frames]):
        return
    try:
        count = 0
        # The transfer syntax is passed for files without file meta, where it was inferred.
        frames = iter_pixels(path, transfer_syntax_uid=_transfer_syntax(ds))
        for count, frame in enumerate(frames, start=1):
            if count > expected_frames:
                break
            deadline.check(path.name)
            out[start + count - 1] = frame
    except SlamError:
        raise
    except Exception as exc:  # decoders raise many types; all mean the same to the user
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise SlamError(f"{path.name}: truncated or corrupt pixel data ({detail})") from None
    if count < expected_frames:
        raise SlamError(f"{path.name}: truncated or corrupt pixel data (decoded {count} of {expected_frames} frames)")


def _transfer_syntax_name(ds: Dataset) -> str:
    uid = _transfer_syntax(ds)
    return uid.name if uid is not None else "Implicit VR Little Endian"


def _study_from(ds: Dataset, pixels: np.ndarray, source_format: str, frame: int) -> Study:
    """Assemble display defaults, orientation and patient fields for decoded ``pixels`` (D, H, W)."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise SlamError(f"photometric interpretation {photometric} is not grayscale; "
                        "accepted: MONOCHROME1, MONOCHROME2")
    slope, intercept = _rescale(ds, frame)
    window = _window(ds, frame) or robust_window(pixels, slope, intercept)
    pixel_spacing, slice_spacing = _spacing(ds)
    middle = pixels[pixels.shape[0] // 2]
    image_side = edge_laterality(middle, invert=photometric == "MONOCHROME1")
    tagged = _tag_laterality(ds)
    # BCS-DBT convention: trust the tag, and rotate the display 180° when the image edges disagree.
    flip = bool(tagged) and tagged != image_side
    header = ds.copy()
    for keyword in ("PixelData", "PerFrameFunctionalGroupsSequence"):
        if keyword in header:
            del header[keyword]
    return Study(
        pixels=pixels,
        window_center=float(window[0]),
        window_width=float(window[1]),
        laterality=tagged or image_side,
        laterality_source="tag" if tagged else "image",
        view=_tag_view(ds),
        rescale_slope=slope,
        rescale_intercept=intercept,
        photometric=photometric,
        flip_rows=flip,
        flip_cols=flip,
        pixel_spacing=pixel_spacing,
        slice_spacing=slice_spacing,
        bits_stored=int(ds.get("BitsStored", pixels.dtype.itemsize * 8)),
        patient={k: str(ds.get(k, "")) for k in PATIENT_FIELDS if k in ds},
        source_format=source_format,
        header=header,
    )


def load_multiframe(path: Path, limits: LoadLimits, deadline: Deadline, ds: Dataset | None = None) -> Study:
    """Load one multi-frame DICOM (e.g. Breast Tomosynthesis Image Storage) as a (D, H, W) study."""
    ds = ds if ds is not None else read_header(path, limits, deadline)
    if not _has_pixel_data(ds):
        raise SlamError(f"{path.name}: DICOM file without pixel data; accepted: DICOM images with pixel data")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    _check_depth(path.name, frames, limits)
    _check_geometry(path.name, ds, frames, limits)
    _check_file_size(path, ds, frames, limits)
    _check_decodable(path.name, ds)
    pixels = np.empty((frames, int(ds.Rows), int(ds.Columns)), dtype=pixel_dtype(ds))
    _decode_into(path, ds, pixels, 0, frames, deadline)
    return _study_from(ds, pixels, f"DICOM multi-frame ({_transfer_syntax_name(ds)})", frames // 2)


def _stack_position(ds: Dataset) -> float | None:
    """Position along the stack normal (mm), from ImagePositionPatient and ImageOrientationPatient."""
    position, orientation = ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient")
    if position is None or len(position) != 3:
        return None
    if orientation is not None and len(orientation) == 6:
        normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
    else:
        normal = np.array([0.0, 0.0, 1.0])
    return float(np.dot(np.asarray(position, float), normal))


def load_series(paths: Sequence[Path], limits: LoadLimits, deadline: Deadline,
                headers: Sequence[Dataset] | None = None) -> Study:
    """Load single-frame DICOM files of one series, ordered along the stack (InstanceNumber as fallback)."""
    headers = list(headers) if headers is not None else [read_header(p, limits, deadline) for p in paths]
    name = f"{len(paths)} files"
    series = sorted({str(h.get("SeriesInstanceUID", "")) for h in headers})
    if len(series) > 1:
        shown = ", ".join(s or "(none)" for s in series[:3])
        raise SlamError(f"mixed series: the files belong to {len(series)} series ({shown}); "
                        "accepted: the slices of one series")
    sizes = {(int(h.Rows), int(h.Columns)) for h in headers}
    if len(sizes) > 1:
        shown = ", ".join(f"{r} x {c}" for r, c in sorted(sizes))
        raise SlamError(f"frames of different sizes ({shown}); accepted: slices of one size")
    multi = [p.name for p, h in zip(paths, headers, strict=True) if int(h.get("NumberOfFrames", 1) or 1) > 1]
    if multi:
        raise SlamError(f"{multi[0]} is a multi-frame image among {len(paths)} files; "
                        "accepted: one multi-frame file, or single-frame files of one series")
    for path, header in zip(paths, headers, strict=True):
        if not _has_pixel_data(header):
            raise SlamError(f"{path.name}: DICOM file without pixel data; accepted: DICOM images with pixel data")
    _check_depth(name, len(paths), limits)
    _check_geometry(name, headers[0], len(paths), limits)
    for path, header in zip(paths, headers, strict=True):
        _check_file_size(path, header, 1, limits)
        _check_decodable(path.name, header)

    positions = [_stack_position(h) for h in headers]
    if all(p is not None for p in positions) and len(set(positions)) == len(positions):
        order = np.argsort(positions, kind="stable")
    elif all("InstanceNumber" in h for h in headers):
        order = np.argsort([int(h.InstanceNumber) for h in headers], kind="stable")
    else:
        raise SlamError("cannot order the slices: no distinct ImagePositionPatient or InstanceNumber; "
                        "accepted: single-frame files carrying one of them")
    first = headers[order[0]]
    pixels = np.empty((len(paths), int(first.Rows), int(first.Columns)), dtype=pixel_dtype(first))
    for slot, index in enumerate(order):
        _decode_into(paths[index], headers[index], pixels, slot, 1, deadline)
    return _study_from(headers[order[len(order) // 2]], pixels,
                       f"DICOM series of {len(paths)} files ({_transfer_syntax_name(first)})", 0)
