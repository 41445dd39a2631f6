"""Hostile inputs for the loader and the web app: each function writes one file into ``folder`` and returns its path.

Every file is cheap to make (well under a second of CPU on a quiet machine, small on disk) but was expensive for
the loader before issue 9: minutes of CPU, gigabytes of memory or disk, or a traceback. Shared by
``tests/test_io_hostile.py``, ``tests/test_security.py`` and ``bench/bench_hostile.py``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pydicom
from pydicom.encaps import encapsulate

_CHUNK = 1 << 20


def _deflate_zeros(head: bytes, zeros: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``head`` followed by ``zeros`` zero bytes, and its CRC-32.

    One 1 MiB block of zeros is compressed once, ending in a full flush (byte-aligned, no back-references
    across it), and repeated: 2 GiB of zeros costs one compression and ~2 MB of output.
    """
    def block(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    first = min(zeros, _CHUNK - len(head) % _CHUNK)
    parts = [block(head + bytes(first))]
    crc = zlib.crc32(bytes(first), zlib.crc32(head))
    left = zeros - first
    whole, rest = divmod(left, _CHUNK)
    if whole:
        zero_block, zero_chunk = block(bytes(_CHUNK)), bytes(_CHUNK)
        parts.append(zero_block * whole)
        for _ in range(whole):
            crc = zlib.crc32(zero_chunk, crc)
    if rest:
        parts.append(block(bytes(rest)))
        crc = zlib.crc32(bytes(rest), crc)
    parts.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # the final (empty) block
    return b"".join(parts), crc


def _write_deflated_zip(path: Path, member: str, head: bytes, zeros: int) -> Path:
    """A one-member zip (deflate, 32-bit sizes) whose member is ``head`` + ``zeros`` zero bytes."""
    size = len(head) + zeros
    if size >= 0xFFFFFFFF:
        raise ValueError("inflated size must stay below 4 GiB (no ZIP64 here)")
    data, crc = _deflate_zeros(head, zeros)
    name = member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                          len(name), 0, 0, 0, 0, 0, 0)
    directory_offset = len(local) + len(name) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), directory_offset, 0)
    path.write_bytes(local + name + data + central + name + end)
    return path


def zip_bomb(folder: Path, inflated_bytes: int = 2**31, member: str = "slice.dcm") -> Path:
    """``bomb.zip``: ~2 MB holding one member of ``inflated_bytes`` zeros (2 GiB by default, ratio ~1000:1)."""
    return _write_deflated_zip(Path(folder) / "bomb.zip", member, b"", inflated_bytes)


def npz_bomb(folder: Path, slices: int = 96, rows: int = 4096, cols: int = 4096) -> Path:
    """``bomb.npz``: a ~1.5 MB .npz whose one uint8 (slices, rows, cols) array of zeros inflates to 1.5 GiB.

    The declared shape is within what a DBT volume may be; only the compression ratio gives it away.
    """
    header = np.lib.format.header_data_from_array_1_0(np.zeros((0, 0, 0), np.uint8))
    header["shape"] = (slices, rows, cols)
    buffer = _HeaderBuffer()
    np.lib.format.write_array_header_1_0(buffer, header)
    return _write_deflated_zip(Path(folder) / "bomb.npz", "volume.npy", buffer.data, slices * rows * cols)


