"""The ranking rules, on hand-made probe results (pure: no network)."""

from __future__ import annotations

from typing import Any

from pypi_switch.probe import ProbeReport, ProbeResult
from pypi_switch.rank import rank

FILE = "canary_pkg-1.1-py3-none-any.whl"
GOOD = "a" * 64
BAD = "b" * 64


def result(
    name: str,
    latency: float | None = 100.0,
    serial: int | None = None,
    *,
    valid: bool = True,
    error: str | None = None,
    digest: str = GOOD,
    **extra: Any,
) -> ProbeResult:
    fields: dict[str, Any] = {
        "name": name,
        "url": f"https://{name}.example/simple/",
        "reachable": latency is not None,
        "valid": valid,
        "error": error,
        "timed_out": False,
        "latency_ms": latency,
        "ttfb_ms": latency,
        "serial": serial,
        "newest_version": "1.1",
        "last_modified_age_s": None,
        "digests": {FILE: digest} if valid else {},
    }
    fields.update(extra)
    return ProbeResult(**fields)


def report(*results: ProbeResult, upstream: ProbeResult | None = None) -> ProbeReport:
    return ProbeReport(results=results, upstream=upstream, elapsed_s=1.0, deadline_s=5.0)


def names(ranked: list[Any]) -> list[str]:
    return [x.result.name for x in ranked]


def test_fastest_valid_mirror_wins() -> None:
    ranked = rank(report(result("slow", 300, 1000), result("fast", 80, 1000)), max_lag=100)
    assert names(ranked) == ["fast", "slow"]
    assert ranked[0].ok and ranked[0].reason == "fastest valid mirror (80 ms), 0 serials behind"
    assert ranked[1].ok
    assert ranked[1].reason == "valid, 300 ms (220 ms slower than fast), 0 serials behind"


def test_near_tie_is_broken_by_freshness() -> None:
    ranked = rank(report(result("quick", 100, 950), result("fresh", 110, 1000)), max_lag=100)
    assert names(ranked) == ["fresh", "quick"]
    assert ranked[0].reason == (
        "valid, 110 ms, 0 serials behind: preferred for freshness to quick "
        "(100 ms, 50 serials behind), a near-tie"
    )
    assert ranked[0].lag == 0 and ranked[1].lag == 50


def test_much_slower_fresher_mirror_loses() -> None:
    ranked = rank(report(result("quick", 100, 950), result("fresh", 400, 1000)), max_lag=100)
    assert names(ranked) == ["quick", "fresh"]
    assert all(x.ok for x in ranked)


def test_invalid_mirrors_are_never_chosen_however_fast() -> None:
    ranked = rank(
        report(
            result("fast404", 5, valid=False, error="404 for /simple/pip/"),
            result("ok", 200),
        ),
        max_lag=100,
    )
    assert names(ranked) == ["ok", "fast404"]
    assert not ranked[1].ok and ranked[1].reason == "404 for /simple/pip/"


def test_404_everywhere_chooses_nothing() -> None:
    ranked = rank(
        report(
            *(result(f"m{i}", 10 + i, valid=False, error="404 for /simple/pip/") for i in range(3))
        ),
        max_lag=100,
    )
    assert not any(x.ok for x in ranked)
    assert {x.reason for x in ranked} == {"404 for /simple/pip/"}


def test_timed_out_mirrors_come_last() -> None:
    hole = result("hole", None, valid=False, error="timed out after 5.0 s", timed_out=True)
    bad = result("bad", 30, valid=False, error="500 for /simple/pip/")
    ranked = rank(report(hole, bad, result("ok", 50)), max_lag=10)
    assert names(ranked) == ["ok", "bad", "hole"]
    assert ranked[2].reason == "timed out after 5.0 s"


def test_stale_against_upstream() -> None:
    up = result("upstream", 40, 10_000, is_upstream=True)
    ranked = rank(
        report(result("old", 20, 8_760), result("new", 60, 9_990), upstream=up), max_lag=1000
    )
    assert names(ranked) == ["new", "old"]
    assert ranked[0].lag == 10
    assert not ranked[1].ok and ranked[1].reason == "stale: 1 240 serials behind (limit 1 000)"


def test_without_upstream_the_freshest_mirror_is_the_reference() -> None:
    down = result("upstream", None, valid=False, error="connection refused", is_upstream=True)
    ranked = rank(report(result("a", 20, 500), result("b", 30, 700), upstream=down), max_lag=100)
    assert [x.lag for x in ranked] == [0, 200]
    assert names(ranked) == ["b", "a"]


def test_minority_digest_is_unsafe_even_when_fastest() -> None:
    ranked = rank(
        report(result("evil", 5, digest=BAD), result("a", 50), result("b", 60)), max_lag=10
    )
    assert names(ranked) == ["a", "b", "evil"]
    assert ranked[2].reason == f"unsafe: sha256 of {FILE} differs from 2 other mirrors"


def test_two_mirrors_disagreeing_without_upstream_are_both_unsafe() -> None:
    ranked = rank(report(result("a", 50), result("b", 60, digest=BAD)), max_lag=10)
    assert not any(x.ok for x in ranked)
    assert all(x.reason.endswith("differs from 1 other mirror (no majority)") for x in ranked)


def test_upstream_digest_is_the_truth() -> None:
    up = result("upstream", 40, digest=BAD, is_upstream=True)
    ranked = rank(
        report(result("a", 50), result("b", 60), result("c", 70, digest=BAD), upstream=up),
        max_lag=10,
    )
    assert names(ranked)[0] == "c"
    assert [x.ok for x in ranked] == [True, False, False]
    assert ranked[1].reason == f"unsafe: sha256 of {FILE} differs from upstream"


def test_unknown_serial_is_not_stale_but_loses_a_near_tie() -> None:
    ranked = rank(report(result("noserial", 100), result("known", 105, 50)), max_lag=10)
    assert names(ranked) == ["known", "noserial"]
    assert ranked[1].ok and "freshness unknown (no serial)" in ranked[1].reason
