"""The server side of the client-side stack viewer (the viewer contract, docs/viewer.md): HTTP routes that
hand a view's display stack, full-resolution regions, its SM and its SM source-slice map to the browser.

- ``GET /slam/stack/TOKEN/{index}``: slice ``index`` (0-based) of the display stack, raw little-endian
  uint16, rows × columns, gzip-encoded when the client accepts it; header ``X-Slam-Shape: rows,columns``.
- ``GET /slam/region/TOKEN/{index}?x0=&y0=&x1=&y1=&out_w=&out_h=``: the box x0..x1, y0..y1 (display-stack
  pixels) of the NATIVE slice, resampled to out_h × out_w (area filter), same encoding.
- ``GET /slam/sm/TOKEN`` and ``/slam/smslice/TOKEN``: the view's synthetic mammogram and, per pixel, the
  0-based slice contributing most to it; both at the display stack's size (404 until an SM is attached).

A TOKEN (``secrets.token_urlsafe(24)``) names one view of one session: it is the capability, as browser
fetches carry no Gradio session. Unknown tokens and those of closed sessions get 404; a bad index or query
gets 400 with a one-line reason. Paths carry no dot, so Gradio's Brotli middleware leaves them alone.

The display stack is made once per view: each slice flipped to display orientation and area-averaged
(``cv2.INTER_AREA``) to fit ``STACK_SIZE`` px (in that order, so a region answer at the same size gives the
same values; the other order differs by rounding in 1 pixel in 10^4), and gzip-compressed (level ``GZIP_LEVEL``)
in the form it is sent; a client that refuses gzip gets it decompressed. Slices are built by a background
prefill that starts at the initial slice (so the first slice is served without waiting for the whole stack),
or on request, and held only until they are sent: the browser keeps what it got (the URLs are immutable),
so an opened exam costs the server its native pixels and no second copy (a full-size view's display stack
is ~54 MB); a slice asked for again is rebuilt (a full-size one in ~70 ms, most of it gzip).
"""

from __future__ import annotations

import gzip
import math
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from slam.errors import SlamError
from slam.imaging.orientation import flip_image
from slam.io import Study

STACK_SIZE = 896  # px: the display stack fits STACK_SIZE² (the app's is settings.STACK_SIZE, $SLAM_STACK_SIZE)
GZIP_LEVEL = 1  # fastest; levels 2-3 save a few % more on 12-bit noise for twice the time
MAX_VIEWS = 4  # per session: one exam
MAX_OUT = 4096  # px per side of a region answer
PREFILL_WORKERS = 2
NOT_FOUND = "unknown or expired view token"


def display_shape(rows: int, columns: int, fit: int = STACK_SIZE) -> tuple[int, int]:
    """(rows, columns) of a native rows × columns slice fitted into fit × fit, aspect kept, never enlarged."""
    scale = min(1.0, fit / rows, fit / columns)
    return max(1, round(rows * scale)), max(1, round(columns * scale))


def as_uint16(image: np.ndarray) -> np.ndarray:
    """(H, W) stored values as uint16 (values are checked once per view by :func:`check_pixels`)."""
    if image.dtype == np.uint16:
        return image
    return np.rint(image).astype(np.uint16) if image.dtype.kind == "f" else image.astype(np.uint16)


def check_pixels(study: Study) -> None:
    """The viewer carries stored values as uint16: refuse studies whose values do not fit 0..65535.

    Raises:
        SlamError: signed or float pixels outside 0..65535.
    """
    dtype = study.pixels.dtype
    if dtype in (np.uint8, np.uint16):
        return
    low, high = float(study.pixels.min()), float(study.pixels.max())
    if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high > 65535:
        raise SlamError(f"pixel values {low:g}..{high:g} ({dtype}) do not fit the viewer; accepted: "
                        "stored values 0..65535 (unsigned 8- or 16-bit, or integers in that range)")


