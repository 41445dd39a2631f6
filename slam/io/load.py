"""``load_study``: one entry point for every accepted input, with safe zip handling."""

from __future__ import annotations

import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from slam.errors import SlamError
from slam.imaging.display import robust_window
from slam.io.dicom_read import edge_laterality, load_multiframe, load_series, read_header, sniff_dicom
from slam.io.limits import Deadline, LoadLimits, exam_room
from slam.io.study import LATERALITIES, VIEWS, Study

ACCEPTED = "a multi-frame DICOM, single-frame DICOM files of one series, a .zip of either, or a .npy/.npz volume"
_NUMPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20  # members below 1 MiB may compress any amount: they cannot cost much


def load_study(source: str | os.PathLike | Sequence[str | os.PathLike], limits: LoadLimits = LoadLimits(),
               scratch_dir: str | os.PathLike | None = None) -> Study:
    """Load one DBT view from a file, a directory, a list of files, a zip, or a numpy volume.

    Args:
        source: a multi-frame DICOM; a directory or list of single-frame DICOM files of one series
            (or holding exactly one multi-frame DICOM); a ``.zip`` of either; a ``.npy``/``.npz`` (D, H, W).
        limits: caps on memory, disk and time, checked before decoding and inflating (see :class:`LoadLimits`).
        scratch_dir: where zip members are extracted (into a private folder deleted on every exit path);
            default: the system's temporary folder. A web app passes its session's folder, which it also
            empties at start-up, so that nothing survives a killed process.

    Returns:
        The :class:`Study`, pixels (D, H, W) in the stored dtype.

    Raises:
        SlamError: any bad input, or a load over ``limits``, with a one-line message; nothing is half-loaded.
    """
    deadline = Deadline(limits.max_seconds)
    paths = _source_paths(source)
    if len(paths) == 1:
        return _load_file(paths[0], limits, deadline, scratch_dir)
    return _load_dicom_files(paths, limits, deadline)


def load_views(source: str | os.PathLike | Sequence[str | os.PathLike], limits: LoadLimits = LoadLimits(),
               scratch_dir: str | os.PathLike | None = None) -> list[Study]:
    """Load every DBT view in ``source``: as :func:`load_study`, except that a directory, a list of files or a
    ``.zip`` may hold a whole exam: each multi-frame DICOM in it is one view, and so are the single-frame
    files of each series (SeriesInstanceUID), in the order found. ``limits`` hold for the source as a whole
    (the views' pixels together stay within ``max_exam_pixel_bytes``, each view within ``max_pixel_bytes``).

    Raises:
        SlamError: as :func:`load_study` (one view that fails fails the whole source).
    """
    deadline = Deadline(limits.max_seconds)
    paths = _source_paths(source)
    if len(paths) > 1:
        return _dicom_views(paths, limits, deadline)
    with open(paths[0], "rb") as handle:
        if handle.read(4) in _ZIP_MAGIC and paths[0].suffix.lower() != ".npz":
            return _load_zip(paths[0], limits, deadline, scratch_dir, views=True)
    return [_load_file(paths[0], limits, deadline, scratch_dir)]


def _source_paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The files of ``source`` (a file, a directory's files but hidden ones, or a list), each checked to exist."""
    paths = [Path(source)] if isinstance(source, (str, os.PathLike)) else [Path(p) for p in source]
    if not paths:
        raise SlamError(f"no input files; accepted: {ACCEPTED}")
    for path in paths:
        if not path.exists():
            raise SlamError(f"{path.name}: no such file or directory")
    if len(paths) == 1 and paths[0].is_dir():
        paths = sorted(p for p in paths[0].rglob("*") if p.is_file() and not _is_hidden(p))
        if not paths:
            raise SlamError(f"the directory is empty; accepted: {ACCEPTED}")
    return paths


def split_studies(sources: Sequence[str | os.PathLike], limits: LoadLimits = LoadLimits()) -> list[list[Path]]:
    """Group command-line sources into studies, each a list of paths for :func:`load_study`.

    Each source is one study (a file, a directory or a zip), except that sources which are all
    single-frame DICOM files are one series: ``slam info s1.dcm s2.dcm ...`` is one study, as it always was.
    Only headers are read (bounded as in a load); unreadable files simply make every source its own study.
    """
    paths = [Path(s) for s in sources]
    if len(paths) > 1 and all(_is_single_frame_dicom(p, limits) for p in paths):
        return [paths]
    return [[p] for p in paths]


def _is_single_frame_dicom(path: Path, limits: LoadLimits) -> bool:
    if not path.is_file():
        return False
    try:
        return int(read_header(path, limits, Deadline(limits.max_seconds)).get("NumberOfFrames", 1) or 1) == 1
    except SlamError:
        return False


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".") or "__MACOSX" in path.parts


