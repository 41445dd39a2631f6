"""DICOMweb against a real Orthanc (tests/orthanc_support.py): search, retrieve, errors, SR and SM stored back."""

from __future__ import annotations

import socket

import numpy as np
import pydicom
import pytest

from slam.errors import SlamError
from slam.io import LoadLimits, load_study, write_derived_dicom
from slam.io.dicomweb import (
    connect,
    list_instances,
    next_instance_number,
    retrieve_study,
    search_studies,
    store_findings,
    store_instances,
)
from slam.io.sr import Algorithm, Finding, algorithm_series_uid, build_sr, read_sr
from tests.orthanc_support import PASSWORD, USER, free_port, pacs  # noqa: F401 (the fixture)


@pytest.fixture
def client(pacs):  # noqa: F811
    return connect(pacs.server.url, user=USER, password=PASSWORD, timeout=10)


def test_search(pacs, client):  # noqa: F811
    first, second = pacs.studies
    assert [m.study_uid for m in search_studies(client, patient_id=first.patient_id)] == [first.study_uid]
    assert [m.study_uid for m in search_studies(client, accession=second.accession)] == [second.study_uid]
    by_date = search_studies(client, date="20000101", modality="MG")
    assert {first.study_uid, second.study_uid} <= {m.study_uid for m in by_date}
    assert search_studies(client, patient_id="NOBODY") == []
    match = search_studies(client, patient_id=first.patient_id)[0]
    assert (match.accession, match.patient_id, match.modalities) == (first.accession, first.patient_id, "MG")
    with pytest.raises(SlamError, match="YYYYMMDD"):
        search_studies(client, date="yesterday")


@pytest.mark.parametrize("index", [0, 1])  # uncompressed, JPEG 2000
def test_retrieve_equals_the_file(pacs, client, index):  # noqa: F811
    entry = pacs.studies[index]
    done = []
    study = retrieve_study(client, entry.study_uid, progress=lambda i, n: done.append((i, n)))
    local = load_study(entry.path)
    np.testing.assert_array_equal(study.pixels, local.pixels)
    assert study.pixels.dtype == local.pixels.dtype
    for name in ("window_center", "window_width", "laterality", "laterality_source", "view", "rescale_slope",
                 "rescale_intercept", "photometric", "flip_rows", "flip_cols", "pixel_spacing", "slice_spacing",
                 "bits_stored", "patient"):
        assert getattr(study, name) == getattr(local, name), name
    assert done == [(i + 1, local.depth) for i in range(local.depth)]
    assert study.header.SOPInstanceUID == entry.sop_uid and "DICOMweb" in study.source_format


def test_limits_checked_before_frames(pacs, client):  # noqa: F811
    with pytest.raises(SlamError, match="exceed the limit"):
        retrieve_study(client, pacs.studies[0].study_uid, limits=LoadLimits(max_slices=5, min_slices=2))


