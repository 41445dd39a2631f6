"""Findings as DICOM SR: written with highdicom, validated with dciodvfy (dicom3tools), read back."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

from slam.errors import SlamError
from slam.io import load_study, write_volume_dicom
from slam.io.sr import Algorithm, Finding, algorithm_series_uid, read_sr, write_sr

ALGORITHM = Algorithm("SLAM", "1.0.0", "ab" * 32)
FINDINGS = [Finding(10.5, 20.25, 30.0, 40.0, 3, 4, 0.875), Finding(1.0, 2.0, 5.0, 6.0, 0, 1, 0.125)]


def dciodvfy(path) -> list[str]:
    """dciodvfy's warnings; fails the test on any error (skips when dicom3tools is missing, unless CI)."""
    tool = shutil.which("dciodvfy")
    if tool is None:
        if __import__("os").environ.get("SLAM_REQUIRE_PACS") == "1":
            pytest.fail("dciodvfy (Debian dicom3tools) is missing and SLAM_REQUIRE_PACS=1")
        pytest.skip("dciodvfy (Debian dicom3tools) is missing")
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    assert not errors, errors
    return [line for line in lines if line.startswith("Warning")]


@pytest.fixture
def study(tmp_path, volume_left):
    return load_study(write_volume_dicom(tmp_path / "v.dcm", volume_left, patient_name="DOE^JANE", patient_id="P123",
                                         accession_number="ACC-9", laterality="L", view="CC"))


def test_sr_written_valid_and_read_back(tmp_path, study):
    path = write_sr(tmp_path / "sr.dcm", study, FINDINGS, ALGORITHM)
    warnings = dciodvfy(path)
    assert all("99SLAM" in w for w in warnings), warnings  # only our private coding scheme is unknown to it
    back = read_sr(path)
    assert [(f.x, f.y, f.width, f.height, f.z, f.depth, f.score) for f in back] == [
        (f.x, f.y, f.width, f.height, f.z, f.depth, f.score) for f in FINDINGS]
    assert [f.frame for f in back] == [6, 1]  # the central slice, 1-based
    assert {f.sop_uid for f in back} == {study.header.SOPInstanceUID}
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
    assert (str(ds.PatientName), ds.PatientID, ds.StudyInstanceUID, ds.AccessionNumber) == (
        "DOE^JANE", "P123", study.header.StudyInstanceUID, "ACC-9")
    assert ds.SeriesInstanceUID == algorithm_series_uid(ds.StudyInstanceUID, ALGORITHM, "SR")
    assert ds.SeriesInstanceUID != study.header.SeriesInstanceUID and ds.SOPInstanceUID != study.header.SOPInstanceUID
    text = " ".join(str(e.value) for e in ds.iterall() if e.VR != "SQ")
    assert "1.0.0" in text and "ab" * 32 in text and "Probability of cancer" in text and "POLYLINE" in text


def test_sr_deidentified(tmp_path, study):
    uid_map: dict[str, str] = {}
    path = write_sr(tmp_path / "sr.dcm", study, FINDINGS[:1], ALGORITHM, deidentify_output=True, uid_map=uid_map)
    dciodvfy(path)
    ds = pydicom.dcmread(path)
    assert "DOE" not in str(ds) and "P123" not in str(ds) and "ACC-9" not in str(ds)
    assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert ds.StudyInstanceUID == uid_map[study.header.StudyInstanceUID]
    assert read_sr(path)[0].sop_uid == uid_map[study.header.SOPInstanceUID]  # references follow the mapping


def test_sr_bad_input(tmp_path, study):
    with pytest.raises(SlamError, match="at least one finding"):
        write_sr(tmp_path / "sr.dcm", study, [], ALGORITHM)
    with pytest.raises(SlamError, match="outside the study"):
        write_sr(tmp_path / "sr.dcm", study, [Finding(0, 0, 5, 5, study.depth, 1, 0.5)], ALGORITHM)
    with pytest.raises(SlamError, match="not a readable DICOM SR"):
        read_sr(tmp_path / "nothing.dcm")
    with pytest.raises(SlamError, match="not a readable DICOM SR"):
        read_sr(study.header)
