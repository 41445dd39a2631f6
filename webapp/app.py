"""Entry point: ``python webapp/app.py`` serves the viewer (http://127.0.0.1:7860 unless
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise). The same file is a Hugging Face Space's app_file.

The page is ``webapp.layout``, its events ``webapp.wiring``, the settings ``webapp.settings``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

# A Space runs this file without installing the package: make `slam` and `webapp` importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from webapp import detection, layout, loading, settings, stack_api, uploads, wiring  # noqa: E402

LOG = logging.getLogger("slam.webapp")

def start_sweeper(demo: gr.Blocks, period_s: float = max(0.5, min(60.0, settings.UPLOAD_TTL / 2))) -> None:
    """Every ``period_s``: delete uploads nobody loaded within UPLOAD_TTL and close idle sessions."""
    store = settings.STORE

    def loop():
        while True:
            time.sleep(period_s)
            try:
                uploads.sweep_uploads(settings.upload_root(), store.root, settings.UPLOAD_TTL, demo.upload_file_set)
                store.sweep()
            except OSError as exc:  # a file vanished meanwhile: try again next round
                LOG.warning("sweep: %s", type(exc).__name__)

    threading.Thread(target=loop, name="slam-sweeper", daemon=True).start()


def build_demo() -> gr.Blocks:
    """The viewer app: layout, events, queue and the upload sweeper (session folders emptied first)."""
    store = settings.STORE
    loading.reset_session_root(store.root)
    weights = detection.find_weights()
    card = detection.model_card(weights)
    examples = settings.examples_dir()
    with gr.Blocks(title="SLAM DBT workstation", delete_cache=(900, 3600), fill_height=True) as demo:
        ui = layout.build_layout(list(wiring.example_choices(examples)), detection.detector_unavailable(weights), card,
                                 detection.card_disclaimer(card), settings.MAX_UPLOAD, detection.DISCLAIMER,
                                 pacs=bool(settings.DICOMWEB_URL))
        wiring.wire(ui, demo, store, examples=examples, weights=weights,
                    load_seconds=settings.LOAD_SECONDS, upload_root=settings.upload_root(),
                    dicomweb=(settings.DICOMWEB_URL, settings.DICOMWEB_TIMEOUT))
    demo.queue(default_concurrency_limit=2, max_size=128)
    start_sweeper(demo)
    return demo


def launch_kwargs() -> dict:
    """Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them itself)."""
    # Rendered slices are served straight from the session folders (random, per-session names).
    # run_history=False: Gradio would otherwise save every call (patient data included) in the browser,
    # and the page gets slower with each saved slice change.
    from starlette.middleware import Middleware

    owners = Middleware(uploads.UploadOwners)
    cap = Middleware(uploads.UploadCap, max_bytes=loading.parse_size(settings.MAX_UPLOAD))
    # state_session_capacity: Gradio keeps ~130 KB of component state per session hash it has seen (10 000
    # by default, ~1.3 GB); made-up hashes would fill it. Our own sessions live in settings.STORE.
    return dict(max_file_size=settings.MAX_UPLOAD, css=layout.CSS, theme=layout.theme(), js=layout.THEME_JS,
                show_error=True, state_session_capacity=500, allowed_paths=[str(settings.STORE.root)],
                run_history=False, footer_links=["api", "gradio", "settings"],
                app_kwargs={"middleware": [owners, cap], "routes": stack_api.routes()})  # routes: the viewer's stacks


demo = build_demo()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
