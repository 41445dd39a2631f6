"""Hostile input against the real app: what each attack costs the server and the other users.

Starts ``python webapp/app.py`` (its own GRADIO_TEMP_DIR and TMPDIR under a temp folder, SLAM_MAX_UPLOAD
50 MB) and drives it only over HTTP. A victim session loads a bundled example and keeps changing slices
the way the browser does (a direct POST to ``/gradio_api/run/show_slice``) for the whole run. Then, one
after another:

- each file of ``tests/hostile_inputs.py`` uploaded through Gradio's upload route and opened
  (``/open_files``), repeated back to back for ``--window`` seconds so the victim's latency is measured
  while the server is busy with it;
- a client naming the Gradio temp folder, another user's upload folder and the victim's rendered slice;
- one request carrying two files over the upload cap together (each under it);
- ``--sessions`` requests with made-up session hashes (folders created, RSS growth);
- one session firing ``--detections`` detections at once (how many run, how fast the rest are refused).

For each: time to refusal (s), the refusal text, the app's peak RSS above its level before the input
(VmHWM after resetting it through /proc/PID/clear_refs), disk used under the app's temp folders (the peak
and what is left after; the victim's own rendered slices excluded), and the victim's slice change p50/p95
against its idle p95 over the same time just before that input (other jobs on a shared machine move the
baseline), and the app's CPU per attack. Then, on a fresh app, the two scale targets: ``--scale-sessions``
sessions (threads, each its own ``gradio_client``) loading an example and scrolling at once, through the
client and then as the browser sends slice changes, and ``--loads`` sequential loads (RSS before/after).

Run from the repository root: ``PYTHONPATH=. python bench/bench_hostile.py [--quick] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import hostile_inputs as hostile  # noqa: E402
from tests.test_security import call, file_data, tab, upload  # noqa: E402
from tests.webapp_support import AppServer, write_study  # noqa: E402

TARGETS = {"refusal_s": 2.0, "extra_rss_mb": 100.0, "disk_mb": 10.0, "p95_ratio": 2.0, "rss_growth_pct": 10.0}
EXAMPLES = ["DBT-P00101 lcc", "DBT-P00102 rcc", "DBT-P00103 lmlo", "DBT-P00104 rmlo", "DBT-P00105 rcc"]
MB = 1e6


def view_args(slice_number: int) -> list:
    """show_slice's inputs: slice (1-based), source, centre, width, invert, zoom, pan x, pan y, overlay,
    threshold, de-identify."""
    return [slice_number, "Original", 1600, 2400, False, 1, 0.5, 0.5, True, 0.5, False]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def proc_kib(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` field in KiB (VmRSS: resident now, VmHWM: resident peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (/proc/PID/stat), in s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux ≥ 4.0, our own child); False when refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def disk_bytes(roots: list[Path], exclude: Path | None = None) -> int:
    """Bytes allocated on disk (st_blocks, so sparse files count what they use) under ``roots``."""
    total = 0
    stack = [r for r in roots if r.exists()]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # removed meanwhile
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if exclude is None or Path(entry.path) != exclude:
                        stack.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


class Probe:
    """The app's peak RSS and the disk used under its temp folders between :meth:`start` and :meth:`stop`."""

    def __init__(self, pid: int, roots: list[Path], exclude: Path | None, period_s: float = 0.02):
        self.pid, self.roots, self.exclude, self.period_s = pid, roots, exclude, period_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.rss0 = proc_kib(self.pid, "VmRSS")
        self.cpu0 = cpu_seconds(self.pid)
        self.hwm_reset = reset_peak(self.pid)
        self.disk0 = disk_bytes(self.roots, self.exclude)
        self.rss_max, self.disk_max = self.rss0, self.disk0
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.rss_max = max(self.rss_max, proc_kib(self.pid, "VmRSS"))
            self.disk_max = max(self.disk_max, disk_bytes(self.roots, self.exclude))
            self._stop.wait(self.period_s)

    def stop(self) -> dict:
        """rss_before_mb, peak_rss_mb, extra_rss_mb, disk_max_mb (above the start), disk_left_mb, app_cpu_s
        (the app's CPU time in the window, the victim's slice changes included)."""
        self._stop.set()
        self._thread.join()
        peak = max(self.rss_max, proc_kib(self.pid, "VmHWM") if self.hwm_reset else 0)
        left = disk_bytes(self.roots, self.exclude)
        return {"app_cpu_s": round(cpu_seconds(self.pid) - self.cpu0, 2),"rss_before_mb": round(self.rss0 * 1024 / MB), "peak_rss_mb": round(peak * 1024 / MB),
                "extra_rss_mb": round((peak - self.rss0) * 1024 / MB, 1),
                "disk_max_mb": round(max(self.disk_max, left) / MB - self.disk0 / MB, 2),
                "disk_left_mb": round((left - self.disk0) / MB, 2)}


