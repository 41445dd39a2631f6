"""Opening a study from an upload: which paths a request may name, the memory and time budget of a
load, the per-request upload cap and the sweep of uploads nobody loaded.

Gradio stores each uploaded file as ``UPLOADS/<seeded sha-256 of its bytes>/<name>`` and records it in
``Blocks.upload_file_set``; a client then names those paths in its event. A client can name any path,
so the upload event accepts only regular files Gradio received through its upload route, one folder
below the upload root, that no other session has claimed, and it deletes only what it accepted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from slam.errors import SlamError
from slam.io import LoadLimits, Study, load_study
from webapp.state import Session, SessionStore

EXTENSIONS = (".dcm", ".dicom", ".zip", ".npz", ".npy")
REFUSED = "refused: only files uploaded in this request are accepted (a DICOM study, a zip or an npz)"
_CLAIMS: dict[Path, str] = {}  # upload path -> session hash loading it
_CLAIMS_LOCK = threading.Lock()


def list_examples(folder: Path) -> dict[str, Path]:
    """The bundled example studies in ``folder``: label -> path, in a stable order.

    A ``file-paths.csv`` (BCS-DBT layout, as ``slam phantom`` writes) names them "PatientID view";
    otherwise every study file (.dcm/.zip/.npz/.npy) or folder of .dcm files under ``folder`` counts,
    labelled by its relative path.
    """
    from slam.io.csv_formats import read_file_paths_csv, resolve_study_path

    if not folder.is_dir():
        return {}
    index = folder / "file-paths.csv"
    if index.is_file():
        found = {}
        for row in read_file_paths_csv(index):
            try:
                found[f"{row.patient_id} {row.view}"] = resolve_study_path(row, folder)
            except SlamError:  # a listed study that is not on disk is simply not offered
                continue
        return found
    visible = [p for p in sorted(folder.rglob("*")) if not any(x.startswith(".") for x in p.relative_to(folder).parts)]
    series = [p for p in visible if p.is_dir() and any(f.suffix.lower() in (".dcm", ".dicom") for f in p.iterdir())]
    files = [p for p in visible if p.is_file() and p.suffix.lower() in EXTENSIONS and p.parent not in series]
    return {str(p.relative_to(folder)): p for p in sorted(series + files)}


def parse_size(text: str) -> int:
    """'700mb', '2 GiB', '1gb', '123' -> bytes (k/m/g/t, with or without 'i'/'b')."""
    value = text.strip().lower().replace(" ", "").removesuffix("b").removesuffix("i")
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in "kmgt" else value
    try:
        return int(float(number) * scale)
    except ValueError:
        raise SlamError(f"bad size {text!r}; accepted: a number of bytes with an optional kb/mb/gb suffix") from None


def claim_uploads(paths: Iterable[object], key: str, upload_root: Path, received: set, session_root: Path) -> list[Path]:
    """The request's upload paths, checked and claimed for session ``key``.

    Raises:
        SlamError: a path is not a regular file that Gradio itself just received (a directory, a link,
            a session folder, anything outside the upload root, or a file another session claimed).
    """
    root = upload_root.resolve()
    accepted = []
    for item in paths:
        raw = Path(str(getattr(item, "path", item) or ""))
        path = raw.resolve()
        inside = path.parent.parent == root and not path.is_relative_to(session_root.resolve())
        known = str(raw) in received or str(path) in received
        if not (inside and known and raw.is_file() and not raw.is_symlink()):
            raise SlamError(REFUSED)
        accepted.append(path)
    with _CLAIMS_LOCK:
        if any(_CLAIMS.get(p, key) != key for p in accepted):
            raise SlamError(REFUSED)
        _CLAIMS.update(dict.fromkeys(accepted, key))
    return accepted


def release_uploads(paths: Iterable[Path], received: set) -> None:
    """Delete claimed uploads and their (now empty) folders; forget them everywhere."""
    with _CLAIMS_LOCK:
        for path in paths:
            _CLAIMS.pop(path, None)
            received.discard(str(path))
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # the per-upload folder, unless another file still lives there
                path.parent.rmdir()


def sweep_uploads(upload_root: Path, session_root: Path, ttl_s: float, received: set) -> int:
    """Delete uploads older than ``ttl_s`` that no session is loading, and empty upload folders and
    Gradio's 0-byte temporaries. Returns the number of files deleted."""
    if not upload_root.is_dir():
        return 0
    now, deleted = time.time(), 0
    with _CLAIMS_LOCK:
        claimed = set(_CLAIMS)
    for entry in upload_root.iterdir():
        if entry.resolve() == session_root.resolve() or entry.name.startswith("."):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.iterdir() if p.is_file()] if entry.is_dir() else []
        emptied = False
        for path in files:
            try:
                old = now - path.stat().st_mtime > ttl_s
            except OSError:
                continue
            if old and path.resolve() not in claimed:
                path.unlink(missing_ok=True)
                received.discard(str(path))
                deleted += 1
                emptied = True
        if entry.is_dir() and not any(entry.iterdir()) and (emptied or now - entry.stat().st_mtime > ttl_s):
            shutil.rmtree(entry, ignore_errors=True)
    return deleted


def reset_session_root(session_root: Path) -> None:
    """At start-up: delete what a previous (possibly killed) process left in the session folders."""
    shutil.rmtree(session_root, ignore_errors=True)
    session_root.mkdir(parents=True, exist_ok=True)


def open_into(store: SessionStore, key: str, source, label: str, limits: LoadLimits) -> tuple[Session, Study]:
    """Load ``source`` for session ``key`` within the memory budget and ``limits``; the session (created
    here, the only place sessions are created) gets the study only if it fits.

    Raises:
        SlamError: bad input, over the limits or time budget, or no memory left (the session keeps its study).
    """
    session = store.get(key)
    # The whole budget bounds one load; whether the study fits beside the others is decided after it.
    budget = dataclasses.replace(limits, max_pixel_bytes=min(limits.max_pixel_bytes, store.budget_bytes))
    study = load_study(source, limits=budget, scratch_dir=session.workdir)
    store.make_room(key, int(study.pixels.nbytes))
    with session.lock:
        session.reset()
        session.study = study
        session.label = label
    return session, study


def app_limits(max_seconds: float) -> LoadLimits:
    """The loader's default limits with a time budget of ``max_seconds`` per load."""
    return dataclasses.replace(LoadLimits(), max_seconds=max_seconds)


class UploadCap:
    """ASGI middleware: a request to Gradio's upload route may carry at most ``max_bytes`` in total
    (Gradio's own ``max_file_size`` is per file). Checked on Content-Length and while streaming."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].rstrip("/").endswith("/upload"):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                return {"type": "http.disconnect"}  # the parser stops; the sweep removes the partial file
            return message

        return await self.app(scope, counted, send)

    async def _refuse(self, send):
        body = (f"refused: this upload is over the {self.max_bytes / 2**20:.0f} MiB per upload cap "
                "(all files of one upload together)").encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
