"""Attacks on the real app (``python webapp/app.py``) through Gradio's HTTP API: other sessions' files,
session-hash floods, the memory budget, heavy-job floods, oversize uploads, unswept uploads and raw values.

Each test failed on the code before issue 9 (the report of that change says how it was checked).
"""

from __future__ import annotations

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.webapp_support import AppServer, write_study

VIEW = [3, "Original", 1600, 2400, False, 1, 0.5, 0.5, True, 0.5, False]


def tab(url: str) -> httpx.Client:
    """One browser tab's HTTP client: it keeps the app's cookies (the uploader cookie among them)."""
    return httpx.Client(base_url=url, timeout=60)


def client_of(target: str | httpx.Client):
    """``target`` itself when it is a client, else a fresh one (a client that shares no cookies)."""
    return contextlib.nullcontext(target) if isinstance(target, httpx.Client) else tab(target)


def call(target: str | httpx.Client, api: str, data: list, session: str | None = None,
         within: float = 60.0) -> tuple[str, object]:
    """One event through ``/gradio_api/call/<api>``: ('complete', outputs) or ('error', message).

    That route streams the messages of the caller's whole session, so a session may have only one such
    call at a time (see :func:`session_events` for several). Gives up after ``within`` seconds.
    """
    body = json.dumps({"data": data, **({"session_hash": session} if session else {})})
    deadline = time.monotonic() + within
    kind = payload = None
    with client_of(target) as client:
        event_id = client.post(f"gradio_api/call/{api}", content=body,
                               headers={"content-type": "application/json"}).json()["event_id"]
        with client.stream("GET", f"gradio_api/call/{api}/{event_id}") as response:
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    payload = json.loads(line.split(":", 1)[1])
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{api}: no result within {within:.0f} s")
    if kind == "error" and isinstance(payload, dict):
        payload = payload.get("message") or payload.get("error") or json.dumps(payload)
    return kind, payload


def fn_index(url: str, api: str) -> int:
    """The dependency index of the event named ``api`` (from the app's config)."""
    config = httpx.get(f"{url}config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api)


def session_events(url: str, api: str, count: int, session: str, within: float = 45.0) -> list[tuple[float, bool, object]]:
    """``count`` simultaneous ``api`` events of one session, as a browser tab sends them: each joins the
    queue, and one stream (``/gradio_api/queue/data``) carries every message of the session.

    Returns (seconds from the first join to completion, success, output or error) per event, in
    join order. Raises TimeoutError when not all have completed within ``within`` seconds.
    """
    index, start = fn_index(url, api), time.monotonic()
    with httpx.Client(base_url=url, timeout=within) as client:
        joined = [client.post("gradio_api/queue/join", json={"data": [], "fn_index": index, "session_hash": session})
                  for _ in range(count)]
        ids = [response.json()["event_id"] for response in joined]
        done: dict[str, tuple[float, bool, object]] = {}
        with client.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as response:
            for line in response.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed" and message.get("event_id") in ids:
                    output = message.get("output") or {}
                    result = output.get("data") if message.get("success") else output.get("error")
                    done[message["event_id"]] = (time.monotonic() - start, bool(message.get("success")), result)
                if len(done) == count:
                    break
                if time.monotonic() - start > within:
                    raise TimeoutError(f"{count - len(done)} of {count} {api} events unfinished after {within:.0f} s")
    return [done[i] for i in ids]


def upload(target: str | httpx.Client, *files: Path) -> list[str]:
    """Gradio's own upload route: the server paths of the stored files."""
    with client_of(target) as client:
        handles = [("files", (f.name, f.read_bytes())) for f in files]
        response = client.post("gradio_api/upload", files=handles)
    response.raise_for_status()
    return response.json()


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "slam-sessions" not in p.parts]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("security")
    server = AppServer({"GRADIO_TEMP_DIR": str(base / "gradio"), "SLAM_EXAMPLES_DIR": str(base / "none"),
                        "SLAM_MAX_UPLOAD": "8mb", "SLAM_APP_LOG": str(base / "app.log")})
    yield server, base
    server.stop()


