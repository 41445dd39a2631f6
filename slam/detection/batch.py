"""Batch prediction over thousands of studies: loader workers, resume, torchrun shards, one CSV.

How a run goes (:func:`predict_batch`):

- The studies are :class:`Job` s in list order. Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set)
  rank r takes the jobs with ``index % world == r``; alone, it takes them all.
- Loader workers (a torch ``DataLoader``, one study in flight per worker) decode a study AND build
  the model input (``Predictor.prepare``): only the (n, h, w) float32 input and the study's
  metadata cross processes, never its pixels (~650 MB at full size). The model runs in the main
  process, in list order, so the rows are those of a single-process run.
- After each study its rows are appended to the rank's progress file ``OUTPUT.part-R.jsonl``
  (flushed and fsynced). A rerun of the same command skips every study found in any progress
  file of the same weights and options, so an interrupted run loses at most the study in hand.
- At the end rank 0 gathers all rows, writes the CSV in list order (temp file + rename: never a
  half-written CSV) and the progress files are removed.
- A study that fails to load (or names no DBTex ids) gets one line on stderr and is skipped; the
  CSV holds the others, the failures are listed at the end, the progress files are kept so that
  rerunning retries only the failed studies, and the exit code is 1.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch

from slam.detection.findings import dbtex_rows
from slam.detection.predictor import Predictor
from slam.errors import SlamError
from slam.io.csv_formats import Prediction, write_predictions_csv

PROGRESS_VERSION = 1
Ids = tuple[str, str, str]  # PatientID, StudyUID, View (DBTex spelling)


@dataclass(frozen=True)
class Job:
    """One study of the batch: its place in the list, its path, and its DBTex ids when a
    file-paths.csv gave them (None: read from the DICOM header). ``error``: why the list entry
    itself names no usable study (then nothing is loaded)."""

    index: int
    source: Path
    ids: Ids | None = None
    error: str = ""

    @property
    def key(self) -> str:
        """What identifies a finished study in the progress files: absolute path and ids."""
        return "|".join((os.path.abspath(self.source), *(self.ids or ("", "", ""))))


@dataclass
class Loaded:
    """What a loader worker returns for one job: the model input (n, h, w) float32, the study's
    metadata with its pixels dropped (``shape``/``dtype`` say what they were), the ids; or ``error``."""

    job: Job
    ids: Ids | None = None
    study: object = None
    shape: tuple[int, int, int] = (0, 0, 0)
    dtype: str = "uint16"
    volume: np.ndarray | None = None
    error: str = ""

    def shaped_study(self):
        """The study with a zero-byte stand-in of its pixels (right shape and dtype, all zeros):
        enough for ``Predictor.predict(study, volume)``, which reads only the shape and orientation."""
        return dataclasses.replace(self.study, pixels=np.broadcast_to(np.zeros((), self.dtype), self.shape))


@dataclass
class BatchResult:
    """``rows`` in list order and ``studies`` the number of studies in the CSV (rank 0; other
    ranks under torchrun: empty, 0); ``failed``: (index, source, message) of every failed study."""

    rows: list[Prediction]
    studies: int
    failed: list[tuple[int, str, str]]


def header_ids(study, source: Path) -> Ids:
    """DBTex ids from the study's DICOM header, or a one-line error naming the file."""
    pid, uid, view = (
        study.patient.get("PatientID", ""),
        study.patient.get("StudyInstanceUID", ""),
        study.dbtex_view,
    )
    if not (pid and uid and view):
        raise SlamError(f"{source.name} lacks PatientID, StudyInstanceUID or view/laterality in its header; "
                        "pass --file-paths with a BCS-DBT file-paths.csv")  # fmt: skip
    return pid, uid, view


class StudyLoader(torch.utils.data.Dataset):
    """Job i -> :class:`Loaded`: load the study, check its ids, build the model input. Never raises
    on bad input (a raise would end the whole DataLoader): the error travels in the item."""

    def __init__(self, jobs: Sequence[Job], prepare: Callable[[object], np.ndarray],
                 loader: Callable[[Path], object] | None = None):  # fmt: skip
        self.jobs, self.prepare, self.loader = list(jobs), prepare, loader

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i: int) -> Loaded:
        job = self.jobs[i]
        if job.error:
            return Loaded(job, error=job.error)
        if self.loader is None:
            from slam.io import load_study as load
        else:
            load = self.loader
        try:
            study = load(job.source)
            ids = job.ids or header_ids(study, job.source)
            volume = self.prepare(study)
        except SlamError as exc:
            return Loaded(job, error=str(exc))
        except OSError as exc:
            return Loaded(job, error=f"{job.source.name}: {exc.strerror or exc}")
        light = dataclasses.replace(study, pixels=np.empty(0, study.pixels.dtype), header=None)
        return Loaded(job, ids, light, tuple(study.pixels.shape), study.pixels.dtype.str, volume)


def _one_item(item):  # batch_size=None: the DataLoader hands each item through unchanged
    return item


def _quiet_worker(_: int) -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker: OpenCV's own pool would fight the model's threads


def loaded_studies(jobs: Sequence[Job], prepare: Callable, workers: int):
    """Yield :class:`Loaded` for ``jobs`` in order, loaded by ``workers`` processes (0: in this one),
    each with at most one study in flight."""
    dataset = StudyLoader(jobs, prepare)
    if not jobs:
        return iter(())
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, shuffle=False, num_workers=workers, collate_fn=_one_item,
        prefetch_factor=1 if workers else None, worker_init_fn=_quiet_worker if workers else None,
        # spawn: a worker forked from a process whose OpenMP/OpenCV threads have run can deadlock, and
        # forkserver runs out of passable file descriptors in a long-lived process ("too many fds").
        multiprocessing_context="spawn" if workers else None,
    )  # fmt: skip
    return iter(loader)


