"""Detection of an exam's views, on a Hugging Face ZeroGPU Space or on the CPU, with the same code.

ZeroGPU's rules (the ``spaces`` package; huggingface.co/docs/hub/spaces-zerogpu):

- a GPU is attached only while a function decorated with ``@spaces.GPU`` runs, so that function
  (:func:`forward`) does only the model's forward passes and the box post-processing on their tensors:
  no weight loading, no file reading, no input preparation;
- the model is loaded and moved to ``cuda`` once at start-up, at module level (ZeroGPU intercepts the
  move in the main process and places the weights when a GPU is attached): :data:`PREDICTOR` below;
- each call asks for a duration that fits it: :func:`gpu_seconds` of the call's inputs, a fixed part
  (worker start, CUDA context) plus a part per view, so one call covers a 4-view exam;
- arguments and results cross a process boundary (pickled), so :func:`forward` takes the prepared model
  inputs (a few MB of float32) and the views' shapes, never a study's pixels.

Off a ZeroGPU Space ``spaces.GPU`` returns the function unchanged, and without ``spaces`` installed it is
not needed: :func:`forward` then runs in-process on the CPU (or a local CUDA GPU). There the model is
loaded on the first detection instead (start-up stays fast), and :func:`model_loaded` lets the UI say
"loading the model…" while it does; the time it took is reported with the detection's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slam.errors import SlamError

try:
    import spaces
except ImportError:  # a CPU Space or a local run: nothing to attach
    spaces = None

START_S = 20  # s of a call's GPU time before the first view: worker fork, CUDA context, weights to the GPU
PER_VIEW_S = 8  # s per view: a full-size view's forward passes take well under 1 s on an A100; margin for a cold GPU


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space (``spaces`` installed and SPACES_ZERO_GPU set by the platform)."""
    if spaces is None:
        return False
    from spaces.config import Config

    return bool(Config.zero_gpu)


@dataclass(frozen=True)
class ViewShape:
    """What the predictor reads of a study once its input is built: (depth, height, width) in pixels."""

    depth: int
    height: int
    width: int


_LOCK = threading.Lock()
PREDICTOR = None  # slam.detection.predictor.Predictor, once loaded
_WEIGHTS: Path | None = None  # the file PREDICTOR was loaded from


def model_loaded(weights: Path | None = None) -> bool:
    """Whether this process holds the detector (for ``weights``, when given)."""
    return PREDICTOR is not None and (weights is None or weights == _WEIGHTS)


def load_predictor(weights: Path, device: str | None = None):
    """The process's one Predictor for ``weights`` (boxes in display pixels, every score ≥ 0.05), loaded once.

    Raises:
        SlamError: no weights, or weights that do not match their config.
    """
    global PREDICTOR, _WEIGHTS
    with _LOCK:
        if PREDICTOR is None or weights != _WEIGHTS:
            from slam.detection.model import load_model
            from slam.detection.predictor import Predictor

            if weights is None or not Path(weights).is_file():
                raise SlamError("detection is not available: no model weights found "
                                "(slam/weights/*.safetensors or $SLAM_WEIGHTS)")
            PREDICTOR = Predictor(load_model(weights), device=device, coords="display", score_threshold=0.05)
            _WEIGHTS = weights
        return PREDICTOR


def gpu_seconds(inputs: Sequence[np.ndarray], shapes: Sequence[ViewShape], progress=None) -> int:
    """The GPU time (s) one :func:`forward` call asks ZeroGPU for: :data:`START_S` + :data:`PER_VIEW_S` a view."""
    return START_S + PER_VIEW_S * len(inputs)


def _gpu(fn: Callable) -> Callable:
    """``spaces.GPU(duration=gpu_seconds)`` where ``spaces`` is installed (a no-op off ZeroGPU), else ``fn``."""
    return fn if spaces is None else spaces.GPU(duration=gpu_seconds)(fn)


@_gpu
def forward(inputs: Sequence[np.ndarray], shapes: Sequence[ViewShape],
            progress: Callable[[int, int], None] | None = None) -> list:
    """The detector on prepared inputs: one StudyPrediction per view (display pixels, original slices).

    Args:
        inputs: per view, (n, h, w) float32 in [0, 1], the predictor's ``prepare`` output.
        shapes: per view, its :class:`ViewShape`.
        progress: ``progress(done, total)`` after each view (None on ZeroGPU: it does not cross processes).
    """
    if PREDICTOR is None:
        raise SlamError("the detector is not loaded; this is a bug in the caller (load_predictor first)")
    results = []
    for done, (volume, shape) in enumerate(zip(inputs, shapes, strict=True), start=1):
        results.append(PREDICTOR.predict(shape, volume))
        if progress is not None:
            progress(done, len(inputs))
    return results


def detect_views(studies: Sequence, weights: Path,
                 progress: Callable[[str, float], None] | None = None) -> tuple[list, dict[str, float]]:
    """Run the detector on each of an exam's views (``slam.io.Study``), one after another.

    ``progress(description, fraction)`` is called while it works. Returns the predictions (in the order
    of ``studies``) and the seconds spent loading the model (0 when it was loaded), preparing the inputs
    (CPU) and in the detector (GPU on ZeroGPU), and in total.

    Raises:
        SlamError: no weights, or no study given.
    """
    if not studies:
        raise SlamError("no view to detect on; open a study or an exam first")
    report = progress or (lambda description, fraction: None)
    start = time.perf_counter()
    if not model_loaded(weights):
        report("loading the model…", 0.0)
    predictor = load_predictor(weights)
    loaded = time.perf_counter()
    inputs, shapes = [], []
    for k, study in enumerate(studies):
        report(f"preparing view {k + 1} of {len(studies)}", 0.1 + 0.3 * k / len(studies))
        inputs.append(predictor.prepare(study))
        shapes.append(ViewShape(study.depth, study.height, study.width))
    prepared = time.perf_counter()
    report(f"detecting on {len(studies)} view{'s' if len(studies) > 1 else ''}", 0.4)
    if on_zero_gpu():
        predictions = forward(inputs, shapes)
    else:
        predictions = forward(inputs, shapes, lambda done, total: report(
            f"detected view {done} of {total}", 0.4 + 0.6 * done / total))
    end = time.perf_counter()
    return predictions, {"load": loaded - start, "prepare": prepared - loaded, "detect": end - prepared,
                         "total": end - start}


if on_zero_gpu():  # ZeroGPU: the weights go to "cuda" at start-up, as its rules ask
    from slam.detection.weights import resolve_weights

    load_predictor(resolve_weights(), device="cuda")
