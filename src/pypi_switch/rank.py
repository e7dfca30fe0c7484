"""Rank probe results: validity and integrity gate, speed decides, freshness breaks near-ties.

Pure: results in, ordered choice with a reason in words for every mirror out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pypi_switch.probe import ProbeReport, ProbeResult

__all__ = ["NEAR_TIE_MS", "NEAR_TIE_RATIO", "Ranked", "rank"]

# Two latencies are a near-tie when they differ by at most this much (the larger of the
# two bounds): loopback-noise at one end, a few percent of a slow link at the other. Only
# then may freshness reorder them; a ranker that puts freshness first picks a crawling
# mirror whenever it happens to be one serial ahead.
NEAR_TIE_MS = 25.0
NEAR_TIE_RATIO = 0.15


@dataclass(frozen=True)
class Ranked:
    result: ProbeResult
    ok: bool  # may be chosen
    reason: str
    lag: int | None


def rank(report: ProbeReport, *, max_lag: int) -> list[Ranked]:
    """Best first: choosable mirrors in order, then every rejection with its reason."""
    results = report.results
    upstream = report.upstream if report.upstream and report.upstream.valid else None
    unsafe = _integrity(results, upstream)
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
            reason = f"stale: {_serials(lag)} behind (limit {_number(max_lag)})"
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
    ms = _ms(r.latency_ms)
    fresh = _freshness(lag)
    if pos == 0:
        fastest = min(ordered, key=lambda j: _speed(results[j]))
        if fastest == i or _speed(results[fastest]) == _speed(r):
            reason = f"fastest valid mirror ({ms}), {fresh}"
        else:
            other = results[fastest]
            reason = (
                f"valid, {ms}, {fresh}: preferred for freshness to {other.name} "
                f"({_ms(other.latency_ms)}, {_freshness(lags[fastest])}), a near-tie"
            )
        return Ranked(r, True, reason, lag)
    best = results[ordered[0]]
    slower = _speed(r) - _speed(best)
    if slower > 0:
        reason = f"valid, {ms} ({slower:.0f} ms slower than {best.name}), {fresh}"
    else:
        reason = f"valid, {ms}, {fresh}: {best.name} is as fast and fresher"
    return Ranked(r, True, reason, lag)


def _integrity(results: Sequence[ProbeResult], upstream: ProbeResult | None) -> dict[int, str]:
    """Mirrors whose sha256 for some file disagrees with upstream or with the majority.

    With upstream reachable its digest is the truth. Otherwise a digest must be the one
    most mirrors listing the file agree on; a tie has no majority, so no side is trusted.
    """
    valid = [i for i, r in enumerate(results) if r.valid]
    unsafe: dict[int, str] = {}
    for i in valid:
        mine = results[i].digests
        for filename in sorted(mine):
            digest = mine[filename]
            if upstream is not None and filename in upstream.digests:
                if upstream.digests[filename] != digest:
                    unsafe[i] = f"unsafe: sha256 of {filename} differs from upstream"
                    break
                continue
            listed = [results[j].digests[filename] for j in valid if filename in results[j].digests]
            differing = sum(1 for d in listed if d != digest)
            if differing == 0:
                continue
            counts = Counter(listed).most_common(2)
            if counts[0][0] != digest or counts[0][1] == counts[1][1]:
                tail = "" if counts[0][1] > counts[1][1] else " (no majority)"
                others = _plural(differing, "other mirror")
                unsafe[i] = f"unsafe: sha256 of {filename} differs from {others}{tail}"
                break
    return unsafe


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
    return f"{_number(n)} serial{'' if n == 1 else 's'}"


def _number(n: int) -> str:
    # "1 240", as people write it in every locale, rather than "1,240" or "1.240".
    return f"{n:,}".replace(",", " ")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f} ms"
