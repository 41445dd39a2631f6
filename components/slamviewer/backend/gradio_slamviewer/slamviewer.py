"""The Python side of the viewer: a value check and the component class.

The value is the JSON dict of the viewer contract (docs/viewer-component.md): up to four viewports, each naming
the URLs its stack, region, SM and SM slice map are served from, plus the initial score threshold, boxes
on/off and synchronised scrolling. Pixels never travel in the value; the browser fetches them from the URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from gradio.components.base import Component
from gradio.events import Events

_REQUIRED = ("id", "position", "slices", "rows", "columns", "pixel_spacing_mm", "stack_url", "window")
_POSITIONS = {0, 1, 2, 3}


class ViewerValueError(ValueError):
    """A viewer value that does not follow the contract; the message says what is wrong and what is accepted."""


def _check_viewport(index: int, viewport: Any) -> None:
    if not isinstance(viewport, dict):
        raise ViewerValueError(f"viewports[{index}] is {type(viewport).__name__}; a dict is accepted")
    missing = [key for key in _REQUIRED if key not in viewport]
    if missing:
        raise ViewerValueError(f"viewports[{index}] lacks {', '.join(missing)}; these keys are required")
    if viewport["position"] not in _POSITIONS:
        raise ViewerValueError(f"viewports[{index}].position is {viewport['position']!r}; 0, 1, 2 or 3 is accepted")
    for key in ("slices", "rows", "columns"):
        if not isinstance(viewport[key], int) or viewport[key] < 1:
            raise ViewerValueError(f"viewports[{index}].{key} is {viewport[key]!r}; a positive integer is accepted")
    if "{index}" not in str(viewport["stack_url"]):
        raise ViewerValueError(f"viewports[{index}].stack_url lacks '{{index}}'; a URL template such as "
                               "/slam/stack/TOKEN/{index} is accepted")
    spacing = viewport["pixel_spacing_mm"]  # None: the file gives none, lengths are shown in pixels
    if spacing is not None and not (isinstance(spacing, list | tuple) and len(spacing) == 2
                                    and all(float(s) > 0 for s in spacing)):
        raise ViewerValueError(f"viewports[{index}].pixel_spacing_mm is {spacing!r}; [row_mm, column_mm] > 0 "
                               "or null (no spacing: pixels) is accepted")


def check_value(value: dict | None) -> dict | None:
    """Return ``value`` unchanged if it follows the viewer contract, else raise :class:`ViewerValueError`.

    ``None`` (an empty viewer) is accepted.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ViewerValueError(f"the viewer value is {type(value).__name__}; a dict with 'viewports' is accepted")
    viewports = value.get("viewports")
    if not isinstance(viewports, list) or not 1 <= len(viewports) <= 4:
        raise ViewerValueError("the viewer value needs 'viewports': a list of 1 to 4 viewports")
    for index, viewport in enumerate(viewports):
        _check_viewport(index, viewport)
    positions = [viewport["position"] for viewport in viewports]
    if len(set(positions)) != len(positions):
        raise ViewerValueError(f"viewport positions {positions} repeat; each of 0..3 at most once is accepted")
    return value


class SlamViewer(Component):
    """A DBT stack viewer that scrolls, plays cine and applies window/level in the browser.

    Value: the viewer contract's dict (see docs/viewer-component.md). Events: ``select`` when the user clicks a
    finding, with ``evt.value == {"viewport": id, "slice": int, "finding": label or None}``, and when the user
    releases the score threshold or toggles the boxes, with ``evt.value == {"threshold": float, "show_boxes":
    bool}`` (already applied in the browser). Slice changes are never sent to the server. A new value with the
    same stacks but another ``threshold`` or ``show_boxes`` updates just those, keeping slices, zoom and window.
    """

    EVENTS = [Events.select]

    def __init__(
        self,
        value: dict | Callable | None = None,
        *,
        label: str | None = None,
        show_label: bool | None = False,
        height: int | str | None = None,
        scale: int | None = None,
        min_width: int = 320,
        visible: bool | Literal["hidden"] = True,
        elem_id: str | None = None,
        elem_classes: list[str] | str | None = None,
        render: bool = True,
        key: int | str | None = None,
    ):
        """``height``: CSS height of the viewer (px if an int); None fills the parent's height (min 480 px)."""
        self.height = height
        super().__init__(label=label, show_label=show_label, scale=scale, min_width=min_width, interactive=True,
                         visible=visible, elem_id=elem_id, elem_classes=elem_classes, value=value, render=render,
                         key=key)

    def preprocess(self, payload: dict | None) -> dict | None:
        """The viewer's value as the browser holds it (the contract dict), or None."""
        return payload

    def postprocess(self, value: dict | None) -> dict | None:
        """Check ``value`` against the contract before it is sent to the browser."""
        return check_value(value)

    def api_info(self) -> dict[str, Any]:
        return {"type": "object", "description": "the SLAM viewer contract (viewports, threshold, show_boxes, sync)"}

    def example_payload(self) -> Any:
        return None

    def example_value(self) -> Any:
        return None
