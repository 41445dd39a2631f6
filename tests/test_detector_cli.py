"""``slam init-weights``, ``slam predict`` and ``slam evaluate`` end to end, and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import breast_volume

from slam.cli import main
from slam.io import write_volume_dicom
from slam.io.csv_formats import (
    FilePath,
    GroundTruthBox,
    Label,
    read_predictions_csv,
    resolve_study_path,
    write_boxes_csv,
    write_file_paths_csv,
    write_labels_csv,
)

TINY = ["--backbone", "resnet18", "--num-slices", "4", "--input-size", "64", "64", "--fpn-channels", "16"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    studies = []
    for i, (lat, view) in enumerate([("L", "CC"), ("R", "MLO")]):
        volume = breast_volume(depth=10, rows=80, cols=60, chest_wall=lat, seed=i)
        studies.append(write_volume_dicom(root / f"s{i}.dcm", volume, laterality=lat, view=view, bits_stored=12,
                                          patient_id=f"P{i}", study_uid=f"1.2.{i}"))  # fmt: skip
    write_labels_csv(root / "labels.csv", [Label("P0", "1.2.0", "lcc", 0, 0, 0, 1), Label("P1", "1.2.1", "rmlo", 1, 0, 0, 0)])
    write_boxes_csv(root / "boxes.csv", [GroundTruthBox("P0", "1.2.0", "lcc", "s", 5, 10, 20, 15, 15, "cancer", 0, 10)])
    for kind in ("slam", "baseline"):
        assert main(["init-weights", str(root / f"{kind}.safetensors"), "--kind", kind, *TINY]) == 0
    return root, studies


@pytest.mark.parametrize("kind", ["slam", "baseline"])
def test_predict_then_evaluate(data, kind, capsys):
    root, studies = data
    out = root / f"pred_{kind}.csv"
    assert main(["predict", *map(str, studies), "-o", str(out), "--weights", str(root / f"{kind}.safetensors"),
                 "--device", "cpu", "--score-threshold", "0", "--quiet"]) == 0  # fmt: skip
    rows = read_predictions_csv(out)
    assert rows and {(r.patient_id, r.study_uid, r.view) for r in rows} == {("P0", "1.2.0", "lcc"), ("P1", "1.2.1", "rmlo")}
    assert all(r.x >= 0 and r.x + r.width <= 60.05 and r.z >= 0 and r.z + r.depth <= 10 for r in rows)
    capsys.readouterr()
    froc = root / f"froc_{kind}.png"
    assert main(["evaluate", "--predictions", str(out), "--boxes", str(root / "boxes.csv"),
                 "--labels", str(root / "labels.csv"), "--min-dist", "17", "--froc", str(froc)]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["n_volumes"] == 2 and result["n_boxes"] == 1 and result["min_dist"] == 17
    assert 0 <= result["mean_sensitivity_positive"] <= 1 and froc.stat().st_size > 1000


def test_predict_caps_findings_and_reads_them_at_the_operating_point(data, tmp_path, capsys):
    root, studies = data
    out = tmp_path / "p.csv"
    base = ["predict", *map(str, studies), "-o", str(out), "--weights", str(root / "slam.safetensors"),
            "--score-threshold", "0", "--quiet"]  # fmt: skip
    assert main(base) == 0
    printed = capsys.readouterr().out
    rows = read_predictions_csv(out)
    per_study = {uid: sum(r.study_uid == uid for r in rows) for uid in ("1.2.0", "1.2.1")}
    assert all(1 <= n <= 4 for n in per_study.values())  # the config's max_findings (4), every kept box in the CSV
    best = {uid: max(r.score for r in rows if r.study_uid == uid) for uid in per_study}
    found = sum(s >= 0.5 for s in best.values())  # the config's operating point
    top = max(best.values())
    expected = (f"{found} stud{'ies' if found > 1 else 'y'} with a finding ≥ 0.5; best score {top:.2f}" if found
                else f"no finding above the threshold (0.5) in any study; best score {top:.2f}")  # fmt: skip
    assert expected in printed
    assert top < 0.99 and main([*base, "--threshold", "0.99"]) == 0
    assert f"no finding above the threshold (0.99) in any study; best score {top:.2f}" in capsys.readouterr().out
    assert main([*base, "--threshold", "0", "--max-detections", "1"]) == 0
    printed = capsys.readouterr().out
    assert len(read_predictions_csv(out)) == 2 and "2 studies with a finding ≥ 0; best score" in printed
    assert "normal" not in printed.lower()
    assert main([*base, "--threshold", "1.5"]) == 2
    assert "accepted" in capsys.readouterr().err


def test_predict_with_file_paths(data, tmp_path, capsys):
    root, _ = data
    np.save(tmp_path / "a.npy", breast_volume(depth=10, rows=40, cols=30))
    write_file_paths_csv(tmp_path / "file-paths.csv", [FilePath("PA", "9.9", "rcc", "x/a.npy", "a.npy")])
    out = tmp_path / "p.csv"
    assert main(["predict", "-o", str(out), "--weights", str(root / "slam.safetensors"), "--file-paths",
                 str(tmp_path / "file-paths.csv"), "--score-threshold", "0", "--quiet"]) == 0  # fmt: skip
    assert {(r.patient_id, r.study_uid, r.view) for r in read_predictions_csv(out)} == {("PA", "9.9", "rcc")}
    # A headerless study without --file-paths cannot be named in the CSV: a failed study (exit 1), one line saying why.
    assert main(["predict", str(tmp_path / "a.npy"), "-o", str(out), "--weights", str(root / "slam.safetensors"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "a.npy lacks PatientID" in err and "--file-paths" in err and "1 of 1 studies failed" in err


def test_predict_requires_weights_when_the_demo_weights_are_missing(data, capsys, monkeypatch, tmp_path):
    import slam.detection.weights

    monkeypatch.setattr(slam.detection.weights, "DEFAULT_WEIGHTS", tmp_path / "missing.safetensors")
    _, studies = data
    assert main(["predict", str(studies[0]), "-o", "x.csv"]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing.safetensors" in err and "--weights" in err and "\n" not in err


@pytest.mark.parametrize(
    ("target", "text", "message"),
    [
        ("predictions", "PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth\nP0,1.2.0,lcc,1,2,3,4,5,1\n", "Score"),
        ("predictions", "PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\nP0,1.2.0,lcc,1,2,3,4,5,1,high\n", "Score"),
        ("predictions", "PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\nP0,1.2.0,cc,1,2,3,4,5,1,0.5\n", "View"),
        ("predictions", "PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\nP9,7.7,lcc,1,2,3,4,5,1,0.5\n", "no row in the labels"),
        ("labels", "PatientID,StudyUID,View,Normal\nP0,1.2.0,lcc,0\n", "Actionable"),
        ("labels", "PatientID,StudyUID,View,Normal,Actionable,Benign,Cancer\nP0,1.2.0,lcc,0,0,0,yes\n", "Cancer"),
    ],
)
def test_evaluate_malformed_csvs(data, tmp_path, capsys, target, text, message):
    root, _ = data
    files = {"predictions": tmp_path / "pred.csv", "labels": root / "labels.csv", "boxes": root / "boxes.csv"}
    (tmp_path / "pred.csv").write_text("PatientID,StudyUID,View,X,Width,Y,Height,Z,Depth,Score\n")
    files[target] = tmp_path / f"bad_{target}.csv"
    files[target].write_text(text)
    argv = ["evaluate"] + [a for k, v in files.items() for a in (f"--{k}", str(v))]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_predict_then_evaluate_on_the_examples(data, tmp_path, capsys):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples"
    out = tmp_path / "pred.csv"
    assert main(["predict", "--file-paths", str(examples / "file-paths.csv"), "-o", str(out),
                 "--weights", str(data[0] / "slam.safetensors"), "--score-threshold", "0", "--quiet"]) == 0  # fmt: skip
    assert len({r.study_uid for r in read_predictions_csv(out)}) == 5
    capsys.readouterr()
    assert main(["evaluate", "--predictions", str(out), "--boxes", str(examples / "boxes.csv"),
                 "--labels", str(examples / "labels.csv"), "--min-dist", "16"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert (result["n_volumes"], result["n_positive_volumes"], result["n_boxes"]) == (5, 4, 5)


def test_resolve_study_path_precedence(tmp_path, monkeypatch):
    from slam.errors import SlamError

    (tmp_path / "desc").mkdir()
    (tmp_path / "desc" / "a.dcm").write_bytes(b"x")
    (tmp_path / "classic.dcm").write_bytes(b"x")
    row = FilePath("P0", "1.2", "lcc", "desc/a.dcm", "classic.dcm")
    assert resolve_study_path(row, tmp_path) == tmp_path / "desc" / "a.dcm"  # descriptive first
    assert resolve_study_path(FilePath("P0", "1.2", "lcc", "gone.dcm", "classic.dcm"), tmp_path) == tmp_path / "classic.dcm"
    absolute = FilePath("P0", "1.2", "lcc", str(tmp_path / "classic.dcm"), "")
    assert resolve_study_path(absolute, tmp_path / "desc") == tmp_path / "classic.dcm"
    monkeypatch.chdir(tmp_path)  # relative to the CSV's folder, never to the working directory
    with pytest.raises(SlamError, match=r"neither descriptive_path 'classic.dcm' nor classic_path ''") as err:
        resolve_study_path(FilePath("P0", "1.2", "lcc", "classic.dcm", ""), tmp_path / "desc")
    assert "\n" not in str(err.value)


def test_resolve_weights_order_and_error(data, tmp_path, monkeypatch):
    from slam.detection.weights import DEFAULT_WEIGHTS, WEIGHTS_ENV, resolve_weights
    from slam.errors import SlamError

    root, _ = data
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert resolve_weights() == DEFAULT_WEIGHTS
    monkeypatch.setenv(WEIGHTS_ENV, str(root / "slam.safetensors"))
    assert resolve_weights() == root / "slam.safetensors"
    assert resolve_weights(root / "baseline.safetensors") == root / "baseline.safetensors"  # given beats $SLAM_WEIGHTS
    with pytest.raises(SlamError, match=r"no model weights at gone.safetensors \(given\)"):
        resolve_weights(tmp_path / "gone.safetensors")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "env.safetensors"))
    with pytest.raises(SlamError, match=r"\$SLAM_WEIGHTS"):
        resolve_weights()
