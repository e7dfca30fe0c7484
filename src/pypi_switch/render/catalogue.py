"""`pypi-switch mirrors`: the catalogue, built-in and the user's own entries.

Rich is loaded only for a terminal: listing the catalogue must stay as quick as `status`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pypi_switch.catalogue import Listing
from pypi_switch.render import safe

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["to_json", "to_text"]


def to_json(listing: Listing) -> list[dict[str, Any]]:
    return [
        {
            "name": e.mirror.name,
            "url": e.mirror.url,
            "country": e.mirror.country,
            "operator": e.mirror.operator,
            "notes": e.mirror.notes,
            "source": e.mirror.source,
            "enabled": e.enabled,
            "off_reason": e.off_reason or None,
        }
        for e in listing.entries
    ]


def to_text(listing: Listing) -> str | RenderableType:
    entries = listing.entries
    if sys.stdout.isatty():
        from rich.table import Table
        from rich.text import Text

        def _t(text: str) -> Text:
            return Text(safe(text))

        table = Table(title="mirror catalogue", title_justify="left")
        for column in ("mirror", "url", "country", "operator", "from", "state"):
            table.add_column(column, overflow="fold")
        for e in entries:
            m = e.mirror
            state = Text("on", style="green") if e.enabled else _t(f"off: {e.off_reason}")
            table.add_row(_t(m.name), _t(m.url), _t(m.country), _t(m.operator), _t(m.source), state)
        return table
    width = max((len(e.mirror.name) for e in entries), default=0)
    lines = []
    for e in entries:
        m = e.mirror
        words = "on" if e.enabled else f"off ({e.off_reason})"
        lines.append(f"{m.name:<{width}}  {m.url}  {m.country or '-'}  [{m.source}]  {words}")
    return "".join(f"{line}\n" for line in lines)