class Scroller:
    """The victim: a session with a loaded study changing slices one after another, as fast as it can.

    Each change is the browser's direct POST to ``/gradio_api/run/show_slice``; a change counts as lost
    when the answer is not the victim's own study.
    """

    def __init__(self, url: str, session: str, depth: int, patient_id: str):
        self.url, self.session, self.depth, self.patient_id = url, session, depth, patient_id
        self.samples: list[tuple[float, float, bool]] = []  # (start, latency s, own study shown)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            k = 0
            while not self._stop.is_set():
                k = k % self.depth + 1
                body = {"data": view_args(k), "session_hash": self.session}
                t0 = time.perf_counter()
                try:
                    response = client.post("gradio_api/run/show_slice", json=body)
                    html = response.json()["data"][0] if response.status_code == 200 else ""
                except (httpx.HTTPError, ValueError, KeyError):
                    html = ""
                self.samples.append((t0, time.perf_counter() - t0, f"ID {self.patient_id}" in html))

    def window(self, start: float, end: float) -> dict:
        """Latency (ms) of the changes begun in [start, end]: n, p50, p95, lost (answers not its study)."""
        inside = [(lat, ok) for t0, lat, ok in list(self.samples) if start <= t0 <= end]
        latencies = [lat * 1000 for lat, _ in inside]
        return {"n": len(latencies), "p50_ms": round(percentile(latencies, 50), 1),
                "p95_ms": round(percentile(latencies, 95), 1), "lost": sum(not ok for _, ok in inside)}


def progress(row: dict) -> None:
    """One line per measured input while the run goes on (the table comes at the end)."""
    print(f"  {row['input']}: {row['runs']} runs, max {row['refusal_s_max']} s", flush=True)


def one_line(text: object, width: int = 150) -> str:
    """The refusal as shown (first line, at most ``width`` characters), flagged when it had more lines."""
    text = str(text)
    first = text.splitlines()[0] if text else ""
    return (first[:width] + (" [+more lines]" if "\n" in text else "")) or "(empty)"


def idle_before(victim: Scroller, seconds: float) -> dict:
    """The victim's latency over ``seconds`` of nothing else: each input is compared with the idle just
    before it, since other jobs on a shared machine change the baseline from minute to minute."""
    start = time.perf_counter()
    time.sleep(seconds)
    return victim.window(start, time.perf_counter())


def measure(name: str, attack: Callable[[], tuple[str, object]], probe: Probe, victim: Scroller,
            min_window_s: float, repeat: bool = True) -> dict:
    """Run ``attack`` (-> (outcome, message)) once, or back to back for ``min_window_s`` when ``repeat``."""
    idle = idle_before(victim, min_window_s)
    probe.start()
    start = time.perf_counter()
    times, outcomes = [], []
    while True:
        t0 = time.perf_counter()
        outcomes.append(attack())
        times.append(time.perf_counter() - t0)
        if not repeat or time.perf_counter() - start >= min_window_s:
            break
    end = time.perf_counter()
    row = {"input": name, "runs": len(times), "refusal_s_max": round(max(times), 3),
           "refusal_s_median": round(statistics.median(times), 3),
           "outcomes": sorted({kind for kind, _ in outcomes}), "refusal": one_line(outcomes[0][1]),
           "accepted": sum(kind in ("complete", "stored") for kind, _ in outcomes),
           "multi_line": any("\n" in str(m) for _, m in outcomes), **probe.stop(), "victim": victim.window(start, end),
           "victim_idle": idle}
    return row


