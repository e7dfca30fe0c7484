"""Rank probe results: validity and integrity gate, speed decides, freshness breaks near-ties.

Pure: results in, ordered choice with a reason in words for every mirror out. ``settle``
beside it says when that choice is already final though some probes are still running,
so the probe can stop waiting: the same rules, asked early.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pypi_switch.net.report import ProbeReport, ProbeResult
from pypi_switch.words import ms, number, plural

__all__ = ["CORROBORATION", "NEAR_TIE_MS", "NEAR_TIE_RATIO", "Ranked", "Settled", "rank", "settle"]

# Two latencies are a near-tie when they differ by at most this much (the larger of the
# two bounds): loopback-noise at one end, a few percent of a slow link at the other. Only
# then may freshness reorder them; a ranker that puts freshness first picks a crawling
# mirror whenever it happens to be one serial ahead.
NEAR_TIE_MS = 25.0
NEAR_TIE_RATIO = 0.15
# During an outage, the best mirror must be backed by this many valid mirrors (itself
# included) listing the same sha256s before the probe stops waiting for the others.
CORROBORATION = 3


@dataclass(frozen=True)
class Ranked:
    result: ProbeResult
    ok: bool  # may be chosen
    reason: str
    lag: int | None


def rank(report: ProbeReport, *, max_lag: int) -> list[Ranked]:
    """Best first: choosable mirrors in order, then every rejection with its reason."""
    return _rank(report, _Votes(report.results), max_lag=max_lag)


def _rank(report: ProbeReport, votes: _Votes, *, max_lag: int) -> list[Ranked]:
    results = report.results
    upstream = report.upstream if report.upstream and report.upstream.valid else None
    unsafe = _integrity(votes, upstream)
    reference = _reference_serial(results, upstream, unsafe)
    lags = [
        max(0, reference - r.serial) if reference is not None and r.serial is not None else None
        for r in results
    ]

    good: list[int] = []
    rejected: list[tuple[int, float, Ranked]] = []
    for i, r in enumerate(results):
        lag = lags[i]
        if not r.valid:
            category = 3 if r.timed_out or not r.reachable else 2
            reason = r.error or "not a valid simple page"
            rejected.append((category, _speed(r), Ranked(r, False, reason, lag)))
        elif i in unsafe:
            rejected.append((0, _speed(r), Ranked(r, False, unsafe[i], lag)))
        elif lag is not None and lag > max_lag:
            reason = f"stale: {_serials(lag)} behind (limit {number(max_lag)})"
            rejected.append((1, _speed(r), Ranked(r, False, reason, lag)))
        else:
            good.append(i)

    ordered = _order(good, results, lags)
    chosen = [_explain(pos, i, ordered, results, lags) for pos, i in enumerate(ordered)]
    rejected.sort(key=lambda item: (item[0], item[1]))
    return chosen + [item[2] for item in rejected]


def _speed(r: ProbeResult) -> float:
    return r.latency_ms if r.latency_ms is not None else math.inf


def _order(good: list[int], results: Sequence[ProbeResult], lags: list[int | None]) -> list[int]:
    by_speed = sorted(good, key=lambda i: _speed(results[i]))
    if not by_speed:
        return []
    fastest = _speed(results[by_speed[0]])
    band = [i for i in by_speed if _near_tie(fastest, _speed(results[i]))]
    rest = [i for i in by_speed if i not in band]
    # Within the near-tie band: a known lag beats an unknown one, smaller lag first.
    band.sort(key=lambda i: (lags[i] is None, lags[i] or 0, _speed(results[i])))
    return band + rest


def _near_tie(fastest: float, other: float) -> bool:
    return other - fastest <= max(NEAR_TIE_MS, NEAR_TIE_RATIO * fastest)


def _explain(
    pos: int,
    i: int,
    ordered: list[int],
    results: Sequence[ProbeResult],
    lags: list[int | None],
) -> Ranked:
    r, lag = results[i], lags[i]
    took = ms(r.latency_ms)
    fresh = _freshness(lag)
    if pos == 0:
        fastest = min(ordered, key=lambda j: _speed(results[j]))
        if fastest == i or _speed(results[fastest]) == _speed(r):
            reason = f"fastest valid mirror ({took}), {fresh}"
        else:
            other = results[fastest]
            reason = (
                f"valid, {took}, {fresh}: preferred for freshness to {other.name} "
                f"({ms(other.latency_ms)}, {_freshness(lags[fastest])}), a near-tie"
            )
        return Ranked(r, True, reason, lag)
    best = results[ordered[0]]
    slower = _speed(r) - _speed(best)
    if slower > 0:
        reason = f"valid, {took} ({slower:.0f} ms slower than {best.name}), {fresh}"
    else:
        reason = f"valid, {took}, {fresh}: {best.name} is as fast and fresher"
    return Ranked(r, True, reason, lag)


def _integrity(votes: _Votes, upstream: ProbeResult | None) -> dict[int, str]:
    """Mirrors whose sha256 for some file disagrees with upstream or with the majority.

    With upstream reachable its digest is the truth. Otherwise a digest must be the one
    most mirrors listing the file agree on; a tie has no majority, so no side is trusted.
    """
    theirs = upstream.digests if upstream is not None else {}
    unsafe: dict[int, str] = {}
    for digests, members in votes.groups:
        # Only files where something disagrees can fail: the rest is checked in bulk.
        off_upstream = {name for name, _ in digests.items() - theirs.items() if name in theirs}
        suspects = off_upstream | (votes.contested & digests.keys()) - theirs.keys()
        for filename in sorted(suspects):
            digest = digests[filename]
            if filename in theirs:
                reason = f"unsafe: sha256 of {filename} differs from upstream"
                break
            counts = votes.tallies[filename]
            top = counts.most_common(2)
            if top[0][0] != digest or top[0][1] == top[1][1]:
                tail = "" if top[0][1] > top[1][1] else " (no majority)"
                others = plural(counts.total() - counts[digest], "other mirror")
                reason = f"unsafe: sha256 of {filename} differs from {others}{tail}"
                break
        else:
            continue
        for i in members:
            unsafe[i] = reason
    return unsafe


class _Votes:
    """What the valid mirrors say about each file, counted once.

    The canary's page may list a thousand files and most mirrors list the same ones with
    the same digests: mirrors are grouped by identical listings (compared in C), and each
    file's sha256s are tallied per group, so a ranking stays cheap enough to be asked
    after every answer.
    """

    def __init__(self, results: Sequence[ProbeResult]) -> None:
        self.groups: list[tuple[dict[str, str], list[int]]] = []
        for i, r in enumerate(results):
            if not r.valid:
                continue
            for digests, members in self.groups:
                if digests == r.digests:
                    members.append(i)
                    break
            else:
                self.groups.append((r.digests, [i]))
        # Files for which valid mirrors list more than one sha256 (set operations on the
        # listings, in C), then the votes on those files alone: no other file can fail.
        seen: dict[str, str] = {}
        self.contested: set[str] = set()
        for digests, _ in self.groups:
            for filename, digest in digests.items() - seen.items():
                if filename in seen:
                    self.contested.add(filename)
                else:
                    seen[filename] = digest
        self.tallies: dict[str, Counter[str]] = {name: Counter() for name in self.contested}
        for digests, members in self.groups:
            for name in self.contested & digests.keys():
                self.tallies[name][digests[name]] += len(members)


def _reference_serial(
    results: Sequence[ProbeResult], upstream: ProbeResult | None, unsafe: dict[int, str]
) -> int | None:
    if upstream is not None and upstream.serial is not None:
        return upstream.serial
    serials = [
        r.serial
        for i, r in enumerate(results)
        if r.valid and i not in unsafe and r.serial is not None
    ]
    return max(serials) if serials else None


def _freshness(lag: int | None) -> str:
    return "freshness unknown (no serial)" if lag is None else f"{_serials(lag)} behind"


def _serials(n: int) -> str:
    return plural(n, "serial")


# -- is the choice final yet? ------------------------------------------------------------


@dataclass(frozen=True)
class Settled:
    final: bool
    # Not final only because a running probe could still land in the near-tie band: ask
    # again after this long (the band closes with time, not only with answers).
    wait_ms: float | None = None


def settle(
    report: ProbeReport,
    *,
    running_ms: Sequence[float],
    upstream_pending: bool,
    max_lag: int,
) -> Settled:
    """Would ``rank`` put the same mirror first once the running probes have answered?

    ``report`` holds the answers so far; ``running_ms`` has one entry per mirror still
    running: how long it has run (0 if not started). A mirror that has not answered after
    t ms can only answer slower than t ms. Upstream is waited for while it runs: only its
    answer tells a healthy upstream from an outage.

    With a valid upstream that has a serial, upstream's digests and serial are the truth,
    so the answer is exact: final once the best mirror agrees with upstream, every valid
    mirror near enough to matter is judged by upstream alone, and no running probe can
    still land inside the near-tie band.

    Otherwise (an outage: upstream down, or not probed) the best mirror must also be
    corroborated by ``CORROBORATION`` valid mirrors (or all that could still answer, when
    fewer) listing the same sha256s within ``max_lag`` serials of each other, and no
    verdict may rest on a tied vote. The risk accepted: a mirror answering after the
    decision could have disagreed with the majority, or been fresher than every mirror
    seen (making the chosen one stale); it is not waited for (README, "When the probe
    stops waiting").
    """
    if upstream_pending:
        return Settled(False)
    if not running_ms:
        return Settled(True)
    # The cheap answers first (asked after every answer of a thousand probes): nothing
    # valid yet, or a probe so young it may still land in the band, which reaches at
    # least NEAR_TIE_MS past the fastest valid answer.
    speeds = [_speed(r) for r in report.results if r.valid]
    if not speeds:
        return Settled(False)
    floor = min(speeds) + NEAR_TIE_MS
    if min(running_ms) <= floor:
        return Settled(False, wait_ms=floor - min(running_ms) + 1.0)
    votes = _Votes(report.results)
    ranking = _rank(report, votes, max_lag=max_lag)
    if not ranking or not ranking[0].ok:
        return Settled(False)
    best = ranking[0].result
    fastest = min(_speed(x.result) for x in ranking if x.ok)
    limit = fastest + max(NEAR_TIE_MS, NEAR_TIE_RATIO * fastest)
    upstream = report.upstream if report.upstream is not None and report.upstream.valid else None
    if upstream is not None and upstream.serial is not None:
        near = [r for r in report.results if r.valid and _speed(r) <= limit]
        if not all(_judged_by(upstream, r) for r in near):
            return Settled(False)
    else:
        # A tied vote anywhere could tip a verdict, and with it the reference serial.
        if any(_tied(votes.tallies[name]) for name in votes.contested):
            return Settled(False)
        backing = [
            x.result
            for x in ranking
            if x.ok
            and not best.digests.keys().isdisjoint(x.result.digests)
            and (x.result.serial is not None or best.serial is None)
        ]
        if len(backing) < min(CORROBORATION, len(backing) + len(running_ms)):
            return Settled(False)
    wait = max((limit - ms for ms in running_ms), default=-1.0)
    if wait >= 0:
        return Settled(False, wait_ms=wait + 1.0)
    return Settled(True)


def _judged_by(upstream: ProbeResult, r: ProbeResult) -> bool:
    """``r``'s verdict rests on upstream alone: it lists only files upstream lists, or
    contradicts upstream on one (unsafe, whatever others say)."""
    theirs = upstream.digests
    return r.digests.keys() <= theirs.keys() or any(
        name in theirs for name, _ in r.digests.items() - theirs.items()
    )


def _tied(counts: Counter[str]) -> bool:
    """Valid mirrors disagree on a file's sha256 with no strict majority: one more answer
    could tip it."""
    top = counts.most_common(2)
    return len(top) == 2 and top[0][1] == top[1][1]
