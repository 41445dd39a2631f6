"""The viewer's stack routes (webapp.stack_api) over HTTP on a real Gradio server, on the example DICOM studies."""

from __future__ import annotations

import dataclasses
import gzip

import cv2
import gradio as gr
import httpx
import numpy as np
import pytest

from slam.imaging.sm import synthetic_mammogram
from slam.io import load_study
from tests.webapp_support import ROOT, free_port
from webapp import stack_api
from webapp.stack_api import StackRegistry, ViewStack, display_shape

EXAMPLE = ROOT / "examples" / "Breast-Cancer-Screening-DBT" / "DBT-P00104" / "01-01-2000-DBT-S00004-phantom"
FIT = 200  # px: the 384 x 320 examples shrink, so the area filter is exercised


@pytest.fixture(scope="module")
def study():
    return load_study(EXAMPLE / "1.000000-rmlo" / "1-1.dcm")


@pytest.fixture(scope="module")
def server():
    """A real Gradio app with the routes mounted as the web app mounts them; yields (base url, registry)."""
    registry = StackRegistry()
    with gr.Blocks() as demo:
        gr.Markdown("stack routes")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                app_kwargs={"routes": stack_api.routes(registry)})
    try:
        yield f"http://127.0.0.1:{port}", registry
    finally:
        demo.close()


def get(url: str, gzip_ok: bool = True, **params) -> httpx.Response:
    return httpx.get(url, params=params, headers={"Accept-Encoding": "gzip" if gzip_ok else "identity"}, timeout=30)


def reference_slice(study, index: int, rows: int, columns: int) -> np.ndarray:
    """The straightforward way: flip the native slice to display orientation, then area-average it."""
    return cv2.resize(np.ascontiguousarray(study.display_slice(index)), (columns, rows), interpolation=cv2.INTER_AREA)


def pixels(response: httpx.Response) -> np.ndarray:
    rows, columns = (int(v) for v in response.headers["x-slam-shape"].split(","))
    assert len(response.content) == rows * columns * 2
    return np.frombuffer(response.content, "<u2").reshape(rows, columns)


