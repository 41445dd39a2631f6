"""Hostile inputs (issue 9): each is a one-line SlamError in <= 2 s, <= 100 MB extra RSS and <= 10 MB written.

All inputs are loaded in one child process, so that its peak RSS (VmHWM, reset between inputs through
/proc/self/clear_refs) and the bytes it writes (wchar in /proc/self/io) belong to the loads alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_inputs import (
    element_flood,
    huge_declared_jpegls,
    nested_sequences,
    npz_bomb,
    preambleless_junk,
    zip_bomb,
    zip_of_junk,
)

MAX_SECONDS, MAX_EXTRA_RSS_MB, MAX_WRITTEN_MB = 2.0, 100.0, 10.0
MAKERS = {
    "zip_bomb": zip_bomb,
    "npz_bomb": npz_bomb,
    "zip_of_junk": zip_of_junk,
    "preambleless_junk": preambleless_junk,
    "element_flood": element_flood,
    "nested_sequences": nested_sequences,
    "huge_declared_jpegls": huge_declared_jpegls,
}

CHILD = r"""
import inspect, json, signal, sys, time
from slam.errors import SlamError
from slam.io import load_study

def status_kb(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key))

def written():
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar"))

def give_up(*_):
    raise TimeoutError

signal.signal(signal.SIGALRM, give_up)
scratch, cases = sys.argv[1], json.loads(sys.argv[2])
keywords = {"scratch_dir": scratch} if "scratch_dir" in inspect.signature(load_study).parameters else {}
results = {}
for name, path in cases.items():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current RSS
    rss, wrote, start = status_kb("VmRSS"), written(), time.perf_counter()
    signal.alarm(20)
    try:
        load_study(path, **keywords)
        outcome, message = "loaded", ""
    except SlamError as exc:
        outcome, message = "SlamError", str(exc)
    except TimeoutError:
        outcome, message = "timeout", "still running after 20 s"
    except BaseException as exc:
        outcome, message = type(exc).__name__, str(exc)[:200]
    signal.alarm(0)
    results[name] = {"outcome": outcome, "message": message, "seconds": time.perf_counter() - start,
                     "extra_rss_mb": (status_kb("VmHWM") - rss) / 1024, "written_mb": (written() - wrote) / 2**20}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> tuple[dict, Path]:
    folder, scratch = tmp_path_factory.mktemp("hostile"), tmp_path_factory.mktemp("scratch")
    cases = {name: str(make(folder)) for name, make in MAKERS.items()}
    result = subprocess.run([sys.executable, "-c", CHILD, str(scratch), json.dumps(cases)], capture_output=True,
                            text=True, timeout=300, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1]), scratch


@pytest.mark.parametrize("name", list(MAKERS))
def test_hostile_input_is_refused_fast_and_cheaply(measured, name):
    results, scratch = measured
    figures = results[name]
    assert figures["outcome"] == "SlamError", figures
    assert "\n" not in figures["message"] and len(figures["message"]) < 300
    assert figures["seconds"] <= MAX_SECONDS, figures
    assert figures["extra_rss_mb"] <= MAX_EXTRA_RSS_MB, figures
    assert figures["written_mb"] <= MAX_WRITTEN_MB, figures
    assert not any(scratch.iterdir()), "the scratch folder must be empty after every load"
