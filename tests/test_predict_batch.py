"""``slam predict`` over a batch: loader workers, resume after a kill, failed studies, torchrun shards.

Every run is compared byte for byte with a reference CSV written by the plain one-process loop
(``load_study`` -> ``Predictor.predict`` -> ``write_predictions_csv``), on real DICOM files and a
real (tiny, untrained) model.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import breast_volume

from slam.cli import main
from slam.detection.predictor import Predictor
from slam.io import load_study, write_volume_dicom
from slam.io.csv_formats import FilePath, Prediction, write_file_paths_csv, write_predictions_csv

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--backbone", "resnet18", "--num-slices", "4", "--input-size", "64", "64", "--fpn-channels", "16"]
N = 6


def write_studies(folder: Path) -> list[Path]:
    """N small multi-frame DICOM studies, left and right (so box flips matter), of varied sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(N):
        lat = "LR"[i % 2]
        volume = breast_volume(depth=10 + i, rows=60 + 4 * i, cols=48, chest_wall=lat, seed=i)
        paths.append(write_volume_dicom(folder / f"s{i}.dcm", volume, laterality=lat, view=("CC", "MLO")[i // 3],
                                        bits_stored=12, patient_id=f"P{i}", study_uid=f"1.2.{i}"))  # fmt: skip
    return paths


def reference_csv(weights: Path, studies: list[Path], out: Path) -> bytes:
    """Today's single process: load, predict, next study; one CSV."""
    predictor = Predictor.from_weights(weights, device="cpu", score_threshold=0.0, coords="stored")
    rows = []
    for path in studies:
        study = load_study(path)
        ids = (study.patient["PatientID"], study.patient["StudyInstanceUID"], study.dbtex_view)
        rows += [Prediction(*ids, d.x, d.width, d.y, d.height, d.z, d.depth, d.score)
                 for d in predictor.predict(study).detections]  # fmt: skip
    write_predictions_csv(out, rows)
    return out.read_bytes()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    weights = root / "tiny.safetensors"
    assert main(["init-weights", str(weights), "--kind", "slam", *TINY]) == 0
    studies = write_studies(root / "studies")
    expected = reference_csv(weights, studies, root / "reference.csv")
    assert expected.count(b"\n") > N  # rows for every study (threshold 0), not just the header
    return weights, studies, expected


def predict_args(weights: Path, out: Path, *extra: str) -> list[str]:
    return [
        "predict",
        "-o",
        str(out),
        "--weights",
        str(weights),
        "--device",
        "cpu",
        "--score-threshold",
        "0",
        *extra,
    ]


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name and out.name in p.name)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_loader_workers_write_the_single_process_csv(batch, tmp_path, workers, capsys):
    weights, studies, expected = batch
    out = tmp_path / "pred.csv"
    assert main(predict_args(weights, out, *map(str, studies), "--workers", workers, "--quiet")) == 0
    assert out.read_bytes() == expected
    assert leftovers(out) == []  # progress file and temp CSV gone after a complete run
    assert f"in {N} studies" in capsys.readouterr().out


def test_a_bad_study_is_skipped_listed_and_retried_alone(batch, tmp_path, capsys):
    weights, studies, expected = batch
    folder = tmp_path / "studies"
    shutil.copytree(studies[0].parent, folder)
    (folder / "s3.dcm").write_bytes(b"not a DICOM file at all" * 10)
    rows = [FilePath(f"P{i}", f"1.2.{i}", ("lcc", "rcc", "lcc", "rmlo", "lmlo", "rmlo")[i], "", f"studies/s{i}.dcm")
            for i in range(N)]  # fmt: skip
    rows.insert(2, FilePath("PX", "9.9", "lcc", "studies/gone.dcm", ""))
    write_file_paths_csv(tmp_path / "file-paths.csv", rows)
    out = tmp_path / "pred.csv"
    argv = predict_args(
        weights, out, "--file-paths", str(tmp_path / "file-paths.csv"), "--coords", "stored", "--workers", "1"
    )
    assert main(argv) == 1
    captured = capsys.readouterr()
    skipped = [line for line in captured.err.splitlines() if line.startswith("slam predict: skipped")]
    assert len(skipped) == 2 and "gone.dcm" in skipped[0] and "s3.dcm" in skipped[1]
    assert "2 of 7 studies failed" in captured.err and "Traceback" not in captured.err
    partial = out.read_bytes()
    assert b"P3," not in partial and b"PX," not in partial and partial.count(b"P4,") > 0
    assert leftovers(out) == ["pred.csv.part-0.jsonl"]  # kept: a rerun retries only the failed ones

    shutil.copy(studies[3], folder / "s3.dcm")  # the bad file is fixed, the missing one dropped from the list
    del rows[2]
    write_file_paths_csv(tmp_path / "file-paths.csv", rows)
    for i in (0, 1, 2, 4, 5):  # finished studies are not read again: removing them changes nothing
        (folder / f"s{i}.dcm").unlink()
    assert main(argv) == 0
    assert out.read_bytes() == expected and leftovers(out) == []


def test_a_killed_run_resumes_without_redoing_finished_studies(batch, tmp_path):
    weights, studies, expected = batch
    folder = tmp_path / "studies"
    shutil.copytree(studies[0].parent, folder)
    blocker = folder / "s3.dcm"
    blocker.unlink()
    os.mkfifo(blocker)  # opening it blocks: the run stops on study 3, after studies 0-2 are done
    out = tmp_path / "pred.csv"
    argv = predict_args(weights, out, *(str(folder / p.name) for p in studies), "--workers", "1")
    proc = subprocess.Popen([sys.executable, "-m", "slam", *argv], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    progress = tmp_path / "pred.csv.part-0.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (progress.exists() and progress.read_text().count("\n") >= 4):
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its loader worker, mid-batch
    proc.wait(10)
    proc.stderr.close()
    assert progress.read_text().count('"key"') == 3 and not out.exists()

    blocker.unlink()
    shutil.copy(studies[3], blocker)
    for i in range(3):  # done before the kill: resuming must not load them again
        (folder / f"s{i}.dcm").unlink()
    assert main([*argv, "--quiet"]) == 0
    assert out.read_bytes() == expected and leftovers(out) == []


def test_progress_of_other_options_is_refused(batch, tmp_path, capsys):
    weights, studies, _ = batch
    out = tmp_path / "pred.csv"
    (tmp_path / "pred.csv.part-0.jsonl").write_text('{"slam_predict_progress": 1, "fingerprint": "other"}\n')
    assert main(predict_args(weights, out, str(studies[0]), "--quiet")) == 2
    err = capsys.readouterr().err.strip()
    assert "pred.csv.part-0.jsonl" in err and "other weights or options" in err and "\n" not in err
    assert not out.exists()
    assert main(predict_args(weights, out, str(studies[0]), "--workers", "-1")) == 2
    assert "--workers -1" in capsys.readouterr().err


@pytest.mark.slow  # two interpreters importing torch: ~10-25 s on 2 busy cores
def test_torchrun_shards_merge_into_the_single_process_csv(batch, tmp_path):
    weights, studies, expected = batch
    out = tmp_path / "pred.csv"
    argv = predict_args(weights, out, *map(str, studies), "--workers", "0", "--quiet")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "slam", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert out.read_bytes() == expected and leftovers(out) == []
    assert run.stdout.count(f"in {N} studies") == 1  # rank 0 reports the merged CSV, once
