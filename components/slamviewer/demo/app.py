"""Standalone demo of SlamViewer: phantom studies served through routes that follow the viewer contract.

    PYTHONPATH=. python components/slamviewer/demo/app.py --size small --views 4 --port 7870

The route helpers here exist for this demo and its tests only; the app (webapp/) has its own routes. The boxes
shown are the phantom's ground-truth masses with made-up scores (0.9, 0.6, 0.3, ...), so that the threshold
slider has something to hide; they are not a detector's output.
"""

from __future__ import annotations

import argparse
import gzip
import secrets
from dataclasses import dataclass

import cv2
import gradio as gr
import numpy as np
import uvicorn
from fastapi import FastAPI, Request, Response
from gradio_slamviewer import SlamViewer

from slam.imaging.display import robust_window
from slam.phantom.study import PhantomStudy, generate_study

MAX_DISPLAY_ROWS = 1024  # taller stacks are shown downsampled (a full-size 2457 x 1996 view as 1024 x 832)
EXAM = (("RCC", "R", "CC", 0), ("LCC", "L", "CC", 1), ("RMLO", "R", "MLO", 2), ("LMLO", "L", "MLO", 3))
EXTRA_SLICES = (0, 4, 8, 2)  # per view: the views differ in depth, as real exams do, so sync maps by relative depth


@dataclass
class ServedView:
    """One view's pixels as served: ``display`` (D, h, w) and ``native`` (D, H, W) uint16, the SM (h, w)
    uint16 and its slice map (h, w) uint16 (the argmax slice of the maximum-intensity projection)."""

    display: np.ndarray
    native: np.ndarray
    sm: np.ndarray
    sm_slice: np.ndarray
    gzipped: list[bytes]  # each display slice, gzipped once up front so that serving a slice costs no CPU


def display_stack(native: np.ndarray, max_rows: int = MAX_DISPLAY_ROWS) -> np.ndarray:
    """(D, H, W) -> (D, h, w) uint16 area-averaged to h = min(H, max_rows) rows, the aspect ratio kept."""
    depth, height, width = native.shape
    if height <= max_rows:
        return native
    size = (round(width * max_rows / height), max_rows)
    return np.stack([cv2.resize(s, size, interpolation=cv2.INTER_AREA) for s in native])


def served_view(study: PhantomStudy, max_rows: int = MAX_DISPLAY_ROWS) -> ServedView:
    """The display stack, SM and SM slice map of a phantom study (stored orientation is display orientation:
    the phantom puts the chest wall on the right edge of R views and the left edge of L views)."""
    display = display_stack(study.volume, max_rows)
    gzipped = [gzip.compress(s.astype("<u2").tobytes(), compresslevel=1) for s in display]
    return ServedView(display, study.volume, display.max(axis=0), display.argmax(axis=0).astype(np.uint16), gzipped)


