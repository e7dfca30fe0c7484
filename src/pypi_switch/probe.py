"""Probe mirrors: fetch the canary's simple page from every mirror at once, under one deadline.

The only module that talks to the network. Each mirror is probed in its own *daemon*
thread that reports into a queue; the calling thread waits on that queue until the
deadline and no longer. Per-request socket timeouts alone cannot bound a probe (a server
dripping one byte a second never trips them, a hung ``getaddrinfo`` ignores them), and a
``ThreadPoolExecutor`` would not do either: its workers are joined at interpreter exit, so
one hung DNS lookup would keep the process alive. Threads still running at the deadline
are abandoned; their own timeouts end them soon after, and process exit does not wait.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from pypi_switch import __version__
from pypi_switch.config import MirrorEntry
from pypi_switch.urls import host_of, redact, redact_text

__all__ = [
    "ACCEPT",
    "MAX_BODY",
    "MAX_REDIRECTS",
    "ProbeReport",
    "ProbeResult",
    "probe_mirrors",
]

# PEP 691: JSON preferred, HTML accepted (many mirrors serve only HTML).
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
MAX_BODY = 10 * 1024 * 1024
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_LAST_MODIFIED_CAP = 4096
# How long a finished page waits for its /last-modified sibling: freshness by date is a
# detail and must not delay the answer much.
_LAST_MODIFIED_GRACE_S = 0.25
_SERIAL_COMMENT = re.compile(rb"<!--\s*SERIAL\s+(\d+)\s*-->")
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_HTML_TYPES = ("text/html", "application/vnd.pypi.simple.v1+html")


@dataclass(frozen=True)
class ProbeResult:
    """What one mirror (or upstream) answered for the canary's page."""

    name: str
    url: str
    reachable: bool  # any HTTP response at all
    valid: bool  # a simple page for the canary with at least one file carrying sha256
    error: str | None  # why not valid, in words
    timed_out: bool
    latency_ms: float | None  # whole canary request, redirects and body included
    ttfb_ms: float | None  # until the final response's headers
    serial: int | None
    newest_version: str | None
    last_modified_age_s: float | None
    digests: dict[str, str] = field(default_factory=dict)  # filename -> sha256
    status: int | None = None
    page_format: str | None = None  # "json" or "html"
    is_upstream: bool = False


@dataclass(frozen=True)
class ProbeReport:
    results: tuple[ProbeResult, ...]
    upstream: ProbeResult | None
    elapsed_s: float
    deadline_s: float


# -- the deadline ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Deadline:
    at: float

    def remaining(self) -> float:
        return self.at - time.monotonic()


class _Progress:
    """Written by one worker, read by the waiting thread when the deadline strikes.

    A single bool assignment is atomic in CPython: no lock needed.
    """

    def __init__(self) -> None:
        self.got_response = False


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TimedOut(Exception):
    pass


# -- one HTTP exchange --------------------------------------------------------------------


@dataclass(frozen=True)
class _Fetched:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    ttfb_s: float
    total_s: float


def _fetch(
    session: requests.Session,
    url: str,
    *,
    deadline: _Deadline,
    progress: _Progress,
    max_bytes: int,
    method: str = "GET",
) -> _Fetched:
    """One request with redirects followed by hand, the body read in deadline-checked chunks."""
    start = time.monotonic()
    for _hop in range(MAX_REDIRECTS + 1):
        remaining = deadline.remaining()
        if remaining <= 0:
            raise _TimedOut
        with session.request(
            method,
            url,
            headers={"Accept": ACCEPT},
            stream=True,
            allow_redirects=False,
            timeout=(remaining, remaining),
        ) as resp:
            progress.got_response = True
            ttfb = time.monotonic() - start
            if resp.is_redirect:
                target = urljoin(url, resp.headers["location"])
                if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
                    raise _Rejected(f"redirected from https to plain http ({redact(target)})")
                url = target
                continue
            body = b"" if method == "HEAD" else _read_body(resp, deadline, max_bytes)
            return _Fetched(
                url=url,
                status=resp.status_code,
                headers=resp.headers,
                body=body,
                ttfb_s=ttfb,
                total_s=time.monotonic() - start,
            )
    raise _Rejected(f"more than {MAX_REDIRECTS} redirects")