def test_errors_are_one_line(pacs, client):  # noqa: F811
    with pytest.raises(SlamError, match="cannot reach"):
        search_studies(connect(f"http://127.0.0.1:{free_port()}/dicom-web", timeout=5))
    with pytest.raises(SlamError, match="HTTP 401") as refused:
        search_studies(connect(pacs.server.url, user=USER, password="wrong", timeout=5))
    assert "wrong" not in str(refused.value) and PASSWORD not in str(refused.value)
    with pytest.raises(SlamError, match="not found"):
        retrieve_study(client, "1.2.3.4.5.6")
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with pytest.raises(SlamError, match="timeout"):
            search_studies(connect(f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web", timeout=0.5))
    with pytest.raises(SlamError, match="holds credentials"):
        connect(f"http://{USER}:{PASSWORD}@127.0.0.1:1/dicom-web")
    with pytest.raises(SlamError, match="no DICOMweb server"):
        connect("")


def test_store_sr_and_sm_back(pacs, client, tmp_path):  # noqa: F811
    entry = pacs.studies[0]
    study = retrieve_study(client, entry.study_uid)
    algorithm = Algorithm("SLAM", "test-1", "cd" * 32)
    findings = [Finding(40.0, 50.0, 60.0, 30.0, 2, 5, 0.9)]
    stored_before = pacs.server.instance_count()
    series = algorithm_series_uid(entry.study_uid, algorithm, "SR")
    for run in (1, 2):
        sr = build_sr(study, findings, algorithm, instance_number=next_instance_number(client, entry.study_uid, series))
        sm_path = write_derived_dicom(tmp_path / f"sm{run}.dcm", study.pixels.max(axis=0), study)
        sm = pydicom.dcmread(sm_path)
        stored = store_instances(client, [sr, sm])
        assert stored == [sr.SOPInstanceUID, sm.SOPInstanceUID]
        with pytest.raises(SlamError, match="refusing to replace"):
            store_instances(client, [sr])
    assert pacs.server.instance_count() == stored_before + 4  # two runs: new instances, nothing replaced
    srs = [i for i in list_instances(client, entry.study_uid) if i.series_uid == series]
    assert len(srs) == 2 and next_instance_number(client, entry.study_uid, series) == 3
    back = client.retrieve_instance(entry.study_uid, series, srs[0].sop_uid)
    assert [(f.x, f.y, f.z, f.depth, f.score) for f in read_sr(back)] == [(40.0, 50.0, 2, 5, 0.9)]
    with pytest.raises(SlamError, match="not a DBT"):
        retrieve_study(client, entry.study_uid, sop_uid=srs[0].sop_uid)


def test_cli_search_get_store(pacs, tmp_path):  # noqa: F811
    import json
    import subprocess
    import sys

    env = {**__import__("os").environ, "SLAM_DICOMWEB_URL": pacs.server.url, "SLAM_DICOMWEB_USER": USER,
           "SLAM_DICOMWEB_PASSWORD": PASSWORD}

    def slam(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "slam", "pacs", *args], capture_output=True, text=True,
                              timeout=120, env=env)

    entry = pacs.studies[1]
    found = slam("search", "--patient-id", entry.patient_id, "--json")
    assert found.returncode == 0, found.stderr
    assert [m["study_uid"] for m in json.loads(found.stdout)] == [entry.study_uid]
    table = slam("search", "--accession", entry.accession)
    assert entry.study_uid in table.stdout and table.stdout.startswith("study_uid")
    got = slam("get", "--study-uid", entry.study_uid, "-o", str(tmp_path / "got"))
    assert got.returncode == 0, got.stderr
    np.testing.assert_array_equal(load_study(tmp_path / "got" / f"{entry.sop_uid}.dcm").pixels,
                                  load_study(entry.path).pixels)
    again = slam("store", str(entry.path))
    assert again.returncode == 2 and "refusing to replace" in again.stderr and len(again.stderr.splitlines()) == 1
    unknown = slam("get", "--study-uid", "1.2.3.999", "-o", str(tmp_path / "none"))
    assert unknown.returncode == 2 and "not found" in unknown.stderr and "Traceback" not in unknown.stderr


def test_store_findings_twice_same_series(pacs, client):  # noqa: F811
    entry = pacs.studies[1]
    study = retrieve_study(client, entry.study_uid)
    algorithm = Algorithm("SLAM", "test-2", "ef" * 32)
    findings = [Finding(10.0, 12.0, 30.0, 20.0, 4, 3, 0.7)]
    first = store_findings(client, study, findings, algorithm, sm_image=study.pixels[6])
    second = store_findings(client, study, findings, algorithm, sm_image=study.pixels[6])
    assert len(first) == len(second) == 2 and not set(first) & set(second)
    stored = {i.sop_uid: i for i in list_instances(client, entry.study_uid)}
    for kind, uids in (("SR", (first[0], second[0])), ("SM", (first[1], second[1]))):
        assert {stored[u].series_uid for u in uids} == {algorithm_series_uid(entry.study_uid, algorithm, kind)}
