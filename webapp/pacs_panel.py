"""The "Open from PACS" panel: search a DICOMweb server (QIDO-RS), list a study's DBT views and open
one view or the whole exam into the session (WADO-RS frames straight into memory, ``slam.io.dicomweb``).

The panel (a sidebar on the right) exists only when a server is configured (``SLAM_DICOMWEB_URL``,
read by ``webapp.settings``); credentials stay in the environment (``SLAM_DICOMWEB_TOKEN`` or
``SLAM_DICOMWEB_USER``/``SLAM_DICOMWEB_PASSWORD``, read by ``slam.io.dicomweb.connect``) and are
never shown or logged. A fetch obeys the same loader limits and
memory budget as an upload; every failure (unreachable, 401/403, not found, not DBT, timeout, too big)
is one line. A session may open only studies its own last search returned.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import gradio as gr

from slam.errors import SlamError
from slam.io import LoadLimits, Study
from slam.io.dicomweb import (
    InstanceMatch,
    StudyMatch,
    connect,
    list_instances,
    retrieve_study,
    search_studies,
)
from slam.io.limits import exam_room

RESULT_HEADERS = ["Date", "Patient", "Accession", "Description", "Images"]
HIDDEN = "hidden"
LABEL = "PACS study"  # the session's non-identifying name of the source
# The sidebar's toggle says what it opens (Gradio draws only a chevron, and turns the closed
# right-hand toggle by 180 degrees: the label turns back).
TOGGLE_CSS = ("#slam-pacs > .toggle-button { width: auto; padding: 0 8px; gap: 4px; } "
              "#slam-pacs > .toggle-button::after { content: 'PACS'; font-size: 12px; font-weight: 600; "
              "display: inline-block; } "
              "#slam-pacs:not(.open) > .toggle-button::after { transform: rotate(180deg); }")
# Puts the fetched views into the caller's session: (request, views, label, status line, de-identify) -> outputs.
ShowStudies = Callable[[gr.Request, list[Study], str, str, bool], tuple]


def search(url: str, patient_id: str, accession: str, date: str, modality: str, hide: bool, *,
           timeout: float = 30.0, limit: int = 100) -> tuple[list[list], list[StudyMatch]]:
    """(table rows, matches) of a QIDO-RS study search; the patient (name · ID) reads ``hidden`` when ``hide``.

    Raises:
        SlamError: no filter given, a malformed date/modality, or the server failed (one line).
    """
    filters = {k: str(v or "").strip() for k, v in
               dict(patient_id=patient_id, accession=accession, date=date, modality=modality).items()}
    if not any(filters.values()):
        raise SlamError("enter a patient ID, an accession number, a date or a modality to search the PACS")
    matches = search_studies(connect(url, timeout=timeout), limit=limit, **{k: v or None for k, v in filters.items()})
    rows = [[_date(m.study_date), HIDDEN if hide else f"{m.patient_name.replace('^', ' ').strip()} · {m.patient_id}",
             m.accession, m.description, f"{m.instances} ({m.modalities})"] for m in matches]
    return rows, matches


def _date(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:]}" if len(value) == 8 and value.isdigit() else value


def study_choices(matches: Sequence[StudyMatch]) -> list[tuple[str, str]]:
    """Dropdown (label, StudyInstanceUID) pairs of the search results, numbered as the table's rows."""
    return [(f"{n}. {_date(m.study_date) or 'no date'} · {m.accession or 'no accession'} · "
             f"{m.description or 'no description'}", m.study_uid) for n, m in enumerate(matches, start=1)]


def dbt_views(url: str, study_uid: str, matches: Sequence[StudyMatch], *, timeout: float = 30.0) -> list[InstanceMatch]:
    """The DBT (multi-frame) instances of ``study_uid``, which must be one of ``matches``.

    Raises:
        SlamError: a study the last search did not return, the server failed, or no DBT view in it.
    """
    if study_uid not in {m.study_uid for m in matches}:
        raise SlamError("choose a study from the search results (search again if the list is empty)")
    instances = list_instances(connect(url, timeout=timeout), study_uid)
    views = [i for i in instances if i.is_dbt]
    if not views:
        raise SlamError(f"not a DBT study: its {len(instances)} instance(s) are single-frame; accepted: a study "
                        "with multi-frame tomosynthesis images (Breast Tomosynthesis Image Storage)")
    return views