def open_upload(url: str, path: Path, session: str) -> Callable[[], tuple[str, object]]:
    """Upload ``path`` through Gradio's route, then ask ``/open_files`` to load it, from one tab (the
    uploader cookie the upload got comes back with the load, as a browser's does)."""
    def attack():
        with tab(url) as client:
            try:
                (stored,) = upload(client, path)
            except httpx.HTTPStatusError as exc:
                return f"http {exc.response.status_code}", exc.response.text
            return call(client, "open_files", [[file_data(stored)], False], session=session)

    return attack


def open_path(url: str, path: str, session: str) -> Callable[[], tuple[str, object]]:
    """Name ``path`` (not uploaded by this client) in ``/open_files``."""
    return lambda: call(url, "open_files", [[file_data(path)], False], session=session)


def over_cap(url: str, paths: list[Path]) -> Callable[[], tuple[str, object]]:
    """One upload request carrying all of ``paths``."""
    def attack():
        try:
            stored = upload(url, *paths)
        except httpx.HTTPStatusError as exc:
            return f"http {exc.response.status_code}", exc.response.text
        return "stored", f"{len(stored)} files stored"

    return attack


def session_flood(url: str, n: int, session_root: Path, server: AppServer, probe: Probe, victim: Scroller) -> dict:
    """``n`` slice requests, each with a new session hash (4 clients at once, direct POSTs)."""
    folders0 = sum(1 for _ in session_root.iterdir())
    rss0 = server.rss_bytes()
    outcomes: list[str] = []
    times: list[float] = []
    idle = idle_before(victim, 3.0)

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(offset, n, 4):
                t0 = time.perf_counter()
                response = client.post("gradio_api/run/show_slice",
                                       json={"data": view_args(3), "session_hash": f"made-up-{i:06d}"})
                times.append(time.perf_counter() - t0)
                html = response.json().get("data", [""])[0] if response.status_code == 200 else ""
                outcomes.append("empty view" if "Open a study" in html else f"http {response.status_code}")

    probe.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, range(4)))
    end = time.perf_counter()
    folders = sum(1 for _ in session_root.iterdir()) - folders0
    row = {"input": f"{n} new session hashes", "runs": n, "refusal_s_max": round(max(times), 3),
           "refusal_s_median": round(statistics.median(times), 4), "total_s": round(end - start, 2),
           "outcomes": sorted(set(outcomes)), "accepted": folders,
           "refusal": f"{outcomes.count('empty view')}/{n} answered the empty view; "
                      f"{folders} session folders created, {end - start:.1f} s in all",
           "multi_line": False, **probe.stop(), "victim": victim.window(start, end),
           "rss_growth_mb": round((server.rss_bytes() - rss0) / MB, 1), "folders_created": folders,
           "victim_idle": idle}
    return row


