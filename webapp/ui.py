"""The Gradio Blocks: layout, events, sessions and queue settings. The work is in ``webapp.handlers``."""

from __future__ import annotations

import functools
import logging
import math
import os
import tempfile
import threading
import time
import traceback
from pathlib import Path

import gradio as gr
import numpy as np

from slam.errors import SlamError
from webapp import handlers as h
from webapp import loading
from webapp.state import Session, SessionStore

ROOT = Path(__file__).resolve().parents[1]
LOG = logging.getLogger("slam.webapp")

MAX_UPLOAD = os.environ.get("SLAM_MAX_UPLOAD", "1gb")
# Slice views skip the queue (a direct request, no queue round trip): they cost milliseconds, and no
# queued job (detection, preprocessing) can ever hold them up. Repeated triggers collapse to the latest.
VIEW = dict(queue=False, show_progress="hidden", trigger_mode="always_last", preprocess=False)
SM = dict(concurrency_id="sm", concurrency_limit=2, show_progress="minimal", trigger_mode="always_last",
          preprocess=False)
# Heavy work runs one at a time per group, in its own group: a detection never holds up scrolling.
# The events of each group run 8 at once, but the work itself one at a time (HEAVY): a session's second
# request while its first is queued or running is refused at once instead of filling the queue.
DETECT = dict(concurrency_id="detect", concurrency_limit=8)
PREPROCESS = dict(concurrency_id="preprocess", concurrency_limit=8)
HEAVY = {"detect": threading.Semaphore(1), "preprocess": threading.Semaphore(1)}
LOAD = dict(concurrency_id="load", concurrency_limit=2, preprocess=False)
EXPORT = dict(concurrency_id="export", concurrency_limit=2, show_progress="minimal", preprocess=False)
UPLOAD_TTL = float(os.environ.get("SLAM_UPLOAD_TTL", "600"))  # s an upload nobody loads stays on disk

try:  # ZeroGPU Spaces: detection runs on a GPU borrowed per call.
    import spaces

    on_gpu = spaces.GPU(duration=120)
except ImportError:  # CPU Space, local run

    def on_gpu(fn):
        return fn


CSS = """
#slam-viewer { background: #000; border-radius: 6px; min-height: 320px; position: relative; user-select: none; }
#slam-viewer .slam-img { display: block; width: 100%; height: auto; cursor: crosshair; }
#slam-viewer .slam-cap { position: absolute; top: 0; left: 0; right: 0; padding: 4px 8px; color: #ffd43b;
  font: 13px/1.3 monospace; background: rgba(0,0,0,.55); pointer-events: none; }
#slam-viewer .slam-empty { color: #adb5bd; padding: 120px 20px; text-align: center; }
#slam-disclaimer { color: #c92a2a; font-weight: 600; }
"""

# Keys, mouse wheel and chart clicks become 'submit' events on the viewer carrying {step} or {slice}.
VIEWER_JS = """
const step = (n) => trigger('submit', {step: n});
window.slamJump = (k) => trigger('submit', {slice: k});
if (!window.__slamKeys) {
  window.__slamKeys = true;
  const steps = {ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -10, PageDown: 10};
  document.addEventListener('keydown', (e) => {
    const t = e.target, tag = ((t && t.tagName) || '').toLowerCase();
    if (['input', 'textarea', 'select'].includes(tag) || (t && t.isContentEditable) || e.ctrlKey || e.metaKey) return;
    if (e.key in steps) { e.preventDefault(); window.slamStep(steps[e.key]); }
    else if (e.key === 'Home') { e.preventDefault(); window.slamJump(0); }
    else if (e.key === 'End') { e.preventDefault(); window.slamJump(1e6); }
  });
  setInterval(() => {
    const gd = document.querySelector('#slam-attention .js-plotly-plot');
    if (gd && gd.on && gd.__slamBound !== gd._fullData) {
      gd.__slamBound = gd._fullData;
      gd.removeAllListeners && gd.removeAllListeners('plotly_click');
      gd.on('plotly_click', (d) => { const p = d.points && d.points[0]; if (p) window.slamJump(Math.round(p.x) - 1); });
    }
  }, 400);
}
window.slamStep = step;
let last = 0;
element.addEventListener('wheel', (e) => {
  if (!element.querySelector('img')) return;
  e.preventDefault();
  const now = performance.now();
  if (now - last < 50) return;
  last = now;
  step(e.deltaY > 0 ? 1 : -1);
}, {passive: false});
element.addEventListener('click', (e) => {
  const img = e.target.closest && e.target.closest('img.slam-img');
  if (!img) return;
  const r = img.getBoundingClientRect();
  trigger('select', {fx: (e.clientX - r.left) / r.width, fy: (e.clientY - r.top) / r.height});
});
"""


