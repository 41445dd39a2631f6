"""``slam info`` with several studies: a JSON list, one item per study; several single-frame files are one series."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import breast_volume

from slam.io import write_series_dicom, write_volume_dicom


def run_info(*paths) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slam", "info", *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


def test_info_of_two_studies_prints_one_item_each(tmp_path):
    left = write_volume_dicom(tmp_path / "a.dcm", breast_volume(chest_wall="L"), laterality="L", view="CC")
    right = write_volume_dicom(tmp_path / "b.dcm", breast_volume(depth=14, chest_wall="R"), laterality="R",
                               view="MLO")
    result = run_info(left, right)
    assert result.returncode == 0, result.stderr
    infos = json.loads(result.stdout)
    assert [i["source"] for i in infos] == [str(left), str(right)]
    assert [i["dbtex_view"] for i in infos] == ["lcc", "rmlo"] and infos[1]["shape"] == [14, 72, 56]


def test_info_of_single_frame_files_is_one_series(tmp_path):
    paths = write_series_dicom(tmp_path / "s", breast_volume(depth=11))
    result = run_info(*paths)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["shape"] == [11, 72, 56] and len(info["source"]) == 11


def test_info_with_one_bad_study_is_one_line_exit_2(tmp_path):
    good = write_volume_dicom(tmp_path / "a.dcm", breast_volume())
    (tmp_path / "junk.dcm").write_bytes(bytes(4096))
    result = run_info(good, tmp_path / "junk.dcm")
    assert result.returncode == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("slam info: error: junk.dcm: not a DICOM file")