def _load_file(path: Path, limits: LoadLimits, deadline: Deadline, scratch_dir: str | os.PathLike | None) -> Study:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(_NUMPY_MAGIC):
        return _load_numpy(path, limits)
    if head[:4] in _ZIP_MAGIC:
        if path.suffix.lower() == ".npz":
            return _load_numpy(path, limits)
        return _load_zip(path, limits, deadline, scratch_dir)[0]
    return load_multiframe(path, limits, deadline)


def _dicom_headers(paths: Sequence[Path], limits: LoadLimits, deadline: Deadline) -> tuple[list[Path], list]:
    """The DICOM files among ``paths`` and their headers (others are skipped); SlamError when there is none."""
    headers, dicom_paths = [], []
    for path in paths:
        try:
            headers.append(read_header(path, limits, deadline))
            dicom_paths.append(path)
        except SlamError:
            deadline.check(path.name)  # a refused file is skipped, a spent budget is not
    if not dicom_paths:
        raise SlamError(f"none of the {len(paths)} files is a DICOM image; accepted: {ACCEPTED}")
    return dicom_paths, headers


def _dicom_views(paths: Sequence[Path], limits: LoadLimits, deadline: Deadline) -> list[Study]:
    """Each multi-frame DICOM among ``paths`` one view, and the single-frame files of each series one view."""
    dicom_paths, headers = _dicom_headers(paths, limits, deadline)
    sources: list[list[int]] = []  # one list of file indices per view
    series: dict[str, list[int]] = {}
    for i, header in enumerate(headers):
        if int(header.get("NumberOfFrames", 1) or 1) > 1:
            sources.append([i])
        else:
            series.setdefault(str(header.get("SeriesInstanceUID", "")), []).append(i)
    views: list[Study] = []
    for members in sources + list(series.values()):
        # the exam's pixel limit holds for the views together: each view gets what the ones before it left
        left = exam_room(limits, sum(v.pixels.nbytes for v in views))
        if len(members) == 1 and int(headers[members[0]].get("NumberOfFrames", 1) or 1) > 1:
            views.append(load_multiframe(dicom_paths[members[0]], left, deadline, headers[members[0]]))
        else:
            views.append(load_series([dicom_paths[i] for i in members], left, deadline, [headers[i] for i in members]))
    return views


def _load_dicom_files(paths: Sequence[Path], limits: LoadLimits, deadline: Deadline) -> Study:
    dicom_paths, headers = _dicom_headers(paths, limits, deadline)
    multi = [i for i, h in enumerate(headers) if int(h.get("NumberOfFrames", 1) or 1) > 1]
    if len(multi) == 1 and len(dicom_paths) == 1:
        return load_multiframe(dicom_paths[0], limits, deadline, headers[0])
    if len(multi) > 1:
        raise SlamError(f"{len(multi)} multi-frame images found; accepted: one view (one multi-frame file) at a time")
    return load_series(dicom_paths, limits, deadline, headers)


def _safe_member_path(name: str) -> PurePosixPath:
    member = PurePosixPath(name.replace("\\", "/"))
    if member.is_absolute() or ".." in member.parts or (member.parts and ":" in member.parts[0]):
        raise SlamError(f"unsafe path in zip: {name!r}; accepted: zips with relative paths only")
    return member


