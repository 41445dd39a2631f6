"""Entry point: ``python webapp/app.py`` serves the viewer (http://127.0.0.1:7860 unless
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise). The same file is a Hugging Face Space's app_file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# A Space runs this file without installing the package: make `slam` and `webapp` importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from webapp.ui import build_demo, launch_kwargs  # noqa: E402

demo = build_demo()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