class _HeaderBuffer:
    """The minimal writable that ``numpy.lib.format`` needs for a header."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += bytes(data)


def zip_of_junk(folder: Path, members: int = 200, member_bytes: int = _CHUNK) -> Path:
    """``junk.zip``: ``members`` members named ``*.dcm``, each ``member_bytes`` zeros (no DICOM preamble).

    Before issue 9 every member was extracted (200 MiB on disk) and then parsed as a forced dataset (~1 s each).
    """
    data, crc = _deflate_zeros(b"", member_bytes)
    local_parts, central_parts, offset = [], [], 0
    for index in range(members):
        name = f"IMG{index:05d}.dcm".encode()
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), member_bytes, len(name), 0)
        local_parts.append(local + name + data)
        central_parts.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data),
                                         member_bytes, len(name), 0, 0, 0, 0, 0, offset) + name)
        offset += len(local) + len(name) + len(data)
    central = b"".join(central_parts)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, len(central), offset, 0)
    path = Path(folder) / "junk.zip"
    path.write_bytes(b"".join(local_parts) + central + end)
    return path


def preambleless_junk(folder: Path, size: int = 8 * _CHUNK) -> Path:
    """``junk.dcm``: ``size`` zero bytes (a sparse file: ~nothing on disk), neither DICOM nor zip nor .npy.

    Parsed with ``force=True`` it is ``size / 8`` implicit-VR elements (0000,0000): ~6 s for 8 MiB.
    """
    path = Path(folder) / "junk.dcm"
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def _file_meta_bytes() -> bytes:
    """Preamble, 'DICM' and an Explicit VR Little Endian file meta group."""
    def element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        if len(value) % 2:
            value += b"\x00"
        if vr in (b"OB", b"UN", b"SQ"):
            return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value

    body = (element(2, 1, b"OB", b"\x00\x01")
            + element(2, 2, b"UI", b"1.2.840.10008.5.1.4.1.1.13.1.3")
            + element(2, 3, b"UI", b"1.2.826.0.1.3680043.8.498.1")
            + element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1"))
    return b"\x00" * 128 + b"DICM" + element(2, 0, b"UL", struct.pack("<I", len(body))) + body


def element_flood(folder: Path, elements: int = 500_000) -> Path:
    """``flood.dcm``: a DICOM with the preamble and ``elements`` empty private elements (8 bytes each, 4 MB).

    A plausible start: sniffing the first bytes cannot tell it from a real file; only a bound on the header does.
    """
    groups, rest = divmod(elements, 0xFF00)
    parts = [_file_meta_bytes()]
    for index in range(groups + 1):
        group = 0x0009 + 2 * index
        count = 0xFF00 if index < groups else rest
        parts.append(b"".join(struct.pack("<HH2sH", group, 0x0100 + e, b"LO", 0) for e in range(count)))
    path = Path(folder) / "flood.dcm"
    path.write_bytes(b"".join(parts))
    return path


def nested_sequences(folder: Path, depth: int = 5000) -> Path:
    """``nested.dcm``: a DICOM with the preamble and ``depth`` nested sequences of undefined length (~80 KB).

    pydicom parses sequences recursively: before issue 9 this was a ``RecursionError`` traceback.
    """
    level = struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000,
                                                                                        0xFFFFFFFF)
    path = Path(folder) / "nested.dcm"
    path.write_bytes(_file_meta_bytes() + level * depth)
    return path


def huge_declared_jpegls(folder: Path, frames: int = 20, rows: int = 8192, cols: int = 8192) -> Path:
    """``huge_{frames}x{rows}x{cols}.dcm``: a real, valid JPEG-LS DBT file (~26 KB) declaring ``frames`` x ``rows`` x ``cols`` uint16.

    Each frame is the same JPEG-LS codestream of a black image (~1.3 KB for 8192 x 8192): decoding the
    whole file takes ``frames * rows * cols * 2`` bytes (2.5 GiB by default).
    """
    import jpeg_ls  # pyjpegls: the JPEG-LS encoder pydicom itself uses

    from slam.io import write_volume_dicom

    small = np.zeros((frames, 16, 16), np.uint16)
    small[:, :, :8] = 1000  # a chest wall, so the file is an ordinary left view
    path = write_volume_dicom(Path(folder) / f"huge_{frames}x{rows}x{cols}.dcm", small, transfer_syntax="jpegls")
    ds = pydicom.dcmread(path)
    frame = bytes(jpeg_ls.encode_buffer(bytes(rows * cols * 2), rows, cols, 1, int(ds.BitsStored)))
    ds.Rows, ds.Columns = rows, cols
    ds.PixelData = encapsulate([frame] * frames)
    ds.save_as(path, enforce_file_format=True)
    return path
