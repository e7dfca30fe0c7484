"""The one HTTP transport: requests under one policy for every request the tool makes.

- one wall-clock deadline: connect and every read are bounded by what is left of it, and
  the body is read in chunks that check it (a dripping server cannot stretch a request);
- byte caps on the decoded body (a gzip bomb stops at the cap too);
- redirects followed by hand: at most ``MAX_REDIRECTS``, http(s) only, never from https
  down to plain http, and credentials only ever sent to the origin they were given for;
- proxies from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (requests reads them);
- certificates trusted as pip trusts them (``trust.py``);
- every failure is a ``NetError`` whose reason is worded the same for every caller.

requests' ``trust_env`` is off: it would also read ``~/.netrc`` and re-load certifi into
the SSL context on every new connection; proxies and CA bundles are read here instead.
"""

from __future__ import annotations

import contextlib
import errno
import http.cookiejar
import os
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from pypi_switch import __version__
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.trust import Trust, TrustError
from pypi_switch.urls import host_of
from pypi_switch.words import size

__all__ = [
    "ACCEPT",
    "MAX_BODY",
    "MAX_REDIRECTS",
    "NetError",
    "Progress",
    "Response",
    "Transport",
]

# PEP 691: JSON preferred, HTML accepted (many mirrors serve only HTML).
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
MAX_BODY = 10 * 1024 * 1024
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class NetError(Exception):
    """A request that gave no usable answer; ``reason`` says why in a few words."""

    def __init__(self, reason: str, *, reachable: bool = False, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reachable = reachable  # some HTTP answer came back
        self.timed_out = timed_out


class Progress:
    """Written by the thread making the request, read by the one waiting for it.

    When the deadline strikes, the waiting thread can still tell a server that answered
    something (``reachable``) from one that never did. Single attribute stores are atomic
    in CPython: no lock needed.
    """

    def __init__(self) -> None:
        self.started: float | None = None  # monotonic time the work began
        self.reachable = False


@dataclass(frozen=True)
class Response:
    url: str  # after redirects, without credentials
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # empty for HEAD, and when the body went to ``write``
    ttfb_s: float  # until the final response's headers
    total_s: float  # everything, redirects and body included


class _TrustingAdapter(HTTPAdapter):
    """Every https connection uses the one context that holds what we trust."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would point the connection at certifi's file, which urllib3 then loads
        # into the context again for every new connection; the context already has it.
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class Transport:
    """Thread-safe: each thread gets its own requests session (sessions are not shared)."""

    def __init__(self, trust: Trust | None = None) -> None:
        """``trust``: by default, the environment's (pip.conf's ``cert`` needs a ``Trust``
        built with it)."""
        self.trust = trust if trust is not None else Trust.from_environ(os.environ)
        self._local = threading.local()
        # Read once: requests would scan the whole environment twice per request, a third
        # of the CPU a probe costs, though most machines set no proxy at all.
        self._any_proxy = bool(urllib.request.getproxies())

    # -- the public calls -------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        deadline: Deadline,
        max_bytes: int = MAX_BODY,
        accept: str = ACCEPT,
        method: str = "GET",
        progress: Progress | None = None,
        write: Callable[[bytes], None] | None = None,
    ) -> Response:
        """One request, redirects included, done before ``deadline`` or a ``NetError``.

        ``write``: receive the body in chunks instead of in ``Response.body`` (a download
        whose digest is computed on the way); the byte cap applies all the same.
        """
        progress = progress if progress is not None else Progress()
        if progress.started is None:
            progress.started = time.monotonic()
        start = progress.started
        parts = urlsplit(url)
        credentials = None
        if parts.username is not None:
            credentials = (unquote(parts.username), unquote(parts.password or ""))
        given_to = _origin(url)
        url = _without_userinfo(url)
        for _hop in range(MAX_REDIRECTS + 1):
            auth = credentials if _origin(url) == given_to else None
            with self._send(url, method, accept, auth, deadline, progress) as resp:
                ttfb = time.monotonic() - start
                if resp.is_redirect:
                    url = _follow(url, resp.headers["location"])
                    continue
                body = b""
                if method != "HEAD":
                    body = _read_body(resp, url, deadline, max_bytes, write)
                return Response(
                    url=url,
                    status=resp.status_code,
                    headers=resp.headers,
                    body=body,
                    ttfb_s=ttfb,
                    total_s=time.monotonic() - start,
                )
        raise NetError(f"more than {MAX_REDIRECTS} redirects", reachable=True)

    # -- one exchange -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _send(
        self,
        url: str,
        method: str,
        accept: str,
        auth: tuple[str, str] | None,
        deadline: Deadline,
        progress: Progress,
    ) -> Any:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise _timed_out(deadline, reachable=progress.reachable)
        proxies = requests.utils.get_environ_proxies(url) if self._any_proxy else {}
        try:
            session = self._session(https=url.lower().startswith("https:"))
            resp = session.request(
                method,
                url,
                headers={"Accept": accept},
                auth=auth,
                stream=True,
                allow_redirects=False,
                timeout=(remaining, remaining),
                proxies=proxies,
            )
        except TrustError as exc:
            raise NetError(exc.reason) from None
        except requests.exceptions.ProxyError as exc:
            proxy = requests.utils.select_proxy(url, proxies) or ""
            raise _failure(exc, proxy, deadline, reachable=False, what="proxy ") from None
        except Exception as exc:
            raise _failure(exc, url, deadline, reachable=progress.reachable) from None
        progress.reachable = True
        try:
            yield resp
        finally:
            resp.close()

    def _session(self, *, https: bool) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            session.headers["User-Agent"] = f"pypi-switch/{__version__}"
            # Cookies are not needed by an index and would be one more thing to leak.
            session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            self._local.session = session
            self._local.https_ready = False
        if https and not self._local.https_ready:
            session.mount("https://", _TrustingAdapter(self.trust.context()))
            self._local.https_ready = True
        return session


# -- redirects and credentials ----------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _follow(url: str, location: str) -> str:
    """The next hop, or a ``NetError`` saying why it is not taken."""
    try:
        target = urljoin(url, location.strip())
    except ValueError:
        raise NetError("redirected to an invalid URL", reachable=True) from None
    scheme = urlsplit(target).scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise NetError(
            f"redirected to a non-http URL ({target}): only http and https are followed",
            reachable=True,
        )
    if urlsplit(url).scheme.lower() == "https" and scheme != "https":
        raise NetError(f"redirected from https to plain http ({target})", reachable=True)
    # Credentials in a Location header are the server's, not the user's: never sent.
    return _without_userinfo(target)


# -- the body -----------------------------------------------------------------------------


def _read_body(
    resp: requests.Response,
    url: str,
    deadline: Deadline,
    max_bytes: int,
    write: Callable[[bytes], None] | None,
) -> bytes:
    declared = resp.headers.get("content-length", "").strip()
    if declared.isdigit() and len(declared) < 20 and int(declared) > max_bytes:
        raise NetError(
            f"response larger than {size(max_bytes)} ({size(int(declared))})", reachable=True
        )
    chunks: list[bytes] = []
    total = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise _timed_out(deadline, reachable=True)
        _shrink_socket_timeout(resp, remaining)
        try:
            # read1: at most one recv per call. A plain read(n) loops until n bytes
            # arrive, which a server dripping a byte a second would stretch without limit.
            # decode_content: mirrors commonly gzip their pages; the cap counts decoded
            # bytes, which also stops a gzip bomb.
            chunk = resp.raw.read1(_CHUNK, decode_content=True)
        except Exception as exc:
            raise _failure(exc, url, deadline, reachable=True) from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise NetError(f"response larger than {size(max_bytes)}", reachable=True)
        if write is not None:
            write(chunk)
        else:
            chunks.append(chunk)


def _shrink_socket_timeout(resp: requests.Response, remaining: float) -> None:
    """Make the next recv give up at the deadline, so abandoned threads end soon after it."""
    sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
    if sock is None:
        # http.client detaches the socket from a connection that will close after this
        # response (HTTP/1.0, "Connection: close"); the response's file still holds it.
        http_response = getattr(resp.raw, "_fp", None)
        sock = getattr(getattr(getattr(http_response, "fp", None), "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.settimeout(max(remaining, 0.01))


# -- failures in words ------------------------------------------------------------------


def _timed_out(deadline: Deadline, *, reachable: bool) -> NetError:
    return NetError(
        f"timed out after {deadline.seconds:.1f} s", reachable=reachable, timed_out=True
    )


def _failure(
    exc: BaseException, url: str, deadline: Deadline, *, reachable: bool, what: str = ""
) -> NetError:
    if _is_timeout(exc):
        return _timed_out(deadline, reachable=reachable)
    return NetError(_describe(exc, host_of(url), what=what), reachable=reachable)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(
        exc,
        requests.exceptions.Timeout
        | urllib3.exceptions.TimeoutError
        | TimeoutError
        | socket.timeout,
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps, outermost first (requests and urllib3 nest deeply)."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 32:
        cur = todo.pop(0)
        if any(cur is seen for seen in out):
            continue
        out.append(cur)
        inner = [cur.__cause__, cur.__context__, getattr(cur, "reason", None), *cur.args]
        todo += [e for e in inner if isinstance(e, BaseException)]
    return out


def _describe(exc: BaseException, host: str, *, what: str = "") -> str:
    """A network failure in a few words; the same words whoever asked.

    ``what``: "proxy " when ``host`` is the proxy's, so the user looks at the right machine.
    """
    chain = _causes(exc)
    host = f"{what}{host}"
    for cur in chain:
        if isinstance(cur, OSError) and cur.errno in (errno.EMFILE, errno.ENFILE):
            return "too many open files on this machine"
    for cur in chain:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return f"TLS certificate of {host} not trusted ({cur.verify_message})"
        if isinstance(cur, ssl.SSLError):
            return f"TLS failure with {host} ({cur.reason or cur})"
        if isinstance(cur, ConnectionRefusedError):
            return f"connection refused by {host}"
        if isinstance(cur, socket.gaierror):
            return f"cannot resolve {'' if what else 'host '}{host}"
        if isinstance(cur, ConnectionResetError):
            return f"connection reset by {host}"
        if isinstance(cur, urllib3.exceptions.DecodeError):
            return f"{host} sent a body that cannot be decoded"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS failure with {host}"
    if isinstance(exc, requests.exceptions.InvalidURL | urllib3.exceptions.LocationParseError):
        return "not a valid URL"
    if isinstance(exc, requests.exceptions.ConnectionError | urllib3.exceptions.ProtocolError):
        return f"connection to {host} failed"
    if isinstance(exc, urllib3.exceptions.HTTPError | requests.exceptions.RequestException):
        return f"request to {host} failed ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"{host}: {exc.strerror or exc}"
    raise exc  # not a network failure: a bug, to be seen as one
