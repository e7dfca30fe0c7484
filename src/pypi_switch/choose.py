"""Probe mirrors and pick the one to use: shared by `use-mirror` and the cron `auto` tick."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pypi_switch import catalogue, rank
from pypi_switch.config import MirrorEntry, Settings
from pypi_switch.errors import SwitchError
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.report import ProbeReport, ProbeResult
from pypi_switch.paths import Paths
from pypi_switch.rank import Ranked
from pypi_switch.targets.base import Context
from pypi_switch.urls import redact

if TYPE_CHECKING:  # requests is imported only once a probe runs
    from pypi_switch.net.transport import Transport

__all__ = ["Choice", "choose_mirror", "pick", "transport_for"]


@dataclass(frozen=True)
class Choice:
    report: ProbeReport
    ranking: tuple[Ranked, ...]
    best: Ranked | None  # the mirror to use, or None when none may be chosen
    network_down: bool  # nothing answered at all: upstream (when probed) nor any mirror

    @property
    def rejections(self) -> tuple[Ranked, ...]:
        return tuple(r for r in self.ranking if not r.ok)


def choose_mirror(
    settings: Settings,
    *,
    mirror_urls: Sequence[str] = (),
    mirrors: Sequence[MirrorEntry] | None = None,
    timeout: float | None = None,
    canary: str | None = None,
    upstream: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    deadline: Deadline | None = None,
    transport: Transport | None = None,
) -> Choice:
    """Probe ``mirrors`` (else ``mirror_urls``, else the catalogue) and rank them.

    Pass ``deadline`` and ``transport`` to go on with more requests under the same ones.
    """
    from pypi_switch.net.probe import probe_mirrors

    settings = catalogue.with_overrides(settings, timeout=timeout, canary=canary, upstream=upstream)
    entries = (
        tuple(mirrors) if mirrors is not None else catalogue.mirrors_to_probe(settings, mirror_urls)
    )
    report = probe_mirrors(
        entries,
        canary=settings.canary,
        upstream=settings.upstream,
        deadline=deadline if deadline is not None else Deadline.after(settings.timeout),
        max_lag=settings.max_lag,
        transport=transport if transport is not None else transport_for(None),
        on_result=on_result,
    )
    ranking = tuple(rank.rank(report, max_lag=settings.max_lag))
    best = ranking[0] if ranking and ranking[0].ok else None
    answered = [r.reachable for r in report.results]
    if report.upstream is not None:
        answered.append(report.upstream.reachable)
    return Choice(report=report, ranking=ranking, best=best, network_down=not any(answered))


def pick(choice: Choice, *, url: str | None) -> str:
    """The URL `use-mirror` switches to: ``url`` if it passed the probe, else the best.

    Raises ``SwitchError`` with the reasons when nothing may be chosen.
    """
    if choice.best is not None:
        return choice.best.result.url
    if url is not None:
        reason = choice.ranking[0].reason if choice.ranking else "no answer"
        raise SwitchError(
            f"{redact(url)} may not be used: {reason}; nothing changed "
            "(--force switches without this check)"
        )
    if choice.network_down:
        raise SwitchError(
            "nothing answered, neither upstream nor any mirror: the local network looks down; "
            "nothing changed"
        )
    reasons = "; ".join(f"{r.result.name}: {r.reason}" for r in choice.ranking[:5])
    more = f" (and {len(choice.ranking) - 5} more)" if len(choice.ranking) > 5 else ""
    raise SwitchError(f"no mirror may be chosen, nothing changed: {reasons}{more}")


def transport_for(ctx: Context | None) -> Transport:
    """The transport of a run, trusting what pip trusts (its config's ``cert`` included)."""
    from pypi_switch.net.transport import Transport
    from pypi_switch.net.trust import Trust
    from pypi_switch.targets.pip import effective_cert

    if ctx is None:
        ctx = Context(paths=Paths.from_environ(), settings=Settings(), environ=dict(os.environ))
    return Transport(Trust.from_environ(ctx.environ, pip_cert=effective_cert(ctx)))