def view_choices(views: Sequence[InstanceMatch]) -> list[tuple[str, str]]:
    """Dropdown (label, SOPInstanceUID) pairs, one per DBT view."""
    def label(v: InstanceMatch) -> str:
        side = " ".join(x for x in (v.laterality, v.view) if x)
        return " · ".join(x for x in (side, v.series_description or f"series …{v.series_uid[-8:]}") if x)

    return [(f"{n}. {label(v)} · {v.frames} slices", v.sop_uid) for n, v in enumerate(views, start=1)]


def fetch(url: str, views: Sequence[InstanceMatch], limits: LoadLimits, budget_bytes: int,
          progress: Callable[[int, int, int], None] | None = None, *, timeout: float = 30.0) -> list[Study]:
    """Retrieve ``views`` (WADO-RS, frame by frame) as Studies, in order.

    Together they may hold at most ``min(limits.max_exam_pixel_bytes, budget_bytes)`` bytes of pixels, each
    at most ``limits.max_pixel_bytes`` (each view is checked on its metadata before its frames are fetched); whether they fit beside the
    other sessions' studies is the caller's decision. ``progress(view index, frames done, frames)``;
    ``timeout`` seconds per request (every search, listing and fetch takes one).

    Raises:
        SlamError: as :func:`slam.io.dicomweb.retrieve_study`, or the views are over the byte limit.
    """
    client = connect(url, timeout=timeout)
    allowed = min(limits.max_exam_pixel_bytes, budget_bytes)
    studies: list[Study] = []
    for index, view in enumerate(views):
        used = sum(int(s.pixels.nbytes) for s in studies)
        if used >= allowed:
            raise SlamError(f"the exam's views need more than the {allowed / 2**20:.0f} MiB of image memory one "
                            "exam may use; open fewer views at a time")
        report = functools.partial(progress, index) if progress is not None else None
        studies.append(retrieve_study(client, view.study_uid, sop_uid=view.sop_uid, progress=report,
                                      limits=exam_room(dataclasses.replace(limits, max_exam_pixel_bytes=allowed), used)))
    return studies


def opened_message(studies: Sequence[Study]) -> str:
    """The status line after opening ``studies`` from the PACS."""
    first = studies[0]
    shape = f"{first.depth} slices of {first.height} × {first.width}"
    if len(studies) == 1:
        return f"Opened from the PACS: {shape}"
    return f"Opened the exam from the PACS: {len(studies)} DBT views (first: {shape})"


@dataclass(frozen=True)
class PacsPanel:
    """The panel's components (for tests and layout tweaks)."""

    panel: gr.Sidebar
    patient_id: gr.Textbox
    accession: gr.Textbox
    date: gr.Textbox
    modality: gr.Textbox
    search_button: gr.Button
    results: gr.Dataframe
    study: gr.Dropdown
    view: gr.Dropdown
    open_view: gr.Button
    open_exam: gr.Button
    status: gr.Markdown


def panel_components(max_views: int) -> PacsPanel:
    """The panel's components, in a right-hand sidebar (closed until its toggle is clicked): it sits
    beside any layout, so the layout itself needs no change for it."""
    with gr.Sidebar(label="Open from PACS", open=False, position="right", width=400, elem_id="slam-pacs") as panel:
        gr.HTML(f"<style>{TOGGLE_CSS}</style>", padding=False)  # the panel's own look: the layout's CSS is not touched
        gr.Markdown("### Open from PACS")
        with gr.Row():
            patient_id = gr.Textbox(label="Patient ID", elem_id="slam-pacs-patient", max_lines=1)
            accession = gr.Textbox(label="Accession", elem_id="slam-pacs-accession", max_lines=1)
        with gr.Row():
            date = gr.Textbox(label="Date", placeholder="YYYYMMDD or YYYYMMDD-YYYYMMDD", elem_id="slam-pacs-date",
                              max_lines=1)
            modality = gr.Textbox(label="Modality", placeholder="MG", elem_id="slam-pacs-modality", max_lines=1)
        search_button = gr.Button("Search", size="sm", elem_id="slam-pacs-search")
        results = gr.Dataframe(headers=RESULT_HEADERS, value=[], interactive=False, wrap=True,
                               label="Studies (click one to list its views)", elem_id="slam-pacs-results")
        study = gr.Dropdown([], label="Study", elem_id="slam-pacs-study")
        view = gr.Dropdown([], label="DBT view", elem_id="slam-pacs-view")
        with gr.Row():
            open_view = gr.Button("Open view", variant="primary", size="sm", elem_id="slam-pacs-open")
            # Shown where the layout holds several views (the exam layout); one view per session otherwise.
            open_exam = gr.Button("Open whole exam", size="sm", elem_id="slam-pacs-open-exam", visible=max_views > 1)
        status = gr.Markdown("", elem_id="slam-pacs-status")
    return PacsPanel(panel, patient_id, accession, date, modality, search_button, results, study, view, open_view,
                     open_exam, status)