def upload_root() -> Path:
    """Gradio's upload cache (where it stores what clients upload)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")).resolve()


def default_budget() -> str:
    """Half the machine's memory, for the pixels of all open studies together."""
    return str(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)


# Session folders live inside Gradio's cache so exports are served without another copy.
STORE = SessionStore(
    upload_root() / "slam-sessions",
    ttl_s=float(os.environ.get("SLAM_SESSION_TTL", "3600")),
    budget_bytes=loading.parse_size(os.environ.get("SLAM_MEMORY_BUDGET") or default_budget()),
    min_idle_s=float(os.environ.get("SLAM_EVICT_IDLE", "300")),
)


def examples_dir() -> Path:
    return Path(os.environ.get("SLAM_EXAMPLES_DIR", ROOT / "examples"))


def weights_path() -> Path | None:
    return h.find_weights()


def session_of(request: gr.Request | None) -> Session:
    """The caller's session; one that never loaded a study gets an empty stand-in (nothing is created)."""
    key = getattr(request, "session_hash", None) or "default"
    return STORE.find(key) or Session(key=key, workdir=STORE.root / "none")


def number(value, name: str, low: float, high: float) -> float:
    """A control's value as a finite float clamped to [low, high].

    Raises:
        SlamError: not a finite number.
    """
    try:
        result = float(value)
    except (TypeError, ValueError):
        result = math.nan
    if not math.isfinite(result):
        raise SlamError(f"{name} must be a finite number; got {str(value)[:20]!r}")
    return min(max(result, low), high)


def heavy(kind: str, session: Session, work):
    """Run ``work()`` as the session's one heavy job (refused while another is queued or running)."""
    if not session.heavy.acquire(blocking=False):
        raise SlamError("refused: this session already has a detection or preprocessing running; wait for it")
    try:
        with HEAVY[kind]:
            return work()
    finally:
        session.heavy.release()


