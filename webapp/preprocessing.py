"""Preprocessing of the loaded study's slices (design.md §3) into the session's second source."""

from __future__ import annotations

from collections.abc import Callable

from webapp.state import Session
from webapp.viewing import PREPROCESSED, require_study


def run_preprocess(session: Session, progress: Callable[[int, int], None] | None = None, workers: int = 2) -> str:
    """design.md §3 preprocessing of every slice into ``session.preprocessed`` ((D, H, W) uint8)."""
    require_study(session)
    from slam.imaging.preprocess import preprocess_volume

    study = session.study
    result = preprocess_volume(study.pixels, workers=workers, progress=progress, invert=study.invert)
    with session.lock:
        if session.study is study:  # a new study may have been opened meanwhile
            session.preprocessed = result
            session.presets.pop(PREPROCESSED, None)
    return f"Preprocessed {study.depth} slices (denoising, border artifacts, CLAHE)"
