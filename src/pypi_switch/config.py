"""The user's ``config.toml``: mirrors to add or disable, probe parameters, projects, auto.

The key names are a contract (scripts and docs rely on them). Every problem is reported
with the file name and, where it can be found, the line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypi_switch.errors import SwitchError
from pypi_switch.urls import validate_index_url

__all__ = [
    "PROJECT_NAME",
    "TARGET_NAMES",
    "AutoSettings",
    "MirrorEntry",
    "Settings",
    "load_settings",
]

TARGET_NAMES = ("pip", "pydistutils", "buildout", "project", "uv", "pdm", "poetry", "pixi")

DEFAULT_UPSTREAM = "https://pypi.org/simple/"

PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class MirrorEntry:
    name: str
    url: str
    country: str = ""
    operator: str = ""
    notes: str = ""
    source: str = "built-in"


@dataclass(frozen=True)
class AutoSettings:
    fail_after: int = 2
    recover_after: int = 3


@dataclass(frozen=True)
class Settings:
    builtin_mirrors: bool = True
    disabled: tuple[str, ...] = ()
    canary: str = "pip"
    # A small, stable project every mirror carries: its smallest file is downloaded to
    # check the bytes (pip, the freshness canary, has no file under 1.8 MB).
    file_canary: str = "six"
    upstream: str = DEFAULT_UPSTREAM
    timeout: float = 5.0
    max_lag: int = 5000
    mirrors: tuple[MirrorEntry, ...] = ()
    projects: tuple[Path, ...] = ()
    # Requirements and lock files a mirror must satisfy before it is chosen.
    require: tuple[Path, ...] = ()
    targets: tuple[str, ...] | None = None
    auto: AutoSettings = field(default_factory=AutoSettings)
    source: Path | None = None


_TOP_KEYS = {
    "builtin_mirrors",
    "disabled",
    "canary",
    "file_canary",
    "upstream",
    "timeout",
    "max_lag",
    "mirror",
    "projects",
    "require",
    "targets",
    "auto",
}


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, key: str, problem: str) -> SwitchError:
        line = self.line_of(key)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return SwitchError(f"{where}: {problem}")

    def line_of(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE)
        m = pattern.search(self.text)
        return self.text.count("\n", 0, m.start()) + 1 if m else None

    def typed(
        self, data: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str
    ) -> Any:
        value = data[key]
        if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
            raise self.fail(key, f"{key} must be {what}, not {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"{key} must be {what}, not {value!r}")
        return value

    def strings(self, data: dict[str, Any], key: str) -> tuple[str, ...]:
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"{key} must be a list of strings")
        return tuple(value)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def load_settings(path: Path) -> Settings:
    """Read ``path``; a missing file means all defaults."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except IsADirectoryError:
        raise SwitchError(f"{path}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise SwitchError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise SwitchError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SwitchError(f"{path}: invalid TOML: {exc}") from None
    return _parse(_Reader(path, text), data)


def _parse(r: _Reader, data: dict[str, Any]) -> Settings:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise r.fail(
            unknown[0], f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TOP_KEYS))})"
        )
    kw: dict[str, Any] = {"source": r.path}
    if "builtin_mirrors" in data:
        kw["builtin_mirrors"] = r.typed(data, "builtin_mirrors", bool, "true or false")
    if "disabled" in data:
        kw["disabled"] = r.strings(data, "disabled")
    for key in ("canary", "file_canary"):
        if key in data:
            name = r.typed(data, key, str, "a project name").strip()
            if not PROJECT_NAME.fullmatch(name):
                raise r.fail(key, f"{key} is not a valid project name: {name!r}")
            kw[key] = name
    if "upstream" in data:
        kw["upstream"] = _url(r, "upstream", r.typed(data, "upstream", str, "a URL"))
    if "timeout" in data:
        timeout = float(r.typed(data, "timeout", (int, float), "a number of seconds"))
        if not 0 < timeout <= 600:
            raise r.fail("timeout", "timeout must be between 0 and 600 seconds")
        kw["timeout"] = timeout
    if "max_lag" in data:
        max_lag = r.typed(data, "max_lag", int, "a whole number of serials")
        if max_lag < 0:
            raise r.fail("max_lag", "max_lag must not be negative")
        kw["max_lag"] = max_lag
    if "projects" in data:
        base = r.path.parent
        kw["projects"] = tuple((base / Path(p).expanduser()) for p in r.strings(data, "projects"))
    if "require" in data:
        # Read when used, not here: a lock file changes more often than this file.
        kw["require"] = tuple(
            (r.path.parent / Path(p).expanduser()) for p in r.strings(data, "require")
        )
    if "targets" in data:
        targets = r.strings(data, "targets")
        for name in targets:
            if name not in TARGET_NAMES:
                raise r.fail(
                    "targets", f"unknown target {name!r} (known: {', '.join(TARGET_NAMES)})"
                )
        kw["targets"] = targets
    if "mirror" in data:
        kw["mirrors"] = _mirrors(r, data["mirror"])
    if "auto" in data:
        kw["auto"] = _auto(r, data["auto"])
    return Settings(**kw)


def _url(r: _Reader, key: str, value: str) -> str:
    try:
        return validate_index_url(value)
    except SwitchError as exc:
        raise r.fail(key, f"{key}: {exc.message}") from None


def _mirrors(r: _Reader, value: Any) -> tuple[MirrorEntry, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise r.fail("mirror", "mirror entries must be written as [[mirror]] tables")
    entries = []
    seen: set[str] = set()
    for item in value:
        extra = sorted(set(item) - {"name", "url", "country", "operator", "notes"})
        if extra:
            raise r.fail("mirror", f"[[mirror]] has an unknown key {extra[0]!r}")
        name, url = item.get("name"), item.get("url")
        if not isinstance(name, str) or not name.strip():
            raise r.fail("mirror", "every [[mirror]] needs a name")
        if not isinstance(url, str):
            raise r.fail("mirror", f"mirror {name!r} needs a url")
        if name in seen:
            raise r.fail("mirror", f"two [[mirror]] entries are named {name!r}")
        seen.add(name)
        entries.append(
            MirrorEntry(
                name=name.strip(),
                url=_url(r, "url", url),
                country=str(item.get("country", "")),
                operator=str(item.get("operator", "")),
                notes=str(item.get("notes", "")),
                source=str(r.path),
            )
        )
    return tuple(entries)


def _auto(r: _Reader, value: Any) -> AutoSettings:
    if not isinstance(value, dict):
        raise r.fail("auto", "auto must be a table: [auto]")
    extra = sorted(set(value) - {"fail_after", "recover_after"})
    if extra:
        raise r.fail(extra[0], f"[auto] has an unknown key {extra[0]!r}")
    kw = {}
    for key in ("fail_after", "recover_after"):
        if key in value:
            number = r.typed(value, key, int, "a whole number")
            if number < 1:
                raise r.fail(key, f"{key} must be at least 1")
            kw[key] = number
    return AutoSettings(**kw)
