"""Probe mirrors and pick the one to use: `probe`, `use-mirror` and the cron tick's survey.

``probe`` measures, ranks and vets (the required pins, one file's bytes); ``pick`` turns
that into the URL to use or a reason why none may be used; ``use_mirror`` is the whole
`use-mirror` command: check the command line, probe (unless ``--force``), pick, then run
the switch transaction; ``probe_command`` is `pypi-switch probe`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pypi_switch import catalogue, rank
from pypi_switch.config import MirrorEntry, Settings, load_settings, with_overrides
from pypi_switch.errors import SwitchError, UsageError
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.report import ProbeReport, ProbeResult
from pypi_switch.paths import Paths
from pypi_switch.rank import Ranked
from pypi_switch.switch import SwitchResult, check_url
from pypi_switch.switch import use_mirror as switch_to
from pypi_switch.targets import choose_targets
from pypi_switch.targets.base import Context
from pypi_switch.urls import is_pypi, same_index

if TYPE_CHECKING:  # requests is imported only once a probe runs
    from pypi_switch.lockfiles import Needs
    from pypi_switch.net.filecheck import FilePages
    from pypi_switch.net.transport import Transport
    from pypi_switch.vet import Vetting

__all__ = [
    "Choice",
    "ProbeProgress",
    "UseMirrorOutcome",
    "pick",
    "probe",
    "probe_and_pick",
    "probe_command",
    "read_needs",
    "transport_for",
    "use_mirror",
]


class ProbeProgress(Protocol):
    """Who watches a probe as it runs (the live view)."""

    def started(
        self, mirrors: Sequence[MirrorEntry], *, upstream: str | None, timeout: float
    ) -> None: ...

    def answered(self, result: ProbeResult) -> None: ...


@dataclass(frozen=True)
class Choice:
    report: ProbeReport
    ranking: tuple[Ranked, ...]
    best: Ranked | None  # the probe's best, or None when none may be chosen
    network_down: bool  # nothing answered at all: upstream (when probed) nor any mirror
    # The pins and the bytes, checked on the best candidates (None: the probe had no best).
    vetting: Vetting | None = None

    @property
    def chosen(self) -> Ranked | None:
        """The mirror to use: the probe's best, unless vetting went further down the list."""
        return self.vetting.chosen if self.vetting is not None else self.best

    @property
    def rejections(self) -> tuple[Ranked, ...]:
        return tuple(r for r in self.ranking if not r.ok)


@dataclass(frozen=True)
class UseMirrorOutcome:
    switch: SwitchResult
    choice: Choice | None  # None: switched with --force, without probing


def probe(
    settings: Settings,
    entries: Sequence[MirrorEntry],
    *,
    progress: ProbeProgress | None = None,
    deadline: Deadline | None = None,
    transport: Transport | None = None,
    needs: Needs | None = None,
    check_bytes: bool = False,
    allow_missing: bool = False,
    eligible: Callable[[str], bool] | None = None,
) -> Choice:
    """Probe ``entries`` (and the settings' upstream) and rank them.

    Then, best first, vet the candidates (``eligible`` ones only): every pin of ``needs``,
    and with ``check_bytes`` one small file of ``settings.file_canary``, all under the
    same deadline. Pass ``deadline`` and ``transport`` to go on with more requests.
    """
    # Everything imported before the first request: once probes are abandoned at the
    # deadline, their sockets may hold the last file descriptors an import would need.
    from pypi_switch import vet
    from pypi_switch.net.filecheck import FilePages
    from pypi_switch.net.probe import probe_mirrors

    if progress is not None:
        progress.started(entries, upstream=settings.upstream, timeout=settings.timeout)
    deadline = deadline if deadline is not None else Deadline.after(settings.timeout)
    transport = transport if transport is not None else transport_for(None)
    pages = None
    if check_bytes:
        # Asked while the probe runs, so that once a mirror is chosen only the download is
        # left: upstream's page now, and the pages of the first mirrors to answer validly.
        upstream = MirrorEntry(name="upstream", url=settings.upstream)
        pages = FilePages(
            [*entries, upstream],
            settings.file_canary,
            deadline=deadline,
            transport=transport,
            eager=[upstream],
        )
    on_result = _answered(progress, pages)
    try:
        report = probe_mirrors(
            entries,
            canary=settings.canary,
            upstream=settings.upstream,
            deadline=deadline,
            max_lag=settings.max_lag,
            transport=transport,
            on_result=on_result,
        )
        ranking = tuple(rank.rank(report, max_lag=settings.max_lag))
        best = ranking[0] if ranking and ranking[0].ok else None
        vetting = None
        if best is not None and (needs or pages is not None):
            vet_rest = functools.partial(
                _vet,
                settings,
                entries,
                needs=needs,
                pages=pages,
                deadline=deadline,
                transport=transport,
                eligible=eligible,
            )
            vetting = vet_rest(report, ranking, vetted=None)
            # The probe stopped waiting once its best was clear; if no candidate passes,
            # the mirrors it did not wait for are the next candidates.
            while vetting.chosen is None and not deadline.expired():
                rest = [entries[i] for i, r in enumerate(report.results) if r.not_waited_for]
                if not rest:
                    break
                more = probe_mirrors(
                    rest,
                    canary=settings.canary,
                    upstream=None,
                    deadline=deadline,
                    max_lag=settings.max_lag,
                    transport=transport,
                    on_result=on_result,
                )
                report = _merged(report, entries, rest, more)
                ranking = tuple(rank.rank(report, max_lag=settings.max_lag))
                best = ranking[0] if ranking and ranking[0].ok else None
                vetting = vet_rest(report, ranking, vetted=vetting)
                if all(r.not_waited_for for r in more.results):
                    break  # no progress: nothing more to learn in this run
            if vetting.chosen is None and allow_missing and vetting.required is not None:
                vetting = vet.anyway(
                    vetting,
                    _candidates(ranking, eligible),
                    pages=pages,
                    upstream=settings.upstream,
                    upstream_valid=_upstream_valid(report),
                    deadline=deadline,
                    transport=transport,
                )
    finally:
        if pages is not None:
            pages.close()
    answered = [r.reachable for r in report.results]
    if report.upstream is not None:
        answered.append(report.upstream.reachable)
    return Choice(
        report=report,
        ranking=ranking,
        best=best,
        network_down=not any(answered),
        vetting=vetting,
    )


