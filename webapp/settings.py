"""The app's settings from the environment (``SLAM_*``, Gradio's temp folder) and the one session store.

Every ``SLAM_*`` variable the web app reads is read here; docs/viewer.md lists them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from webapp.loading import parse_size
from webapp.state import SessionStore

ROOT = Path(__file__).resolve().parents[1]

MAX_UPLOAD = os.environ.get("SLAM_MAX_UPLOAD", "1gb")
UPLOAD_TTL = float(os.environ.get("SLAM_UPLOAD_TTL", "600"))  # s an upload nobody loads stays on disk
LOAD_SECONDS = float(os.environ.get("SLAM_LOAD_SECONDS", "60"))  # time budget of one load
# (h, w) of the slice view image: about the size the page shows it at (80 % of a 1000 px tall window);
# zoom shows finer detail. SLAM_VIEW_MAX=1024 suits large screens.
DISPLAY_MAX = (int(os.environ.get("SLAM_VIEW_MAX", "800")),) * 2
# px: the reading viewer's display stack fits STACK_SIZE × STACK_SIZE (zoom beyond it fetches native regions)
STACK_SIZE = int(os.environ.get("SLAM_STACK_SIZE", "896"))  # a full-size stack ≈ 54 MB gzipped
# The PACS ('' = none: no "Open from PACS" panel, no "Store to PACS"); its credentials stay in the
# environment, read per request by slam.io.dicomweb.connect, never held or logged here.
DICOMWEB_URL = os.environ.get("SLAM_DICOMWEB_URL", "").strip()
DICOMWEB_TIMEOUT = float(os.environ.get("SLAM_DICOMWEB_TIMEOUT", "30"))  # s per DICOMweb request


def upload_root() -> Path:
    """Gradio's upload cache (where it stores what clients upload)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")).resolve()


def default_budget() -> str:
    """Half the machine's memory, for the pixels of all open studies together."""
    return str(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)


def examples_dir() -> Path:
    """The folder of the bundled example studies."""
    return Path(os.environ.get("SLAM_EXAMPLES_DIR", ROOT / "examples"))


# Session folders live inside Gradio's cache so exports are served without another copy.
STORE = SessionStore(
    upload_root() / "slam-sessions",
    ttl_s=float(os.environ.get("SLAM_SESSION_TTL", "3600")),
    budget_bytes=parse_size(os.environ.get("SLAM_MEMORY_BUDGET") or default_budget()),
    min_idle_s=float(os.environ.get("SLAM_EVICT_IDLE", "300")),
)