def raw_response(array: np.ndarray, request: Request, gzipped: bytes | None = None) -> Response:
    """``array`` as raw little-endian uint16, gzipped (level 1: fast, and most of the gain) when the client
    accepts it; ``gzipped``: the same body already compressed."""
    body = np.ascontiguousarray(array, dtype="<u2").tobytes()
    headers = {"X-Slam-Shape": ",".join(str(n) for n in array.shape), "Cache-Control": "private, max-age=3600"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = gzipped or gzip.compress(body, compresslevel=1)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/octet-stream", headers=headers)


def _error(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type="text/plain")


def region_of(view: ServedView, index: int, query: dict[str, str]) -> np.ndarray | str:
    """The native-resolution pixels under display-stack box [x0, x1) x [y0, y1) of slice ``index``, resampled
    to (out_h, out_w); or a one-line message saying which parameter is wrong."""
    depth, rows, columns = view.display.shape
    try:
        x0, y0, x1, y1, out_w, out_h = (int(query[k]) for k in ("x0", "y0", "x1", "y1", "out_w", "out_h"))
    except (KeyError, ValueError):
        return "region needs integer x0, y0, x1, y1, out_w, out_h"
    if not (0 <= index < depth and 0 <= x0 < x1 <= columns and 0 <= y0 < y1 <= rows):
        return f"region must lie in slices 0..{depth - 1}, x 0..{columns}, y 0..{rows} with x0 < x1, y0 < y1"
    if not (1 <= out_w <= 4096 and 1 <= out_h <= 4096):
        return "out_w and out_h must be 1..4096"
    fy, fx = view.native.shape[1] / rows, view.native.shape[2] / columns
    crop = view.native[index, int(y0 * fy):int(np.ceil(y1 * fy)), int(x0 * fx):int(np.ceil(x1 * fx))]
    shrinking = out_w < crop.shape[1]
    return cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def add_routes(app: FastAPI, views: dict[str, ServedView]) -> None:
    """The contract's GET routes for the views held in ``views`` (token -> view); unknown tokens get 404."""

    @app.get("/slam/stack/{token}/{index}")
    def stack(token: str, index: int, request: Request) -> Response:
        view = views.get(token)
        if view is None:
            return _error(404, "unknown or closed view")
        if not 0 <= index < view.display.shape[0]:
            return _error(404, f"slice {index} is outside 0..{view.display.shape[0] - 1}")
        return raw_response(view.display[index], request, view.gzipped[index])

    @app.get("/slam/region/{token}/{index}")
    def region(token: str, index: int, request: Request) -> Response:
        view = views.get(token)
        if view is None:
            return _error(404, "unknown or closed view")
        pixels = region_of(view, index, dict(request.query_params))
        return _error(400, pixels) if isinstance(pixels, str) else raw_response(pixels, request)

    @app.get("/slam/sm/{token}")
    def sm(token: str, request: Request) -> Response:
        view = views.get(token)
        return _error(404, "unknown or closed view") if view is None else raw_response(view.sm, request)

    @app.get("/slam/smslice/{token}")
    def sm_slice(token: str, request: Request) -> Response:
        view = views.get(token)
        return _error(404, "unknown or closed view") if view is None else raw_response(view.sm_slice, request)


def viewport_value(study: PhantomStudy, view: ServedView, token: str, name: str, position: int) -> dict:
    """The contract's viewport dict for ``study`` served under ``token``."""
    depth, rows, columns = view.display.shape
    fy, fx = study.volume.shape[1] / rows, study.volume.shape[2] / columns
    spacing = [study.pixel_spacing[0] * fy, study.pixel_spacing[1] * fx]
    auto = robust_window(view.display)
    dicom = (study.window_center or auto[0], study.window_width or auto[1])
    low, high = float(view.display.min()), float(view.display.max())
    findings = []
    for number, lesion in enumerate(study.lesions):
        half = max(1, round(lesion.diameter_mm / 2 / study.slice_spacing))
        findings.append({"x": lesion.x / fx, "y": lesion.y / fy, "width": lesion.width / fx,
                         "height": lesion.height / fy, "slice": lesion.slice,
                         "first_slice": max(0, lesion.slice - half), "last_slice": min(depth - 1, lesion.slice + half),
                         "score": round(max(0.05, 0.9 - 0.3 * number), 2), "label": f"F{number + 1}"})
    return {
        "id": name, "position": position, "label": f"{study.laterality} {study.view}",
        "laterality": study.laterality, "view": study.view, "slices": depth, "rows": rows, "columns": columns,
        "full_rows": study.volume.shape[1], "full_columns": study.volume.shape[2], "pixel_spacing_mm": spacing,
        "stack_url": f"/slam/stack/{token}/{{index}}", "region_url": f"/slam/region/{token}/{{index}}",
        "sm_url": f"/slam/sm/{token}", "sm_slice_url": f"/slam/smslice/{token}",
        "window": {"center": float(dicom[0]), "width": float(dicom[1])},
        "presets": {"DICOM": [float(dicom[0]), float(dicom[1])], "auto": [auto[0], auto[1]],
                    "full range": [(low + high) / 2, max(high - low, 1.0)],
                    "high contrast": [float(dicom[0]), float(dicom[1]) / 2]},
        "invert": study.photometric == "MONOCHROME1", "initial_slice": depth // 2, "findings": findings,
    }


def load_study(seed: int, size: str, view: str, laterality: str, depth: int) -> PhantomStudy:
    """A phantom view with two masses (deterministic per seed; generated at start-up, never cached on disk
    so that nothing is unpickled)."""
    return generate_study(seed, size, view=view, laterality=laterality, n_lesions=2, depth=depth)


def selected(evt: gr.SelectData) -> dict:
    """The select event's payload: {"viewport", "slice", "finding"}."""
    return evt.value


def build_app(size: str = "small", n_views: int = 1, depth: int = 24,
              max_rows: int = MAX_DISPLAY_ROWS, spacing: bool = True) -> FastAPI:
    """A FastAPI app with the contract routes and the Gradio demo at /: 1 view (R CC) or the 4-view exam;
    without ``spacing`` the views come as from a file with no pixel spacing (the viewer measures in pixels)."""
    views: dict[str, ServedView] = {}
    value: dict = {"viewports": [], "threshold": 0.5, "show_boxes": True, "sync": True}
    for seed, (name, laterality, view_name, position) in enumerate(EXAM[:n_views], start=7):
        study = load_study(seed, size, view_name, laterality, depth + EXTRA_SLICES[position])
        token = secrets.token_urlsafe(24)
        views[token] = served_view(study, max_rows)
        value["viewports"].append(viewport_value(study, views[token], token, name, position))
        if not spacing:
            value["viewports"][-1]["pixel_spacing_mm"] = None
    app = FastAPI()
    add_routes(app, views)
    with gr.Blocks(title="SlamViewer demo") as demo:
        gr.Markdown("SlamViewer demo: phantom studies. The boxes are the phantom's ground-truth masses with "
                    "made-up scores, not a detector's output.")
        viewer = SlamViewer(value=value, height=760, elem_id="viewer")
        shown = gr.JSON(label="last select event", elem_id="selected")
        viewer.select(selected, None, shown)
    return gr.mount_gradio_app(app, demo, path="/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "medium", "full"), default="small")
    parser.add_argument("--views", type=int, choices=(1, 2, 4), default=1)
    parser.add_argument("--depth", type=int, default=24, help="slices of R CC (the other views have a few more)")
    parser.add_argument("--display-rows", type=int, default=MAX_DISPLAY_ROWS,
                        help="display stacks taller than this are downsampled (zoom then fetches native regions)")
    parser.add_argument("--no-spacing", action="store_true", help="serve the views without a pixel spacing")
    parser.add_argument("--port", type=int, default=7870)
    args = parser.parse_args()
    uvicorn.run(build_app(args.size, args.views, args.depth, max_rows=args.display_rows, spacing=not args.no_spacing),
                host="127.0.0.1",
                port=args.port,
                log_level="warning")


if __name__ == "__main__":
    main()
