"""The synthetic mammogram panel: its controls (:class:`SMParams`), the SM of the chosen source and the
display-size panel image with boxes (design.md §7; the work is in ``slam.imaging.sm``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slam.errors import SlamError
from slam.imaging.orientation import flip_image
from slam.imaging.viewport import draw_boxes, encode_jpeg, make_view, render_slice
from webapp.state import Session
from webapp.viewing import ORIGINAL, box_overlay, number, require_study, source_volume, visible_findings

PANEL_MAX = (1024, 1024)


@dataclass(frozen=True)
class SMParams:
    """The SM controls (design.md §7): slab centre/size in slices, MIP mode, weighting, and the [0, 1] scale
    threshold, window and level; CLAHE on the result."""

    center: float | None = None
    size: int | None = None
    mode: str = "max"
    weighting: str = "sigmoid"
    threshold: float = 0.8
    window: float = 0.70
    level: float = 0.62
    clahe: bool = False


def compute_sm(session: Session, params: SMParams, source: str = ORIGINAL) -> np.ndarray:
    """The SM (design.md §7) of the chosen source at native resolution: (H, W) uint8, display orientation.

    Stored in ``session.sm``; the 16-bit version is recomputed on export.
    """
    require_study(session)
    from slam.imaging.sm import synthetic_mammogram

    study = session.study
    result = synthetic_mammogram(
        source_volume(session, source), **sm_kwargs(study.depth, params), invert=study.invert,
    )
    with session.lock:
        if session.study is not study:
            raise SlamError("a new study was opened while the SM was computed; try again")
        session.sm_result = result
        session.sm = np.ascontiguousarray(flip_image(result.image8, study.flip_rows, study.flip_cols))
    return session.sm


def sm_kwargs(depth: int, params: SMParams) -> dict:
    size = None if params.size is None else int(np.clip(params.size, 1, depth))
    center = None if params.center is None else float(np.clip(params.center, 0, depth - 1))
    return dict(center_slice=center, num_slices=size, mode=params.mode, weighting=params.weighting,
                threshold=float(params.threshold), window=float(max(params.window, 1e-3)),
                level=float(params.level), apply_clahe=bool(params.clahe))


def sm_boxes(session: Session, threshold: float) -> tuple[list, list[str], list]:
    found = visible_findings(session, threshold)
    return box_overlay(found, found[0].score if found else None)


def sm_panel(session: Session, overlay: bool, threshold: float) -> str | None:
    """A display-size JPEG of the current SM (boxes drawn when ``overlay``), in the session folder."""
    if session.sm is None:
        return None
    height, width = session.sm.shape
    view = make_view(height, width, 1.0, (0.5, 0.5), PANEL_MAX)
    image = render_slice(session.sm, view, 127.5, 255.0)
    if overlay:
        boxes, labels, colors = sm_boxes(session, threshold)
        if boxes:
            image = draw_boxes(image, boxes, view, labels, colors)
    path = session.new_file("sm_view.jpg")
    path.write_bytes(encode_jpeg(image, 90))
    return str(path)



def sm_params_of(center, size, mode, weighting, threshold, window, level, clahe) -> SMParams:
    """Raw SM control values -> SMParams (clamped; modes outside the choices are refused).

    Raises:
        SlamError: a value is not a finite number, or an unknown mode or weighting.
    """
    if mode not in ("max", "min", "mean") or weighting not in ("sigmoid", "log"):
        raise SlamError("MIP mode must be max, min or mean and weighting sigmoid or log")
    return SMParams(center=number(center, "slab centre", 1, 1e6) - 1, size=int(number(size, "slab size", 1, 1e6)),
                    mode=mode, weighting=weighting, threshold=number(threshold, "MIP threshold", 0, 1),
                    window=number(window, "SM window", 0.01, 1), level=number(level, "SM level", 0, 1),
                    clahe=bool(clahe))
