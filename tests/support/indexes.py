"""Wheel sets for the mirror tests, and a small index that misbehaves about its files.

``pypi-server`` serves a folder honestly: the sha256 it lists is the one of the bytes it
sends. The misbehaviours a real mirror shows about files (a link that 404s, a redirect to
plain http, bytes other than the ones listed) need :class:`FileIndex`, a ``hostile.Server``
behaviour serving PEP 503 pages and files from memory.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote

from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.support.hostile import Server, _Handler
from tests.support.wheels import build_wheel

__all__ = ["FileIndex", "sha256", "wheel_set"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_set(
    directory: Path,
    projects: Mapping[str, Iterable[str]],
    *,
    source: Path | None = None,
    tampered: Iterable[str] = (),
) -> Path:
    """A folder holding ``{name: [versions]}``: copied from ``source`` when given (the very
    same bytes), built otherwise. A wheel named in ``tampered`` keeps its name but gets
    other bytes (what a broken or hostile mirror serves)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, versions in projects.items():
        for version in versions:
            wheel = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
            if source is not None and (source / wheel).exists():
                shutil.copy2(source / wheel, directory / wheel)
            else:
                build_wheel(directory, name, version)
    for wheel in tampered:
        project, parsed, _, _ = parse_wheel_filename(wheel)
        build_wheel(directory, project, str(parsed), payload="# not what upstream holds\n")
    return directory


class FileIndex:
    """A PEP 503 index over ``files`` (filename -> bytes), answering per ``files_mode``.

    ``listed``: the sha256 to list per filename (default: the bytes' own); ``files_mode``:
    ``"ok"``, ``"404"``, or ``"to-http"`` (a redirect to the same path on plain http).
    ``delay``: seconds before every project page (a slower mirror ranks later); ``slow``:
    projects whose page never comes in a test's time (10 s); ``broken``: project -> the
    HTTP status its page answers with. ``max_in_flight``: the most requests it served at once.
    """

    def __init__(
        self,
        files: Mapping[str, bytes],
        *,
        listed: Mapping[str, str] | None = None,
        files_mode: str = "ok",
        http_port: Callable[[], int] | None = None,
        delay: float = 0.0,
        slow: Iterable[str] = (),
        broken: Mapping[str, int] | None = None,
    ) -> None:
        self.files = dict(files)
        self.listed = {name: sha256(data) for name, data in self.files.items()}
        self.listed.update(listed or {})
        self.files_mode = files_mode
        self.http_port = http_port
        self.delay = delay
        self.slow = {canonicalize_name(p) for p in slow}
        self.broken = {canonicalize_name(p): status for p, status in (broken or {}).items()}
        self.requests: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: Path, **kwargs: object) -> FileIndex:
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        return cls(files, **kwargs)  # type: ignore[arg-type]

    def _project_files(self, project: str) -> dict[str, str]:
        return {
            name: sha
            for name, sha in self.listed.items()
            # The name before the first dash: a hostile file name must be served all the same.
            if canonicalize_name(name.split("-", 1)[0]) == project
        }

    def __call__(self, h: _Handler, server: Server) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                with self._lock:
                    self.in_flight -= 1

        # A request is in flight until its answer starts: counted down when the headers
        # go out, since the client may send its next request as soon as the body has come,
        # before this handler's own bookkeeping would have run.
        end_headers = h.end_headers

        def answer_starts() -> None:
            release()
            end_headers()

        setattr(h, "end_headers", answer_starts)  # noqa: B010 (a method, per request)
        try:
            self._answer(h, server)
        finally:
            release()

    def _answer(self, h: _Handler, server: Server) -> None:
        path = unquote(h.path.split("?", 1)[0])
        self.requests.append(path)
        parts = [p for p in path.split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            project = canonicalize_name(parts[1])
            wait = 10.0 if project in self.slow else self.delay
            if wait and server.stopping.wait(wait):
                return None
            if project in self.broken:
                return _send(h, self.broken[project], b"broken")
            listed = self._project_files(project)
            if not listed:
                return _send(h, 404, b"not here")
            links = "".join(
                f'<a href="/files/{name}#sha256={sha}">{name}</a><br>\n'
                for name, sha in sorted(listed.items())
            )
            return _send(h, 200, f"<html><body>\n{links}</body></html>\n".encode())
        if len(parts) == 2 and parts[0] == "files" and parts[1] in self.files:
            if self.files_mode == "404":
                return _send(h, 404, b"gone")
            if self.files_mode == "to-http":
                port = self.http_port() if self.http_port else server.port
                h.send_response(302)
                h.send_header("Location", f"http://127.0.0.1:{port}{path}")
                h.send_header("Content-Length", "0")
                h.end_headers()
                return None
            return _send(h, 200, self.files[parts[1]], content_type="application/octet-stream")
        return _send(h, 404, b"not here")


def _send(h: _Handler, status: int, body: bytes, *, content_type: str = "text/html") -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)