def shrink(image: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """(H, W) -> (rows, columns) uint16 by area averaging (a copy; cv2 needs positive strides)."""
    image = as_uint16(np.ascontiguousarray(image))
    if image.shape == (rows, columns):
        return image.copy()
    return cv2.resize(image, (columns, rows), interpolation=cv2.INTER_AREA)


def pack(image: np.ndarray) -> bytes:
    """(H, W) uint16 -> gzip of its raw little-endian bytes (mtime 0: equal images give equal bytes)."""
    return gzip.compress(np.ascontiguousarray(image, dtype="<u2").tobytes(), compresslevel=GZIP_LEVEL, mtime=0)


@dataclass
class ViewStack:
    """One view's display stack, built lazily slice by slice; ``study.pixels`` stay the native source."""

    study: Study
    rows: int
    columns: int
    initial_slice: int
    _packed: list[bytes | None] = field(default_factory=list, repr=False)  # built, not yet sent
    _sent: list[bool] = field(default_factory=list, repr=False)
    _locks: list[threading.Lock] = field(default_factory=list, repr=False)
    sm: bytes | None = None  # packed (rows, columns) SM, display orientation
    sm_slices: bytes | None = None  # packed (rows, columns) source-slice map
    # () -> (SM, source-slice map), native size, stored orientation: made on the first SM request, so
    # opening an exam does not wait for four SMs
    sm_source: Callable[[], tuple[np.ndarray, np.ndarray | None]] | None = None
    closed: bool = False
    _sm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, study: Study, initial_slice: int | None = None, fit: int = STACK_SIZE) -> ViewStack:
        """The (not yet built) display stack of ``study``; ``initial_slice`` defaults to the middle.

        Raises:
            SlamError: pixels that do not fit uint16 (see :func:`check_pixels`).
        """
        check_pixels(study)
        rows, columns = display_shape(study.height, study.width, fit)
        middle = study.depth // 2 if initial_slice is None else int(np.clip(initial_slice, 0, study.depth - 1))
        return cls(study, rows, columns, middle, [None] * study.depth, [False] * study.depth,
                   [threading.Lock() for _ in range(study.depth)])

    @property
    def depth(self) -> int:
        return self.study.depth

    @property
    def spacing_mm(self) -> list[float] | None:
        """(row, column) mm of a display-stack pixel, or None when the study has no pixel spacing."""
        if not self.study.pixel_spacing:
            return None
        row, col = self.study.pixel_spacing
        return [row * self.study.height / self.rows, col * self.study.width / self.columns]

    def display_slice(self, index: int) -> np.ndarray:
        """Slice ``index`` of the display stack, (rows, columns) uint16 (computed, not cached)."""
        return shrink(self.study.display_slice(index), self.rows, self.columns)

    def prefill(self, index: int) -> None:
        """Build and hold slice ``index`` for its first request, unless it is held or was sent already."""
        with self._locks[index]:
            if self._packed[index] is None and not self._sent[index]:
                self._packed[index] = pack(self.display_slice(index))

    def send_slice(self, index: int) -> bytes:
        """Slice ``index`` gzip-packed for a response: the prefilled bytes, released (a request that comes
        while the prefill builds it waits for that build), or built now when it was sent before."""
        with self._locks[index]:
            packed = self._packed[index]
            self._packed[index] = None
            self._sent[index] = True
            return packed if packed is not None else pack(self.display_slice(index))

    def prefill_order(self) -> list[int]:
        """Slice indices from the initial slice outwards (what the reader scrolls to first)."""
        return sorted(range(self.depth), key=lambda k: (abs(k - self.initial_slice), k))

    def region(self, x0: float, y0: float, x1: float, y1: float, out_w: int, out_h: int, index: int) -> np.ndarray:
        """Native pixels under the display-stack box x0..x1, y0..y1 of slice ``index``, (out_h, out_w) uint16.

        Raises:
            SlamError: the box is empty once clipped to the image.
        """
        sx, sy = self.study.width / self.columns, self.study.height / self.rows
        c0, c1 = max(0, math.floor(x0 * sx)), min(self.study.width, math.ceil(x1 * sx))
        r0, r1 = max(0, math.floor(y0 * sy)), min(self.study.height, math.ceil(y1 * sy))
        if c1 <= c0 or r1 <= r0:
            raise SlamError(f"the region lies outside the {self.columns} × {self.rows} display stack")
        native = self.study.display_slice(index)[r0:r1, c0:c1]
        return shrink(native, out_h, out_w)

    def attach_sm(self, image: np.ndarray, source_slices: np.ndarray | None) -> None:
        """Keep an SM (H, W) and its source-slice map (H, W), both native size and STORED orientation,
        at display size and orientation (the map by nearest neighbour: slice numbers are not averaged)."""
        study = self.study
        self.sm = pack(shrink(flip_image(image, study.flip_rows, study.flip_cols), self.rows, self.columns))
        if source_slices is None:
            self.sm_slices = None
            return
        shown = np.ascontiguousarray(flip_image(source_slices, study.flip_rows, study.flip_cols), np.uint16)
        self.sm_slices = pack(cv2.resize(shown, (self.columns, self.rows), interpolation=cv2.INTER_NEAREST))

    def sm_parts(self) -> tuple[bytes | None, bytes | None]:
        """(packed SM, packed source-slice map), made once from :attr:`sm_source` when none is attached."""
        with self._sm_lock:
            if self.sm is None and self.sm_source is not None:
                self.attach_sm(*self.sm_source())
            return self.sm, self.sm_slices

    def nbytes(self) -> int:
        """Bytes held for the browser (packed slices built and not yet sent, the SM), not the native pixels."""
        held = [*self._packed, self.sm, self.sm_slices]
        return sum(len(b) for b in held if b is not None)

    def describe(self, token: str) -> dict:
        """The geometry and URLs of this view for the component's viewport value (contract field names)."""
        return {
            "slices": self.depth, "rows": self.rows, "columns": self.columns,
            "full_rows": self.study.height, "full_columns": self.study.width,
            "pixel_spacing_mm": self.spacing_mm, "initial_slice": self.initial_slice,
            "stack_url": f"/slam/stack/{token}/{{index}}", "region_url": f"/slam/region/{token}/{{index}}",
            "sm_url": f"/slam/sm/{token}" if self.sm is not None or self.sm_source else None,
            "sm_slice_url": f"/slam/smslice/{token}" if self.sm_slices is not None or self.sm_source else None,
        }