# How many of the first valid answers get their file page asked at once: the likely
# choice, the next ones should it fail, and the voters when upstream cannot judge.
PREFETCH = 4


def _answered(
    progress: ProbeProgress | None, pages: FilePages | None
) -> Callable[[ProbeResult], None] | None:
    """What to do as each probe answer arrives: show it, and start its file page."""
    if progress is None and pages is None:
        return None
    asked: list[str] = []

    def answered(result: ProbeResult) -> None:
        if progress is not None:
            progress.answered(result)
        wanted = pages is not None and result.valid and not result.is_upstream
        if pages is not None and wanted and len(asked) < PREFETCH:
            asked.append(result.url)
            pages.want(result.url)

    return answered


def _vet(
    settings: Settings,
    entries: Sequence[MirrorEntry],
    report: ProbeReport,
    ranking: Sequence[Ranked],
    *,
    vetted: Vetting | None,
    needs: Needs | None,
    pages: FilePages | None,
    deadline: Deadline,
    transport: Transport,
    eligible: Callable[[str], bool] | None,
) -> Vetting:
    """Vet the candidates of ``ranking`` not yet judged in ``vetted``; the two together."""
    from pypi_switch.vet import combined, vet  # imported already by probe()

    known = [settings.upstream, *(m.url for m in entries)]
    known += [e.mirror.url for e in catalogue.catalogue(settings)]

    def pypi_like(index: str) -> bool:
        return is_pypi(index) or any(same_index(index, url) for url in known)

    done = vetted.judged if vetted is not None else set()
    fresh = vet(
        [r for r in _candidates(ranking, eligible) if r.result.url not in done],
        needs=needs,
        pages=pages,
        upstream=settings.upstream,
        upstream_valid=_upstream_valid(report),
        deadline=deadline,
        transport=transport,
        pypi_like=pypi_like,
    )
    return fresh if vetted is None else combined(vetted, fresh)


def _candidates(ranking: Sequence[Ranked], eligible: Callable[[str], bool] | None) -> list[Ranked]:
    return [r for r in ranking if r.ok and (eligible is None or eligible(r.result.url))]


def _upstream_valid(report: ProbeReport) -> bool:
    return report.upstream is not None and report.upstream.valid


def _merged(
    first: ProbeReport,
    entries: Sequence[MirrorEntry],
    rest: Sequence[MirrorEntry],
    more: ProbeReport,
) -> ProbeReport:
    """``first`` with the rows of the mirrors probed again replaced by their new answers."""
    again = {id(e): r for e, r in zip(rest, more.results, strict=True)}
    results = tuple(again.get(id(e), r) for e, r in zip(entries, first.results, strict=True))
    return dataclasses.replace(first, results=results, elapsed_s=first.elapsed_s + more.elapsed_s)