def _check_zip_sizes(name: str, members: Sequence[zipfile.ZipInfo], limits: LoadLimits) -> None:
    """Refuse, from the zip's directory alone, more members, bytes or compression than a real study has."""
    if len(members) > limits.max_zip_members:
        raise SlamError(f"{name}: {len(members)} files in the zip exceed the limit of {limits.max_zip_members}")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_zip_bytes:
        raise SlamError(f"{name}: {declared / 1024**3:.1f} GiB uncompressed exceeds the "
                        f"{limits.max_zip_bytes / 1024**3:.1f} GiB limit")
    # Small members (headers, DICOMDIR, notes) may compress well and cost nothing; large ones may not.
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > limits.max_zip_ratio * max(1, member.compress_size):
            raise SlamError(f"{name}: member {member.filename!r} inflates "
                            f"{member.file_size / max(1, member.compress_size):.0f} : 1; accepted: zips of "
                            f"images, which compress at most {limits.max_zip_ratio:g} : 1")
    packed = sum(m.compress_size for m in members)
    if declared > _RATIO_FLOOR and declared > limits.max_zip_ratio * max(1, packed):
        raise SlamError(f"{name}: the zip inflates {declared / max(1, packed):.0f} : 1; accepted: zips of "
                        f"images, which compress at most {limits.max_zip_ratio:g} : 1")


