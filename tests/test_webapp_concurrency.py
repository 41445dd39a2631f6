"""Eight sessions at once (gradio_client against the real server): each loads its own study and
scrolls, and each only ever sees its own study; no call fails."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.webapp_support import AppServer, write_study

pytestmark = pytest.mark.slow
N_SESSIONS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("concurrency")
    server = AppServer({"GRADIO_TEMP_DIR": str(base / "gradio"), "SLAM_EXAMPLES_DIR": str(base / "none"),
                        "SLAM_MAX_STUDIES": str(N_SESSIONS), "SLAM_APP_LOG": str(base / "app.log")})
    yield server, base
    server.stop()


def view_args(slice_number: int) -> list:
    # slice, source, centre, width, invert, zoom, pan x, pan y, overlay, threshold, de-identify
    return [slice_number, "Original", 1600, 2400, False, 1, 0.5, 0.5, True, 0.5, False]


def run_session(url: str, path, depth: int, patient_id: str) -> list[str]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})  # a loaded 2-core machine is slow
    try:
        loaded = client.predict([handle_file(str(path))], False, api_name="/open_files")
        seen = [loaded[0], loaded[11]]  # status line and the first view
        for k in range(1, depth + 1, 2):
            seen.append(client.predict(*view_args(k), api_name="/show_slice"))
        seen.append(client.predict(*view_args(depth), api_name="/next_slice")[1])  # clamps at the last slice
        return seen
    finally:
        client.close()


def test_eight_sessions_each_see_only_their_own_study(server):
    app, base = server
    studies = []
    for i in range(N_SESSIONS):
        depth = 10 + i
        path = write_study(base / f"s{i}.dcm", depth=depth, height=64 + 8 * i, width=48, seed=i,
                           patient_id=f"P{100 + i}", patient=f"PATIENT^{i}")
        studies.append((path, depth, f"P{100 + i}"))
    with ThreadPoolExecutor(N_SESSIONS) as pool:
        results = list(pool.map(lambda s: run_session(app.url, *s), studies))
    for i, ((_, depth, pid), seen) in enumerate(zip(studies, results, strict=True)):
        status, views = seen[0], seen[1:]
        assert f"{depth} slices of {64 + 8 * i} × 48" in status
        for html in views:
            assert f"ID {pid}" in html and f"/ {depth} " in html
            others = {f"P{100 + j}" for j in range(N_SESSIONS) if j != i}
            assert not others & set(re.findall(r"P1\d\d", html))
        assert f"Slice {depth} / {depth}" in views[-1]
    assert app.process.poll() is None
    log = (base / "app.log").read_text(errors="replace")
    assert "PATIENT" not in log and not re.search(r"P1\d\d", log) and ".dcm" not in log  # nothing patient-related
