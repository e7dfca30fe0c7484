"""Showing a probe: a live table while it runs, the ranked verdict after, or JSON.

On a terminal, a row per mirror fills in as answers arrive, so a person sees progress
during a slow probe. Piped, each answer is one plain line as it arrives and the verdict is
plain aligned text (grep-able, no escape codes). Rich honours NO_COLOR on its own.
Every URL and message passes through ``redact_text``: credentials are never shown.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pypi_switch.catalogue import CatalogueEntry
from pypi_switch.config import MirrorEntry
from pypi_switch.net.report import ProbeReport, ProbeResult
from pypi_switch.rank import Ranked
from pypi_switch.urls import redact, redact_text
from pypi_switch.vet_view import coverage_json, file_json, vetting_lines

if TYPE_CHECKING:
    from pypi_switch.vet import Vetting

__all__ = ["ProbeView", "catalogue_json", "ranked_json", "show_catalogue", "show_ranked"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _summary(r: ProbeResult) -> str:
    if not r.valid:
        return redact_text(r.error or "not a valid simple page")
    serial = f", serial {r.serial}" if r.serial is not None else ""
    newest = f", newest {r.newest_version}" if r.newest_version else ""
    return f"valid {r.page_format} page in {_ms(r.latency_ms)}{serial}{newest}"


class ProbeView:
    """Progress while probing; pass ``on_result`` to ``probe_mirrors``."""

    def __init__(
        self,
        console: Console,
        mirrors: Sequence[MirrorEntry],
        *,
        upstream: str | None,
        timeout: float,
    ) -> None:
        self.console = console
        self.timeout = timeout
        self.names = [m.name for m in mirrors]
        self.urls = {m.name: m.url for m in mirrors}
        self.upstream = upstream
        self.done: dict[str, ProbeResult] = {}
        self.upstream_result: ProbeResult | None = None
        self.start = time.monotonic()
        self.live: Live | None = None

    def __enter__(self) -> ProbeView:
        self.start = time.monotonic()
        if self.console.is_terminal:
            self.live = Live(
                get_renderable=self._table,
                console=self.console,
                refresh_per_second=8,
                transient=True,  # the ranked table replaces it
            )
            self.live.start()
        else:
            count = len(self.names)
            self.console.print(
                f"probing {count} mirror{'s' if count != 1 else ''} "
                f"(deadline {self.timeout:g} s)...",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.stop()

    def on_result(self, result: ProbeResult) -> None:
        if result.is_upstream:
            self.upstream_result = result
        else:
            self.done[result.name] = result
        if self.live is None:
            label = "upstream" if result.is_upstream else result.name
            self.console.print(
                f"  {label}: {_summary(result)}", markup=False, highlight=False, soft_wrap=True
            )
        else:
            self.live.refresh()

    def _table(self) -> Table:
        elapsed = time.monotonic() - self.start
        table = Table(
            title=f"probing ({elapsed:.1f} s of {self.timeout:g} s)", title_justify="left"
        )
        table.add_column("mirror")
        table.add_column("url", overflow="fold")
        table.add_column("answer")
        for name in self.names:
            table.add_row(name, redact(self.urls[name]), _cell(self.done.get(name)))
        if self.upstream is not None:
            table.add_row("(upstream)", redact(self.upstream), _cell(self.upstream_result))
        return table


def _cell(result: ProbeResult | None) -> Text:
    if result is None:
        return Text("probing...", style="dim")
    if result.not_waited_for:
        return Text(_summary(result), style="dim")
    return Text(_summary(result), style="green" if result.valid else "red")


# -- the verdict ----------------------------------------------------------------------------


def ranked_json(ranked: Sequence[Ranked], vetting: Vetting | None = None) -> list[dict[str, Any]]:
    """Best first; the keys are a contract for scripts.

    With a vetting, each mirror also says what it showed of the required pins
    (``require``) and of its bytes (``file_check``), null where it was not asked.
    """
    coverages = {c.url: c for c in vetting.coverages} if vetting else {}
    files = {f.url: f for f in vetting.files} if vetting else {}
    out = []
    for x in ranked:
        r = x.result
        coverage, checked = coverages.get(r.url), files.get(r.url)
        extra = {
            "chosen": vetting.chosen is x if vetting is not None else False,
            "require": coverage_json(coverage) if coverage else None,
            "file_check": file_json(checked) if checked else None,
        }
        out.append(
            {
                "name": r.name,
                "url": redact(r.url),
                "ok": x.ok,
                "reason": redact_text(x.reason),
                "latency_ms": None if r.latency_ms is None else round(r.latency_ms, 1),
                "ttfb_ms": None if r.ttfb_ms is None else round(r.ttfb_ms, 1),
                "serial": r.serial,
                "lag": x.lag,
                "newest_version": r.newest_version,
                "reachable": r.reachable,
                "valid": r.valid,
                "timed_out": r.timed_out,
                "not_waited_for": r.not_waited_for,
                **extra,
            }
        )
    return out


def show_ranked(
    console: Console,
    ranked: Sequence[Ranked],
    report: ProbeReport,
    vetting: Vetting | None = None,
) -> None:
    chosen = next((x for x in ranked if x.ok), None)
    if vetting is not None:
        chosen = vetting.chosen
    if console.is_terminal:
        table = Table(title="mirrors, best first", title_justify="left")
        for column in ("", "mirror", "time", "serial", "lag", "reason"):
            table.add_column(column, overflow="fold")
        for x in ranked:
            r = x.result
            table.add_row(
                Text("ok", style="green") if x.ok else Text("no", style="red"),
                r.name,
                _ms(r.latency_ms),
                "-" if r.serial is None else str(r.serial),
                "-" if x.lag is None else str(x.lag),
                redact_text(x.reason),
            )
        console.print(table)
    else:
        width = max((len(x.result.name) for x in ranked), default=0)
        for x in ranked:
            r = x.result
            line = (
                f"{'ok' if x.ok else 'no'}  {r.name:<{width}}  {_ms(r.latency_ms):>8}  "
                f"{redact(r.url)}  {redact_text(x.reason)}"
            )
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    lines = []
    if report.upstream is not None:
        lines.append(f"upstream {redact(report.upstream.url)}: {_summary(report.upstream)}")
    took = f"probe took {report.elapsed_s:.1f} s (deadline {report.deadline_s:g} s)"
    if report.final_after_s is not None:
        took += f"; the choice was final after {report.final_after_s * 1000:.0f} ms"
    lines.append(took)
    if vetting is not None:
        lines += vetting_lines(vetting)
        if chosen is None:
            lines.append(vetting.failure())
    if chosen is not None:
        lines.append(f"best: {chosen.result.name} {redact(chosen.result.url)}")
    else:
        lines.append("no mirror can be chosen")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


# -- the catalogue ----------------------------------------------------------------------------


def catalogue_json(entries: Sequence[CatalogueEntry]) -> list[dict[str, Any]]:
    return [
        {
            "name": e.mirror.name,
            "url": redact(e.mirror.url),
            "country": e.mirror.country,
            "operator": e.mirror.operator,
            "notes": e.mirror.notes,
            "source": e.mirror.source,
            "enabled": e.enabled,
            "off_reason": e.off_reason or None,
        }
        for e in entries
    ]


def show_catalogue(console: Console, entries: Sequence[CatalogueEntry]) -> None:
    if console.is_terminal:
        table = Table(title="mirror catalogue", title_justify="left")
        for column in ("mirror", "url", "country", "operator", "from", "state"):
            table.add_column(column, overflow="fold")
        for e in entries:
            m = e.mirror
            state = Text("on", style="green") if e.enabled else Text(f"off: {e.off_reason}")
            table.add_row(m.name, redact(m.url), m.country, m.operator, m.source, state)
        console.print(table)
        return
    width = max((len(e.mirror.name) for e in entries), default=0)
    for e in entries:
        m = e.mirror
        state_text = "on" if e.enabled else f"off ({e.off_reason})"
        line = f"{m.name:<{width}}  {redact(m.url)}  {m.country or '-'}  [{m.source}]  {state_text}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