class StackRegistry:
    """token -> :class:`ViewStack`, per session; tokens die with :meth:`drop_session`."""

    def __init__(self, prefill_workers: int = PREFILL_WORKERS):
        self._views: dict[str, ViewStack] = {}
        self._sessions: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=prefill_workers, thread_name_prefix="slam-prefill")

    def add(self, session: str, stack: ViewStack, prefill: bool = True) -> str:
        """Register ``stack`` for ``session``; returns its new token. ``prefill`` builds its slices in the
        background, initial slice first.

        Raises:
            SlamError: the session already holds :data:`MAX_VIEWS` views.
        """
        token = secrets.token_urlsafe(24)
        with self._lock:
            tokens = self._sessions.setdefault(session, [])
            if len(tokens) >= MAX_VIEWS:
                raise SlamError(f"at most {MAX_VIEWS} views per session (one exam); close the open one first")
            tokens.append(token)
            self._views[token] = stack
        if prefill:
            for index in stack.prefill_order():
                self._pool.submit(self._build, stack, index)
        return token

    @staticmethod
    def _build(stack: ViewStack, index: int) -> None:
        if not stack.closed:
            stack.prefill(index)

    def get(self, token: str) -> ViewStack | None:
        with self._lock:
            return self._views.get(token)

    def tokens(self, session: str) -> list[str]:
        """The session's tokens, in the order they were added."""
        with self._lock:
            return list(self._sessions.get(session, ()))

    def drop_session(self, session: str) -> None:
        """Forget every view of ``session`` (its tokens answer 404 from now on; pending prefills stop)."""
        with self._lock:
            stacks = [self._views.pop(t) for t in self._sessions.pop(session, ()) if t in self._views]
        for stack in stacks:
            stack.closed = True

    def session_bytes(self, session: str) -> int:
        """Bytes the session's display stacks hold (for the pixel budget)."""
        with self._lock:
            stacks = [self._views[t] for t in self._sessions.get(session, ()) if t in self._views]
        return sum(s.nbytes() for s in stacks)


REGISTRY = StackRegistry()


