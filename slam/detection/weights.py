"""The detector weights SLAM ships, and the one lookup that says which weights a caller gets.

Shipped weights live in ``slam/weights/`` (package data): ``NAME.safetensors`` with its
``NAME.json`` config and ``NAME.md`` model card beside it. ``slam_default`` is the SLAM detector
(the default of ``slam predict`` and the app); ``baseline`` is the per-slice baseline it is compared
with. Either can be asked for by that bare name (``--weights baseline``).
"""

from __future__ import annotations

import os
from pathlib import Path

from slam.errors import SlamError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
# The default of `slam predict` and the web app (trained on phantom studies: its model card says how).
DEFAULT_WEIGHTS = WEIGHTS_DIR / "slam_default.safetensors"
BASELINE_WEIGHTS = WEIGHTS_DIR / "baseline.safetensors"
SHIPPED = {"slam_default": DEFAULT_WEIGHTS, "baseline": BASELINE_WEIGHTS}
WEIGHTS_ENV = "SLAM_WEIGHTS"


def resolve_weights(path: str | Path | None = None) -> Path:
    """The weights to use: ``path`` when given (a file, or a shipped name: ``slam_default``, ``baseline``),
    else ``$SLAM_WEIGHTS``, else :data:`DEFAULT_WEIGHTS`.

    Raises:
        SlamError: the chosen file does not exist (the message names where it looked).
    """
    given = path or os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS
    chosen = SHIPPED.get(str(given), Path(given))
    if not chosen.is_file():
        where = "given" if path else (f"${WEIGHTS_ENV}" if os.environ.get(WEIGHTS_ENV) else "the shipped default")
        raise SlamError(f"no model weights at {chosen.name} ({where}); pass a .safetensors file with its .json "
                        f"beside it, or a shipped name: {', '.join(SHIPPED)}")
    return chosen


def model_card(weights: Path) -> str:
    """The model card (Markdown beside the weights), or '' when there is none."""
    card = weights.with_suffix(".md")
    return card.read_text(encoding="utf-8") if card.is_file() else ""
