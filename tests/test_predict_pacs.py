"""``slam predict --dicomweb URL --study-uid UID [--sr] [--store]`` and ``--sr`` on local studies,
against a real Orthanc (tests/orthanc_support.py) with tiny untrained weights and small phantom studies."""

from __future__ import annotations

import os
import subprocess
import sys

import pydicom
import pytest

import slam
from slam.cli import main
from slam.commands.predict import sha256_of
from slam.io.csv_formats import read_predictions_csv
from slam.io.dicomweb import connect, list_instances
from slam.io.sr import read_sr
from tests.orthanc_support import PASSWORD, USER, free_port, pacs  # noqa: F401 (the fixture)
from tests.test_sr import dciodvfy

TINY = ["--backbone", "resnet18", "--num-slices", "4", "--input-size", "64", "64", "--fpn-channels", "16"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    assert main(["init-weights", str(path), "--kind", "slam", *TINY]) == 0
    return path


@pytest.fixture
def env(pacs, monkeypatch):  # noqa: F811
    """Credentials as a user sets them: in the environment, never on the command line."""
    monkeypatch.setenv("SLAM_DICOMWEB_USER", USER)
    monkeypatch.setenv("SLAM_DICOMWEB_PASSWORD", PASSWORD)
    return pacs


def predict(weights, *args: str) -> int:
    return main(["predict", "--weights", str(weights), "--device", "cpu", "--score-threshold", "0", "--quiet",
                 *args])


def test_predict_from_pacs_csv_and_sr(env, weights, tmp_path, capsys):
    entry = env.studies[0]
    out, sr = tmp_path / "p.csv", tmp_path / "findings.dcm"
    assert predict(weights, "--dicomweb", env.server.url, "--study-uid", entry.study_uid, "-o", str(out),
                   "--sr", str(sr)) == 0
    rows = read_predictions_csv(out)
    assert rows and {(r.patient_id, r.study_uid) for r in rows} == {(entry.patient_id, entry.study_uid)}
    # The same file predicted locally gives the same rows: the PACS study is the file's study.
    local = tmp_path / "local.csv"
    assert predict(weights, str(entry.path), "-o", str(local), "--coords", "stored") == 0
    assert read_predictions_csv(local) == rows
    dciodvfy(sr)
    ds = pydicom.dcmread(sr)
    assert ds.StudyInstanceUID == entry.study_uid and ds.PatientID == entry.patient_id
    observer = {str(item.get("TextValue", "")) for item in ds.ContentSequence}
    assert sha256_of(weights) in observer and slam.__version__ in observer
    back = read_sr(sr)
    assert len(back) == len(rows) and all(f.sop_uid == entry.sop_uid for f in back)
    assert [(round(f.x, 1), round(f.width, 1), round(f.y, 1), round(f.height, 1), f.z, f.depth) for f in back] == [
        (r.x, r.width, r.y, r.height, r.z, r.depth) for r in rows]
    assert "SR ->" in capsys.readouterr().out


def test_store_twice_adds_new_instances(env, weights, capsys):
    entry = env.studies[1]  # the JPEG 2000 study
    client = connect(env.server.url)
    before = {i.sop_uid for i in list_instances(client, entry.study_uid)}
    for _ in range(2):
        assert predict(weights, "--dicomweb", env.server.url, "--study-uid", entry.study_uid, "--store") == 0
    after = list_instances(client, entry.study_uid)
    new = [i for i in after if i.sop_uid not in before]
    assert entry.sop_uid in {i.sop_uid for i in after}  # the source is still there
    srs = [i for i in new if i.sop_class_uid == pydicom.uid.Comprehensive3DSRStorage]
    sms = [i for i in new if i.sop_class_uid != pydicom.uid.Comprehensive3DSRStorage]
    assert len(srs) == 2 and len(sms) == 2 and len(new) == 4  # two runs: new instances, nothing replaced
    assert len({i.series_uid for i in srs}) == 1 and len({i.series_uid for i in sms}) == 1
    stored = client.retrieve_instance(entry.study_uid, srs[0].series_uid, srs[0].sop_uid)
    assert read_sr(stored) and all(f.sop_uid == entry.sop_uid for f in read_sr(stored))
    sm = client.retrieve_instance(entry.study_uid, sms[0].series_uid, sms[0].sop_uid)
    assert "DERIVED" in sm.ImageType and sm.pixel_array.ndim == 2
    assert capsys.readouterr().out.count("stored 2 new instance(s)") == 2


def test_sr_for_local_studies(env, weights, tmp_path):
    studies = [str(s.path) for s in env.studies]
    assert predict(weights, *studies, "--sr", str(tmp_path / "one.dcm")) == 0
    paths = [tmp_path / "one-1.dcm", tmp_path / "one-2.dcm"]  # several studies: OUT-<n>.dcm in order
    assert all(p.exists() for p in paths) and not (tmp_path / "one.dcm").exists()
    for path, entry in zip(paths, env.studies, strict=True):
        dciodvfy(path)
        assert pydicom.dcmread(path).StudyInstanceUID == entry.study_uid
    assert predict(weights, studies[0], "--sr", str(tmp_path / "single.dcm")) == 0
    assert read_sr(tmp_path / "single.dcm")[0].sop_uid == env.studies[0].sop_uid


@pytest.mark.parametrize(("args", "message"), [
    (["--store", "-o", "x.csv"], "--store needs --dicomweb"),
    (["--study-uid", "1.2.3", "-o", "x.csv"], "--study-uid needs --dicomweb"),
    (["--dicomweb", "http://127.0.0.1:{port}/dicom-web", "--study-uid", "1.2.3", "-o", "x.csv"], "cannot reach"),
    (["--dicomweb", "{url}", "--study-uid", "1.2.3.999", "-o", "x.csv"], "not found"),
    (["--dicomweb", "{url}", "-o", "x.csv"], "needs --study-uid"),
    (["--dicomweb", "{url}", "--study-uid", "1.2.3.999", "--sr", "x.dcm", "--coords", "display"], "stored pixels"),
])
def test_errors_are_one_line(env, weights, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    args = [a.format(port=free_port(), url=env.server.url) for a in args]
    assert main(["predict", "--weights", str(weights), *args]) == 2  # a traceback would fail the test here
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert PASSWORD not in err and not (tmp_path / "x.csv").exists()


def test_unknown_study_from_the_shell(env, weights, tmp_path):
    """The real command line: exit 2, one line on stderr, no traceback."""
    result = subprocess.run([sys.executable, "-m", "slam", "predict", "--weights", str(weights), "--dicomweb",
                             env.server.url, "--study-uid", "1.2.3.999", "-o", "x.csv"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "not found" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sr_of_a_headerless_volume_is_a_failed_study(weights, tmp_path, capsys):
    import numpy as np

    from slam.io.csv_formats import FilePath, write_file_paths_csv

    np.save(tmp_path / "a.npy", np.random.default_rng(0).integers(0, 4096, (10, 40, 30), dtype=np.uint16))
    write_file_paths_csv(tmp_path / "fp.csv", [FilePath("PA", "9.9", "rcc", "x/a.npy", "a.npy")])
    assert predict(weights, "--file-paths", str(tmp_path / "fp.csv"), "-o", str(tmp_path / "p.csv"),
                   "--sr", str(tmp_path / "s.dcm")) == 1
    err = capsys.readouterr().err
    assert "no SR for" in err and "source DICOM" in err and not (tmp_path / "s.dcm").exists()
    assert {r.study_uid for r in read_predictions_csv(tmp_path / "p.csv")} == {"9.9"}