def _read_body(resp: requests.Response, deadline: _Deadline, max_bytes: int) -> bytes:
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _Rejected(f"response larger than {_size(max_bytes)} ({_size(int(declared))})")
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise _TimedOut
        _shrink_socket_timeout(resp, remaining)
        # read1: at most one recv per call. A plain read(n) loops until n bytes arrive,
        # which a server dripping a byte a second would stretch without limit.
        # decode_content: mirrors commonly gzip their pages (requests asks for it); the
        # size cap then counts decoded bytes, which also stops a gzip bomb.
        chunk = resp.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise _Rejected(f"response larger than {_size(max_bytes)}")
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


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MiB"
    return f"{n / 1024:g} KiB" if n >= 1024 else f"{n} bytes"


def _describe(exc: BaseException, host: str) -> str:
    """A network failure in a few words."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return f"TLS certificate of {host} not trusted ({cur.verify_message})"
        if isinstance(cur, ssl.SSLError):
            return f"TLS failure with {host} ({cur.reason or cur})"
        if isinstance(cur, ConnectionRefusedError):
            return f"connection refused by {host}"
        if isinstance(cur, socket.gaierror):
            return f"cannot resolve host {host}"
        if isinstance(cur, ConnectionResetError):
            return f"connection reset by {host}"
        nxt = cur.__cause__ or cur.__context__
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        if nxt is None and len(cur.args) > 1 and isinstance(cur.args[1], BaseException):
            nxt = cur.args[1]  # urllib3 ProtocolError("...", OSError(...))
        cur = nxt
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS failure with {host}"
    if isinstance(exc, requests.exceptions.ConnectionError | urllib3.exceptions.ProtocolError):
        return f"connection to {host} failed"
    return f"{type(exc).__name__}: {exc}"


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(
        exc,
        _TimedOut
        | requests.exceptions.Timeout
        | urllib3.exceptions.TimeoutError
        | TimeoutError
        | socket.timeout,
    )


# -- parsing the page -------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    page_format: str
    serial: int | None
    digests: dict[str, str]
    file_urls: dict[str, str]
    newest_version: str | None


def _parse_page(fetched: _Fetched, canary: str) -> _Page:
    # pypi-simple pulls in pydantic and bs4 (~170 ms): only pay for it once a page arrived.
    from packaging.utils import canonicalize_name
    from pypi_simple import ProjectPage

    raw_type = fetched.headers.get("content-type") or "text/html"
    content_type = raw_type.split(";")[0].strip().lower()
    serial: int | None = None
    if content_type == _JSON_TYPE:
        try:
            data: Any = json.loads(fetched.body)
        except ValueError:
            raise _Rejected("the JSON page is not valid JSON") from None
        try:
            page = ProjectPage.from_json_data(data, fetched.url)
        except Exception as exc:  # pydantic's ValidationError, ValueError, version errors
            raise _Rejected(f"the JSON page does not follow PEP 691 ({_first_line(exc)})") from None
        if canonicalize_name(page.project) != canonicalize_name(canary):
            raise _Rejected(f"the JSON page is for {page.project!r}, not {canary!r}")
        serial = _to_int(page.last_serial)
        page_format = "json"
    elif content_type in _HTML_TYPES:
        # A page without a single link cannot list files; checking first also spares
        # bs4 the odd inputs it warns about.
        if b"<a" not in fetched.body.lower():
            raise _Rejected(f"not a simple page: the HTML lists no files of {canary}")
        charset = re.search(r"charset=([\w-]+)", raw_type)
        try:
            page = ProjectPage.from_html(
                canary, fetched.body, fetched.url, charset.group(1) if charset else None
            )
        except Exception as exc:
            raise _Rejected(f"the HTML page cannot be parsed ({_first_line(exc)})") from None
        m = _SERIAL_COMMENT.search(fetched.body)
        serial = int(m.group(1)) if m else None
        page_format = "html"
    else:
        raise _Rejected(f"unexpected content type {content_type!r}")
    if serial is None:
        serial = _to_int(fetched.headers.get("x-pypi-last-serial"))
    digests: dict[str, str] = {}
    urls: dict[str, str] = {}
    versions = []
    wanted = canonicalize_name(canary)
    for pkg in page.packages:
        sha = pkg.digests.get("sha256")
        if not sha or pkg.project is None or canonicalize_name(pkg.project) != wanted:
            continue
        digests[pkg.filename] = sha.lower()
        urls[pkg.filename] = pkg.url
        if pkg.version:
            versions.append(pkg.version)
    if not digests:
        raise _Rejected(f"not a simple page: no file of {canary} with a sha256 digest")
    return _Page(page_format, serial, digests, urls, _newest(versions))


def _newest(versions: list[str]) -> str | None:
    from packaging.version import InvalidVersion, Version

    best: tuple[Version, str] | None = None
    for v in versions:
        try:
            parsed = Version(v)
        except InvalidVersion:
            continue
        if best is None or parsed > best[0]:
            best = (parsed, v)
    return best[1] if best else None


def _to_int(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


# -- one mirror ----------------------------------------------------------------------------


def _session() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = f"pypi-switch/{__version__}"
    return s


def _page_url(index_url: str, canary: str) -> str:
    from packaging.utils import canonicalize_name

    return f"{index_url.rstrip('/')}/{canonicalize_name(canary)}/"


def _last_modified_url(index_url: str) -> str:
    # PEP 381 puts it next to simple/: https://host/pypi/web/simple -> .../pypi/web/last-modified
    return f"{index_url.rstrip('/').rsplit('/', 1)[0]}/last-modified"


class _LastModified(threading.Thread):
    """Fetch ``/last-modified`` alongside the page; any failure just means "not served"."""

    def __init__(self, index_url: str, deadline: _Deadline) -> None:
        super().__init__(daemon=True, name="probe-last-modified")
        self.url = _last_modified_url(index_url)
        self.deadline = deadline
        self.age_s: float | None = None

    def run(self) -> None:
        try:
            with _session() as s:
                got = _fetch(
                    s,
                    self.url,
                    deadline=self.deadline,
                    progress=_Progress(),
                    max_bytes=_LAST_MODIFIED_CAP,
                )
            if got.status == 200:
                text = got.body.decode("ascii").strip()
                when = datetime.strptime(text, "%Y%m%dT%H:%M:%S").replace(tzinfo=UTC)
                self.age_s = max(0.0, (datetime.now(UTC) - when).total_seconds())
        except Exception:
            pass  # optional information: its absence is not an error


def _probe_page(
    entry: MirrorEntry,
    canary: str,
    deadline: _Deadline,
    progress: _Progress,
    *,
    timeout: float,
    max_bytes: int,
    is_upstream: bool,
) -> tuple[ProbeResult, _Page | None]:
    url = _page_url(entry.url, canary)
    base = _blank(entry, is_upstream=is_upstream)
    lm: _LastModified | None = None
    if not is_upstream:
        lm = _LastModified(entry.url, deadline)
        lm.start()
    try:
        with _session() as s:
            got = _fetch(s, url, deadline=deadline, progress=progress, max_bytes=max_bytes)
    except _Rejected as exc:
        return replace(base, reachable=True, error=redact_text(exc.reason)), None
    except Exception as exc:
        if _is_timeout(exc):
            return _timed_out(base, timeout, reachable=progress.got_response), None
        reason = redact_text(_describe(exc, host_of(url)))
        return replace(base, reachable=progress.got_response, error=reason), None
    measured = replace(
        base,
        reachable=True,
        status=got.status,
        latency_ms=got.total_s * 1000,
        ttfb_ms=got.ttfb_s * 1000,
    )
    if got.status != 200:
        path = urlsplit(got.url).path or "/"
        return replace(measured, error=f"{got.status} for {path}"), None
    try:
        page = _parse_page(got, canary)
    except _Rejected as exc:
        return replace(measured, error=redact_text(exc.reason)), None
    age = None
    if lm is not None:
        lm.join(max(0.0, min(deadline.remaining(), _LAST_MODIFIED_GRACE_S)))
        age = lm.age_s
    result = replace(
        measured,
        valid=True,
        serial=page.serial,
        newest_version=page.newest_version,
        last_modified_age_s=age,
        digests=page.digests,
        page_format=page.page_format,
    )
    return result, page


def _timed_out(base: ProbeResult, timeout: float, *, reachable: bool) -> ProbeResult:
    return replace(
        base, reachable=reachable, timed_out=True, error=f"timed out after {timeout:.1f} s"
    )


# -- all mirrors at once -------------------------------------------------------------------


def probe_mirrors(
    mirrors: Sequence[MirrorEntry],
    *,
    canary: str,
    upstream: str | None,
    timeout: float,
    on_result: Callable[[ProbeResult], None] | None = None,
    max_bytes: int = MAX_BODY,
) -> ProbeReport:
    """Probe every mirror (and upstream) concurrently; return within ``timeout`` seconds.

    ``on_result`` is called in the calling thread as each result arrives (the live view),
    then for each probe the deadline cut short.
    """
    start = time.monotonic()
    deadline = _Deadline(start + timeout)
    entries = list(mirrors)
    if upstream is not None:
        entries.append(MirrorEntry(name="upstream", url=upstream, source="upstream"))
    n_mirrors = len(mirrors)
    progress = [_Progress() for _ in entries]
    inbox: queue.SimpleQueue[tuple[int, ProbeResult]] = queue.SimpleQueue()

    def work(i: int) -> None:
        base = _blank(entries[i], is_upstream=i >= n_mirrors)
        try:
            result, _page = _probe_page(
                entries[i],
                canary,
                deadline,
                progress[i],
                timeout=timeout,
                max_bytes=max_bytes,
                is_upstream=i >= n_mirrors,
            )
        except BaseException as exc:  # a bug must cost one row, not the whole probe
            result = replace(base, error=f"internal error: {_first_line(exc)}")
        inbox.put((i, result))

    for i, entry in enumerate(entries):
        threading.Thread(target=work, args=(i,), daemon=True, name=f"probe-{entry.name}").start()

    done: dict[int, ProbeResult] = {}
    while len(done) < len(entries):
        remaining = deadline.remaining()
        if remaining <= 0:
            break
        try:
            i, result = inbox.get(timeout=remaining)
        except queue.Empty:
            break
        done[i] = result
        if on_result is not None:
            on_result(result)
    for i, entry in enumerate(entries):
        if i not in done:
            base = _blank(entry, is_upstream=i >= n_mirrors)
            done[i] = _timed_out(base, timeout, reachable=progress[i].got_response)
            if on_result is not None:
                on_result(done[i])
    return ProbeReport(
        results=tuple(done[i] for i in range(n_mirrors)),
        upstream=done.get(n_mirrors) if upstream is not None else None,
        elapsed_s=time.monotonic() - start,
        deadline_s=timeout,
    )


def _blank(entry: MirrorEntry, *, is_upstream: bool) -> ProbeResult:
    return ProbeResult(
        name=entry.name,
        url=entry.url,
        reachable=False,
        valid=False,
        error=None,
        timed_out=False,
        latency_ms=None,
        ttfb_ms=None,
        serial=None,
        newest_version=None,
        last_modified_age_s=None,
        is_upstream=is_upstream,
    )


# -- upstream alone, for the cron tick --------------------------------------------------------
