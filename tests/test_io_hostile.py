"""Hostile inputs (issue 9): each is a one-line SlamError in <= 2 s, <= 100 MB extra RSS and <= 10 MB written.

All inputs are loaded in one child process, so that its peak RSS (VmHWM, reset between inputs through
/proc/self/clear_refs) and the bytes it writes (wchar in /proc/self/io) belong to the loads alone.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile_inputs import (
    element_flood,
    huge_declared_jpegls,
    nested_sequences,
    npz_bomb,
    preambleless_junk,
    zip_bomb,
    zip_of_junk,
)

from slam.errors import SlamError
from slam.io import LoadLimits, load_study, write_series_dicom, write_volume_dicom
from slam.io.dicom_read import sniff_dicom

MAX_SECONDS, MAX_EXTRA_RSS_MB, MAX_WRITTEN_MB = 2.0, 100.0, 10.0
MAKERS = {
    "zip_bomb": zip_bomb,
    "npz_bomb": npz_bomb,
    "zip_of_junk": zip_of_junk,
    "preambleless_junk": preambleless_junk,
    "element_flood": element_flood,
    "nested_sequences": nested_sequences,
    "huge_declared_jpegls": huge_declared_jpegls,
    # Within the default geometry (4096 x 4096, 1.5 GiB): only the compression ratio gives it away.
    "huge_declared_jpegls_4096": lambda folder: huge_declared_jpegls(folder, frames=40, rows=4096, cols=4096),
}

CHILD = r"""
import inspect, json, signal, sys, time
from slam.errors import SlamError
from slam.io import load_study

def status_kb(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key))

def written():
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar"))

def give_up(*_):
    raise TimeoutError

signal.signal(signal.SIGALRM, give_up)
scratch, cases = sys.argv[1], json.loads(sys.argv[2])
keywords = {"scratch_dir": scratch} if "scratch_dir" in inspect.signature(load_study).parameters else {}
results = {}
for name, path in cases.items():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current RSS
    rss, wrote, start = status_kb("VmRSS"), written(), time.perf_counter()
    signal.alarm(20)
    try:
        load_study(path, **keywords)
        outcome, message = "loaded", ""
    except SlamError as exc:
        outcome, message = "SlamError", str(exc)
    except TimeoutError:
        outcome, message = "timeout", "still running after 20 s"
    except BaseException as exc:
        outcome, message = type(exc).__name__, str(exc)[:200]
    signal.alarm(0)
    results[name] = {"outcome": outcome, "message": message, "seconds": time.perf_counter() - start,
                     "extra_rss_mb": (status_kb("VmHWM") - rss) / 1024, "written_mb": (written() - wrote) / 2**20}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> tuple[dict, Path]:
    folder, scratch = tmp_path_factory.mktemp("hostile"), tmp_path_factory.mktemp("scratch")
    cases = {name: str(make(folder)) for name, make in MAKERS.items()}
    result = subprocess.run([sys.executable, "-c", CHILD, str(scratch), json.dumps(cases)], capture_output=True,
                            text=True, timeout=300, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1]), scratch


@pytest.mark.parametrize("name", list(MAKERS))
def test_hostile_input_is_refused_fast_and_cheaply(measured, name):
    results, scratch = measured
    figures = results[name]
    assert figures["outcome"] == "SlamError", figures
    assert "\n" not in figures["message"] and len(figures["message"]) < 300
    assert figures["seconds"] <= MAX_SECONDS, figures
    assert figures["extra_rss_mb"] <= MAX_EXTRA_RSS_MB, figures
    assert figures["written_mb"] <= MAX_WRITTEN_MB, figures
    assert not any(scratch.iterdir()), "the scratch folder must be empty after every load"


def load_error(*args, **kwargs) -> str:
    with pytest.raises(SlamError) as info:
        load_study(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_sniff_dicom_reads_first_bytes_only():
    explicit = struct.pack("<HH2sH", 0x0008, 0x0005, b"CS", 10) + b"ISO_IR 100"
    implicit = struct.pack("<HHI", 0x0008, 0x0016, 26) + b"1.2.840.10008.5.1.4.1.1.13"
    assert sniff_dicom(bytes(128) + b"DICM" + bytes(10)) == "preamble"
    assert sniff_dicom(explicit + bytes(120)) == sniff_dicom(implicit + bytes(120)) == "bare"
    for junk in (bytes(132), b"hello, I am text" * 9, struct.pack("<HHI", 0x0008, 0x0016, 2**30) + bytes(124),
                 struct.pack("<HH2sH", 0x7FE0, 0x0010, b"OW", 0) + bytes(124)):
        assert sniff_dicom(junk) == ""


def test_time_budget_refuses_without_half_loading(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, transfer_syntax="jpegls")
    assert "longer than the 0 s limit" in load_error(path, LoadLimits(max_seconds=0))
    assert load_study(path).depth == 12


def test_limits_are_typed():
    with pytest.raises(TypeError):
        LoadLimits(max_bytes=1)
    with pytest.raises(SlamError, match="max_seconds"):
        LoadLimits(max_seconds=-1)
    assert LoadLimits().max_rows == LoadLimits().max_columns == 4096


def test_compression_ratio_bound(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, transfer_syntax="jpegls")
    assert load_study(path).depth == 12
    assert "accepted: up to 1.5 : 1" in load_error(path, LoadLimits(max_compression_ratio=1.5))
    # Within the default geometry (4096 x 4096), only the ratio gives this one away.
    assert "compression" in load_error(huge_declared_jpegls(tmp_path, frames=12, rows=4096, cols=4096))


def test_zip_members_sniffed_extracted_under_scratch_and_removed(tmp_path, volume_left):
    paths = write_series_dicom(tmp_path / "s", volume_left)
    with zipfile.ZipFile(tmp_path / "s.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            zf.write(p, p.name)
        zf.writestr("notes/readme.txt", "not an image")  # skipped without being extracted
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    study = load_study(tmp_path / "s.zip", scratch_dir=scratch)
    assert study.depth == 12 and study.source_format.startswith("zip: ") and not any(scratch.iterdir())
    data = bytearray((tmp_path / "s.zip").read_bytes())
    # Corrupt the end of the second member: sniffing its first bytes passes, extracting it fails.
    end = data.index(b"PK\x03\x04", data.index(b"PK\x03\x04", 10) + 4)
    data[end - 40: end - 8] = bytes(32)
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    assert "bad.zip: corrupt zip member 'slice_0001.dcm'" in load_error(tmp_path / "bad.zip", scratch_dir=scratch)
    assert not any(scratch.iterdir())


def test_zip_ratio_is_refused_before_inflating(tmp_path):
    message = load_error(zip_bomb(tmp_path, inflated_bytes=64 * 2**20), LoadLimits(), scratch_dir=tmp_path)
    assert "inflates" in message and "at most 50 : 1" in message


def test_npy_declaring_more_than_it_holds(tmp_path):
    with open(tmp_path / "v.npy", "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"shape": (400, 4096, 4096), "fortran_order": False,
                                                       "descr": "<u2"})
    assert "truncated .npy" in load_error(tmp_path / "v.npy")
