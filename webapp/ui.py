"""The Gradio Blocks: layout, events, sessions and queue settings. The work is in ``webapp.handlers``."""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import traceback
from pathlib import Path

import gradio as gr
import numpy as np

from slam.errors import SlamError
from webapp import handlers as h
from webapp.state import Session, SessionStore

ROOT = Path(__file__).resolve().parents[1]
LOG = logging.getLogger("slam.webapp")

MAX_UPLOAD = os.environ.get("SLAM_MAX_UPLOAD", "1gb")
# Slice views skip the queue (a direct request, no queue round trip): they cost milliseconds, and no
# queued job (detection, preprocessing) can ever hold them up. Repeated triggers collapse to the latest.
VIEW = dict(queue=False, show_progress="hidden", trigger_mode="always_last")
SM = dict(concurrency_id="sm", concurrency_limit=2, show_progress="minimal", trigger_mode="always_last")
# Heavy work runs one at a time per group, in its own group: a detection never holds up scrolling.
DETECT = dict(concurrency_id="detect", concurrency_limit=1)
PREPROCESS = dict(concurrency_id="preprocess", concurrency_limit=1)
LOAD = dict(concurrency_id="load", concurrency_limit=2)
EXPORT = dict(concurrency_id="export", concurrency_limit=2, show_progress="minimal")

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


def _cache_root() -> Path:
    base = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
    # Session folders live inside Gradio's cache so exports are served without another copy.
    return Path(base) / "slam-sessions"


STORE = SessionStore(
    _cache_root(),
    ttl_s=float(os.environ.get("SLAM_SESSION_TTL", "3600")),
    max_studies=int(os.environ.get("SLAM_MAX_STUDIES", "6")),
)


def examples_dir() -> Path:
    return Path(os.environ.get("SLAM_EXAMPLES_DIR", ROOT / "examples"))


def weights_path() -> Path | None:
    return h.find_weights(ROOT)


def session_of(request: gr.Request | None) -> Session:
    return STORE.get(getattr(request, "session_hash", None))


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
    """UI values -> ViewParams (the slider is 1-based, the index 0-based)."""
    return h.ViewParams(
        slice=int(slice_number or 1) - 1, source=source or h.ORIGINAL, center=float(center), width=float(width),
        invert=bool(invert), zoom=float(zoom or 1), focus=(float(pan_x), float(pan_y)), overlay=bool(overlay),
        threshold=float(threshold), deidentify=bool(deid),
    )


def sm_params_of(center, size, mode, weighting, threshold, window, level, clahe) -> h.SMParams:
    return h.SMParams(center=float(center) - 1, size=int(size), mode=mode, weighting=weighting,
                      threshold=float(threshold), window=float(window), level=float(level), clahe=bool(clahe))


def build_demo() -> gr.Blocks:
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
            session = session_of(request)
            STORE.make_room(session.key)
            try:
                message = h.open_study(session, list(paths or []), "upload")
            finally:
                for path in paths or []:  # the upload is not needed once loaded (nor kept on failure)
                    Path(path).unlink(missing_ok=True)
            return loaded_outputs(session, message, hide)

        @friendly
        def on_example(request: gr.Request, name, hide):
            found = h.list_examples(examples_dir())
            if name not in found:
                raise SlamError(f"unknown example {name!r}; choose one of: {', '.join(found) or 'none bundled'}")
            session = session_of(request)
            STORE.make_room(session.key)
            return loaded_outputs(session, h.open_study(session, found[name], f"example {name}"), hide)

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
            progress((0, session.study.depth), desc="Preprocessing slices")
            message = h.run_preprocess(session, lambda done, total: progress((done, total), desc="Preprocessing slices"))
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
            message = h.run_detection(session, weights, predict)
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
    return demo


def launch_kwargs() -> dict:
    """Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them itself)."""
    # Rendered slices are served straight from the session folders (random, per-session names).
    # run_history=False: Gradio would otherwise save every call (patient data included) in the browser,
    # and the page gets slower with each saved slice change.
    return dict(max_file_size=MAX_UPLOAD, css=CSS, show_error=True, allowed_paths=[str(STORE.root)],
                run_history=False, footer_links=["api", "gradio", "settings"])
