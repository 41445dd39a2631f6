"""Shared by the web app tests and the benchmark: small DICOM studies and a real app server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from slam.io import LoadLimits, write_volume_dicom
from webapp import loading
from webapp.state import SessionStore

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def breast_volume(depth: int, height: int, width: int, seed: int, laterality: str = "L") -> np.ndarray:
    """(D, H, W) uint16: a half-ellipse 'breast' against the chest wall with texture and one bright mass.

    Built per slice in float32 (never a float64 volume) so it also serves full-size benchmarks.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    x_from_wall = xx if laterality == "L" else (width - 1 - xx)
    inside = (x_from_wall / (0.8 * width)) ** 2 + ((yy - height / 2) / (0.45 * height)) ** 2 < 1
    base = np.where(inside, 1200 + 600 * np.cos(yy / 37.0) * np.sin(x_from_wall / 53.0), 80).astype(np.float32)
    mass_y, mass_x, mass_z = height * rng.uniform(0.35, 0.65), width * rng.uniform(0.25, 0.45), depth * 0.5
    if laterality != "L":
        mass_x = width - 1 - mass_x
    radius = 0.06 * min(height, width)
    volume = np.empty((depth, height, width), np.uint16)
    blob = np.exp(-(((yy - mass_y) ** 2 + (xx - mass_x) ** 2) / (2 * radius**2)))
    for k in range(depth):
        noise = rng.normal(0, 40, (height, width)).astype(np.float32)
        weight = np.exp(-(((k - mass_z) / max(depth / 6, 1)) ** 2))
        volume[k] = np.clip(base + noise + 1500 * weight * blob * inside, 0, 4095).astype(np.uint16)
    return volume


def write_study(path: Path, depth: int = 20, height: int = 256, width: int = 200, seed: int = 0,
                patient: str = "DOE^JANE", patient_id: str = "P0001", laterality: str = "L") -> Path:
    """A multi-frame Breast Tomosynthesis DICOM of :func:`breast_volume` with the given patient."""
    volume = breast_volume(depth, height, width, seed, laterality)
    return write_volume_dicom(path, volume, laterality=laterality, view="CC", window_center=1600,
                              window_width=2400, bits_stored=12, patient_name=patient, patient_id=patient_id,
                              patient_sex="F")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """``python webapp/app.py`` in a subprocess on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self, env: dict[str, str] | None = None, timeout: float = 90.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        full_env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(self.port),
                    "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
        self.log_path = Path(full_env.get("SLAM_APP_LOG", os.devnull))
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen([sys.executable, str(ROOT / "webapp" / "app.py")], cwd=ROOT, env=full_env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"the app did not answer on {self.url} within {timeout:.0f} s")

    def rss_bytes(self) -> int:
        """Resident memory of the app process (Linux /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def open_study(store: SessionStore, key: str, source, label: str = "x") -> str:
    """Load ``source`` (a path or a list of paths) into session ``key`` as the app does; the app's status line."""
    paths = [Path(p) for p in source] if isinstance(source, (list, tuple)) else Path(source)
    source = paths[0] if isinstance(paths, list) and len(paths) == 1 else paths
    _, study = loading.open_into(store, key, source, label, LoadLimits())
    return f"Loaded {label}: {study.depth} slices of {study.height} × {study.width}"