def fn_index(url: str, api_name: str) -> int:
    """The event id the browser sends for the event named ``api_name`` (from the app's /config)."""
    config = httpx.get(url + "config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def burst(url: str, api_name: str, session: str, n: int, data: list | None = None) -> list[tuple[str, object, float]]:
    """``n`` events of one session, sent the way the browser sends them: ``n`` queue joins back to back,
    then the session's one message stream. Returns (outcome, message, seconds from the first join), and
    ('joined', '', seconds) when the last join was answered.

    (Gradio streams a session's messages to whichever stream of that session reads first, and
    ``/call/<api>/<id>`` ends only when all of the session's events are done: n concurrent ``/call`` requests
    of one session would all wait for the slowest and could get each other's results.)
    """
    body = {"data": data or [], "fn_index": fn_index(url, api_name), "session_hash": session, "event_data": None,
            "trigger_id": None}
    results, pending = [], set()
    with httpx.Client(base_url=url, timeout=httpx.Timeout(60, read=600)) as client:
        start = time.perf_counter()
        for _ in range(n):
            response = client.post("gradio_api/queue/join", json=body)
            if response.status_code == 200:
                pending.add(response.json()["event_id"])
            else:
                results.append((f"http {response.status_code}", response.text, time.perf_counter() - start))
        results.append(("joined", "", time.perf_counter() - start))
        with client.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed" and message.get("event_id") in pending:
                    pending.discard(message["event_id"])
                    output = message.get("output") or {}
                    results.append(("complete" if message.get("success") else "error",
                                    output.get("data") if message.get("success") else output.get("error"),
                                    time.perf_counter() - start))
                if not pending or message.get("msg") == "close_stream":
                    break
    return results + [("no answer", "", float("nan"))] * len(pending)


def detection_flood(url: str, n: int, session: str, probe: Probe, victim: Scroller) -> dict:
    """One session (a study loaded) sends ``n`` detections at once."""
    kind, _ = call(url, "load_example", [EXAMPLES[1], False], session=session)
    if kind != "complete":
        raise RuntimeError(f"the detection session could not load an example ({kind})")
    t = time.perf_counter()  # one detection first: importing torch and loading the model is not the flood's cost
    kind, _ = call(url, "detect", [True], session=session)
    first = time.perf_counter() - t
    idle = idle_before(victim, 3.0)
    probe.start()
    start = time.perf_counter()
    results = burst(url, "detect", session, n, [True])
    end = time.perf_counter()
    joined = next(t for kind, _, t in results if kind == "joined")
    results = [r for r in results if r[0] != "joined"]
    ran = [t for kind, _, t in results if kind == "complete"]
    refused = [(m, t) for kind, m, t in results if kind != "complete"]
    messages = sorted({one_line(m, 90) for m, _ in refused})
    return {"input": f"{n} detections at once, one session", "runs": n,
            "refusal_s_max": round(max((t for _, t in refused), default=float("nan")), 3),
            "refusal_s_median": round(statistics.median([t for _, t in refused]), 3) if refused else float("nan"),
            "outcomes": sorted({kind for kind, _, _ in results}),
            "refusal": f"{len(ran)} ran ({', '.join(f'{t:.1f}' for t in ran)} s), {len(refused)} refused: "
                       + " | ".join(messages),
            "multi_line": any("\n" in str(m) for m, _ in refused), "detections_ran": len(ran),
            "detection_s": [round(t, 2) for t in ran], "joins_s": round(joined, 3), "victim_idle": idle,
            "first_detection_s": round(first, 2), "first_detection": kind, **probe.stop(), "victim": victim.window(start, end)}


def hostile_section(args: argparse.Namespace, base: Path) -> dict:
    """The attacks, one after another, against one app with a scrolling victim."""
    inputs = base / "inputs"
    inputs.mkdir()
    gradio_dir, tmp_dir = base / "gradio", base / "tmp"
    tmp_dir.mkdir()
    t = time.perf_counter()
    files = {
        "zip bomb (2 MB → 2 GiB of zeros)": hostile.zip_bomb(inputs),
        "npz bomb (1.5 MB → 1.5 GiB array)": hostile.npz_bomb(inputs),
        "zip of 200 × 1 MiB zero members": hostile.zip_of_junk(inputs),
        "8 MiB of zeros, no preamble": hostile.preambleless_junk(inputs),
        "header flood (500 000 elements)": hostile.element_flood(inputs),
        "5000 nested sequences": hostile.nested_sequences(inputs),
        "JPEG-LS declaring 20 × 8192²": hostile.huge_declared_jpegls(inputs),
    }
    bystander_file = write_study(inputs / "bystander.dcm", depth=12, height=64, width=48, patient="BYSTANDER^ONE",
                                 patient_id="BYST01")
    halves = []
    for name in ("half1.dcm", "half2.dcm"):  # each under the 50 MB cap, together over it (sparse: no disk)
        halves.append(inputs / name)
        with open(halves[-1], "wb") as handle:
            handle.truncate(30_000_000)
    print(f"hostile files made in {time.perf_counter() - t:.1f} s: "
          + ", ".join(f"{p.name} {p.stat().st_size / MB:.2f} MB" for p in files.values()))

    server = AppServer({"GRADIO_TEMP_DIR": str(gradio_dir), "TMPDIR": str(tmp_dir), "SLAM_MAX_UPLOAD": "50mb",
                        "SLAM_APP_LOG": str(base / "app.log")})
    rows = []

    def add(row: dict) -> None:
        rows.append(row)
        progress(row)

    try:
        kind, loaded = call(server.url, "load_example", [EXAMPLES[0], False], session="victim")
        if kind != "complete":
            raise RuntimeError(f"the victim could not load {EXAMPLES[0]}: {loaded}")
        depth = int(re.search(r"(\d+) slices", loaded[0]).group(1))
        victim_dir = Path(re.search(r"file=([^\"]+)/view/", loaded[11]).group(1))
        kind, sitting = call(server.url, "load_example", [EXAMPLES[2], False], session="sitter")  # loaded, idle
        sitter_view = Path(re.search(r"file=([^\"]+)\"", sitting[11]).group(1))
        victim = Scroller(server.url, "victim", depth, "DBT-P00101")
        cpu0 = cpu_seconds(server.process.pid)
        victim.start()
        time.sleep(args.idle)
        idle = victim.window(0, time.perf_counter())
        idle["app_cpu_ms_per_change"] = round(1000 * (cpu_seconds(server.process.pid) - cpu0) / max(idle["n"], 1), 2)
        print(f"victim idle: {idle['n']} slice changes, p50 {idle['p50_ms']} ms, p95 {idle['p95_ms']} ms")
        probe = Probe(server.process.pid, [gradio_dir, tmp_dir], victim_dir)

        for name, path in files.items():
            add(measure(name, open_upload(server.url, path, "attacker"), probe, victim, args.window))
        (bystander,) = upload(server.url, bystander_file)  # another user's upload, not opened yet
        outside = ROOT / "examples" / "Breast-Cancer-Screening-DBT"
        for name, target in (("path: the Gradio temp folder", str(gradio_dir)),
                             ("path: another user's upload folder", str(Path(bystander).parent)),
                             ("path: another session's rendered slice", str(sitter_view)),
                             ("path: a study folder outside the cache", str(outside))):
            add(measure(name, open_path(server.url, target, "attacker"), probe, victim, args.window))
            rows[-1]["others_files_intact"] = Path(bystander).is_file() and sitter_view.is_file()
        add(measure("two 30 MB files in one upload (cap 50 MB)", over_cap(server.url, halves), probe, victim,
                            args.window))
        add(session_flood(server.url, args.sessions, gradio_dir / "slam-sessions", server, probe, victim))
        add(detection_flood(server.url, args.detections, "detector", probe, victim))
        idle_after = idle_before(victim, args.idle)
        victim.stop()
        alive = server.process.poll() is None
    finally:
        server.stop()
    log = (base / "app.log").read_text(errors="replace")
    return {"victim_idle": idle, "victim_idle_after": idle_after, "rows": rows, "app_alive": alive,
            "log_has_phi": bool(re.search(r"BYSTANDER|BYST01|DBT-P001", log)),
            "log_tracebacks": log.count("Traceback")}


def scroll_session(url: str, example: str, changes: int, barrier: threading.Barrier) -> dict:
    """One user with its own gradio_client: load ``example``, then ``changes`` slice changes through the
    client, then ``changes`` more as the browser sends them (direct POSTs with the client's session hash).

    A failed load is reported (not raised), after the barrier, so the other sessions still scroll together.
    """
    from gradio_client import Client

    latencies, lost, error = [], 0, ""
    client = None
    try:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})  # the default 5 s is short on a busy machine
        loaded = client.predict(example, False, api_name="/load_example")
        depth = int(re.search(r"(\d+) slices", loaded[0]).group(1))
    except Exception as exc:  # noqa: BLE001 - any failure to open is this session's result
        error, depth = f"load failed: {one_line(exc, 120)}", 0
    barrier.wait(timeout=300)  # everyone scrolls at once
    patient = example.split()[0]
    for i in range(changes if depth else 0):
        t0 = time.perf_counter()
        try:
            html = client.predict(*view_args(i % depth + 1), api_name="/show_slice")
        except Exception as exc:  # noqa: BLE001 - an evicted study is an error here; count it
            html = str(exc)
        latencies.append((time.perf_counter() - t0) * 1000)
        lost += f"ID {patient}" not in html
    barrier.wait(timeout=300)  # then all again, the way the browser sends a slice change (a direct POST)
    direct = []
    with httpx.Client(base_url=url, timeout=120) as raw:
        for i in range(changes if depth else 0):
            body = {"data": view_args(i % depth + 1), "session_hash": client.session_hash}
            t0 = time.perf_counter()
            response = raw.post("gradio_api/run/show_slice", json=body)
            direct.append((time.perf_counter() - t0) * 1000)
            lost += response.status_code != 200 or f"ID {patient}" not in response.json()["data"][0]
    if client is not None:
        client.close()
    return {"example": example, "latencies_ms": latencies, "direct_ms": direct, "lost": lost, "error": error}