def build_pacs_panel(url: str, timeout: float, budget_bytes: int, limits: LoadLimits, show: ShowStudies,
                     outputs: Sequence, deidentify: gr.Checkbox, guard: Callable[[Callable], Callable], *,
                     max_views: int = 1, then: dict | None = None) -> PacsPanel | None:
    """Build the panel inside the current Blocks context and wire its events; None (nothing built)
    when ``url`` is ''.

    Args:
        url, timeout: the DICOMweb root and the seconds per request.
        budget_bytes, limits: the process-wide pixel budget and the loader's limits one load may use.
        show: puts the fetched views into the session and returns the values of ``outputs``.
        deidentify: the app's de-identify checkbox (hides patient ID and name in the results too).
        guard: the app's error wrapper (SlamError -> one-line toast, nothing patient-related logged).
        max_views: how many views the layout shows at once; "Open whole exam" needs more than one.
        then: an event (``fn``, ``inputs``, ``outputs``, options) to run after a successful open.
    """
    if not url:
        return None
    ui = panel_components(max_views)
    matches, views = gr.State([]), gr.State([])
    server = dict(timeout=timeout)

    def on_search(patient, acc, day, mod, hide):
        rows, found = search(url, patient, acc, day, mod, bool(hide), **server)
        note = f"{len(found)} stud{'y' if len(found) == 1 else 'ies'} found" if found else "no study matches"
        return (rows, found, gr.Dropdown(choices=study_choices(found), value=None),
                gr.Dropdown(choices=[], value=None), [], note)

    def on_study(study_uid, found):
        if not study_uid:
            return gr.Dropdown(choices=[], value=None), [], ""
        listed = dbt_views(url, study_uid, found, **server)
        return (gr.Dropdown(choices=view_choices(listed), value=listed[0].sop_uid), listed,
                f"{len(listed)} DBT view{'s' if len(listed) > 1 else ''} in this study")

    def on_row(found, evt: gr.SelectData):
        row = int(evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index)
        return found[row].study_uid if found and 0 <= row < len(found) else gr.skip()

    def opener(whole: bool):
        def on_open(request: gr.Request, sop_uid, listed, hide, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
            if not listed:
                raise SlamError("choose a study with a DBT view first (search, then pick a study)")
            chosen = list(listed) if whole else [v for v in listed if v.sop_uid == sop_uid]
            if not chosen:
                raise SlamError("choose one of the study's DBT views")
            if len(chosen) > max_views:
                raise SlamError(f"the exam has {len(chosen)} DBT views and this layout shows {max_views}; "
                                "open one view at a time")

            def report(index: int, done: int, total: int) -> None:
                progress((done, total), desc=f"Fetching view {index + 1} of {len(chosen)} from the PACS")

            studies = fetch(url, chosen, limits, budget_bytes, report, **server)
            return show(request, studies, LABEL, opened_message(studies), bool(hide))

        on_open.__name__ = "pacs_open_exam" if whole else "pacs_open_view"
        return on_open

    ui.search_button.click(guard(on_search), [ui.patient_id, ui.accession, ui.date, ui.modality, deidentify],
                           [ui.results, matches, ui.study, ui.view, views, ui.status], api_name="pacs_search")
    listing = dict(fn=guard(on_study), inputs=[ui.study, matches], outputs=[ui.view, views, ui.status])
    ui.study.input(api_name="pacs_views", **listing)
    ui.results.select(guard(on_row), [matches], ui.study, api_name=False).success(api_name=False, **listing)
    load = dict(concurrency_id="load", concurrency_limit=2, show_progress="full")
    for button, whole in ((ui.open_view, False), (ui.open_exam, True)):
        event = button.click(guard(opener(whole)), [ui.view, views, deidentify], list(outputs),
                             api_name="pacs_open_exam" if whole else "pacs_open_view", **load)
        if then:
            event.success(api_name=False, **then)
    return ui
