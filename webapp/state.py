"""Per-browser-session state, kept on the server and keyed by Gradio's session hash.

A session owns one loaded study, what was derived from it (preprocessed slices, SM, detections)
and a private folder for exported files. Sessions end when the tab closes (``demo.unload``), when
idle longer than ``ttl_s`` (API clients never send the unload signal), or when a new study needs
memory that only an idle one holds (the process-wide pixel budget ``budget_bytes``; the least recently
used session idle for ``min_idle_s`` goes first, and its user is told on their next action).
A session is created only by a load (:meth:`SessionStore.get`); every other event looks it up
(:meth:`SessionStore.find`), so requests with made-up session hashes create nothing.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from slam.errors import SlamError
from slam.io import Study
from webapp.stack_api import REGISTRY


@dataclass
class Session:
    """What one browser tab has loaded. ``workdir`` holds its exports (deleted with the session)."""

    key: str
    workdir: Path
    study: Study | None = None
    label: str = ""  # short non-identifying name of the source (e.g. "example 2" or "upload")
    preprocessed: np.ndarray | None = None  # (D, H, W) uint8, stored orientation
    prediction: Any = None  # slam.detection.findings.StudyPrediction, boxes in display pixels
    sm: np.ndarray | None = None  # last synthetic mammogram, (H, W) uint8 display orientation
    sm_result: Any = None  # its slam.imaging.sm.SMResult (stored orientation, 8 and 16 bit)
    exam: list = field(default_factory=list)  # webapp.exam.ExamView per hung view (study is the first's)
    sm_counter: int = 0
    view_counter: int = 0
    presets: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)
    heavy: threading.Lock = field(default_factory=threading.Lock)  # held while a detection/preprocess runs

    def pixel_bytes(self) -> int:
        """Bytes of the images this session holds in memory: study pixels, preprocessed slices and the
        display stacks the browser is served (webapp.stack_api)."""
        held = [self.study.pixels if self.study is not None else None, self.preprocessed,
                *(view.study.pixels for view in self.exam)]
        unique = {id(a): a for a in held if a is not None}  # the first exam view is also ``study``
        return sum(int(a.nbytes) for a in unique.values()) + REGISTRY.session_bytes(self.key)

    def reset(self) -> None:
        """Forget the study and everything derived from it (exports on disk are deleted; the viewer's
        tokens answer 404 from now on)."""
        REGISTRY.drop_session(self.key)
        self.exam = []
        self.study = None
        self.label = ""
        self.preprocessed = None
        self.prediction = None
        self.sm = None
        self.sm_result = None
        self.presets = {}
        for path in self.workdir.glob("*"):
            if path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)

    def view_file(self, keep: int = 6) -> Path:
        """A fresh path for a rendered slice; only the last ``keep`` renders stay on disk."""
        with self.lock:
            self.view_counter += 1
            number = self.view_counter
        folder = self.workdir / "view"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number - keep:08d}.jpg").unlink(missing_ok=True)
        return folder / f"{number:08d}.jpg"

    def new_file(self, name: str) -> Path:
        """A fresh path in the session folder, in a new sub-folder so names never clash or get cached."""
        self.sm_counter += 1
        folder = self.workdir / f"{self.sm_counter:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name


EVICTED = ("your study was closed to free memory for other users (idle for a while); "
           "open it again to continue")


class SessionStore:
    """Thread-safe map session hash -> :class:`Session`, with expiry and a process-wide pixel budget."""

    def __init__(self, root: Path, ttl_s: float = 3600.0, budget_bytes: int = 8 * 1024**3, min_idle_s: float = 300.0):
        self.root = Path(root)
        self.ttl_s = ttl_s
        self.budget_bytes = budget_bytes
        self.min_idle_s = min_idle_s
        self._sessions: dict[str, Session] = {}
        self._evicted: dict[str, float] = {}  # session hash -> when its study was dropped for memory
        self._lock = threading.Lock()

    def find(self, key: str | None) -> Session | None:
        """The existing session for ``key`` (touched), or None; creates nothing.

        Raises:
            SlamError: the session's study was evicted for memory (said once, then forgotten).
        """
        key = key or "default"
        with self._lock:
            session = self._sessions.get(key)
            if session is not None:
                session.last_used = time.monotonic()
            evicted = self._evicted.pop(key, None)
        if evicted is not None:
            raise SlamError(EVICTED)
        return session

    def get(self, key: str | None) -> Session:
        """The session for ``key``, created when missing: only a load calls this. Touching it keeps it alive."""
        key = key or "default"
        self.sweep()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                # A random folder name: nothing in the path derives from the session hash or the study.
                workdir = self.root / uuid.uuid4().hex
                workdir.mkdir(parents=True, exist_ok=True)
                session = self._sessions[key] = Session(key=key, workdir=workdir)
            session.last_used = time.monotonic()
            return session

    def close(self, key: str | None) -> None:
        """End a session: drop its data and delete its folder."""
        with self._lock:
            session = self._sessions.pop(key or "default", None)
        if session is not None:
            with session.lock:
                session.reset()
                shutil.rmtree(session.workdir, ignore_errors=True)

    def sweep(self) -> None:
        """Close sessions idle for longer than ``ttl_s``."""
        now = time.monotonic()
        with self._lock:
            stale = [k for k, s in self._sessions.items() if now - s.last_used > self.ttl_s]
        for key in stale:
            self.close(key)

    def _others(self, keep: str, now: float) -> tuple[list[Session], list[Session]]:
        """(other sessions holding a study, those of them idle long enough to close, least recent first);
        the caller holds ``_lock``."""
        others = [s for k, s in self._sessions.items() if k != keep and s.study is not None]
        idle = sorted((s for s in others if now - s.last_used >= self.min_idle_s), key=lambda s: s.last_used)
        return others, idle

    def room_for(self, keep: str) -> int:
        """Bytes a new study of session ``keep`` may take: the budget less what the other sessions hold,
        plus what :meth:`make_room` could free by closing idle ones. A loader given this as its pixel
        limit refuses a larger study from its header, before decoding it."""
        with self._lock:
            others, idle = self._others(keep, time.monotonic())
            return max(self.budget_bytes - sum(s.pixel_bytes() for s in others) + sum(s.pixel_bytes() for s in idle), 0)

    def full_message(self, needed: int | None, free: int) -> str:
        """The one-line refusal of a study that does not fit (``needed`` None: not known, it is over ``free``)."""
        need = f"{needed / 2**20:.0f} MiB of image memory" if needed is not None else "more image memory than is free"
        return (f"the server is full: this study needs {need} and {max(free, 0) / 2**20:.0f} MiB of the "
                f"{self.budget_bytes / 2**20:.0f} MiB budget are free; try again in a few minutes")

    def make_room(self, keep: str, needed: int) -> None:
        """Fit ``needed`` more bytes for session ``keep`` (whose own study is being replaced): close the
        least recently used idle sessions' studies until it fits; their users are told on their next action.

        Raises:
            SlamError: it does not fit even so (nothing is closed then).
        """
        now = time.monotonic()
        with self._lock:
            others, idle = self._others(keep, now)
            free = self.budget_bytes - sum(s.pixel_bytes() for s in others)
            victims = []
            for session in idle:
                if free >= needed:
                    break
                victims.append(session)
                free += session.pixel_bytes()
            if free < needed:
                raise SlamError(self.full_message(needed, free))
            for session in victims:
                self._evicted[session.key] = now
            while len(self._evicted) > 10_000:  # bounded: the oldest notices go first
                self._evicted.pop(next(iter(self._evicted)))
        for session in victims:
            self.close(session.key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._sessions

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._sessions)
