"""Small servers on 127.0.0.1 that misbehave on demand, for the probe tests and the bench.

Each is a context manager with ``index_url``. They stop themselves: on ``__exit__``, and
in any case after ``lifetime`` seconds, so a forgotten server cannot outlive its test.
Every loop is bounded.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "BlackHole",
    "Reply",
    "Server",
    "drip",
    "forward_proxy",
    "huge",
    "redirect",
    "simple_html",
    "simple_json",
    "static",
]

CANARY = "canary-pkg"

# A behaviour answers one request: it gets the handler (to write to) and the server.
Behaviour = Callable[["_Handler", "Server"], None]


def simple_html(files: Mapping[str, str], *, serial: int | None = None) -> bytes:
    """A PEP 503 project page listing ``files`` (filename -> sha256)."""
    links = "".join(
        f'<a href="/files/{name}#sha256={sha}">{name}</a><br>\n' for name, sha in files.items()
    )
    tail = f"<!--SERIAL {serial}-->" if serial is not None else ""
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n{tail}".encode()


def simple_json(
    files: Mapping[str, str], *, serial: int | None = None, name: str = CANARY
) -> bytes:
    """A PEP 691 project page listing ``files`` (filename -> sha256)."""
    meta: dict[str, Any] = {"api-version": "1.1"}
    if serial is not None:
        meta["_last-serial"] = serial
    data = {
        "meta": meta,
        "name": name,
        "files": [
            {"filename": f, "url": f"/files/{f}", "hashes": {"sha256": sha}}
            for f, sha in files.items()
        ],
    }
    return json.dumps(data).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.owner.hits += 1
        self.server.owner.behaviour(self, self.server.owner)

    do_HEAD = do_GET
    do_CONNECT = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: Server

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        context = self.owner.ssl_context
        if context is not None:
            # Handshake later, in the handler's thread: a client that rejects our
            # certificate must not stall the accept loop.
            sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-answer is the point of these servers


class Server:
    """A threaded HTTP(S) server whose every answer comes from ``behaviour``."""

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        ssl_context: ssl.SSLContext | None = None,
        lifetime: float = 60.0,
    ) -> None:
        self.behaviour = behaviour
        self.ssl_context = ssl_context
        self.lifetime = lifetime
        self.stopping = threading.Event()
        self.hits = 0
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def root_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return f"{self.root_url}/simple/"

    def start(self) -> Server:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()  # ends drips and other long answers
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BlackHole:
    """Listens and never accepts: connecting succeeds (the kernel does it), nothing answers."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]

    @property
    def index_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def stop(self) -> None:
        self._sock.close()  # pending connections are reset

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- behaviours --------------------------------------------------------------------------


class Reply:
    """A fixed answer, optionally after a delay (the bench's slow-but-honest mirrors)."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str = "text/html",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        paths: Mapping[str, tuple[int, bytes]] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.delay = delay
        self.paths = dict(paths or {})

    def __call__(self, h: _Handler, server: Server) -> None:
        if self.delay and server.stopping.wait(self.delay):
            return
        status, body = self.paths.get(h.path, (self.status, self.body))
        h.send_response(status)
        h.send_header("Content-Type", self.content_type)
        h.send_header("Content-Length", str(len(body)))
        for key, value in self.headers.items():
            h.send_header(key, value)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)


def static(status: int, body: bytes = b"", **kwargs: Any) -> Reply:
    return Reply(status, body, **kwargs)


def redirect(location: Callable[[Server, str], str], status: int = 302) -> Behaviour:
    def answer(h: _Handler, server: Server) -> None:
        h.send_response(status)
        h.send_header("Location", location(server, h.path))
        h.send_header("Content-Length", "0")
        h.end_headers()

    return answer


def drip(interval: float = 1.0, max_bytes: int = 600) -> Behaviour:
    """Headers at once, then one byte every ``interval`` s: never trips a per-read timeout."""

    def answer(h: _Handler, server: Server) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(max_bytes))
        h.end_headers()
        h.wfile.flush()
        for _ in range(max_bytes):
            if server.stopping.wait(interval):
                return
            try:
                h.wfile.write(b" ")
                h.wfile.flush()
            except OSError:
                return

    return answer


def huge(total: int, *, declare: bool) -> Behaviour:
    """A body of ``total`` bytes, with or without saying so in Content-Length."""

    def answer(h: _Handler, server: Server) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if declare:
            h.send_header("Content-Length", str(total))
        h.end_headers()
        block = b"<a>" + b"x" * (1024 * 1024 - 3)
        sent = 0
        # HTTP/1.0 without a length: the body ends when we close. Stop when the client
        # hangs up, which a capped client does early.
        while sent < total and not server.stopping.is_set():
            try:
                h.wfile.write(block)
            except OSError:
                return
            sent += len(block)

    return answer


def forward_proxy(seen: list[str]) -> Behaviour:
    """An HTTP proxy: absolute-form GETs are passed on, CONNECT opens a tunnel (https).

    ``seen`` collects each request line's target, so a test can tell the proxy was used.
    """
    import http.client
    import select
    from urllib.parse import urlsplit

    def answer(h: _Handler, server: Server) -> None:
        seen.append(h.path)
        if h.command == "CONNECT":
            host, _, port = h.path.rpartition(":")
            try:
                upstream = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                h.send_error(502)
                return
            h.send_response(200, "Connection established")
            h.end_headers()
            h.wfile.flush()
            h.close_connection = True
            with upstream:
                pair = [h.connection, upstream]
                for _ in range(10_000):  # bounded: a tunnel lives one short exchange
                    if server.stopping.is_set():
                        return
                    ready, _, _ = select.select(pair, [], [], 0.1)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is h.connection else h.connection).sendall(data)
            return
        target = urlsplit(h.path)
        conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=5)
        try:
            conn.request(h.command, target.path or "/", headers={"Accept": h.headers["Accept"]})
            resp = conn.getresponse()
            body = resp.read()
        except OSError:
            h.send_error(502)
            return
        finally:
            conn.close()
        h.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    return answer
