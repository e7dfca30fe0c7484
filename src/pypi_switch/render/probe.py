"""Showing a probe: a live table while it runs, the ranked verdict after, or JSON.

On a terminal, a row per mirror fills in as answers arrive, so a person sees progress
during a slow probe. Piped, each answer is one plain line as it arrives and the verdict is
plain aligned text (grep-able, no escape codes). Rich honours NO_COLOR on its own. Every
cell is a ``Text`` made ``safe``: outside text is never read as Rich markup.

Rich is imported only for a terminal: piped (scripts, cron, CI) a probe does not pay for it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from functools import singledispatch
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from pypi_switch.choose import Choice
from pypi_switch.config import MirrorEntry
from pypi_switch.net.report import ProbeResult
from pypi_switch.rank import Ranked
from pypi_switch.render import safe
from pypi_switch.render.vet import coverage_json, file_json, vetting_lines
from pypi_switch.words import ms, plural

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text

    from pypi_switch.vet import Vetting

__all__ = ["ProbeView", "is_terminal", "ranked_json", "to_json", "to_text"]


def is_terminal(stream: TextIO) -> bool:
    """Whether Rich would draw on ``stream`` (its own rules: FORCE_COLOR, TTY_COMPATIBLE)."""
    if os.environ.get("FORCE_COLOR"):
        return True
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _t(text: str, style: str = "") -> Text:
    from rich.text import Text

    return Text(safe(text), style=style)


def _summary(r: ProbeResult) -> str:
    if not r.valid:
        return r.error or "not a valid simple page"
    serial = f", serial {r.serial}" if r.serial is not None else ""
    newest = f", newest {r.newest_version}" if r.newest_version else ""
    return f"valid {r.page_format} page in {ms(r.latency_ms)}{serial}{newest}"


class ProbeView:
    """Progress while probing (a ``choose.ProbeProgress``), on ``stream``."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.timeout = 0.0
        self.names: list[str] = []
        self.urls: dict[str, str] = {}
        self.upstream: str | None = None
        self.done: dict[str, ProbeResult] = {}
        self.upstream_result: ProbeResult | None = None
        self.start = time.monotonic()
        self.live: Live | None = None

    def __enter__(self) -> ProbeView:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.stop()

    def started(
        self, mirrors: Sequence[MirrorEntry], *, upstream: str | None, timeout: float
    ) -> None:
        self.start = time.monotonic()
        self.timeout = timeout
        self.names = [m.name for m in mirrors]
        self.urls = {m.name: m.url for m in mirrors}
        self.upstream = upstream
        if self.quiet:
            return
        if is_terminal(self.stream):
            from rich.console import Console
            from rich.live import Live

            self.live = Live(
                get_renderable=self._table,
                console=Console(file=self.stream, highlight=False),
                refresh_per_second=8,
                transient=True,  # the ranked table replaces it
            )
            self.live.start()
        else:
            self._line(f"probing {plural(len(self.names), 'mirror')} (deadline {timeout:g} s)...")

    def answered(self, result: ProbeResult) -> None:
        if result.is_upstream:
            self.upstream_result = result
        else:
            self.done[result.name] = result
        if self.quiet:
            return
        if self.live is None:
            label = "upstream" if result.is_upstream else result.name
            self._line(f"  {label}: {_summary(result)}")
        else:
            self.live.refresh()

    def _line(self, text: str) -> None:
        # Piped, a line is only text: written as is, it costs a thousand mirrors
        # milliseconds instead of a Rich render each, on the thread that collects answers.
        self.stream.write(safe(text) + "\n")
        self.stream.flush()

    def _table(self) -> Table:
        from rich.table import Table

        elapsed = time.monotonic() - self.start
        table = Table(
            title=f"probing ({elapsed:.1f} s of {self.timeout:g} s)", title_justify="left"
        )
        table.add_column("mirror")
        table.add_column("url", overflow="fold")
        table.add_column("answer")
        for name in self.names:
            table.add_row(_t(name), _t(self.urls[name]), _cell(self.done.get(name)))
        if self.upstream is not None:
            table.add_row(_t("(upstream)"), _t(self.upstream), _cell(self.upstream_result))
        return table


def _cell(result: ProbeResult | None) -> Text:
    if result is None:
        return _t("probing...", "dim")
    if result.not_waited_for:
        return _t(_summary(result), "dim")
    return _t(_summary(result), "green" if result.valid else "red")


# -- the verdict ----------------------------------------------------------------------------


def _mark(x: Ranked) -> str:
    """ok, no, or -- for a mirror not waited for: neither judged good nor bad."""
    return "--" if x.result.not_waited_for else "ok" if x.ok else "no"


def _verdict(x: Ranked) -> Text:
    mark = _mark(x)
    return _t(mark, {"--": "dim", "ok": "green", "no": "red"}[mark])


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
                "url": r.url,
                "ok": x.ok,
                "reason": x.reason,
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


@singledispatch
def to_json(result: object) -> Any:
    raise TypeError(f"no JSON view for {type(result).__name__}")


@singledispatch
def to_text(result: object) -> str | RenderableType:
    raise TypeError(f"no text view for {type(result).__name__}")


@to_json.register(Choice)
def _(choice: Choice) -> list[dict[str, Any]]:
    return ranked_json(choice.ranking, choice.vetting)


@to_text.register(Choice)
def _(choice: Choice) -> str | RenderableType:
    ranked, report = choice.ranking, choice.report
    chosen = choice.chosen
    lines = []
    if report.upstream is not None:
        lines.append(f"upstream {report.upstream.url}: {_summary(report.upstream)}")
    took = f"probe took {report.elapsed_s:.1f} s (deadline {report.deadline_s:g} s)"
    if report.final_after_s is not None:
        took += f"; the choice was final after {report.final_after_s * 1000:.0f} ms"
    lines.append(took)
    if choice.vetting is not None:
        lines += vetting_lines(choice.vetting)
        if chosen is None:
            lines.append(choice.vetting.failure())
    if chosen is not None:
        lines.append(f"best: {chosen.result.name} {chosen.result.url}")
    else:
        lines.append("no mirror can be chosen")
    if is_terminal(sys.stdout):
        from rich.console import Group
        from rich.table import Table

        table = Table(title="mirrors, best first", title_justify="left")
        for column in ("", "mirror", "time", "serial", "lag", "reason"):
            table.add_column(column, overflow="fold")
        for x in ranked:
            r = x.result
            table.add_row(
                _verdict(x),
                _t(r.name),
                ms(r.latency_ms),
                "-" if r.serial is None else str(r.serial),
                "-" if x.lag is None else str(x.lag),
                _t(x.reason),
            )
        return Group(table, *(_t(line) for line in lines))
    width = max((len(x.result.name) for x in ranked), default=0)
    rows = [
        f"{_mark(x)}  {x.result.name:<{width}}  {ms(x.result.latency_ms):>8}  "
        f"{x.result.url}  {x.reason}"
        for x in ranked
    ]
    return "".join(f"{line}\n" for line in rows + lines)