def scale_section(args: argparse.Namespace, base: Path) -> dict:
    """A fresh app: N sessions scrolling at once, then sequential loads (RSS before/after)."""
    server = AppServer({"GRADIO_TEMP_DIR": str(base / "gradio2"), "TMPDIR": str(base / "tmp"),
                        "SLAM_APP_LOG": str(base / "app2.log")})
    try:
        n = args.scale_sessions
        barrier = threading.Barrier(n)
        with ThreadPoolExecutor(n) as pool:
            sessions = list(pool.map(lambda i: scroll_session(server.url, EXAMPLES[i % len(EXAMPLES)], args.changes,
                                                              barrier), range(n)))
        every = [lat for s in sessions for lat in s["latencies_ms"]]
        direct = [lat for s in sessions for lat in s["direct_ms"]]
        concurrent = {"sessions": n, "changes_each": args.changes, "lost_changes": sum(s["lost"] for s in sessions),
                      "sessions_that_lost_their_study": sum(s["lost"] > 0 for s in sessions),
                      "loads_failed": [s["error"] for s in sessions if s["error"]],
                      "p50_ms": round(percentile(every, 50), 1), "p95_ms": round(percentile(every, 95), 1),
                      "direct_p50_ms": round(percentile(direct, 50), 1),
                      "direct_p95_ms": round(percentile(direct, 95), 1),
                      "worst_session_p95_ms": round(max((percentile(s["latencies_ms"], 95) for s in sessions if s["latencies_ms"]),
                                                          default=math.nan), 1)}

        for i, example in enumerate(EXAMPLES):  # warm-up: one load of each, so decoders and caches exist
            call(server.url, "load_example", [example, False], session=f"loader{i % 3}")
        time.sleep(1)
        rss_before = server.rss_bytes()
        t = time.perf_counter()
        failed, trend = 0, []
        for i in range(args.loads):
            kind, _ = call(server.url, "load_example", [EXAMPLES[i % len(EXAMPLES)], False], session=f"loader{i % 3}")
            failed += kind != "complete"
            trend.append(round(server.rss_bytes() / MB))
        seconds = time.perf_counter() - t
        time.sleep(1)
        rss_after = server.rss_bytes()
        loads = {"loads": args.loads, "sessions": 3, "failed": failed, "seconds": round(seconds, 1),
                 "rss_before_mb": round(rss_before / MB), "rss_after_mb": round(rss_after / MB),
                 "growth_pct": round(100 * (rss_after - rss_before) / rss_before, 1), "rss_after_each_mb": trend}
    finally:
        server.stop()
    return {"concurrent": concurrent, "sequential_loads": loads}


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_hostile(hostile_figures: dict) -> None:
    """Print the table of the attacks' figures with their targets (and mark each row's misses)."""
    idle_p95 = hostile_figures["victim_idle"]["p95_ms"]
    print(f"\nvictim idle p95 {idle_p95} ms (after the attacks: {hostile_figures['victim_idle_after']['p95_ms']} ms); "
          f"targets: refusal ≤ {TARGETS['refusal_s']} s, extra RSS ≤ {TARGETS['extra_rss_mb']:.0f} MB, "
          f"disk ≤ {TARGETS['disk_mb']:.0f} MB, victim p95 ≤ {TARGETS['p95_ratio']:.0f} × its idle p95 just before")
    per_change = hostile_figures["victim_idle"].get("app_cpu_ms_per_change", 0) / 1000
    header = (f"{'input':44} {'runs':>5} {'refusal s':>10} {'CPU s/run':>9} {'+RSS MB':>8} {'disk max/left MB':>17} "
              f"{'victim p50/p95 ms':>18} {'idle p95':>8} {'× idle':>7}  verdict")
    print(header)
    print("-" * len(header))
    for row in hostile_figures["rows"]:
        v = row["victim"]
        local = row["victim_idle"]["p95_ms"]
        ratio = v["p95_ms"] / local if local else float("nan")
        # The app's CPU per attack: its CPU in the window less what the victim's changes cost when idle.
        row["attack_cpu_s_per_run"] = round(max(row["app_cpu_s"] - v["n"] * per_change, 0) / row["runs"], 3)
        misses = [name for name, ok in (("time", row["refusal_s_max"] <= TARGETS["refusal_s"]),
                                        ("RSS", row["extra_rss_mb"] <= TARGETS["extra_rss_mb"]),
                                        ("disk", max(row["disk_max_mb"], row["disk_left_mb"]) <= TARGETS["disk_mb"]),
                                        ("victim", ratio <= TARGETS["p95_ratio"] and v["lost"] == 0),
                                        ("one line", not row["multi_line"]),
                                        ("accepted", row.get("accepted", 0) == 0),
                                        ("deleted", row.get("others_files_intact", True))) if not ok]
        row["missed"] = misses
        print(f"{row['input'][:44]:44} {row['runs']:>5} {row['refusal_s_max']:>10.3f} "
              f"{row['attack_cpu_s_per_run']:>9.3f} {row['extra_rss_mb']:>8.1f} "
              f"{row['disk_max_mb']:>8.2f}/{row['disk_left_mb']:<8.2f} {v['p50_ms']:>8.1f}/{v['p95_ms']:<9.1f} "
              f"{local:>8.1f} {ratio:>7.2f}  {'MISSED ' + ', '.join(misses) if misses else 'ok'}")
        print(f"    → {row['refusal']}")
    print(f"app alive after the attacks: {hostile_figures['app_alive']}; patient data in the app log: "
          f"{hostile_figures['log_has_phi']}; tracebacks in the log: {hostile_figures['log_tracebacks']}")


