"""The events: what each control does, as top-level handlers bound to the components of a
:class:`~webapp.layout.Layout`. The store, the weights and the like are keyword-only arguments fixed
by :func:`bind`; the work is in ``webapp.viewing``, ``sm``, ``preprocessing``, ``detection``, ``exports``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import numpy as np

from slam.errors import SlamError
from slam.io.dicomweb import connect
from webapp import detection, exam, exports, loading, pacs_panel, preprocessing, sm, sr_io, uploads, viewing
from webapp.layout import Layout
from webapp.state import Session, SessionStore
from webapp.viewing import ORIGINAL, PREPROCESSED, ViewParams, number, params_of, view_html

LOG = logging.getLogger("slam.webapp")

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
EXPORTS: dict[str, Callable[[Session, ViewParams, bool], Path]] = {
    "sm_png": lambda s, p, boxes: exports.export_sm_png(s, boxes, p.threshold),
    "sm_dcm": lambda s, p, boxes: exports.export_sm_dicom(s, boxes, p.threshold, p.deidentify),
    "csv": lambda s, p, boxes: exports.export_findings_csv(s, p.deidentify),
    "json": lambda s, p, boxes: exports.export_findings_json(s, p.threshold, p.deidentify),
    "view": lambda s, p, boxes: exports.export_view_png(s, dataclasses.replace(p, overlay=p.overlay and boxes)),
}


def bind(fn: Callable, **fixed) -> Callable:
    """``fn`` with keyword-only arguments fixed. Unlike ``functools.partial`` it keeps the type hints
    Gradio reads to inject ``gr.Request`` / ``gr.EventData`` (it finds none on a partial object)."""
    bound = functools.partial(fn, **fixed)

    @functools.wraps(fn)
    def handler(*args, **kwargs):
        return bound(*args, **kwargs)

    signature = inspect.signature(fn)
    handler.__signature__ = signature.replace(parameters=[p for p in signature.parameters.values() if p.name not in fixed])
    return handler


def key_of(request: gr.Request | None) -> str:
    """The caller's session hash ("default" for a call without one)."""
    return getattr(request, "session_hash", None) or "default"


def session_of(store: SessionStore, request: gr.Request | None) -> Session:
    """The caller's session; one that never loaded a study gets an empty stand-in (nothing is created)."""
    key = key_of(request)
    return store.find(key) or Session(key=key, workdir=store.root / "none")


def heavy(kind: str, session: Session, work: Callable):
    """Run ``work()`` as the session's one heavy job (refused while another is queued or running)."""
    if not session.heavy.acquire(blocking=False):
        raise SlamError("refused: this session already has a detection or preprocessing running; wait for it")
    try:
        with HEAVY[kind]:
            return work()
    finally:
        session.heavy.release()


def friendly(fn: Callable) -> Callable:
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


def with_slice(session: Session, params: ViewParams, index: int) -> tuple[int, str]:
    """(1-based slider value, view HTML) for slice ``index`` (clamped to the study)."""
    viewing.require_study(session)
    index = int(np.clip(index, 0, session.study.depth - 1))
    return index + 1, view_html(session, dataclasses.replace(params, slice=index))


