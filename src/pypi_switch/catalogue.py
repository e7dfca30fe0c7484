"""Which mirrors exist: the catalogue shipped in the package plus the user's own entries.

The built-in list is data (``mirrors.toml``) because mirrors open and close faster than
releases ship; the user's ``config.toml`` adds entries, replaces a built-in one by
reusing its name, or turns entries off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from pypi_switch.config import MirrorEntry, Settings, load_settings
from pypi_switch.errors import SwitchError, UsageError
from pypi_switch.paths import Paths
from pypi_switch.urls import host_of, same_index, validate_index_url

__all__ = [
    "BUILTIN_SOURCE",
    "CatalogueEntry",
    "Listing",
    "builtin_mirrors",
    "catalogue",
    "listing",
    "mirrors_to_probe",
]

BUILTIN_SOURCE = "built-in"


@dataclass(frozen=True)
class CatalogueEntry:
    mirror: MirrorEntry
    enabled: bool
    # Why an entry is off, in words ("" when enabled): shown by ``pypi-switch mirrors``.
    off_reason: str = ""


@cache
def builtin_mirrors() -> tuple[MirrorEntry, ...]:
    """The mirrors shipped with the package (read once per process)."""
    # Beside this module (the package is always installed unpacked): importlib.resources
    # would cost a probe ~5 ms more of start-up for the same bytes.
    text = Path(__file__).with_name("mirrors.toml").read_text("utf-8")
    entries = []
    for item in tomllib.loads(text)["mirror"]:
        # A broken shipped catalogue is a packaging bug: fail loudly, not silently skip.
        if not str(item["url"]).startswith("https://"):
            raise SwitchError(f"built-in mirror {item['name']!r} is not https")
        entries.append(
            MirrorEntry(
                name=item["name"],
                url=validate_index_url(item["url"]),
                country=item.get("country", ""),
                operator=item.get("operator", ""),
                notes=item.get("notes", ""),
                source=BUILTIN_SOURCE,
            )
        )
    return tuple(entries)


@dataclass(frozen=True)
class Listing:
    """What `pypi-switch mirrors` shows: every entry, built-in first, on or off."""

    entries: tuple[CatalogueEntry, ...]


def listing() -> Listing:
    return Listing(catalogue(load_settings(Paths.from_environ().tool_config)))


def catalogue(settings: Settings) -> tuple[CatalogueEntry, ...]:
    """Every known mirror, built-in first, each marked on or off with the reason."""
    disabled = set(settings.disabled)
    user_names = {m.name for m in settings.mirrors}
    where = str(settings.source) if settings.source else "config.toml"
    out: list[CatalogueEntry] = []
    for m in builtin_mirrors():
        if m.name in user_names:
            out.append(
                CatalogueEntry(m, False, f"replaced by the entry of the same name in {where}")
            )
        elif not settings.builtin_mirrors:
            out.append(CatalogueEntry(m, False, f"builtin_mirrors = false in {where}"))
        elif m.name in disabled:
            out.append(CatalogueEntry(m, False, f"listed in disabled in {where}"))
        else:
            out.append(CatalogueEntry(m, True))
    for m in settings.mirrors:
        if m.name in disabled:
            out.append(CatalogueEntry(m, False, f"listed in disabled in {where}"))
        else:
            out.append(CatalogueEntry(m, True))
    return tuple(out)


def mirrors_to_probe(settings: Settings, explicit: Sequence[str] = ()) -> tuple[MirrorEntry, ...]:
    """The mirrors a probe should visit: exactly ``explicit`` URLs when given, else the catalogue.

    An explicit URL that is already in the catalogue keeps its catalogue name, so the
    user recognises it; others are named after their host (and port).
    """
    if not explicit:
        enabled = tuple(e.mirror for e in catalogue(settings) if e.enabled)
        if not enabled:
            raise SwitchError(
                "no mirror to probe: every catalogue entry is turned off "
                f"(see {settings.source or 'config.toml'}, or pass --mirror URL)"
            )
        return enabled
    known = [e.mirror for e in catalogue(settings)]
    out: list[MirrorEntry] = []
    taken: set[str] = set()
    for raw in explicit:
        try:
            url = validate_index_url(raw)
        except SwitchError as exc:
            raise UsageError(f"--mirror: {exc.message}") from None
        match = next((m for m in known if same_index(m.url, url)), None)
        name = match.name if match else _host_name(url)
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}-{n}", n + 1
        taken.add(unique)
        out.append(MirrorEntry(name=unique, url=url, source="command line"))
    return tuple(out)


def _host_name(url: str) -> str:
    parts = urlsplit(url)
    host = host_of(url)
    return f"{host}:{parts.port}" if parts.port else host
