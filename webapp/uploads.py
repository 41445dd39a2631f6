"""Uploaded files: who uploaded each, which a load may name, the per-request cap and the sweep.

Gradio stores each uploaded file as ``UPLOADS/<seeded sha-256 of its bytes>/<name>``, returns those
paths to the client, and the client names them in its load event; but a client can name any path,
and Gradio's upload route knows no session. So :class:`UploadOwners` gives every client a random
uploader cookie (``slam_uploader``) and records, for each file the upload route returns, the cookie of
the request that uploaded it. A load accepts only regular files, one folder below the upload root,
that the same cookie uploaded and no other session has claimed, and it deletes only what it accepted.
Browsers send the cookie by themselves, ``gradio_client`` keeps it from the app's config response, and
an HTTP client keeps it from its first response (the upload's, at the latest).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from starlette.requests import cookie_parser

from slam.errors import SlamError

COOKIE = "slam_uploader"
REFUSED = "refused: only files uploaded by this browser are accepted (a DICOM study, a zip or an npz)"
_OWNERS: dict[Path, str] = {}  # upload path -> uploader cookie of the request that uploaded it
_CLAIMS: dict[Path, str] = {}  # upload path -> session hash loading it
_LOCK = threading.Lock()


def uploader_of(request) -> str | None:
    """The uploader cookie a gr.Request (or any object with ``cookies``) carries, or None."""
    return (getattr(request, "cookies", None) or {}).get(COOKIE) or None


def record_uploads(paths: Iterable[str], uploader: str) -> None:
    """Remember that ``uploader`` uploaded ``paths`` (as the upload route returned them)."""
    with _LOCK:
        _OWNERS.update(dict.fromkeys((Path(p).resolve() for p in paths), uploader))


def claim_uploads(paths: Iterable[object], key: str, uploader: str | None, upload_root: Path,
                  session_root: Path) -> list[Path]:
    """The request's upload paths, checked and claimed for session ``key``.

    Raises:
        SlamError: a path is not a regular file that this uploader uploaded (a directory, a link, a
            session folder, anything outside the upload root, another client's upload, or a file
            another session claimed).
    """
    root = upload_root.resolve()
    accepted = []
    for item in paths:
        raw = Path(str(getattr(item, "path", item) or ""))
        path = raw.resolve()
        inside = path.parent.parent == root and not path.is_relative_to(session_root.resolve())
        if not (inside and raw.is_file() and not raw.is_symlink()):
            raise SlamError(REFUSED)
        accepted.append(path)
    with _LOCK:
        if uploader is None or any(_OWNERS.get(p) != uploader or _CLAIMS.get(p, key) != key for p in accepted):
            raise SlamError(REFUSED)
        _CLAIMS.update(dict.fromkeys(accepted, key))
    return accepted


def forget(path: Path, received: set) -> None:
    """Drop every record of ``path`` (caller holds ``_LOCK``); Gradio's own set of received files too."""
    _CLAIMS.pop(path, None)
    _OWNERS.pop(path, None)
    received.discard(str(path))


def release_uploads(paths: Iterable[Path], received: set) -> None:
    """Delete claimed uploads and their (now empty) folders; forget them everywhere."""
    with _LOCK:
        for path in paths:
            forget(path, received)
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # the per-upload folder, unless another file still lives there
                path.parent.rmdir()


def sweep_uploads(upload_root: Path, session_root: Path, ttl_s: float, received: set) -> int:
    """Delete uploads older than ``ttl_s`` that no session is loading, and empty upload folders and
    Gradio's 0-byte temporaries. Returns the number of files deleted."""
    if not upload_root.is_dir():
        return 0
    now, deleted = time.time(), 0
    with _LOCK:
        claimed = set(_CLAIMS)
    for entry in upload_root.iterdir():
        if entry.resolve() == session_root.resolve() or entry.name.startswith("."):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.iterdir() if p.is_file()] if entry.is_dir() else []
        emptied = False
        for path in files:
            try:
                old = now - path.stat().st_mtime > ttl_s
            except OSError:
                continue
            if old and path.resolve() not in claimed:
                path.unlink(missing_ok=True)
                with _LOCK:
                    forget(path.resolve(), received)
                deleted += 1
                emptied = True
        if entry.is_dir() and not any(entry.iterdir()) and (emptied or now - entry.stat().st_mtime > ttl_s):
            shutil.rmtree(entry, ignore_errors=True)
    return deleted


def is_upload(scope) -> bool:
    return scope["type"] == "http" and scope["path"].rstrip("/").endswith("/upload")


class UploadOwners:
    """ASGI middleware: every response to a client without an uploader cookie sets a new random one,
    and the paths an upload response returns are recorded as that cookie's (:func:`record_uploads`)."""

    def __init__(self, app, max_listing: int = 1 << 20):
        self.app = app
        self.max_listing = max_listing  # bytes of upload response read for its paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cookies = cookie_parser(dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1"))
        uploader = cookies.get(COOKIE) or None
        fresh = uploader is None
        uploader = uploader or secrets.token_urlsafe(24)
        listing, status = bytearray(), 0

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if fresh:
                    message = {**message, "headers": [*message.get("headers", []), set_cookie(scope, uploader)]}
            elif message["type"] == "http.response.body" and is_upload(scope) and status == 200:
                listing.extend(message.get("body", b"")[: self.max_listing - len(listing)])
                if not message.get("more_body"):  # recorded before the client can name the files
                    record_listing(bytes(listing), uploader)
            await send(message)

        return await self.app(scope, receive, sending)


def record_listing(body: bytes, uploader: str) -> None:
    """Record the paths of an upload response body (a JSON list of server paths)."""
    try:
        paths = json.loads(body)
    except ValueError:
        return
    if isinstance(paths, list):
        record_uploads([p for p in paths if isinstance(p, str)], uploader)


def set_cookie(scope, value: str) -> tuple[bytes, bytes]:
    """The Set-Cookie header of the uploader cookie. Over HTTPS it is partitioned and cross-site, so an
    app embedded in another site's page (a Hugging Face Space) keeps it; over plain HTTP, same-site."""
    headers = dict(scope.get("headers") or [])
    https = scope.get("scheme") == "https" or headers.get(b"x-forwarded-proto", b"").startswith(b"https")
    extra = "; SameSite=None; Secure; Partitioned" if https else "; SameSite=Lax"
    return b"set-cookie", f"{COOKIE}={value}; Path=/; HttpOnly{extra}".encode()


class UploadCap:
    """ASGI middleware: a request to Gradio's upload route may carry at most ``max_bytes`` in total
    (Gradio's own ``max_file_size`` is per file). Checked on Content-Length and while streaming."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if not is_upload(scope):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                return {"type": "http.disconnect"}  # the parser stops; the sweep removes the partial file
            return message

        return await self.app(scope, counted, send)

    async def _refuse(self, send):
        body = (f"refused: this upload is over the {self.max_bytes / 2**20:.0f} MiB per upload cap "
                "(all files of one upload together)").encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