def loaded_outputs(session: Session, message: str, hide: bool) -> tuple:
    """The values of :attr:`Layout.load_outputs` for a freshly loaded exam: the single-view controls reset to
    its first view, the reading viewer to all its views, no findings."""
    study = session.study
    c, w = viewing.window_presets(session, ORIGINAL)["DICOM"]
    lo, hi = viewing.window_limits(session, ORIGINAL)
    mid = study.depth // 2 + 1
    params = ViewParams(slice=mid - 1, center=c, width=w, deidentify=bool(hide))
    return (
        message,
        viewing.study_info(session, bool(hide)),
        gr.Slider(minimum=1, maximum=study.depth, value=mid),
        gr.Slider(minimum=lo, maximum=hi, value=c),
        gr.Slider(minimum=1, maximum=max(hi - lo, 2), value=w),
        "DICOM", ORIGINAL, False, 1, 0.5, 0.5,
        view_html(session, params),
        gr.Slider(minimum=1, maximum=study.depth, value=(study.depth + 1) // 2),
        gr.Slider(minimum=1, maximum=study.depth, value=study.depth),
        "", [], None, None,
        exam.viewer_value(session.exam), "", [], "",
    )


def loaded_message(label: str, session: Session, notices: list[str]) -> str:
    """One line: what was opened (views in hanging order, or the study's size) and what could not be."""
    views = session.exam
    if len(views) > 1:
        text = f"Loaded {label}: {len(views)} views ({', '.join(v.id for v in views)})"
    else:
        study = session.study
        text = f"Loaded {label}: {study.depth} slices of {study.height} × {study.width}"
    return text + "".join(f" · not loaded: {notice}" for notice in notices)


@friendly
def on_upload(request: gr.Request, paths, hide, *, store: SessionStore, received: set, upload_root: Path,
              load_seconds: float):
    items = [p.get("path") if isinstance(p, dict) else p for p in (paths or [])]
    if not items:
        raise SlamError("no file chosen; accepted: up to 4 views: DICOM files, a zip or an npz each")
    key = key_of(request)
    accepted = uploads.claim_uploads(items, key, uploads.uploader_of(request), upload_root, store.root)
    try:
        studies, srs = sr_io.split_sr(accepted)  # a SLAM SR goes over its study: uploaded with it, or open
        notes = []
        if studies:
            _, notices = exam.open_exam_into(store, key, studies, "upload", loading.app_limits(load_seconds))
            session = store.find(key)
            notes.append(loaded_message("upload", session, notices))
        else:
            session = session_of(store, request)
        for path in srs:
            try:
                notes.append(sr_io.apply_sr(session, path))
            except SlamError as exc:
                if not studies:
                    raise  # an SR alone: its refusal is the answer
                notes.append(f"SR not shown: {exc}")  # the study it came with is open all the same
    finally:  # the upload is not needed once loaded (nor kept on failure)
        uploads.release_uploads(accepted, received)
    return loaded_outputs(session, "; ".join(notes), hide)


@friendly
def on_example(request: gr.Request, name, hide, *, store: SessionStore, folder: Path,
               load_seconds: float):
    found = example_choices(folder)
    if name not in found:
        raise SlamError(f"unknown example {str(name)[:40]!r}; choose one of: {', '.join(found) or 'none bundled'}")
    key = key_of(request)
    _, notices = exam.open_exam_into(store, key, found[name], f"example {name}", loading.app_limits(load_seconds))
    session = store.find(key)
    return loaded_outputs(session, loaded_message(f"example {name}", session, notices), hide)


def example_choices(folder: Path) -> dict[str, list[Path]]:
    """The example dropdown: the bundled exams first, then each example study as a one-view exam."""
    return {**exam.example_exams(folder), **{name: [path] for name, path in loading.list_examples(folder).items()}}


def on_pacs_loaded(request: gr.Request, studies: list, label: str, message: str, hide: bool, *, store: SessionStore):
    """The "Open from PACS" panel's callback: the fetched views (up to 4) become the session's exam."""
    exam.place_exam(store, key_of(request), studies, label)
    return loaded_outputs(store.find(key_of(request)), message, hide)


@friendly
def on_show(request: gr.Request, *values, store: SessionStore):
    return view_html(session_of(store, request), params_of(*values))


@friendly
def on_nav(request: gr.Request, evt: gr.EventData, *values, store: SessionStore):
    """A 'submit' from the viewer's script: ``slice`` (0-based, a jump) or ``step`` (a move)."""
    params = params_of(*values)
    jump, step = getattr(evt, "slice", None), getattr(evt, "step", 0)
    return with_slice(session_of(store, request), params, int(jump) if jump is not None else params.slice + int(step))


@friendly
def on_step(request: gr.Request, *values, store: SessionStore, step: int):
    params = params_of(*values)
    return with_slice(session_of(store, request), params, params.slice + step)


@friendly
def on_tick(request: gr.Request, *values, store: SessionStore):
    session = session_of(store, request)
    if session.study is None:
        return gr.skip(), gr.skip()
    params = params_of(*values)
    return with_slice(session, params, (params.slice + 1) % session.study.depth)


def on_play(is_playing, speed):
    now = not is_playing
    return now, gr.Timer(1 / max(float(speed), 0.5), active=now), ("Pause" if now else "Play")


def on_fps(is_playing, speed):
    return gr.Timer(1 / max(float(speed), 0.5), active=is_playing)


@friendly
def on_click(request: gr.Request, evt: gr.EventData, *values, store: SessionStore):
    """A 'select' from the viewer's script: the click at (fx, fy) fractions of the shown image."""
    session = session_of(store, request)
    params = params_of(*values)
    fx, fy = viewing.focus_from_click(session, params, float(getattr(evt, "fx", 0.5)), float(getattr(evt, "fy", 0.5)))
    return round(fx, 3), round(fy, 3), view_html(session, dataclasses.replace(params, focus=(fx, fy)))


@friendly
def on_preset(request: gr.Request, name, *values, store: SessionStore):
    session = session_of(store, request)
    params = params_of(*values)
    if name not in viewing.PRESETS:
        raise SlamError(f"unknown preset {str(name)[:20]!r}; choose one of: {', '.join(viewing.PRESETS)}")
    c, w = viewing.window_presets(session, params.source)[name]
    return c, w, view_html(session, dataclasses.replace(params, center=c, width=w))


@friendly
def on_source(request: gr.Request, *values, store: SessionStore):
    session = session_of(store, request)
    params = params_of(*values)
    active = viewing.active_source(session, params.source)
    c, w = viewing.window_presets(session, active)["DICOM"]
    lo, hi = viewing.window_limits(session, active)
    return (active, gr.Slider(minimum=lo, maximum=hi, value=c), gr.Slider(minimum=1, maximum=max(hi - lo, 2), value=w),
            "DICOM", view_html(session, dataclasses.replace(params, center=c, width=w)))


@friendly
def on_preprocess(request: gr.Request, progress=gr.Progress(), *, store: SessionStore):  # noqa: B008 (Gradio injects it)
    session = session_of(store, request)
    viewing.require_study(session)
    if session.preprocessed is None:
        study = session.study  # the preprocessed copy is one uint8 byte per pixel more
        store.make_room(session.key, session.pixel_bytes() + study.depth * study.height * study.width)
    progress((0, session.study.depth), desc="Preprocessing slices")
    message = heavy("preprocess", session, lambda: preprocessing.run_preprocess(
        session, lambda done, total: progress((done, total), desc="Preprocessing slices")))
    return message, PREPROCESSED


@friendly
def on_sm(request: gr.Request, source_name, overlay_on, score, *sm_values, store: SessionStore):
    session = session_of(store, request)
    if session.study is None:
        return None
    sm.compute_sm(session, sm.sm_params_of(*sm_values), source_name)
    return sm.sm_panel(session, overlay_on, score)


@friendly
def on_detect(request: gr.Request, overlay_on, progress=gr.Progress(), *, store: SessionStore,  # noqa: B008
              weights: Path | None):
    """Detection on every view of the exam, one after another; the first view's result also feeds the
    single-view tab. The time includes loading the model when this run loaded it."""
    session = session_of(store, request)
    viewing.require_study(session)
    reason = detection.detector_unavailable(weights)
    if reason:
        raise SlamError(reason)
    views = session.exam
    timings = heavy("detect", session, lambda: exam.detect_exam(
        views, weights, lambda text, fraction: progress(fraction, desc=text)))
    with session.lock:
        if session.exam is not views:
            raise SlamError("a new study was opened while the detector ran; run it again")
        session.prediction = views[0].prediction
    count = sum(len(v.prediction.detections) for v in views)
    message = (f"Detection done in {timings['total']:.1f} s{detection.loading_note(timings)}: {count} candidate "
               f"boxes over {len(views)} view{'s' if len(views) > 1 else ''}")
    threshold = session.prediction.threshold  # the model's operating point, chosen on validation
    return (message, session.prediction.representative_slice + 1, exam.viewer_value(views, threshold, overlay_on),
            threshold)


@friendly
def on_exam_threshold(request: gr.Request, threshold, overlay_on, *, store: SessionStore):
    """The single-view tab's threshold or boxes moved: the exam's verdict, its findings table and the reading
    viewer follow (same stacks: the viewer keeps its slices, zoom and window)."""
    views = session_of(store, request).exam
    threshold = number(threshold, "score threshold", 0, 1)
    return (exam.exam_summary(views, threshold), exam.exam_rows(views, threshold),
            exam.viewer_value(views, threshold, bool(overlay_on)))


@friendly
def on_viewer_select(request: gr.Request, evt: gr.SelectData, *, store: SessionStore):
    """The reading viewer's event: a finding clicked (its details beside it), or its threshold released / boxes
    toggled ({"threshold", "show_boxes"}: the exam's verdict and table, and the single-view tab's two
    controls, follow)."""
    selected = evt.value if isinstance(evt.value, dict) else {}
    views = session_of(store, request).exam
    if "threshold" not in selected:
        return exam.finding_text(views, selected), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    threshold = number(selected["threshold"], "score threshold", 0, 1)
    return (gr.skip(), threshold, bool(selected.get("show_boxes", True)), exam.exam_summary(views, threshold),
            exam.exam_rows(views, threshold))


@friendly
def on_findings(request: gr.Request, *values, store: SessionStore):
    """After a detection or a threshold / boxes change: view, verdict, table, chart and SM panel."""
    session = session_of(store, request)
    params = params_of(*values)
    return (view_html(session, params), detection.summary(session, params.threshold),
            detection.findings_rows(session, params.threshold), detection.attention_figure(session),
            sm.sm_panel(session, params.overlay, params.threshold))


@friendly
def on_finding(request: gr.Request, evt: gr.SelectData, *values, store: SessionStore):
    """A click on a findings row: jump to that finding's slice."""
    session = session_of(store, request)
    params = params_of(*values)
    found = viewing.visible_findings(session, params.threshold)
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not found or not 0 <= int(row) < len(found):
        return gr.skip(), gr.skip()
    return with_slice(session, params, detection.jump_slice(session, found[int(row)]))


@friendly
def on_deid(request: gr.Request, *values, store: SessionStore):
    session = session_of(store, request)
    params = params_of(*values)
    return view_html(session, params), viewing.study_info(session, params.deidentify)


@friendly
def on_export(request: gr.Request, boxes_on, *values, store: SessionStore, kind: str):
    return str(EXPORTS[kind](session_of(store, request), params_of(*values), bool(boxes_on)))


@friendly
def on_export_sr(request: gr.Request, *values, store: SessionStore, weights: Path | None):
    params = params_of(*values)
    return str(sr_io.export_sr(session_of(store, request), params.threshold, params.deidentify, weights))


@friendly
def on_store_pacs(request: gr.Request, *values, store: SessionStore, weights: Path | None, dicomweb: tuple[str, float]):
    url, timeout = dicomweb
    client = connect(url, timeout=timeout)
    return sr_io.store_to_pacs(session_of(store, request), params_of(*values).threshold, weights, client)


def on_unload(request: gr.Request, *, store: SessionStore):
    store.close(getattr(request, "session_hash", None))


def clear_errors(event, outputs: list) -> None:
    """After ``event`` fails, take the "Error" badge Gradio leaves on each of its outputs until their next
    update (the toast carries the one-line message); the values stay as they were."""
    event.failure(lambda: [gr.skip()] * len(outputs), None, outputs, api_name=False, queue=False)


def wire_loading(ui: Layout, demo: gr.Blocks, store: SessionStore, examples: Path, load_seconds: float,
                 upload_root: Path, sm_event: dict) -> None:
    """Upload and example loads; each refreshes the SM when it succeeds. Progress and errors show on the
    status line only, so the next successful load clears them."""
    loads = dict(show_progress_on=[ui.status], **LOAD)
    upload = bind(on_upload, store=store, received=demo.upload_file_set, upload_root=upload_root,
                  load_seconds=load_seconds)
    loads = dict(show_progress_on=[ui.status], **LOAD)
    loaded = ui.files.upload(upload, [ui.files, ui.deid], ui.load_outputs, api_name="open_files", **loads)
    loaded.success(api_name=False, **sm_event).success(bind(on_findings, store=store), ui.view_inputs,
                                                       findings_outputs(ui), api_name=False, **VIEW)  # an uploaded SR's
    # Loaded or refused, the upload is gone from the server: a File still listing it would send its
    # stale path with the next upload. (Gradio runs no .then() after a failed event, hence both.)
    for after in (loaded.success, loaded.failure):
        after(lambda: None, None, ui.files, api_name=False, queue=False)
    clear_errors(loaded, ui.load_outputs)
    example = bind(on_example, store=store, folder=examples, load_seconds=load_seconds)
    picked = ui.load_example.click(example, [ui.example, ui.deid], ui.load_outputs, api_name="load_example", **loads)
    picked.success(api_name=False, **sm_event)
    clear_errors(picked, ui.load_outputs)


def wire_view(ui: Layout, store: SessionStore, sm_event: dict) -> None:
    """Slice navigation, window/level, zoom/pan, cine, presets, source and de-identify."""
    inputs, show = ui.view_inputs, bind(on_show, store=store)
    ui.slider.input(show, inputs, ui.viewer, api_name="show_slice", **VIEW)
    for control in (ui.center, ui.width, ui.invert, ui.zoom, ui.pan_x, ui.pan_y):
        control.input(show, inputs, ui.viewer, api_name=False, **VIEW)
    ui.reset_view.click(lambda: (1, 0.5, 0.5), None, [ui.zoom, ui.pan_x, ui.pan_y], api_name=False, queue=False).then(
        show, inputs, ui.viewer, api_name=False, **VIEW)
    moved = [ui.slider, ui.viewer]
    ui.viewer.submit(bind(on_nav, store=store), inputs, moved, api_name="navigate", **VIEW)
    ui.viewer.select(bind(on_click, store=store), inputs, [ui.pan_x, ui.pan_y, ui.viewer], api_name=False, **VIEW)
    ui.prev_btn.click(bind(on_step, store=store, step=-1), inputs, moved, api_name=False, **VIEW)
    ui.next_btn.click(bind(on_step, store=store, step=1), inputs, moved, api_name="next_slice", **VIEW)
    ui.timer.tick(bind(on_tick, store=store), inputs, moved, api_name=False, **VIEW)
    ui.play.click(on_play, [ui.playing, ui.fps], [ui.playing, ui.timer, ui.play], api_name=False, queue=False)
    ui.fps.release(on_fps, [ui.playing, ui.fps], ui.timer, api_name=False, queue=False)
    ui.preset.input(bind(on_preset, store=store), [ui.preset, *inputs], [ui.center, ui.width, ui.viewer],
                    api_name=False, **VIEW)
    ui.source.input(bind(on_source, store=store), inputs, source_outputs(ui), api_name=False, **VIEW).success(
        api_name=False, **sm_event)
    ui.deid.input(bind(on_deid, store=store), inputs, [ui.viewer, ui.info], api_name=False, **VIEW)


def findings_outputs(ui: Layout) -> list:
    return [ui.viewer, ui.verdict, ui.findings, ui.chart, ui.sm_image]


def source_outputs(ui: Layout) -> list:
    return [ui.source, ui.center, ui.width, ui.preset, ui.viewer]


def wire_heavy(ui: Layout, store: SessionStore, weights: Path | None, sm_event: dict) -> None:
    """Preprocessing (then the view and SM switch to it), the SM controls and detection."""
    inputs = ui.view_inputs
    preprocessed = ui.preprocess.click(bind(on_preprocess, store=store), None, [ui.status, ui.source],
                                       api_name="preprocess", **PREPROCESS)
    preprocessed.success(bind(on_source, store=store), inputs, source_outputs(ui), api_name=False, **VIEW).success(
        api_name=False, **sm_event)
    clear_errors(preprocessed, [ui.status, ui.source])
    # The SM follows its controls while they move (a full-size SM takes about 0.1-0.5 s; pending
    # updates collapse to the latest).
    for control in ui.sm_inputs:
        control.input(api_name=False, **sm_event)
    shown = findings_outputs(ui)
    findings = bind(on_findings, store=store)
    detected = ui.detect.click(bind(on_detect, store=store, weights=weights), ui.overlay,
                               [ui.status, ui.slider, ui.exam_viewer, ui.threshold], api_name="detect",
                               show_progress_on=[ui.status], **DETECT)
    detected.success(findings, inputs, shown, api_name=False, **VIEW)
    exam_threshold = bind(on_exam_threshold, store=store)
    exam_shown = [ui.exam_verdict, ui.exam_findings, ui.exam_viewer]
    detected.success(exam_threshold, [ui.threshold, ui.overlay], exam_shown, api_name=False, **VIEW)
    clear_errors(detected, [ui.status, ui.slider, ui.exam_viewer, ui.threshold])
    for control in (ui.threshold, ui.overlay):  # the single-view tab's controls: both tabs follow
        control.input(findings, inputs, shown, api_name=False, **VIEW)
        control.input(exam_threshold, [ui.threshold, ui.overlay], exam_shown, api_name=False, **VIEW)
    selected = ui.exam_viewer.select(bind(on_viewer_select, store=store), None,
                                     [ui.finding_detail, ui.threshold, ui.overlay, ui.exam_verdict, ui.exam_findings],
                                     api_name=False, **VIEW)
    selected.success(findings, inputs, shown, api_name=False, **VIEW)  # the single view at the viewer's threshold
    ui.findings.select(bind(on_finding, store=store), inputs, [ui.slider, ui.viewer], api_name=False, **VIEW)


def wire_exports(ui: Layout, store: SessionStore, weights: Path | None, dicomweb: tuple[str, float]) -> None:
    buttons = {"sm_png": ui.export_sm_png, "sm_dcm": ui.export_sm_dcm, "csv": ui.export_csv,
               "json": ui.export_json, "view": ui.export_view}
    for kind, button in buttons.items():
        exported = button.click(bind(on_export, store=store, kind=kind), [ui.with_boxes, *ui.view_inputs],
                                ui.downloads, api_name=f"export_{kind}", **EXPORT)
        clear_errors(exported, [ui.downloads])
    exported = ui.export_sr.click(bind(on_export_sr, store=store, weights=weights), ui.view_inputs, ui.downloads,
                                  api_name="export_sr", **EXPORT)
    clear_errors(exported, [ui.downloads])
    if ui.store_pacs is not None:
        stored = ui.store_pacs.click(bind(on_store_pacs, store=store, weights=weights, dicomweb=dicomweb),
                                     ui.view_inputs, ui.status, api_name="store_pacs", **EXPORT)
        clear_errors(stored, [ui.status])


def wire(ui: Layout, demo: gr.Blocks, store: SessionStore, *, examples: Path, weights: Path | None,
         load_seconds: float, upload_root: Path, dicomweb: tuple[str, float] = ("", 30.0)) -> None:
    """Every event of the page (inside ``demo``'s context)."""
    sm_event = dict(fn=bind(on_sm, store=store), inputs=[ui.source, ui.overlay, ui.threshold, *ui.sm_inputs],
                    outputs=ui.sm_image, **SM)
    wire_loading(ui, demo, store, examples, load_seconds, upload_root, sm_event)
    wire_view(ui, store, sm_event)
    wire_heavy(ui, store, weights, sm_event)
    wire_exports(ui, store, weights, dicomweb)
    pacs_panel.build_pacs_panel(*dicomweb, store.budget_bytes, loading.app_limits(load_seconds),
                                bind(on_pacs_loaded, store=store), ui.load_outputs, ui.deid, friendly,
                                max_views=len(exam.HANGING), then=sm_event)
    demo.unload(bind(on_unload, store=store))