def _raw(request: Request, packed: bytes, shape: tuple[int, int], cache: str) -> Response:
    """The packed image as the contract says: gzip when accepted, else decompressed; shape in X-Slam-Shape."""
    headers = {"X-Slam-Shape": f"{shape[0]},{shape[1]}", "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="application/octet-stream", headers=headers)
    return Response(gzip.decompress(packed), media_type="application/octet-stream", headers=headers)


def _bad(message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=400)


def _index(text: str, stack: ViewStack) -> int | None:
    # ASCII digits only, and short: int() refuses other Unicode digits and strings of > 4300 digits.
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 and int(text) < stack.depth else None


def _region_query(request: Request, stack: ViewStack) -> tuple[float, float, float, float, int, int] | None:
    """The region query's numbers, or None when any is missing, not finite, out of order or out of range."""
    q = request.query_params
    try:
        x0, y0, x1, y1 = (float(q[k]) for k in ("x0", "y0", "x1", "y1"))
        out_w, out_h = int(q["out_w"]), int(q["out_h"])
    except (KeyError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 <= x0 or y1 <= y0:
        return None
    if not (1 <= out_w <= MAX_OUT and 1 <= out_h <= MAX_OUT):
        return None
    return x0, y0, x1, y1, out_w, out_h


def routes(registry: StackRegistry = REGISTRY) -> list[Route]:
    """The contract's routes over ``registry``: pass them to Gradio as ``app_kwargs={"routes": ...}``
    (FastAPI puts them ahead of Gradio's own, and Gradio's middleware still wraps them)."""
    immutable = "private, max-age=86400, immutable"  # a token's slices never change

    def stack_slice(request: Request) -> Response:
        stack = registry.get(request.path_params["token"])
        if stack is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        index = _index(request.path_params["index"], stack)
        if index is None:
            return _bad(f"bad slice index {request.path_params['index'][:12]!r}; accepted: 0..{stack.depth - 1}")
        return _raw(request, stack.send_slice(index), (stack.rows, stack.columns), immutable)

    def region(request: Request) -> Response:
        stack = registry.get(request.path_params["token"])
        if stack is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        index = _index(request.path_params["index"], stack)
        query = _region_query(request, stack)
        if index is None or query is None:
            return _bad(f"bad region request; accepted: slice 0..{stack.depth - 1} and numbers x0 < x1, y0 < y1 "
                        f"(display-stack pixels, {stack.columns} × {stack.rows}), integers out_w, out_h 1..{MAX_OUT}")
        *box, out_w, out_h = query
        try:
            image = stack.region(*box, out_w, out_h, index)
        except SlamError as exc:
            return _bad(str(exc))
        return _raw(request, pack(image), image.shape, immutable)

    def sm_part(pick: Callable[[ViewStack], bytes | None]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            stack = registry.get(request.path_params["token"])
            if stack is None:
                return PlainTextResponse(NOT_FOUND, status_code=404)
            packed = pick(stack)
            if packed is None:
                return PlainTextResponse("no synthetic mammogram computed for this view yet", status_code=404)
            return _raw(request, packed, (stack.rows, stack.columns), "no-store")  # recomputed with its settings

        return endpoint

    return [
        Route("/slam/stack/{token}/{index}", stack_slice, methods=["GET"]),
        Route("/slam/region/{token}/{index}", region, methods=["GET"]),
        Route("/slam/sm/{token}", sm_part(lambda s: s.sm_parts()[0]), methods=["GET"]),
        Route("/slam/smslice/{token}", sm_part(lambda s: s.sm_parts()[1]), methods=["GET"]),
    ]


def register_views(registry: StackRegistry, session: str, studies: Iterable[Study], fit: int = STACK_SIZE) -> list[str]:
    """Replace ``session``'s views by one display stack per study (fitting ``fit`` px); returns their tokens in order.

    Raises:
        SlamError: a study's pixels do not fit the viewer, or more than :data:`MAX_VIEWS` studies.
    """
    stacks = [ViewStack.of(study, fit=fit) for study in studies]  # all checked before any is registered
    if len(stacks) > MAX_VIEWS:
        raise SlamError(f"{len(stacks)} views given; accepted: at most {MAX_VIEWS} (one exam)")
    registry.drop_session(session)
    return [registry.add(session, stack) for stack in stacks]
