"""Is upstream serving? The cron tick's check, on the standard library alone.

A healthy ``auto`` tick runs every few minutes and should cost about what ``status``
costs; importing requests and pypi-simple takes longer (~250 ms) than the check itself.
So this check is deliberately narrow: the canary's simple page (PEP 691 JSON or PEP 503
HTML) must list at least one file with a sha256, and that file must answer a HEAD (on
pypi.org the files live on another host, which can fail on its own). Judging mirrors in
full stays in ``probe.py``. Like the probe, one wall-clock deadline bounds everything.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from pypi_switch import __version__
from pypi_switch.urls import host_of, redact_text

__all__ = ["UpstreamHealth", "upstream_health"]

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
MAX_BODY = 10 * 1024 * 1024
_CHUNK = 64 * 1024
_ANCHOR = re.compile(r"<a\s[^>]*?href\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)


@dataclass(frozen=True)
class UpstreamHealth:
    ok: bool
    reachable: bool  # any HTTP answer at all
    reason: str
    elapsed_s: float


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Progress:
    """Set by the worker thread, read by the waiting one (a bool store is atomic)."""

    def __init__(self) -> None:
        self.reachable = False


def upstream_health(upstream: str, canary: str, *, timeout: float) -> UpstreamHealth:
    start = time.monotonic()
    deadline = start + timeout
    progress = _Progress()
    inbox: queue.SimpleQueue[tuple[bool, str]] = queue.SimpleQueue()

    def work() -> None:
        try:
            inbox.put(_check(upstream, canary, deadline, progress))
        except _Failed as exc:
            inbox.put((False, exc.reason))
        except BaseException as exc:
            inbox.put((False, f"internal error: {type(exc).__name__}: {exc}"))

    # A daemon thread: a hung DNS lookup or a dripping server is abandoned at the deadline.
    threading.Thread(target=work, daemon=True, name="upstream-health").start()
    try:
        ok, reason = inbox.get(timeout=max(deadline - time.monotonic(), 0.0))
    except queue.Empty:
        ok, reason = False, f"timed out after {timeout:.1f} s"
    return UpstreamHealth(ok, progress.reachable, redact_text(reason), time.monotonic() - start)


def _check(upstream: str, canary: str, deadline: float, progress: _Progress) -> tuple[bool, str]:
    page_url = upstream.rstrip("/") + f"/{canary}/"
    began = time.monotonic()
    status, headers, body, final_url = _request(page_url, "GET", deadline, progress)
    path = urlsplit(page_url).path
    if status != 200:
        return False, f"{status} for {path}"
    files = _files_with_sha256(headers, body, final_url, canary)
    if not files:
        return False, f"{path} is not a simple page for {canary} with sha256-checked files"
    page_ms = (time.monotonic() - began) * 1000
    filename, file_url = sorted(files.items())[0]
    file_host = host_of(file_url)
    began = time.monotonic()
    try:
        status, _, _, _ = _request(file_url, "HEAD", deadline, _Progress())
    except _Failed as exc:
        return False, f"file host {file_host}: {exc.reason}"
    if status != 200:
        return False, f"file host {file_host} answered {status} for {filename}"
    return True, (
        f"valid page for {canary} ({page_ms:.0f} ms) and {file_host} serves its files "
        f"({(time.monotonic() - began) * 1000:.0f} ms)"
    )


class _NoDowngrade(urllib.request.HTTPRedirectHandler):
    max_redirections = 3

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: object,
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(req.full_url).scheme == "https" and urlsplit(newurl).scheme != "https":
            raise _Failed(f"redirected from https to plain http ({newurl})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]


def _request(
    url: str, method: str, deadline: float, progress: _Progress
) -> tuple[int, Message, bytes, str]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Failed("timed out")
    parts = urlsplit(url)
    headers = {"Accept": ACCEPT, "User-Agent": f"pypi-switch/{__version__}"}
    if parts.username is not None:  # urllib does not take credentials from the URL itself
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    request = urllib.request.Request(url, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoDowngrade)
    try:
        response = opener.open(request, timeout=remaining)
    except urllib.error.HTTPError as exc:
        progress.reachable = True
        with exc:
            return exc.code, exc.headers, b"", exc.url or url
    except urllib.error.URLError as exc:
        raise _Failed(_describe(exc.reason, parts.hostname or "")) from None
    except (OSError, ValueError) as exc:
        raise _Failed(_describe(exc, parts.hostname or "")) from None
    progress.reachable = True
    with response:
        body = b"" if method == "HEAD" else _read(response, deadline)
        return response.status, response.headers, body, response.url


def _read(response: object, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while time.monotonic() < deadline:
        chunk = response.read1(_CHUNK)  # type: ignore[attr-defined]
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise _Failed(f"response larger than {MAX_BODY // (1024 * 1024)} MiB")
        chunks.append(chunk)
    raise _Failed("timed out")


def _describe(reason: object, host: str) -> str:
    text = str(reason)
    if isinstance(reason, ConnectionRefusedError):
        return f"connection refused by {host}"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS certificate of {host} not trusted"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return f"cannot resolve {host}"
    if isinstance(reason, TimeoutError) or "timed out" in text:
        return "timed out"
    return text.splitlines()[0] if text else type(reason).__name__


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _files_with_sha256(headers: Message, body: bytes, base: str, canary: str) -> dict[str, str]:
    """filename -> absolute URL of each file listed with a sha256, or {} if not a page."""
    kind = headers.get_content_type()
    text = body.decode(headers.get_content_charset() or "utf-8", errors="replace")
    files: dict[str, str] = {}
    if "json" in kind:
        try:
            data = json.loads(text)
            if _normal(str(data["name"])) != _normal(canary):
                return {}
            for entry in data["files"]:
                if entry.get("hashes", {}).get("sha256"):
                    files[str(entry["filename"])] = urljoin(base, str(entry["url"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return {}
        return files
    for href in _ANCHOR.findall(text):
        if "#sha256=" in href:
            link = urljoin(base, href.replace("&amp;", "&"))
            files[unquote(urlsplit(link).path.rsplit("/", 1)[-1])] = link.split("#", 1)[0]
    return files