def run_fingerprint(weights: Path, options: dict) -> str:
    """sha256 over the weights file and the prediction options: progress of another run never mixes in."""
    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    digest.update(json.dumps(options, sort_keys=True).encode())
    return digest.hexdigest()


def progress_path(output: Path, rank: int) -> Path:
    return output.with_name(f"{output.name}.part-{rank}.jsonl")


def progress_files(output: Path) -> list[Path]:
    return sorted(output.parent.glob(f"{glob.escape(output.name)}.part-*.jsonl"))


def read_progress(output: Path, fingerprint: str) -> dict[str, list[Prediction]]:
    """{job key: rows} of every study finished in any progress file of ``output``.

    Raises:
        SlamError: a progress file belongs to other weights or options (never mixed in silently).
    """
    done: dict[str, list[Prediction]] = {}
    for path in progress_files(output):
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines:  # created, header not yet written
            continue
        try:
            header = json.loads(lines[0])
        except json.JSONDecodeError:
            header = {}
        if header.get("fingerprint") != fingerprint:
            raise SlamError(f"{path.name} holds progress of a run with other weights or options; rerun that "
                            f"command to finish it, or delete {path.name} to start over")  # fmt: skip
        for line in lines[1:]:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # the line being written when the run was killed
                continue
            done[record["key"]] = [Prediction(*row) for row in record["rows"]]
    return done


def append_durably(log, record: dict | None) -> None:
    """One JSON line (None: just end a line a killed run may have left half-written), on disk now."""
    log.write("\n" if record is None else json.dumps(record) + "\n")
    log.flush()
    os.fsync(log.fileno())


def write_csv_atomically(output: Path, rows: list[Prediction]) -> None:
    """The DBTex CSV at ``output`` appears complete or not at all (temp file, fsync, rename)."""
    temp = output.with_name(f".{output.name}.tmp")
    write_predictions_csv(temp, rows)
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, output)


def distributed_env() -> tuple[int, int]:
    """(rank, world size) from the torch.distributed environment (torchrun), else (0, 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return (int(os.environ.get("RANK", "0")), world) if world > 1 else (0, 1)


def init_distributed(device: str | None) -> str | None:
    """Join the torchrun process group (gloo on CPU, nccl on CUDA); returns the device this rank uses."""
    import torch.distributed as dist

    cuda = device == "cuda" or (device is None and torch.cuda.is_available())
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    # Ranks wait for the slowest shard at the gather: allow a whole night's run.
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(hours=12))
    return "cuda" if cuda else "cpu"


def predict_batch(predictor: Predictor, jobs: Sequence[Job], output: Path, fingerprint: str, workers: int,
                  progress: bool = True, rank: int = 0, world: int = 1) -> BatchResult:  # fmt: skip
    """Predict ``jobs`` (this rank's share), resuming from the progress files, and write ``output``.

    Under torchrun (world > 1) the process group must be initialised (:func:`init_distributed`);
    every rank must call this with the same ``jobs``.
    """
    from tqdm import tqdm

    output = Path(output)
    mine = [job for job in jobs if job.index % world == rank]
    finished = read_progress(output, fingerprint)
    todo = [job for job in mine if job.key not in finished]
    results: dict[int, list[Prediction]] = {
        job.index: finished[job.key] for job in mine if job.key in finished
    }
    failed: list[tuple[int, str, str]] = []
    if world > 1:
        import torch.distributed as dist

        dist.barrier()  # every rank has read the progress files before any rank appends to its own
    log_path = progress_path(output, rank)
    fresh = not log_path.exists() or log_path.stat().st_size == 0
    with open(log_path, "a", encoding="utf-8") as log, tqdm(
        total=len(mine), initial=len(mine) - len(todo), desc="predict", unit="study",
        disable=not progress or rank != 0, file=sys.stderr, dynamic_ncols=True,
    ) as bar:  # fmt: skip
        append_durably(
            log, {"slam_predict_progress": PROGRESS_VERSION, "fingerprint": fingerprint} if fresh else None
        )
        for item in loaded_studies(todo, predictor.prepare, workers):
            job = item.job
            if item.error:
                failed.append((job.index, str(job.source), item.error))
                bar.write(f"slam predict: skipped {job.source}: {item.error}", file=sys.stderr)
            else:
                detections = predictor.predict(item.shaped_study(), item.volume).detections
                results[job.index] = dbtex_rows(*item.ids, detections)
                append_durably(
                    log, {"key": job.key, "rows": [dataclasses.astuple(r) for r in results[job.index]]}
                )
            bar.update(1)
    if world > 1:
        results, failed = _gather(results, failed, rank, world)
    rows = [row for index in sorted(results) for row in results[index]] if rank == 0 else []
    if rank == 0:
        write_csv_atomically(output, rows)
    if world > 1:
        dist.barrier()  # the CSV is written before any progress file goes
    if not failed:
        progress_path(output, rank).unlink(missing_ok=True)
        if rank == 0:
            for path in progress_files(output):  # e.g. left by an earlier run with more ranks
                path.unlink(missing_ok=True)
    return BatchResult(rows, len(results) if rank == 0 else 0, sorted(failed))


def _gather(results: dict, failed: list, rank: int, world: int) -> tuple[dict, list]:
    """Every rank's rows to rank 0; every rank's failures to all ranks (for the exit code)."""
    import torch.distributed as dist

    gathered = [None] * world if rank == 0 else None
    dist.gather_object(results, gathered, dst=0)
    failures = [None] * world
    dist.all_gather_object(failures, failed)
    merged = {index: rows for part in gathered for index, rows in part.items()} if rank == 0 else {}
    return merged, [f for part in failures for f in part]
