"""What a probe found: plain data, light to import (the ranking and the views read it)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ProbeReport", "ProbeResult"]


@dataclass(frozen=True)
class ProbeResult:
    """What one mirror (or upstream) answered for the canary's page."""

    name: str
    url: str
    reachable: bool  # any HTTP response at all
    valid: bool  # a simple page for the canary with at least one file carrying sha256
    error: str | None  # why not valid, in words
    timed_out: bool
    latency_ms: float | None  # from the start of its probe to the end of the page
    ttfb_ms: float | None  # until the final response's headers
    serial: int | None
    newest_version: str | None
    digests: dict[str, str] = field(default_factory=dict)  # filename -> sha256
    status: int | None = None
    page_format: str | None = None  # "json" or "html"
    is_upstream: bool = False
    # The choice was final before this one answered: not measured, not judged either.
    not_waited_for: bool = False


@dataclass(frozen=True)
class ProbeReport:
    results: tuple[ProbeResult, ...]
    upstream: ProbeResult | None
    elapsed_s: float
    deadline_s: float
    final_after_s: float | None = None  # when the choice became final (None: never probed)