def report_scale(scale: dict) -> None:
    """Print the two scale targets."""
    c, s = scale["concurrent"], scale["sequential_loads"]
    print(f"\n{c['sessions']} sessions scrolling at once ({c['changes_each']} changes each, gradio_client): "
          f"{c['sessions_that_lost_their_study']} lost their study (target 0: "
          f"{verdict(c['sessions_that_lost_their_study'] == 0)}); slice change p50 {c['p50_ms']} ms, "
          f"p95 {c['p95_ms']} ms, worst session's p95 {c['worst_session_p95_ms']} ms; as the browser sends them "
          f"(direct POST): p50 {c['direct_p50_ms']} ms, p95 {c['direct_p95_ms']} ms"
          + (f"; loads failed: {'; '.join(c['loads_failed'])}" if c["loads_failed"] else ""))
    print(f"{s['loads']} sequential loads in {s['sessions']} sessions ({s['seconds']} s, {s['failed']} failed): "
          f"RSS {s['rss_before_mb']} → {s['rss_after_mb']} MB, growth {s['growth_pct']} % "
          f"(target ≤ {TARGETS['rss_growth_pct']:.0f} %: {verdict(s['growth_pct'] <= TARGETS['rss_growth_pct'])}); "
          f"RSS after every 5th load: {s['rss_after_each_mb'][4::5]} MB")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows and fewer requests")
    parser.add_argument("--part", choices=("all", "hostile", "scale"), default="all")
    parser.add_argument("--window", type=float, default=3.0, help="s each file attack is repeated for")
    parser.add_argument("--idle", type=float, default=4.0, help="s of victim scrolling measured idle")
    parser.add_argument("--sessions", type=int, default=2000, help="requests with made-up session hashes")
    parser.add_argument("--detections", type=int, default=20, help="detections one session fires at once")
    parser.add_argument("--scale-sessions", type=int, default=8, help="sessions scrolling at once")
    parser.add_argument("--changes", type=int, default=40, help="slice changes per scrolling session")
    parser.add_argument("--loads", type=int, default=30, help="sequential loads")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.window, args.idle, args.sessions, args.changes = 1.5, 2.0, 300, 20
    figures = {"uptime_start": uptime(), "args": {k: str(v) for k, v in vars(args).items()}, "targets": TARGETS}
    print(f"start: {figures['uptime_start']}")
    with tempfile.TemporaryDirectory(prefix="slam-bench-hostile-") as tmp:
        if args.part in ("all", "hostile"):
            figures["hostile"] = hostile_section(args, Path(tmp))
            report_hostile(figures["hostile"])
            save(args.json, figures)
        if args.part in ("all", "scale"):
            figures["scale"] = scale_section(args, Path(tmp))
            report_scale(figures["scale"])
    figures["uptime_end"] = uptime()
    print(f"end: {figures['uptime_end']}")
    save(args.json, figures)
    return 0


def save(path: Path | None, figures: dict) -> None:
    """Write ``figures`` as JSON (after each part, so a later failure keeps what was measured)."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
