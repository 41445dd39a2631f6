"""The ``slam`` command line: JSON output, and one-line errors with exit code 2 (no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys

from slam.io import write_volume_dicom


def run_slam(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slam", *args], capture_output=True, text=True, timeout=300)


def test_info_prints_metadata(tmp_path, volume_left):
    path = write_volume_dicom(tmp_path / "v.dcm", volume_left, laterality="L", view="CC", transfer_syntax="rle",
                              patient_name="DOE^JANE", patient_id="P7", pixel_spacing=(0.6, 0.6))
    result = run_slam("info", str(path))
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["shape"] == [12, 72, 56] and info["dtype"] == "uint16"
    assert (info["view"], info["laterality"], info["dbtex_view"]) == ("CC", "L", "lcc")
    assert info["pixel_spacing_mm"] == [0.6, 0.6] and info["patient"]["PatientID"] == "P7"
    assert "RLE" in info["source_format"]


def test_bad_input_one_line_exit_2(tmp_path):
    (tmp_path / "note.txt").write_text("hello")
    for args in (["info", str(tmp_path / "note.txt")], ["info", str(tmp_path / "missing.dcm")]):
        result = run_slam(*args)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("slam info: error:")