def friendly(fn):
    """Bad input -> a one-line gr.Error toast (the app stays usable); nothing patient-related is logged."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except SlamError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            # Messages can carry file or patient names: log the type and code location only.
            LOG.error("%s in %s\n%s", type(exc).__name__, fn.__name__, "".join(traceback.format_tb(exc.__traceback__)))
            raise gr.Error(f"Something went wrong ({type(exc).__name__}); please try again.", print_exception=False) from None

    return wrapper


def params_of(slice_number, source, center, width, invert, zoom, pan_x, pan_y, overlay, threshold, deid) -> h.ViewParams:
    """UI values (raw: events skip Gradio's checks) -> ViewParams; the slider is 1-based, the index 0-based.

    Raises:
        SlamError: a value is not a finite number (out-of-range ones are clamped).
    """
    return h.ViewParams(
        slice=int(number(slice_number or 1, "slice", 1, 1e6)) - 1,
        source=h.PREPROCESSED if source == h.PREPROCESSED else h.ORIGINAL,
        center=number(center, "level", -1e9, 1e9), width=number(width, "window", 1e-6, 1e9),
        invert=bool(invert), zoom=number(zoom or 1, "zoom", 1, 8),
        focus=(number(pan_x, "pan x", 0, 1), number(pan_y, "pan y", 0, 1)), overlay=bool(overlay),
        threshold=number(threshold, "score threshold", 0, 1), deidentify=bool(deid),
    )


def sm_params_of(center, size, mode, weighting, threshold, window, level, clahe) -> h.SMParams:
    """Raw SM control values -> SMParams (clamped; modes outside the choices are refused).

    Raises:
        SlamError: a value is not a finite number, or an unknown mode or weighting.
    """
    if mode not in ("max", "min", "mean") or weighting not in ("sigmoid", "log"):
        raise SlamError("MIP mode must be max, min or mean and weighting sigmoid or log")
    return h.SMParams(center=number(center, "slab centre", 1, 1e6) - 1, size=int(number(size, "slab size", 1, 1e6)),
                      mode=mode, weighting=weighting, threshold=number(threshold, "MIP threshold", 0, 1),
                      window=number(window, "SM window", 0.01, 1), level=number(level, "SM level", 0, 1),
                      clahe=bool(clahe))


def start_sweeper(demo: gr.Blocks, period_s: float = max(0.5, min(60.0, UPLOAD_TTL / 2))) -> None:
    """Every ``period_s``: delete uploads nobody loaded within UPLOAD_TTL and close idle sessions."""

    def loop():
        while True:
            time.sleep(period_s)
            try:
                loading.sweep_uploads(upload_root(), STORE.root, UPLOAD_TTL, demo.upload_file_set)
                STORE.sweep()
            except OSError as exc:  # a file vanished meanwhile: try again next round
                LOG.warning("sweep: %s", type(exc).__name__)

    threading.Thread(target=loop, name="slam-sweeper", daemon=True).start()


def build_demo() -> gr.Blocks:
    loading.reset_session_root(STORE.root)
    weights = weights_path()
    unavailable = h.detector_unavailable(weights)
    examples = h.list_examples(examples_dir())
    with gr.Blocks(title="SLAM DBT viewer", delete_cache=(900, 3600)) as demo:
        gr.Markdown("# SLAM · digital breast tomosynthesis viewer")
        gr.Markdown(h.DISCLAIMER, elem_id="slam-disclaimer")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                files = gr.File(label=f"Open a study (max {MAX_UPLOAD.upper()} per upload)", file_count="multiple",
                                elem_id="slam-upload", height=130)
                gr.Markdown(f"A multi-frame DICOM, several single-frame DICOM files, a .zip or an .npz. "
                            f"Upload cap: **{MAX_UPLOAD.upper()}**.", elem_id="slam-upload-cap")
                with gr.Row():
                    example = gr.Dropdown(list(examples), value=next(iter(examples), None), label="Example",
                                          elem_id="slam-example", scale=3)
                    load_example = gr.Button("Load", elem_id="slam-load-example", scale=1, min_width=60)
                info = gr.Markdown("No study loaded.", elem_id="slam-info")
                deid = gr.Checkbox(False, label="De-identify (hide patient data here and in exports)", elem_id="slam-deid")
                with gr.Accordion("Window / level", open=True):
                    preset = gr.Radio(list(h.PRESETS), value="DICOM", label="Preset", elem_id="slam-preset")
                    center = gr.Slider(0, 65535, value=2048, label="Level (centre)", elem_id="slam-center")
                    width = gr.Slider(1, 65536, value=4096, label="Window (width)", elem_id="slam-width")
                    invert = gr.Checkbox(False, label="Invert", elem_id="slam-invert")
                with gr.Accordion("Zoom and pan (click the image to centre)", open=False):
                    zoom = gr.Slider(1, 8, value=1, step=0.25, label="Zoom", elem_id="slam-zoom")
                    pan_x = gr.Slider(0, 1, value=0.5, step=0.01, label="Pan x", elem_id="slam-pan-x")
                    pan_y = gr.Slider(0, 1, value=0.5, step=0.01, label="Pan y", elem_id="slam-pan-y")
                    reset_view = gr.Button("Reset view", size="sm")
                with gr.Row():
                    preprocess = gr.Button("Preprocess", elem_id="slam-preprocess")
                    source = gr.Radio([h.ORIGINAL, h.PREPROCESSED], value=h.ORIGINAL, label="Slices", elem_id="slam-source")
                detect = gr.Button("Detect", variant="primary", elem_id="slam-detect")
                if unavailable:
                    gr.Markdown(f"_{unavailable}_", elem_id="slam-detect-unavailable")
                threshold = gr.Slider(0, 1, value=0.5, step=0.01, label="Score threshold", elem_id="slam-threshold")
                overlay = gr.Checkbox(True, label="Show boxes", elem_id="slam-overlay")
            with gr.Column(scale=3, min_width=360):
                viewer = gr.HTML(h.EMPTY_VIEW, elem_id="slam-viewer",
                                 js_on_load=VIEWER_JS)
                with gr.Row():
                    prev_btn = gr.Button("◀", size="sm", min_width=40, scale=0, elem_id="slam-prev")
                    slider = gr.Slider(1, 2, value=1, step=1, label="Slice (↑/↓, PgUp/PgDn, wheel)",
                                       elem_id="slam-slice", scale=8)
                    next_btn = gr.Button("▶", size="sm", min_width=40, scale=0, elem_id="slam-next")
                with gr.Row():
                    play = gr.Button("Play", size="sm", elem_id="slam-play", scale=0, min_width=80)
                    fps = gr.Slider(1, 20, value=6, step=1, label="Cine speed (slices/s)", elem_id="slam-fps", scale=4)
                    playing = gr.State(False)
                    timer = gr.Timer(1 / 6, active=False)
            with gr.Column(scale=2, min_width=300):
                sm_image = gr.Image(label="Synthetic mammogram", type="filepath", interactive=False,
                                    elem_id="slam-sm", buttons=["fullscreen"], height=520)
                with gr.Accordion("Synthetic mammogram settings", open=True):
                    sm_center = gr.Slider(1, 2, value=1, step=1, label="Slab centre (slice)", elem_id="slam-sm-center")
                    sm_size = gr.Slider(1, 2, value=2, step=1, label="Slab size (slices)", elem_id="slam-sm-size")
                    with gr.Row():
                        sm_mode = gr.Radio(["max", "min", "mean"], value="max", label="MIP mode", elem_id="slam-sm-mode")
                        sm_weighting = gr.Radio(["sigmoid", "log"], value="sigmoid", label="Weighting",
                                                elem_id="slam-sm-weighting")
                    sm_threshold = gr.Slider(0, 1, value=0.8, step=0.01, label="MIP threshold", elem_id="slam-sm-threshold")
                    sm_window = gr.Slider(0.01, 1, value=0.70, step=0.01, label="Window", elem_id="slam-sm-window")
                    sm_level = gr.Slider(0, 1, value=0.62, step=0.01, label="Level", elem_id="slam-sm-level")
                    sm_clahe = gr.Checkbox(False, label="CLAHE", elem_id="slam-sm-clahe")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                verdict = gr.Markdown("", elem_id="slam-verdict")
                gr.Markdown(f"_{h.card_disclaimer(h.model_card(weights))}_", elem_id="slam-card-disclaimer")
                findings = gr.Dataframe(headers=h.FINDINGS_HEADERS, value=[], label="Findings (click a row to jump)",
                                        interactive=False, elem_id="slam-findings", wrap=True)
            with gr.Column(scale=3):
                chart = gr.Plot(label="Slice attention", elem_id="slam-attention")
        with gr.Row():
            with gr.Column(scale=3), gr.Row():
                with_boxes = gr.Checkbox(True, label="Exports with boxes", elem_id="slam-export-boxes")
                export_sm_png = gr.Button("SM as PNG", size="sm", elem_id="slam-export-sm-png")
                export_sm_dcm = gr.Button("SM as DICOM", size="sm", elem_id="slam-export-sm-dcm")
                export_csv = gr.Button("Findings CSV (DBTex)", size="sm", elem_id="slam-export-csv")
                export_json = gr.Button("Findings JSON", size="sm", elem_id="slam-export-json")
                export_view = gr.Button("Current view as PNG", size="sm", elem_id="slam-export-view")
            downloads = gr.File(label="Download", interactive=False, elem_id="slam-download", height=80)
        status = gr.Markdown("", elem_id="slam-status")
        card = h.model_card(weights)
        if card:
            with gr.Accordion("Model card", open=False):
                gr.Markdown(card, elem_id="slam-model-card")

        view_inputs = [slider, source, center, width, invert, zoom, pan_x, pan_y, overlay, threshold, deid]
        sm_inputs = [sm_center, sm_size, sm_mode, sm_weighting, sm_threshold, sm_window, sm_level, sm_clahe]

        # ------------------------------------------------------------ handlers

        def loaded_outputs(session: Session, message: str, hide: bool):
            study = session.study
            presets = h.window_presets(session, h.ORIGINAL)
            c, w = presets["DICOM"]
            lo, hi = h.window_limits(session, h.ORIGINAL)
            mid = study.depth // 2 + 1
            params = h.ViewParams(slice=mid - 1, center=c, width=w, deidentify=bool(hide))
            return (
                message,
                h.study_info(session, bool(hide)),
                gr.Slider(minimum=1, maximum=study.depth, value=mid),
                gr.Slider(minimum=lo, maximum=hi, value=c),
                gr.Slider(minimum=1, maximum=max(hi - lo, 2), value=w),
                "DICOM", h.ORIGINAL, False, 1, 0.5, 0.5,
                h.view_html(session, params),
                gr.Slider(minimum=1, maximum=study.depth, value=(study.depth + 1) // 2),
                gr.Slider(minimum=1, maximum=study.depth, value=study.depth),
                "", [], None, None,
            )

        # De-identify is an input, not reset by a load: a user who hides patient data keeps it hidden.
        load_outputs = [status, info, slider, center, width, preset, source, invert, zoom, pan_x, pan_y, viewer,
                        sm_center, sm_size, verdict, findings, chart, downloads]

        @friendly
        def on_upload(request: gr.Request, paths, hide):
            key = getattr(request, "session_hash", None) or "default"
            items = [p.get("path") if isinstance(p, dict) else p for p in (paths or [])]
            if not items:
                raise SlamError("no file chosen; accepted: a DICOM study, a zip or an npz")
            accepted = loading.claim_uploads(items, key, upload_root(), demo.upload_file_set, STORE.root)
            try:
                source = accepted[0] if len(accepted) == 1 else accepted
                session, study = loading.open_into(STORE, key, source, "upload", loading.app_limits())
            finally:  # the upload is not needed once loaded (nor kept on failure)
                loading.release_uploads(accepted, demo.upload_file_set)
            return loaded_outputs(session, f"Loaded upload: {study.depth} slices of {study.height} × {study.width}", hide)

        @friendly
        def on_example(request: gr.Request, name, hide):
            found = h.list_examples(examples_dir())
            if name not in found:
                raise SlamError(f"unknown example {name!r}; choose one of: {', '.join(found) or 'none bundled'}")
            key = getattr(request, "session_hash", None) or "default"
            session, study = loading.open_into(STORE, key, found[name], f"example {name}", loading.app_limits())
            return loaded_outputs(session, f"Loaded example {name}: {study.depth} slices of {study.height} × "
                                           f"{study.width}", hide)

        @friendly
        def show(request: gr.Request, *values):
            return h.view_html(session_of(request), params_of(*values))

        @friendly
        def on_nav(request: gr.Request, evt: gr.EventData, *values):
            session = session_of(request)
            h.require_study(session)
            params = params_of(*values)
            data = evt._data or {}
            index = int(data["slice"]) if "slice" in data else params.slice + int(data.get("step", 0))
            index = int(np.clip(index, 0, session.study.depth - 1))
            params = h.ViewParams(**{**params.__dict__, "slice": index})
            return index + 1, h.view_html(session, params)

        def stepper(n: int):
            @friendly
            def step(request: gr.Request, *values):
                session = session_of(request)
                h.require_study(session)
                params = params_of(*values)
                index = int(np.clip(params.slice + n, 0, session.study.depth - 1))
                return index + 1, h.view_html(session, h.ViewParams(**{**params.__dict__, "slice": index}))

            return step

        @friendly
        def on_tick(request: gr.Request, *values):
            session = session_of(request)
            if session.study is None:
                return gr.skip(), gr.skip()
            params = params_of(*values)
            index = (params.slice + 1) % session.study.depth
            return index + 1, h.view_html(session, h.ViewParams(**{**params.__dict__, "slice": index}))

        def on_play(is_playing, speed):
            now = not is_playing
            return now, gr.Timer(1 / max(float(speed), 0.5), active=now), ("Pause" if now else "Play")

        @friendly
        def on_click(request: gr.Request, evt: gr.EventData, *values):
            session = session_of(request)
            params = params_of(*values)
            fx, fy = h.focus_from_click(session, params, float(evt._data.get("fx", 0.5)), float(evt._data.get("fy", 0.5)))
            params = h.ViewParams(**{**params.__dict__, "focus": (fx, fy)})
            return round(fx, 3), round(fy, 3), h.view_html(session, params)

        @friendly
        def on_preset(request: gr.Request, name, *values):
            session = session_of(request)
            params = params_of(*values)
            if name not in h.PRESETS:
                raise SlamError(f"unknown preset {str(name)[:20]!r}; choose one of: {', '.join(h.PRESETS)}")
            c, w = h.window_presets(session, params.source)[name]
            return c, w, h.view_html(session, h.ViewParams(**{**params.__dict__, "center": c, "width": w}))

        @friendly
        def on_source(request: gr.Request, *values):
            session = session_of(request)
            params = params_of(*values)
            active = h.active_source(session, params.source)
            c, w = h.window_presets(session, active)["DICOM"]
            lo, hi = h.window_limits(session, active)
            params = h.ViewParams(**{**params.__dict__, "center": c, "width": w})
            return (active, gr.Slider(minimum=lo, maximum=hi, value=c), gr.Slider(minimum=1, maximum=max(hi - lo, 2), value=w),
                    "DICOM", h.view_html(session, params))

        @friendly
        def on_preprocess(request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
            session = session_of(request)
            h.require_study(session)
            if session.preprocessed is None:
                study = session.study  # the preprocessed copy is one uint8 byte per pixel more
                STORE.make_room(session.key, session.pixel_bytes() + study.depth * study.height * study.width)
            progress((0, session.study.depth), desc="Preprocessing slices")
            message = heavy("preprocess", session, lambda: h.run_preprocess(
                session, lambda done, total: progress((done, total), desc="Preprocessing slices")))
            return message, h.PREPROCESSED

        @friendly
        def on_sm(request: gr.Request, source_name, overlay_on, score, *sm_values):
            session = session_of(request)
            if session.study is None:
                return None
            h.compute_sm(session, sm_params_of(*sm_values), source_name)
            return h.sm_panel(session, overlay_on, score)

        predict = on_gpu(h.predict_study)

        @friendly
        def on_detect(request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
            session = session_of(request)
            h.require_study(session)
            progress(0.1, desc="Running the detector")
            message = heavy("detect", session, lambda: h.run_detection(session, weights, predict))
            progress(1.0, desc="Done")
            return message, session.prediction.representative_slice + 1

        @friendly
        def after_findings(request: gr.Request, *values):
            session = session_of(request)
            params = params_of(*values)
            return (h.view_html(session, params), h.summary(session, params.threshold),
                    h.findings_rows(session, params.threshold), h.attention_figure(session),
                    h.sm_panel(session, params.overlay, params.threshold))

        @friendly
        def on_finding(request: gr.Request, evt: gr.SelectData, *values):
            session = session_of(request)
            params = params_of(*values)
            found = h.visible_findings(session, params.threshold)
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if not found or not 0 <= int(row) < len(found):
                return gr.skip(), gr.skip()
            index = h.jump_slice(session, found[int(row)])
            return index + 1, h.view_html(session, h.ViewParams(**{**params.__dict__, "slice": index}))

        @friendly
        def on_deid(request: gr.Request, *values):
            session = session_of(request)
            params = params_of(*values)
            return h.view_html(session, params), h.study_info(session, params.deidentify)

        def exporter(kind: str):
            @friendly
            def export(request: gr.Request, boxes_on, *values):
                session = session_of(request)
                params = params_of(*values)
                if kind == "sm_png":
                    path = h.export_sm_png(session, boxes_on, params.threshold)
                elif kind == "sm_dcm":
                    path = h.export_sm_dicom(session, boxes_on, params.threshold, params.deidentify)
                elif kind == "csv":
                    path = h.export_findings_csv(session, params.deidentify)
                elif kind == "json":
                    path = h.export_findings_json(session, params.threshold, params.deidentify)
                else:
                    path = h.export_view_png(session, h.ViewParams(**{**params.__dict__, "overlay": params.overlay and boxes_on}))
                return str(path)

            export.__name__ = f"export_{kind}"
            return export

        def on_unload(request: gr.Request):
            STORE.close(getattr(request, "session_hash", None))

        # ------------------------------------------------------------ wiring

        sm_event = dict(fn=on_sm, inputs=[source, overlay, threshold, *sm_inputs], outputs=sm_image, **SM)
        files.upload(on_upload, [files, deid], load_outputs, api_name="open_files", **LOAD).success(
            api_name=False, **sm_event)
        load_example.click(on_example, [example, deid], load_outputs, api_name="load_example", **LOAD).success(
            api_name=False, **sm_event)
        slider.input(show, view_inputs, viewer, api_name="show_slice", **VIEW)
        for control in (center, width, invert, zoom, pan_x, pan_y):
            control.input(show, view_inputs, viewer, api_name=False, **VIEW)
        reset_view.click(lambda: (1, 0.5, 0.5), None, [zoom, pan_x, pan_y], api_name=False, queue=False).then(
            show, view_inputs, viewer, api_name=False, **VIEW)
        viewer.submit(on_nav, view_inputs, [slider, viewer], api_name="navigate", **VIEW)
        viewer.select(on_click, view_inputs, [pan_x, pan_y, viewer], api_name=False, **VIEW)
        prev_btn.click(stepper(-1), view_inputs, [slider, viewer], api_name=False, **VIEW)
        next_btn.click(stepper(1), view_inputs, [slider, viewer], api_name="next_slice", **VIEW)
        timer.tick(on_tick, view_inputs, [slider, viewer], api_name=False, **VIEW)
        play.click(on_play, [playing, fps], [playing, timer, play], api_name=False, queue=False)
        fps.release(lambda on, speed: gr.Timer(1 / max(float(speed), 0.5), active=on), [playing, fps], timer,
                    api_name=False, queue=False)
        preset.input(on_preset, [preset, *view_inputs], [center, width, viewer], api_name=False, **VIEW)
        source.input(on_source, view_inputs, [source, center, width, preset, viewer], api_name=False, **VIEW).success(
            api_name=False, **sm_event)
        preprocess.click(on_preprocess, None, [status, source], api_name="preprocess", **PREPROCESS).success(
            on_source, view_inputs, [source, center, width, preset, viewer], api_name=False, **VIEW).success(
            api_name=False, **sm_event)
        # The SM follows its controls while they move (a full-size SM takes about 0.1-0.5 s; pending
        # updates collapse to the latest).
        for control in (sm_center, sm_size, sm_threshold, sm_window, sm_level, sm_mode, sm_weighting, sm_clahe):
            control.input(api_name=False, **sm_event)
        detect.click(on_detect, None, [status, slider], api_name="detect", **DETECT).success(
            after_findings, view_inputs, [viewer, verdict, findings, chart, sm_image], api_name=False, **VIEW)
        for control in (threshold, overlay):
            control.input(after_findings, view_inputs, [viewer, verdict, findings, chart, sm_image], api_name=False, **VIEW)
        findings.select(on_finding, view_inputs, [slider, viewer], api_name=False, **VIEW)
        deid.input(on_deid, view_inputs, [viewer, info], api_name=False, **VIEW)
        for button, kind in ((export_sm_png, "sm_png"), (export_sm_dcm, "sm_dcm"), (export_csv, "csv"),
                             (export_json, "json"), (export_view, "view")):
            button.click(exporter(kind), [with_boxes, *view_inputs], downloads, api_name=f"export_{kind}", **EXPORT)
        demo.unload(on_unload)
    demo.queue(default_concurrency_limit=2, max_size=128)
    start_sweeper(demo)
    return demo


def launch_kwargs() -> dict:
    """Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them itself)."""
    # Rendered slices are served straight from the session folders (random, per-session names).
    # run_history=False: Gradio would otherwise save every call (patient data included) in the browser,
    # and the page gets slower with each saved slice change.
    from starlette.middleware import Middleware

    cap = Middleware(loading.UploadCap, max_bytes=loading.parse_size(MAX_UPLOAD))
    return dict(max_file_size=MAX_UPLOAD, css=CSS, show_error=True, allowed_paths=[str(STORE.root)],
                run_history=False, footer_links=["api", "gradio", "settings"], app_kwargs={"middleware": [cap]})
