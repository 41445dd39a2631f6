"""Caps on what a load may cost (memory, disk, time), checked before any pixel is decoded or any member inflated."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, fields

from slam.errors import SlamError


@dataclass(frozen=True)
class LoadLimits:
    """Limits for :func:`slam.io.load_study`; an unknown keyword is a ``TypeError``, a bad value a ``SlamError``.

    The defaults admit every DBT study we know of and refuse anything that costs more than such a study
    could (the loading docs give the reason for each): a DBT view is 10-400 slices of at most 4096 x 4096
    pixels (BCS-DBT: 2457 x 1996 x ~60 at 16 bit, 0.6 GiB), its lossless or lossy compression is < 20 : 1,
    and a zip of DICOM slices deflates < 10 : 1.

    Attributes:
        min_slices, max_slices: accepted stack depth.
        max_rows, max_columns: accepted slice size, pixels.
        max_pixel_bytes: the decoded volume's size, bytes; a caller with a memory budget passes what is left.
        max_exam_pixel_bytes: the views of one exam together (``load_views``: a zip or folder of an exam; the
            web app's and the PACS panel's exams), bytes: four BCS-DBT views are ~2.4 GiB; each view also
            stays within ``max_pixel_bytes``.
        max_compression_ratio: declared pixel bytes over the file's bytes, for compressed transfer syntaxes.
        max_header_reads: file reads while parsing a DICOM header (about one per element; the example
            studies need ~200, a 400-frame enhanced header a few thousand); bounds the time a header of
            millions of tiny elements costs (~0.1 s).
        max_zip_members: files in a zip.
        max_zip_bytes: bytes a zip may inflate to, in total.
        max_zip_ratio: inflated over compressed bytes, per zip member (over 1 MiB) and in total.
        max_seconds: wall-clock budget of one load, checked between header reads, frames and zip members.
    """

    min_slices: int = 10
    max_slices: int = 400
    max_rows: int = 4096
    max_columns: int = 4096
    max_pixel_bytes: int = 1536 * 1024**2
    max_exam_pixel_bytes: int = 3 * 1024**3
    max_compression_ratio: float = 100.0
    max_header_reads: int = 20_000
    max_zip_members: int = 1000
    max_zip_bytes: int = 3 * 1024**3
    max_zip_ratio: float = 50.0
    max_seconds: float = 120.0

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise SlamError(f"LoadLimits.{spec.name}={value!r}; accepted: a number >= 0")
        if self.min_slices > self.max_slices:
            raise SlamError(f"LoadLimits: min_slices {self.min_slices} > max_slices {self.max_slices}")


def exam_room(limits: LoadLimits, used: int) -> LoadLimits:
    """``limits`` for the next view of an exam whose views so far hold ``used`` pixel bytes: the exam
    keeps what is left of ``max_exam_pixel_bytes``, and the view may take at most that (and at most
    ``max_pixel_bytes``)."""
    left = max(0, limits.max_exam_pixel_bytes - used)
    return dataclasses.replace(limits, max_pixel_bytes=min(limits.max_pixel_bytes, left), max_exam_pixel_bytes=left)


class Deadline:
    """The time budget of one load: ``seconds`` from its creation."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self, name: str) -> None:
        """Raise a one-line :class:`SlamError` naming ``name`` once the budget is spent."""
        if time.monotonic() > self._end:
            raise SlamError(f"{name}: loading took longer than the {self.seconds:g} s limit; nothing was loaded")
