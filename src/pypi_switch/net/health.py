"""Is upstream serving? The cron tick's check: narrow, on the same transport as the probe.

The canary's simple page must list at least one file with a sha256, and that file must
answer a HEAD (on pypi.org the files live on another host, which can fail on its own).
Judging mirrors in full is the probe's job. Same deadline, trust, proxies, redirect and
credential rules, page parsing and wording as the probe: one policy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pypi_switch.net.deadline import Deadline
from pypi_switch.net.fanout import Fanout
from pypi_switch.net.pages import PageError, page_of, page_url
from pypi_switch.net.transport import NetError, Progress, Transport
from pypi_switch.urls import host_of

__all__ = ["UpstreamHealth", "upstream_health"]


@dataclass(frozen=True)
class UpstreamHealth:
    ok: bool
    reachable: bool  # any HTTP answer at all
    reason: str
    elapsed_s: float


def upstream_health(
    upstream: str, canary: str, *, deadline: Deadline, transport: Transport | None = None
) -> UpstreamHealth:
    start = time.monotonic()
    transport = transport if transport is not None else Transport()
    progress = Progress()
    # On the fan-out's daemon thread: a hung DNS lookup is abandoned at the deadline.
    with Fanout[int, tuple[bool, str]](limit=1, name="health") as fan:
        fan.submit(0, lambda: _check(transport, upstream, canary, deadline, progress))
        done = next(iter(fan.results(deadline)), None)
    if done is None:
        ok, reason = False, f"timed out after {deadline.seconds:.1f} s"
    elif done.value is not None:
        ok, reason = done.value
    else:
        ok, reason = False, f"internal error: {type(done.error).__name__}: {done.error}"
    return UpstreamHealth(ok, progress.reachable, reason, time.monotonic() - start)


def _check(
    transport: Transport, upstream: str, canary: str, deadline: Deadline, progress: Progress
) -> tuple[bool, str]:
    url = page_url(upstream, canary)
    try:
        got = transport.get(url, deadline=deadline, progress=progress)
    except NetError as exc:
        return False, exc.reason
    try:
        page = page_of(got, canary)
    except PageError as exc:
        return False, exc.reason
    page_ms = got.total_s * 1000
    file = min((f for f in page.files if f.sha256), key=lambda f: f.filename)
    file_host = host_of(file.url)
    try:
        head = transport.get(file.url, deadline=deadline, method="HEAD", accept="*/*")
    except NetError as exc:
        return False, f"file host {file_host}: {exc.reason}"
    if head.status != 200:
        return False, f"file host {file_host} answered {head.status} for {file.filename}"
    return True, (
        f"valid page for {canary} ({page_ms:.0f} ms) and {file_host} serves its files "
        f"({head.total_s * 1000:.0f} ms)"
    )
