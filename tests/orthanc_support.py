"""A real Orthanc PACS with its DICOMweb plugin for the tests: loopback only, throw-away storage.

``OrthancServer`` starts ``Orthanc`` (Debian packages ``orthanc`` and ``orthanc-dicomweb``) on a free
loopback HTTP port with the DICOM (DIMSE) port disabled and basic auth on; :func:`pacs` is the
session fixture that starts one, fills it with two small phantom studies and stops it after.
Skipped when Orthanc is missing, unless ``SLAM_REQUIRE_PACS=1`` (CI), where that fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN_DIRS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc")
USER, PASSWORD = "slam", "slam-test-password"


def dicomweb_plugin() -> Path | None:
    """The DICOMweb plugin's shared library, or None when it is not installed."""
    for folder in PLUGIN_DIRS:
        for candidate in sorted(Path(folder).glob("libOrthancDicomWeb.so*")):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OrthancServer:
    """One Orthanc process; ``url`` is its DICOMweb root, ``rest`` its REST API root."""

    def __init__(self, folder: Path, auth: bool = True):
        self.folder = folder
        self.port = free_port()
        self.rest = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.rest}/dicom-web"
        self.auth = (USER, PASSWORD) if auth else None
        config = {
            "Name": "SLAM-TEST",
            "StorageDirectory": str(folder / "storage"),
            "IndexDirectory": str(folder / "storage"),
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": auth,
            "RegisteredUsers": {USER: PASSWORD} if auth else {},
            "Plugins": [str(dicomweb_plugin())],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "StableAge": 1,
        }
        (folder / "orthanc.json").write_text(json.dumps(config, indent=1))
        with open(folder / "orthanc.log", "wb") as log:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen([ORTHANC, str(folder / "orthanc.json")], cwd=folder,
                                            stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({self.process.returncode}); see {self.folder / 'orthanc.log'}")
            try:
                if requests.get(f"{self.rest}/system", auth=self.auth, timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer on port {self.port} within {timeout:.0f} s")

    def instance_count(self) -> int:
        return int(requests.get(f"{self.rest}/statistics", auth=self.auth, timeout=5).json()["CountInstances"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def pacs_available() -> str | None:
    """None when a PACS can be started here, else the reason it cannot."""
    if not Path(ORTHANC).exists():
        return f"{ORTHANC} is missing (Debian package 'orthanc')"
    if dicomweb_plugin() is None:
        return f"no libOrthancDicomWeb.so under {' or '.join(PLUGIN_DIRS)} (Debian package 'orthanc-dicomweb')"
    return None


def start_or_skip(folder: Path, auth: bool = True) -> OrthancServer:
    reason = pacs_available()
    if reason:
        if os.environ.get("SLAM_REQUIRE_PACS") == "1":
            pytest.fail(f"{reason} and SLAM_REQUIRE_PACS=1")
        pytest.skip(reason)
    return OrthancServer(folder, auth=auth)


@dataclass
class PacsStudy:
    """A study uploaded to the test PACS and the file it came from."""

    path: Path
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    accession: str
    transfer_syntax: str


@dataclass
class Pacs:
    server: OrthancServer
    studies: list[PacsStudy] = field(default_factory=list)


# (seed, transfer syntax, accession): two small studies, one uncompressed and one JPEG 2000.
_STUDIES = ((11, "explicit", "ACC-0011"), (12, "jpeg2000", "ACC-0012"))


@pytest.fixture(scope="session")
def pacs() -> Iterator[Pacs]:
    """A running Orthanc (basic auth USER/PASSWORD) holding two small (12 x 384 x 320) phantom studies."""
    import pydicom
    from dicomweb_client.api import DICOMwebClient
    from dicomweb_client.session_utils import create_session_from_user_pass

    from slam.io import write_volume_dicom
    from slam.phantom import generate_study
    from slam.phantom.dataset import dicom_meta

    folder = Path(tempfile.mkdtemp(prefix="slam-orthanc-"))
    server = start_or_skip(folder)
    try:
        client = DICOMwebClient(server.url, session=create_session_from_user_pass(*server.auth))
        result = Pacs(server)
        for seed, syntax, accession in _STUDIES:
            phantom = generate_study(seed, "small", depth=12)
            meta = dicom_meta(phantom)
            path = write_volume_dicom(folder / f"study-{seed}.dcm", phantom.volume, transfer_syntax=syntax,
                                      accession_number=accession, **meta)
            client.store_instances([pydicom.dcmread(path)])  # STOW-RS, as a modality would
            result.studies.append(PacsStudy(path, phantom.patient_id, meta["study_uid"], meta["series_uid"],
                                            meta["sop_instance_uid"], accession, syntax))
        yield result
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