@pytest.fixture
def sweeping_app(tmp_path):
    """An app whose sweep removes unloaded uploads after 2 s (the shared one keeps them 600 s, so that
    a slow machine does not sweep another test's uploads mid-test)."""
    server = AppServer({"GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "SLAM_EXAMPLES_DIR": str(tmp_path / "none"),
                        "SLAM_MAX_UPLOAD": "8mb", "SLAM_UPLOAD_TTL": "2"})
    yield server, tmp_path
    server.stop()


@pytest.mark.timeout(120)
def test_temp_folder_and_other_sessions_files_are_refused(app):
    server, base = app
    victim = write_study(base / "victim.dcm", depth=12, height=64, width=48, patient="VICTIM^ONE", patient_id="V0001")
    (victim_path,) = upload(server.url, victim)  # uploaded by another user, not loaded yet
    owner = tab(server.url)
    kind, loaded = call(owner, "open_files", [[file_data(upload(owner, write_study(
        base / "own.dcm", depth=12, height=64, width=48, patient_id="V0002"))[0])], False], session="owner")
    assert kind == "complete"
    own_view = next(iter((base / "gradio" / "slam-sessions").rglob("*.jpg")))
    # The upload root, the victim's upload folder, a session's rendered slice, a file outside the cache.
    # (The victim's file itself is named by a seeded SHA-256 of its bytes: knowing it means having it.)
    for path in (str(base / "gradio"), str(Path(victim_path).parent), str(own_view), str(victim)):
        kind, message = call(server.url, "open_files", [[file_data(path)], False], session="attacker")
        assert kind == "error" and "\n" not in message
        # Gradio itself refuses paths outside its cache; the app refuses the rest.
        assert message.startswith("refused: only files uploaded") or path == str(victim)
        assert "V0001" not in json.dumps(message) and "VICTIM" not in json.dumps(message)
    assert Path(victim_path).is_file() and own_view.is_file()  # nothing of theirs was deleted


@pytest.mark.timeout(120)
def test_a_session_cannot_load_another_sessions_upload(app):
    server, base = app
    study = write_study(base / "alice.dcm", depth=12, height=64, width=48, patient="ALICE^A", patient_id="A0001")
    alice, bob = tab(server.url), tab(server.url)
    (path,) = upload(alice, study)  # Alice uploaded; her load has not come yet
    for who in (bob, server.url):  # Bob's tab (its own uploader cookie), and a client with none
        kind, message = call(who, "open_files", [[file_data(path)], False], session="bob")
        assert kind == "error" and message.startswith("refused: only files uploaded") and "\n" not in message
        assert "ALICE" not in json.dumps(message) and "A0001" not in json.dumps(message)
    assert Path(path).is_file()  # untouched: Alice can still load it
    kind, out = call(alice, "open_files", [[file_data(path)], False], session="alice")
    assert kind == "complete" and "ALICE A" in out[11] and not Path(path).exists()


@pytest.mark.timeout(120)
def test_made_up_session_hashes_create_nothing(app):
    server, base = app
    sessions = base / "gradio" / "slam-sessions"
    before = {p.name for p in sessions.iterdir()}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: call(server.url, "show_slice", VIEW, session=f"flood{i}"), range(60)))
    assert all(kind == "complete" and "Open a study" in out[0] for kind, out in results)
    assert {p.name for p in sessions.iterdir()} == before


@pytest.mark.timeout(120)
def test_upload_cap_is_per_request_and_uploads_nobody_loads_are_swept(sweeping_app):
    server, base = sweeping_app
    parts = []
    for name in ("a.dcm", "b.dcm"):  # 5 MB each: under the 8 MB cap alone, over it together
        parts.append(base / name)
        parts[-1].write_bytes(bytes(5_000_000))
    before = stored_files(base / "gradio")
    with pytest.raises(httpx.HTTPStatusError) as refused:
        upload(server.url, *parts)
    assert refused.value.response.status_code == 413 and "per upload cap" in refused.value.response.text
    assert len(stored_files(base / "gradio")) <= len(before)
    (left,) = upload(server.url, parts[0])
    deadline = time.monotonic() + 8
    while Path(left).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not Path(left).exists() and not Path(left).parent.exists()
    assert not [p for p in stored_files(base / "gradio") if p.stat().st_size == 0]
    assert not [p for p in (base / "gradio").iterdir() if p.is_dir() and not any(p.iterdir())
                and p.name != "slam-sessions" and time.time() - p.stat().st_mtime > 4]