def pick(choice: Choice, *, url: str | None, forceable: bool = True) -> str:
    """The URL `use-mirror` switches to: ``url`` if it passed the probe, else the best.

    Raises ``SwitchError`` with the reasons when nothing may be chosen.
    """
    if choice.best is not None and choice.vetting is not None and choice.vetting.chosen is None:
        raise SwitchError(choice.vetting.failure())
    if choice.chosen is not None:
        return choice.chosen.result.url
    if url is not None:
        reason = choice.ranking[0].reason if choice.ranking else "no answer"
        raise SwitchError(
            f"{url} may not be used: {reason}; nothing changed"
            + (" (--force switches without this check)" if forceable else "")
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
    from pypi_switch.targets.pip import pip_trust

    if ctx is None:
        ctx = Context(paths=Paths.from_environ(), settings=Settings(), environ=dict(os.environ))
    return Transport(pip_trust(ctx))


def read_needs(settings: Settings, *, allow_missing: bool, given: bool) -> Needs | None:
    """The --require files (``given``), else config.toml's ``require``, read before probing."""
    if allow_missing and not settings.require:
        raise UsageError("--allow-missing needs --require FILE (or require in config.toml)")
    if not settings.require:
        return None
    from pypi_switch import lockfiles

    try:
        return lockfiles.read_needs(settings.require)
    except UsageError as exc:
        if given:
            raise
        # Not the command line's fault: the file named in config.toml is.
        raise SwitchError(f"require in {settings.source}: {exc.message}") from None


def probe_command(
    mirror_urls: Sequence[str] = (),
    *,
    timeout: float | None = None,
    canary: str | None = None,
    upstream: str | None = None,
    require: Sequence[Path] | None = None,
    file_canary: str | None = None,
    progress: ProbeProgress | None = None,
) -> Choice:
    """`pypi-switch probe`: the catalogue (or ``mirror_urls``) probed, ranked and vetted."""
    settings = with_overrides(
        load_settings(Paths.from_environ().tool_config),
        timeout=timeout,
        canary=canary,
        upstream=upstream,
        file_canary=file_canary,
        require=require,
    )
    needs = read_needs(settings, allow_missing=False, given=bool(require))
    entries = catalogue.mirrors_to_probe(settings, mirror_urls)
    return probe(settings, entries, progress=progress, needs=needs, check_bytes=True)


def use_mirror(
    ctx: Context,
    url: str | None,
    *,
    targets: Sequence[str] | None = None,
    mirror_urls: Sequence[str] = (),
    timeout: float | None = None,
    canary: str | None = None,
    upstream: str | None = None,
    require: Sequence[Path] | None = None,
    allow_missing: bool = False,
    file_canary: str | None = None,
    dry_run: bool = False,
    allow_insecure: bool = False,
    force: bool = False,
    progress: ProbeProgress | None = None,
) -> UseMirrorOutcome:
    """`pypi-switch use-mirror`: probe, pick (or check ``url``), then switch every target."""
    if url is not None and mirror_urls:
        raise UsageError("give either a URL or --mirror, not both")
    if force and url is None:
        raise UsageError("--force needs a URL: it switches to that mirror without probing it")
    if force and require:
        raise UsageError("--require cannot be checked with --force, which switches unprobed")
    choose_targets(ctx, targets)  # a usage error is told before any probing
    choice = None
    if url is None or not force:
        settings = with_overrides(
            ctx.settings,
            timeout=timeout,
            canary=canary,
            upstream=upstream,
            file_canary=file_canary,
            require=require,
        )
        choice, url = probe_and_pick(
            ctx,
            settings,
            url,
            mirror_urls=mirror_urls,
            allow_insecure=allow_insecure,
            allow_missing=allow_missing,
            require_given=bool(require),
            progress=progress,
        )
    result = switch_to(ctx, url, targets=targets, dry_run=dry_run, allow_insecure=allow_insecure)
    return UseMirrorOutcome(result, choice)


def probe_and_pick(
    ctx: Context,
    settings: Settings,
    url: str | None,
    *,
    mirror_urls: Sequence[str] = (),
    allow_insecure: bool = False,
    allow_missing: bool = False,
    require_given: bool = False,
    progress: ProbeProgress | None = None,
    forceable: bool = True,
) -> tuple[Choice, str]:
    """Probe the catalogue (or check ``url``) and pick: what `use-mirror` and
    `env --probe` switch to or print."""
    if url is not None:
        url = check_url(url, allow_insecure=allow_insecure)
    needs = read_needs(settings, allow_missing=allow_missing, given=require_given)
    entries = catalogue.mirrors_to_probe(settings, [url] if url else mirror_urls)
    choice = probe(
        settings,
        entries,
        progress=progress,
        transport=transport_for(ctx),
        needs=needs,
        check_bytes=True,
        allow_missing=allow_missing,
    )
    return choice, pick(choice, url=url, forceable=forceable)