def _member_kind(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    """'dicom' or 'npy' from the member's first 132 bytes (inflating only those), else ''."""
    with archive.open(member) as handle:
        head = handle.read(132)
    if head.startswith(_NUMPY_MAGIC):
        return "npy"
    return "dicom" if sniff_dicom(head) else ""


def _load_zip(path: Path, limits: LoadLimits, deadline: Deadline, scratch_dir: str | os.PathLike | None,
              views: bool = False) -> list[Study]:
    """The zip's study as a one-element list, or with ``views`` every view in it (:func:`load_views`)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SlamError(f"{path.name}: not a readable zip ({exc}); accepted: {ACCEPTED}") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        members = [m for m in members if not _is_hidden(Path(_safe_member_path(m.filename)))]
        if not members:
            raise SlamError(f"{path.name}: the zip holds no files; accepted: {ACCEPTED}")
        _check_zip_sizes(path.name, members, limits)
        if any(m.flag_bits & 0x1 for m in members):
            raise SlamError(f"{path.name}: encrypted zip members are not supported; accepted: plain zips")
        kinds = []  # by position: names in a zip need not be unique
        try:
            for member in members:
                deadline.check(path.name)
                kinds.append(_member_kind(archive, member))
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise SlamError(f"{path.name}: corrupt zip member {member.filename!r} ({exc})") from None
        wanted = [m for m, kind in zip(members, kinds, strict=True) if kind]
        wanted_kinds = [kind for kind in kinds if kind]
        if not wanted:
            what = f"{members[0].filename}: not a DICOM file" if len(members) == 1 else \
                f"none of the {len(members)} files in the zip is a DICOM file or a .npy volume"
            raise SlamError(f"{path.name}: {what}; accepted: {ACCEPTED}")
        if "npy" in wanted_kinds and len(wanted) > 1:
            raise SlamError(f"{path.name}: a .npy among {len(wanted)} files; accepted: one .npy, or DICOM files")
        with tempfile.TemporaryDirectory(prefix="slam-zip-", dir=scratch_dir) as tmp:
            extracted = _extract(path.name, archive, wanted, Path(tmp), limits, deadline)
            if wanted_kinds[0] == "npy":
                studies = [_load_numpy(extracted[0], limits)]
            elif views:
                studies = _dicom_views(extracted, limits, deadline)
            elif len(extracted) > 1:
                studies = [_load_dicom_files(extracted, limits, deadline)]
            else:
                studies = [load_multiframe(extracted[0], limits, deadline)]
            for study in studies:
                study.source_format = f"zip: {study.source_format}"
            return studies


def _extract(name: str, archive: zipfile.ZipFile, members: Sequence[zipfile.ZipInfo], folder: Path,
             limits: LoadLimits, deadline: Deadline) -> list[Path]:
    """Inflate ``members`` into ``folder`` as flat numbered files, counting the bytes that really come out."""
    extracted, written = [], 0
    for index, member in enumerate(members):
        deadline.check(name)
        # Flat, numbered names: nothing from the archive decides where files land.
        target = folder / f"{index:05d}{Path(member.filename).suffix[:8]}"
        try:
            with archive.open(member) as src, open(target, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    # Sizes in the zip directory can lie; count what really comes out.
                    if written > limits.max_zip_bytes:
                        raise SlamError(f"{name}: uncompressed data exceeds the "
                                        f"{limits.max_zip_bytes / 1024**3:.1f} GiB limit")
                    dst.write(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise SlamError(f"{name}: corrupt zip member {member.filename!r} ({exc})") from None
        extracted.append(target)
    return extracted


def _declared_bytes(handle: BinaryIO) -> int:
    """Bytes of the array a .npy stream declares in its header (the stream is left after the header)."""
    version = np.lib.format.read_magic(handle)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(handle)
    return math.prod(shape) * dtype.itemsize


def _check_numpy_declared(path: Path, limits: LoadLimits) -> None:
    """Refuse a .npy/.npz whose headers declare more than ``limits.max_pixel_bytes`` (or more than the
    .npy holds), and a .npz whose zip directory fails the zip limits, before any array is read."""
    if path.suffix.lower() == ".npz":
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            _check_zip_sizes(path.name, members, limits)
            declared = 0
            for member in members:
                with archive.open(member) as handle:
                    declared += _declared_bytes(handle)
    else:
        with open(path, "rb") as handle:
            declared = _declared_bytes(handle)
            if declared > path.stat().st_size - handle.tell():
                raise SlamError(f"{path.name}: truncated .npy (declares {declared} bytes, holds "
                                f"{path.stat().st_size - handle.tell()})")
    if declared > limits.max_pixel_bytes:
        raise SlamError(f"{path.name}: declared arrays of {declared / 1024**3:.1f} GiB exceed the "
                        f"{limits.max_pixel_bytes / 1024**3:.1f} GiB limit")


def _load_numpy(path: Path, limits: LoadLimits) -> Study:
    try:
        _check_numpy_declared(path, limits)
        loaded = np.load(path, allow_pickle=False)
    except SlamError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise SlamError(f"{path.name}: not a readable .npy/.npz ({exc}); accepted: {ACCEPTED}") from None
    extras: dict[str, np.ndarray] = {}
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            key = next((k for k in ("volume", "pixels") if k in keys), keys[0] if len(keys) == 1 else None)
            if key is None:
                raise SlamError(f"{path.name}: .npz holds {keys}; accepted: one array, or one named 'volume'")
            try:
                volume = loaded[key]
                extras = {k: loaded[k] for k in keys if k != key}
            except ValueError as exc:
                raise SlamError(f"{path.name}: cannot read array ({exc}); object arrays are refused") from None
    else:
        volume = loaded
    if volume.ndim != 3:
        if volume.ndim == 2:
            raise SlamError(f"{path.name}: not a tomosynthesis stack: 1 frame (2D array); accepted: (D, H, W)")
        raise SlamError(f"{path.name}: array of shape {volume.shape}; accepted: a (D, H, W) volume")
    if volume.dtype.kind not in "uif" or volume.dtype.itemsize > 4 and volume.dtype.kind == "f":
        raise SlamError(f"{path.name}: dtype {volume.dtype}; accepted: integer or float32 volumes")
    depth, rows, cols = volume.shape
    if depth < limits.min_slices:
        raise SlamError(f"{path.name}: only {depth} slices; a DBT stack needs at least {limits.min_slices}")
    if depth > limits.max_slices or rows > limits.max_rows or cols > limits.max_columns:
        raise SlamError(f"{path.name}: shape {volume.shape} exceeds the limits ({limits.max_slices} slices, "
                        f"{limits.max_rows} x {limits.max_columns})")
    laterality = str(extras.get("laterality", "")).upper()
    view = str(extras.get("view", "")).upper()
    spacing = extras.get("pixel_spacing")
    image_side = edge_laterality(volume[depth // 2], invert=False)
    center, width = robust_window(volume)
    return Study(
        pixels=np.ascontiguousarray(volume),
        window_center=center,
        window_width=width,
        laterality=laterality if laterality in LATERALITIES else image_side,
        laterality_source="tag" if laterality in LATERALITIES else "image",
        view=view if view in VIEWS else "",
        flip_rows=laterality in LATERALITIES and laterality != image_side,
        flip_cols=laterality in LATERALITIES and laterality != image_side,
        pixel_spacing=(float(spacing[0]), float(spacing[1])) if spacing is not None and np.size(spacing) == 2 else None,
        bits_stored=volume.dtype.itemsize * 8,
        source_format="npz" if path.suffix.lower() == ".npz" else "npy",
    )