@pytest.mark.parametrize("flip", [False, True])
def test_stack_slices_are_the_display_stack(server, study, flip):
    base, registry = server
    view = dataclasses.replace(study, flip_rows=flip, flip_cols=flip)
    token = registry.add(f"s-flip{flip}", ViewStack.of(view, fit=FIT))
    rows, columns = display_shape(study.height, study.width, FIT)
    assert (rows, columns) == (200, 167)
    for index in (0, view.depth // 2, view.depth - 1):
        response = get(f"{base}/slam/stack/{token}/{index}")
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["x-slam-shape"] == f"{rows},{columns}"
        np.testing.assert_array_equal(pixels(response), reference_slice(view, index, rows, columns))
    plain = get(f"{base}/slam/stack/{token}/3", gzip_ok=False)
    assert "content-encoding" not in plain.headers
    np.testing.assert_array_equal(pixels(plain), reference_slice(view, 3, rows, columns))


def test_gzip_is_smaller_and_slices_are_held_until_sent(server, study):
    base, registry = server
    stack = ViewStack.of(study)  # 384 x 320: fits 1024, kept at native size
    token = registry.add("s-size", stack, prefill=False)
    stack.prefill(10)
    held = stack.nbytes()
    response = httpx.get(f"{base}/slam/stack/{token}/10", headers={"Accept-Encoding": "gzip"})
    wire = int(response.headers["content-length"])
    assert wire < 0.8 * study.height * study.width * 2 and held == wire
    np.testing.assert_array_equal(pixels(response), study.display_slice(10))
    assert stack.nbytes() == 0  # sent: the server no longer holds it, and a prefill does not build it again
    stack.prefill(10)
    assert stack.nbytes() == 0
    again = httpx.get(f"{base}/slam/stack/{token}/10", headers={"Accept-Encoding": "gzip"})
    assert again.content == response.content and stack.nbytes() == 0  # rebuilt the same


def test_region_reads_native_pixels(server, study):
    base, registry = server
    token = registry.add("s-region", ViewStack.of(study, fit=FIT))
    sx, sy = study.width / 167, study.height / 200
    # the whole display-stack box at native size: exactly the native slice
    whole = get(f"{base}/slam/region/{token}/20", x0=0, y0=0, x1=167, y1=200, out_w=study.width, out_h=study.height)
    assert whole.status_code == 200 and whole.headers["x-slam-shape"] == f"{study.height},{study.width}"
    np.testing.assert_array_equal(pixels(whole), study.display_slice(20))
    # a zoomed box: the native crop under it, resampled to the asked size
    response = get(f"{base}/slam/region/{token}/20", x0=40.5, y0=60, x1=80, y1=100, out_w=90, out_h=80)
    crop = study.display_slice(20)[int(60 * sy):int(np.ceil(100 * sy)), int(40.5 * sx):int(np.ceil(80 * sx))]
    expected = cv2.resize(np.ascontiguousarray(crop), (90, 80), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(pixels(response), expected)


def test_unknown_and_closed_session_tokens_are_404(server, study):
    base, registry = server
    mine = registry.add("s-a", ViewStack.of(study, fit=FIT), prefill=False)
    theirs = registry.add("s-b", ViewStack.of(study, fit=FIT), prefill=False)
    assert get(f"{base}/slam/stack/{mine}/0").status_code == 200
    registry.drop_session("s-a")
    for url in (f"/slam/stack/{mine}/0", f"/slam/region/{mine}/0?x0=0&y0=0&x1=5&y1=5&out_w=5&out_h=5",
                f"/slam/sm/{mine}", f"/slam/smslice/{mine}", "/slam/stack/not-a-token/0",
                f"/slam/stack/{theirs[:-1]}x/0"):
        response = get(base + url)
        assert response.status_code == 404, url
        assert response.text == stack_api.NOT_FOUND
    assert get(f"{base}/slam/stack/{theirs}/0").status_code == 200  # the other session is untouched
    assert registry.tokens("s-a") == []


@pytest.mark.parametrize("url", [
    "/slam/stack/{t}/56", "/slam/stack/{t}/-1", "/slam/stack/{t}/abc",
    "/slam/stack/{t}/%C2%B2",  # "²": a digit to str.isdigit, not to int()
    "/slam/stack/{t}/" + "9" * 5000,  # past int()'s 4300-digit limit
    "/slam/region/{t}/0?x0=0&y0=0&x1=5&y1=5&out_w=5",  # out_h missing
    "/slam/region/{t}/0?x0=5&y0=0&x1=5&y1=5&out_w=5&out_h=5",  # empty box
    "/slam/region/{t}/0?x0=nan&y0=0&x1=5&y1=5&out_w=5&out_h=5",
    "/slam/region/{t}/0?x0=0&y0=0&x1=5&y1=5&out_w=0&out_h=5",
    "/slam/region/{t}/0?x0=0&y0=0&x1=5&y1=5&out_w=99999&out_h=5",
    "/slam/region/{t}/0?x0=500&y0=500&x1=600&y1=600&out_w=5&out_h=5",  # outside the image
    "/slam/region/{t}/99?x0=0&y0=0&x1=5&y1=5&out_w=5&out_h=5",
])
def test_bad_requests_are_400_with_one_line(server, study, url):
    base, registry = server
    token = registry.add(f"s-bad-{hash(url)}", ViewStack.of(study, fit=FIT), prefill=False)
    response = get(base + url.format(t=token))
    assert response.status_code == 400
    assert "\n" not in response.text and ("accepted" in response.text or "outside" in response.text)


def test_sm_and_its_source_slices(server, study):
    base, registry = server
    stack = ViewStack.of(dataclasses.replace(study, flip_cols=True), fit=FIT)
    token = registry.add("s-sm", stack, prefill=False)
    assert get(f"{base}/slam/sm/{token}").status_code == 404  # none attached yet
    assert stack.describe(token)["sm_url"] is None
    result = synthetic_mammogram(study.pixels, source_map=True)
    stack.attach_sm(result.image16, result.source_slices)
    sm = pixels(get(f"{base}/slam/sm/{token}"))
    source = pixels(get(f"{base}/slam/smslice/{token}"))
    assert sm.shape == source.shape == (200, 167)
    expected = cv2.resize(np.ascontiguousarray(result.image16[:, ::-1]), (167, 200), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(sm, expected)
    nearest = cv2.resize(np.ascontiguousarray(result.source_slices[:, ::-1]), (167, 200),
                         interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(source, nearest)
    assert source.max() < study.depth and len(np.unique(source)) > 3
    info = stack.describe(token)
    assert info["sm_slice_url"] == f"/slam/smslice/{token}" and info["pixel_spacing_mm"] == pytest.approx(
        [0.64 * 384 / 200, 0.64 * 320 / 167])


def test_register_views_replaces_the_session_and_checks_pixels(study):
    registry = StackRegistry()
    first = stack_api.register_views(registry, "s", [study, study])
    second = stack_api.register_views(registry, "s", [study])
    assert registry.get(first[0]) is None and registry.tokens("s") == second
    signed = dataclasses.replace(study, pixels=study.pixels.astype(np.int16) - 100)
    with pytest.raises(Exception, match="accepted: stored values 0..65535"):
        stack_api.register_views(registry, "s", [signed])
    assert registry.tokens("s") == second  # a refused exam leaves the open one alone
    with pytest.raises(Exception, match="at most 4"):
        stack_api.register_views(registry, "s", [study] * 5)


def test_packed_bytes_are_gzip_of_raw_uint16(study):
    stack = ViewStack.of(study, fit=FIT)
    raw = gzip.decompress(stack.send_slice(5))
    np.testing.assert_array_equal(np.frombuffer(raw, "<u2").reshape(200, 167), reference_slice(study, 5, 200, 167))


def test_sm_is_made_on_its_first_request_only(server, study):
    base, registry = server
    stack = ViewStack.of(study, fit=FIT)
    calls = []

    def make():
        calls.append(1)
        result = synthetic_mammogram(study.pixels, source_map=True)
        return result.image16, result.source_slices

    stack.sm_source = make
    token = registry.add("s-lazy", stack, prefill=False)
    assert stack.describe(token)["sm_url"] == f"/slam/sm/{token}" and calls == []  # opening costs no SM
    first = pixels(get(f"{base}/slam/sm/{token}"))
    slices = pixels(get(f"{base}/slam/smslice/{token}"))
    assert first.shape == slices.shape == (200, 167) and calls == [1]
    np.testing.assert_array_equal(pixels(get(f"{base}/slam/sm/{token}")), first)
    assert calls == [1]