@pytest.mark.timeout(120)
def test_raw_values_are_checked_and_clamped(app):
    server, base = app
    study = write_study(base / "c.dcm", depth=12, height=64, width=48)
    values = tab(server.url)
    kind, _ = call(values, "open_files", [[file_data(upload(values, study)[0])], False], session="values")
    assert kind == "complete"
    kind, out = call(server.url, "show_slice", [0, "Original", 1600, 2400, False, 100, 0.5, 0.5, True, 0.5, False],
                     session="values")
    assert kind == "complete" and "Slice 1 / 12" in out[0] and "zoom 8×" in out[0]
    for bad in ("nan", "inf", "abc"):
        kind, message = call(server.url, "show_slice", [3, "Original", bad, 2400, False, 1, 0.5, 0.5, True, 0.5, False],
                             session="values")
        assert kind == "error" and message == f"level must be a finite number; got {bad!r}"
    kind, message = call(server.url, "show_slice", [3, "Original", 1600, "nan", False, 1, 0.5, 0.5, True, 0.5, False],
                         session="values")
    assert kind == "error" and "window must be a finite number" in message and "object at 0x" not in message


@pytest.mark.timeout(90)
def test_one_heavy_job_per_session(tmp_path):
    """Five preprocessings at once from one tab: one runs, four are refused at once (not queued behind
    it), and another session scrolls meanwhile. The study is large enough (25 M pixels) that the job
    outlasts the five joins."""
    examples = tmp_path / "examples"
    examples.mkdir()
    write_study(examples / "big.dcm", depth=32, height=1024, width=768)
    write_study(examples / "small.dcm", depth=12, height=64, width=48, patient_id="OTHER")
    server = AppServer({"GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "SLAM_EXAMPLES_DIR": str(examples)})
    try:
        assert call(server.url, "load_example", ["big.dcm", False], session="heavy")[0] == "complete"
        assert call(server.url, "load_example", ["small.dcm", False], session="other")[0] == "complete"
        with ThreadPoolExecutor(1) as pool:
            heavy = pool.submit(session_events, server.url, "preprocess", 5, "heavy")
            time.sleep(0.5)  # the joins are in
            kind, out = call(server.url, "show_slice", VIEW, session="other", within=20)
            results = heavy.result()
    finally:
        server.stop()
    assert kind == "complete" and "Slice 3 / 12" in out[0]
    finished = [t for t, ok, _ in results if ok]
    refused = [(t, message) for t, ok, message in results if not ok]
    assert len(finished) == 1 and len(refused) == 4, results
    assert all(m.startswith("refused: this session already has") and "\n" not in m for _, m in refused)
    assert all(t < finished[0] for t, _ in refused)  # refused while the job ran, not after it


@pytest.mark.timeout(120)
def test_memory_budget_refuses_then_evicts_idle_and_tells_the_user(tmp_path):
    study_bytes = 20 * 128 * 100 * 2
    server = AppServer({"GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "SLAM_EXAMPLES_DIR": str(tmp_path / "none"),
                        "SLAM_MEMORY_BUDGET": str(int(1.5 * study_bytes)), "SLAM_EVICT_IDLE": "3"})
    try:
        paths = [write_study(tmp_path / f"{k}.dcm", depth=20, height=128, width=100, patient_id=k) for k in "AB"]
        a, b = tab(server.url), tab(server.url)
        first = call(a, "open_files", [[file_data(upload(a, paths[0])[0])], False], session="a")
        assert first[0] == "complete"
        kind, message = call(b, "open_files", [[file_data(upload(b, paths[1])[0])], False], session="b")
        assert kind == "error" and message.startswith("the server is full") and "\n" not in message
        time.sleep(3.5)  # session a is now idle: its study may go
        kind, _ = call(b, "open_files", [[file_data(upload(b, paths[1])[0])], False], session="b")
        assert kind == "complete"
        kind, message = call(server.url, "show_slice", VIEW, session="a")
        assert kind == "error" and "your study was closed to free memory" in message
    finally:
        server.stop()
