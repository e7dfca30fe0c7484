"""Probe mirrors: the canary's page from every mirror (and upstream) at once, under one
deadline, stopping as soon as the choice is final (``rank.settle``).

Each probe runs on the fan-out's pool; this thread collects answers, asks ``settle`` after
each batch and whenever the near-tie band may have closed, and stops there. Probes still
running then are reported as "not waited for" (the choice was final without them), or
as "timed out" when the deadline came first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from pypi_switch import rank
from pypi_switch.config import MirrorEntry
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.fanout import Fanout
from pypi_switch.net.pages import PageError, page_of, page_url
from pypi_switch.net.report import ProbeReport, ProbeResult
from pypi_switch.net.transport import MAX_BODY, NetError, Progress, Transport

__all__ = ["WORKERS", "probe_mirrors", "probe_one"]

# Probes in flight at once. Enough that a thousand-mirror catalogue is covered well inside
# a few seconds; few enough to stay far from the open-file limit (measured, see bench/).
WORKERS = 128


def probe_one(
    transport: Transport,
    entry: MirrorEntry,
    canary: str,
    deadline: Deadline,
    progress: Progress,
    *,
    max_bytes: int = MAX_BODY,
    is_upstream: bool = False,
) -> ProbeResult:
    """Fetch and judge one mirror's canary page; never raises for anything the network does."""
    progress.started = time.monotonic()
    base = _blank(entry, is_upstream=is_upstream)
    url = page_url(entry.url, canary)
    try:
        got = transport.get(url, deadline=deadline, max_bytes=max_bytes, progress=progress)
    except NetError as exc:
        return replace(base, reachable=exc.reachable, timed_out=exc.timed_out, error=exc.reason)
    measured = replace(
        base,
        reachable=True,
        status=got.status,
        latency_ms=got.total_s * 1000,
        ttfb_ms=got.ttfb_s * 1000,
    )
    try:
        page = page_of(got, canary)
    except PageError as exc:
        return replace(measured, error=exc.reason)
    return replace(
        measured,
        valid=True,
        serial=page.serial,
        newest_version=page.newest_version,
        digests=page.digests,
        page_format=page.format,
    )


def probe_mirrors(
    mirrors: Sequence[MirrorEntry],
    *,
    canary: str,
    upstream: str | None,
    deadline: Deadline,
    max_lag: int,
    transport: Transport | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    max_bytes: int = MAX_BODY,
    wait_for_all: bool = False,
    workers: int = WORKERS,
) -> ProbeReport:
    """Probe every mirror (and upstream) concurrently; return once the choice is final,
    or at ``deadline`` at the latest.

    ``on_result`` is called in this thread as each answer arrives (the live view), then for
    each probe cut short. ``wait_for_all``: no early decision (every mirror measured).
    """
    start = time.monotonic()
    transport = transport if transport is not None else Transport()
    entries = list(mirrors)
    if upstream is not None:
        entries.append(MirrorEntry(name="upstream", url=upstream, source="upstream"))
    n = len(mirrors)
    progress = [Progress() for _ in entries]
    done: dict[int, ProbeResult] = {}

    def collect(key: int, result: ProbeResult | None, error: BaseException | None) -> None:
        if result is None:  # a bug must cost one row, not the whole probe
            lines = str(error).strip().splitlines()
            detail = lines[0][:120] if lines else type(error).__name__
            blank = _blank(entries[key], is_upstream=key >= n)
            result = replace(blank, error=f"internal error: {detail}")
        done[key] = result
        if on_result is not None:
            on_result(result)

    def task(i: int) -> Callable[[], ProbeResult]:
        return lambda: probe_one(
            transport,
            entries[i],
            canary,
            deadline,
            progress[i],
            max_bytes=max_bytes,
            is_upstream=i >= n,
        )

    decided = False
    with Fanout[int, ProbeResult](limit=workers, name="probe") as fan:
        # Upstream first: with a bounded pool, the answer that settles most is not queued.
        for i in [*range(n, len(entries)), *range(n)]:
            fan.submit(i, task(i))
        wait: float | None = None
        while len(done) < len(entries) and not decided:
            remaining = deadline.remaining()
            if remaining <= 0:
                break
            first = fan.next(remaining if wait is None else min(remaining, wait))
            for d in ([first] if first is not None else []) + fan.drain():
                collect(d.key, d.value, d.error)
            if wait_for_all or len(done) == len(entries):
                continue
            verdict = _settle(n, len(entries), done, progress, start, max_lag)
            decided = verdict.final
            wait = None if verdict.wait_ms is None else verdict.wait_ms / 1000
        final_after = time.monotonic() - start
        for d in fan.drain():  # answers that came in time are never reported late
            collect(d.key, d.value, d.error)
    for i, entry in enumerate(entries):
        if i in done:
            continue
        base = replace(_blank(entry, is_upstream=i >= n), reachable=progress[i].reachable)
        if decided:
            reason = f"not waited for: the choice was final after {final_after * 1000:.0f} ms"
            collect(i, replace(base, not_waited_for=True, error=reason), None)
        else:
            reason = f"timed out after {deadline.seconds:.1f} s"
            collect(i, replace(base, timed_out=True, error=reason), None)
    return ProbeReport(
        results=tuple(done[i] for i in range(n)),
        upstream=done.get(n) if upstream is not None else None,
        elapsed_s=time.monotonic() - start,
        deadline_s=deadline.seconds,
        final_after_s=final_after,
    )


def _settle(
    n: int,
    total: int,
    done: dict[int, ProbeResult],
    progress: Sequence[Progress],
    start: float,
    max_lag: int,
) -> rank.Settled:
    now = time.monotonic()
    running = [
        (now - p.started) * 1000 if p.started is not None else 0.0
        for i, p in enumerate(progress[:n])
        if i not in done
    ]
    so_far = ProbeReport(
        results=tuple(done[i] for i in range(n) if i in done),
        upstream=done.get(n),
        elapsed_s=now - start,
        deadline_s=0.0,
    )
    pending_upstream = total > n and n not in done
    return rank.settle(
        so_far, running_ms=running, upstream_pending=pending_upstream, max_lag=max_lag
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
        is_upstream=is_upstream,
    )
