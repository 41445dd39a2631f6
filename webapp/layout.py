"""The page: every component of the viewer, built inside a ``gr.Blocks`` and returned as a
:class:`Layout`. Nothing here reacts to events (that is ``webapp.wiring``)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from gradio_slamviewer import SlamViewer

from webapp.detection import FINDINGS_HEADERS
from webapp.exam import EXAM_HEADERS
from webapp.viewing import EMPTY_VIEW, ORIGINAL, PREPROCESSED, PRESETS

CSS = """
#slam-viewer { background: #000; border-radius: 6px; min-height: 320px; position: relative; user-select: none; }
#slam-viewer .slam-img { display: block; width: 100%; height: auto; cursor: crosshair; }
#slam-viewer .slam-cap { position: absolute; top: 0; left: 0; right: 0; padding: 4px 8px; color: #ffd43b;
  font: 13px/1.3 monospace; background: rgba(0,0,0,.55); pointer-events: none; }
#slam-viewer .slam-empty { color: #adb5bd; padding: 120px 20px; text-align: center; }
#slam-disclaimer { color: #ff8787; font-weight: 600; font-size: 12px; }
/* the reading screen: no page margins, a one-line toolbar, the viewer takes the rest of the height */
.gradio-container { padding-top: 4px !important; padding-bottom: 0 !important; }
footer { display: none !important; }
#slam-toolbar { align-items: center; gap: 8px; flex-wrap: nowrap; }
#slam-toolbar > * { min-width: 0; }
#slam-status { font-size: 12px; flex: 3 1 0; max-height: 56px; overflow-y: auto; }
#slam-status p { margin: 0; }
#slam-exam-side { max-height: calc(100vh - 160px); overflow-y: auto; }
#slam-exam-verdict h3 { margin: 0 0 4px; font-size: 15px; }
#slam-exam-findings th, #slam-findings th { white-space: nowrap; }
"""
VIEWER_HEIGHT = "calc(100vh - 160px)"  # the window less the toolbar and the tab bar (checked at 1440 x 900)
THEME_JS = "() => { document.body.classList.add('dark'); }"  # the dark palette of the theme, whatever the OS says


def theme() -> gr.themes.Base:
    """A dark, low-glare reading theme: slate greys, a blue accent, compact spacing."""
    return gr.themes.Base(primary_hue="blue", neutral_hue="slate", spacing_size="sm", radius_size="sm",
                          text_size="sm").set(body_background_fill_dark="#0b0e13", block_background_fill_dark="#11151c",
                                              background_fill_primary_dark="#0b0e13")

# Keys, mouse wheel and chart clicks become 'submit' events on the viewer carrying {step} or {slice}.
VIEWER_JS = """
const step = (n) => trigger('submit', {step: n});
window.slamJump = (k) => trigger('submit', {slice: k});
if (!window.__slamKeys) {
  window.__slamKeys = true;
  const steps = {ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -10, PageDown: 10};
  document.addEventListener('keydown', (e) => {
    // only while the single-view tab shows: on the reading tab the client-side viewer owns the keys
    const shown = document.querySelector('#slam-viewer');
    if (!shown || shown.offsetParent === null) return;
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


@dataclass(frozen=True)
class Layout:
    """The components the events read and write (names as on the page)."""

    files: gr.File
    example: gr.Dropdown
    load_example: gr.Button
    info: gr.Markdown
    deid: gr.Checkbox
    preset: gr.Radio
    center: gr.Slider
    width: gr.Slider
    invert: gr.Checkbox
    zoom: gr.Slider
    pan_x: gr.Slider
    pan_y: gr.Slider
    reset_view: gr.Button
    preprocess: gr.Button
    source: gr.Radio
    detect: gr.Button
    threshold: gr.Slider
    overlay: gr.Checkbox
    viewer: gr.HTML
    prev_btn: gr.Button
    slider: gr.Slider
    next_btn: gr.Button
    play: gr.Button
    fps: gr.Slider
    playing: gr.State
    timer: gr.Timer
    sm_image: gr.Image
    sm_center: gr.Slider
    sm_size: gr.Slider
    sm_mode: gr.Radio
    sm_weighting: gr.Radio
    sm_threshold: gr.Slider
    sm_window: gr.Slider
    sm_level: gr.Slider
    sm_clahe: gr.Checkbox
    verdict: gr.Markdown
    findings: gr.Dataframe
    chart: gr.Plot
    with_boxes: gr.Checkbox
    export_sm_png: gr.Button
    export_sm_dcm: gr.Button
    export_csv: gr.Button
    export_json: gr.Button
    export_view: gr.Button
    export_sr: gr.Button
    downloads: gr.File
    status: gr.Markdown
    exam_viewer: SlamViewer
    exam_verdict: gr.Markdown
    exam_findings: gr.Dataframe
    finding_detail: gr.Markdown
    tabs: gr.Tabs
    store_pacs: gr.Button | None = None  # only with a PACS configured

    @property
    def view_inputs(self) -> list:
        """The controls :func:`webapp.viewing.params_of` reads, in its argument order."""
        return [self.slider, self.source, self.center, self.width, self.invert, self.zoom, self.pan_x, self.pan_y,
                self.overlay, self.threshold, self.deid]

    @property
    def sm_inputs(self) -> list:
        """The controls :func:`webapp.sm.sm_params_of` reads, in its argument order."""
        return [self.sm_center, self.sm_size, self.sm_mode, self.sm_weighting, self.sm_threshold, self.sm_window,
                self.sm_level, self.sm_clahe]

    @property
    def load_outputs(self) -> list:
        """What a load resets, in the order of :func:`webapp.wiring.loaded_outputs`. De-identify is not
        among them: a user who hides patient data keeps it hidden."""
        return [self.status, self.info, self.slider, self.center, self.width, self.preset, self.source, self.invert,
                self.zoom, self.pan_x, self.pan_y, self.viewer, self.sm_center, self.sm_size, self.verdict,
                self.findings, self.chart, self.downloads, self.exam_viewer, self.exam_verdict, self.exam_findings,
                self.finding_detail]


def open_panel(examples: list[str], max_upload: str, disclaimer: str) -> dict:
    """The sidebar's top: open an exam, a study or an example; what is open; de-identify."""
    found = {}
    gr.Markdown("### SLAM · DBT workstation")
    gr.Markdown(disclaimer, elem_id="slam-disclaimer")
    found["files"] = gr.File(label=f"Open an exam or a study (max {max_upload.upper()})", file_count="multiple",
                             elem_id="slam-upload", height=110)
    gr.Markdown(f"Up to 4 views (several files, single-frame series, a .zip of a view or of the exam, an .npz). "
                f"Upload cap: **{max_upload.upper()}**.", elem_id="slam-upload-cap")
    found["example"] = gr.Dropdown(examples, value=next(iter(examples), None), label="Example",
                                   elem_id="slam-example")
    found["load_example"] = gr.Button("Load example", elem_id="slam-load-example", size="sm")
    found["info"] = gr.Markdown("No study loaded.", elem_id="slam-info")
    found["deid"] = gr.Checkbox(False, label="De-identify (here and in exports)", elem_id="slam-deid")
    return found


def toolbar(unavailable: str | None) -> dict:
    """One line above the viewer: Detect and the status line (the score threshold and boxes on/off are the
    reading viewer's own; the single-view tab has the same two, kept in step)."""
    found = {}
    with gr.Row(elem_id="slam-toolbar", equal_height=True):
        found["detect"] = gr.Button("Detect", variant="primary", elem_id="slam-detect", scale=0, min_width=100)
        found["status"] = gr.Markdown(f"_{unavailable}_" if unavailable else "", elem_id="slam-status",
                                      container=False)
    return found


def controls_column() -> dict:
    """The single-view tab's left column: window/level, zoom/pan, preprocessing."""
    found = {}
    with gr.Accordion("Window / level", open=True):
        found["preset"] = gr.Radio(list(PRESETS), value="DICOM", label="Preset", elem_id="slam-preset")
        found["center"] = gr.Slider(0, 65535, value=2048, label="Level (centre)", elem_id="slam-center")
        found["width"] = gr.Slider(1, 65536, value=4096, label="Window (width)", elem_id="slam-width")
        found["invert"] = gr.Checkbox(False, label="Invert", elem_id="slam-invert")
    with gr.Accordion("Zoom and pan (click the image to centre)", open=False):
        found["zoom"] = gr.Slider(1, 8, value=1, step=0.25, label="Zoom", elem_id="slam-zoom")
        found["pan_x"] = gr.Slider(0, 1, value=0.5, step=0.01, label="Pan x", elem_id="slam-pan-x")
        found["pan_y"] = gr.Slider(0, 1, value=0.5, step=0.01, label="Pan y", elem_id="slam-pan-y")
        found["reset_view"] = gr.Button("Reset view", size="sm")
    with gr.Row():
        found["preprocess"] = gr.Button("Preprocess", elem_id="slam-preprocess")
        found["source"] = gr.Radio([ORIGINAL, PREPROCESSED], value=ORIGINAL, label="Slices", elem_id="slam-source")
    return found


def reading_tab() -> dict:
    """The reading screen: the client-side viewer (up to 4 views) and, beside it, the exam's verdict,
    its findings and the clicked finding's details."""
    found = {}
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=480):
            found["exam_viewer"] = SlamViewer(None, elem_id="slam-exam-viewer", height=VIEWER_HEIGHT)
        with gr.Column(scale=1, min_width=260, elem_id="slam-exam-side"):
            found["exam_verdict"] = gr.Markdown("", elem_id="slam-exam-verdict")
            found["exam_findings"] = gr.Dataframe(headers=EXAM_HEADERS, value=[], label="Findings",
                                                  interactive=False, elem_id="slam-exam-findings", wrap=False,
                                                  max_height=360)
            found["finding_detail"] = gr.Markdown("", elem_id="slam-finding-detail")
    return found


def viewer_column() -> dict:
    """The middle column: the slice view, slice navigation and cine."""
    found = {"viewer": gr.HTML(EMPTY_VIEW, elem_id="slam-viewer", js_on_load=VIEWER_JS)}
    with gr.Row():
        found["prev_btn"] = gr.Button("◀", size="sm", min_width=40, scale=0, elem_id="slam-prev")
        found["slider"] = gr.Slider(1, 2, value=1, step=1, label="Slice (↑/↓, PgUp/PgDn, wheel)",
                                    elem_id="slam-slice", scale=8)
        found["next_btn"] = gr.Button("▶", size="sm", min_width=40, scale=0, elem_id="slam-next")
    with gr.Row():
        found["play"] = gr.Button("Play", size="sm", elem_id="slam-play", scale=0, min_width=80)
        found["fps"] = gr.Slider(1, 20, value=6, step=1, label="Cine speed (slices/s)", elem_id="slam-fps", scale=4)
        found["playing"] = gr.State(False)
        found["timer"] = gr.Timer(1 / 6, active=False)
    return found


def sm_column() -> dict:
    """The right column: the synthetic mammogram and its settings."""
    found = {"sm_image": gr.Image(label="Synthetic mammogram", type="filepath", interactive=False,
                                  elem_id="slam-sm", buttons=["fullscreen"], height=520)}
    with gr.Accordion("Synthetic mammogram settings", open=True):
        found["sm_center"] = gr.Slider(1, 2, value=1, step=1, label="Slab centre (slice)", elem_id="slam-sm-center")
        found["sm_size"] = gr.Slider(1, 2, value=2, step=1, label="Slab size (slices)", elem_id="slam-sm-size")
        with gr.Row():
            found["sm_mode"] = gr.Radio(["max", "min", "mean"], value="max", label="MIP mode", elem_id="slam-sm-mode")
            found["sm_weighting"] = gr.Radio(["sigmoid", "log"], value="sigmoid", label="Weighting",
                                             elem_id="slam-sm-weighting")
        found["sm_threshold"] = gr.Slider(0, 1, value=0.8, step=0.01, label="MIP threshold", elem_id="slam-sm-threshold")
        found["sm_window"] = gr.Slider(0.01, 1, value=0.70, step=0.01, label="Window", elem_id="slam-sm-window")
        found["sm_level"] = gr.Slider(0, 1, value=0.62, step=0.01, label="Level", elem_id="slam-sm-level")
        found["sm_clahe"] = gr.Checkbox(False, label="CLAHE", elem_id="slam-sm-clahe")
    return found


def results_rows(card_disclaimer: str) -> dict:
    """The single-view tab below its viewer: verdict, findings table and attention chart."""
    found = {}
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            with gr.Row(equal_height=True):
                found["threshold"] = gr.Slider(0, 1, value=0.5, step=0.01, label="Score threshold",
                                               elem_id="slam-threshold", scale=3, min_width=160)
                found["overlay"] = gr.Checkbox(True, label="Boxes", elem_id="slam-overlay", scale=1, min_width=80)
            found["verdict"] = gr.Markdown("", elem_id="slam-verdict")
            gr.Markdown(f"_{card_disclaimer}_", elem_id="slam-card-disclaimer")
            found["findings"] = gr.Dataframe(headers=FINDINGS_HEADERS, value=[], label="Findings (click a row to jump)",
                                             interactive=False, elem_id="slam-findings", wrap=False)
        with gr.Column(scale=3):
            found["chart"] = gr.Plot(label="Slice attention", elem_id="slam-attention")
    return found


def exports_panel(pacs: bool) -> dict:
    """The sidebar's exports (of the first view's SM and findings, as the single-view tab shows it);
    "Store to PACS" when ``pacs`` (a server is configured)."""
    found = {}
    with gr.Accordion("Exports", open=False):
        found["with_boxes"] = gr.Checkbox(True, label="Exports with boxes", elem_id="slam-export-boxes")
        found["export_sm_png"] = gr.Button("SM as PNG", size="sm", elem_id="slam-export-sm-png")
        found["export_sm_dcm"] = gr.Button("SM as DICOM", size="sm", elem_id="slam-export-sm-dcm")
        found["export_csv"] = gr.Button("Findings CSV (DBTex)", size="sm", elem_id="slam-export-csv")
        found["export_json"] = gr.Button("Findings JSON", size="sm", elem_id="slam-export-json")
        found["export_view"] = gr.Button("Single view as PNG", size="sm", elem_id="slam-export-view")
        found["export_sr"] = gr.Button("Findings SR (DICOM)", size="sm", elem_id="slam-export-sr")
        if pacs:
            found["store_pacs"] = gr.Button("Store to PACS", size="sm", elem_id="slam-store-pacs")
        found["downloads"] = gr.File(label="Download", interactive=False, elem_id="slam-download", height=80)
    return found


def build_layout(examples: list[str], unavailable: str | None, card: str, card_disclaimer: str,
                 max_upload: str, disclaimer: str, pacs: bool = False) -> Layout:
    """Every component of the page, inside the current ``gr.Blocks`` (made with ``fill_height``): a sidebar
    to open studies and export, a one-line toolbar, and two tabs: reading (the exam in the client-side
    viewer) and the single-view tools of the first view (server-rendered slice, W/L, zoom, preprocessing, SM)."""
    with gr.Sidebar(open=True, width=290, elem_id="slam-sidebar"):
        side = open_panel(examples, max_upload, disclaimer)
        side |= exports_panel(pacs)
        if card:
            with gr.Accordion("Model card", open=False):
                gr.Markdown(card, elem_id="slam-model-card")
    tools = toolbar(unavailable)
    with gr.Tabs(elem_id="slam-tabs") as tabs:
        with gr.Tab("Reading", id="reading", elem_id="slam-tab-reading"):
            reading = reading_tab()
        with gr.Tab("Single view and SM", id="single", elem_id="slam-tab-single"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=260):
                    left = controls_column()
                with gr.Column(scale=3, min_width=360):
                    middle = viewer_column()
                with gr.Column(scale=2, min_width=300):
                    right = sm_column()
            below = results_rows(card_disclaimer)
    return Layout(**side, **tools, **left, **middle, **right, **below, **reading, tabs=tabs)
