"""pypi.org on loopback: an HTTPS proxy that plays PyPI, down (503) or up (a wheelhouse).

Clients cannot be told to use another pypi.org, but all of them honour ``HTTPS_PROXY``.
Pointed here (``NO_PROXY`` keeps the loopback mirrors direct), a client's every request
for pypi.org or files.pythonhosted.org lands in this server, whatever machine runs the
test and whether the real PyPI is reachable from it:

- ``up = False`` (the outage): every tunnel is refused with ``503 Service Unavailable``;
- ``up = True``: the tunnel is opened and TLS is served with a certificate for those
  hosts from ``ca`` (trust it with ``SSL_CERT_FILE``), with PEP 503 pages for the wheels
  in ``wheelhouse`` whose file links point at files.pythonhosted.org, as PyPI's do.

``hosts`` counts the CONNECT requests per host: a test can tell "never asked PyPI".
"""

from __future__ import annotations

import hashlib
import html
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme

__all__ = ["PYPI_SIMPLE", "FakePyPI", "FakePyPIWithEnv"]

PYPI_SIMPLE = "https://pypi.org/simple"
FILES_HOST = "files.pythonhosted.org"
_HOSTS = ("pypi.org", FILES_HOST)


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


class _Tunnelled(BaseHTTPRequestHandler):
    """The requests a client sends inside the TLS tunnel, as if to pypi.org."""

    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            body = owner.project_page(parts[1])
            self._answer(200 if body else 404, body or b"", "text/html")
        elif len(parts) == 2 and parts[0] == "packages" and owner.file(parts[1]):
            self._answer(200, owner.file(parts[1]) or b"", "application/octet-stream")
        else:
            self._answer(404, b"", "text/plain")

    do_HEAD = do_GET

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Proxy(BaseHTTPRequestHandler):
    server: _ProxyServer

    def do_CONNECT(self) -> None:
        owner = self.server.owner
        host = self.path.rsplit(":", 1)[0]
        with owner.lock:
            owner.hosts[host] += 1
        if not owner.up or host not in _HOSTS:
            self._refuse()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = owner.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        try:
            _Tunnelled(tls, self.client_address, self.server)
        except OSError:
            pass  # the client hung up mid-answer
        finally:
            tls.close()
        self.close_connection = True

    def do_GET(self) -> None:  # a plain-http request through the proxy
        with self.server.owner.lock:
            self.server.owner.hosts[self.path.split("/")[2] if "//" in self.path else ""] += 1
        self._refuse()

    do_HEAD = do_GET

    def _refuse(self) -> None:
        self.send_response(503, "Service Unavailable")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakePyPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients give up on a refused tunnel: that is the point


class FakePyPI:
    """``with FakePyPI(wheelhouse, ca) as pypi: env.update(pypi.env)``."""

    def __init__(self, wheelhouse: Path, ca: trustme.CA, *, up: bool = False) -> None:
        self.wheelhouse = wheelhouse
        self.ca = ca
        self.up = up
        self.hosts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*_HOSTS).configure_cert(self.tls)
        self._httpd = _ProxyServer(("127.0.0.1", 0), _Proxy)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, ca_file: Path) -> dict[str, str]:
        """What a client needs to meet this PyPI (``ca_file``: where to write the CA)."""
        self.ca.cert_pem.write_to_path(str(ca_file))
        proxies = {k: self.proxy_url for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY")}
        proxies |= {"http_proxy": self.proxy_url, "NO_PROXY": "127.0.0.1,localhost"}
        proxies["no_proxy"] = proxies["NO_PROXY"]
        return {**proxies, "SSL_CERT_FILE": str(ca_file)}

    @property
    def asked(self) -> int:
        """How many tunnels clients asked for (pypi.org and its file host)."""
        with self.lock:
            return sum(self.hosts[h] for h in _HOSTS)

    def project_page(self, name: str) -> bytes | None:
        wanted = _normalise(name)
        links = [
            f'<a href="https://{FILES_HOST}/packages/{html.escape(w.name)}'
            f'#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{html.escape(w.name)}</a>'
            for w in sorted(self.wheelhouse.glob("*.whl"))
            if _normalise(w.name.split("-", 1)[0]) == wanted
        ]
        if not links:
            return None
        body = "<br>\n".join(links)
        return f"<!DOCTYPE html><html><body>\n{body}\n</body></html>\n".encode()

    def file(self, name: str) -> bytes | None:
        path = self.wheelhouse / name
        return path.read_bytes() if "/" not in name and path.is_file() else None

    def __enter__(self) -> FakePyPI:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass(frozen=True)
class FakePyPIWithEnv:
    """The fixture's view: the server and the environment that routes a client to it."""

    server: FakePyPI
    env: dict[str, str]
