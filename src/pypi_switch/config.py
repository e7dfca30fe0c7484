"""The user's ``config.toml``: mirrors to add or disable, probe parameters, projects, auto.

The key names are a contract (scripts and docs rely on them). Every problem is reported
with the file name and, where it can be found, the line.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypi_switch.edit import read_regular
from pypi_switch.errors import SwitchError, UsageError
from pypi_switch.urls import validate_index_url

__all__ = [
    "TARGET_NAMES",
    "AutoSettings",
    "MirrorEntry",
    "Settings",
    "load_settings",
    "with_overrides",
]

TARGET_NAMES = ("pip", "pydistutils", "buildout", "project", "uv", "pdm", "poetry", "pixi")

DEFAULT_UPSTREAM = "https://pypi.org/simple/"
MAX_TIMEOUT = 600.0
# PEP 508 names: what a canary (a project every mirror carries) may be called.
_PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


def _timeout_problem(value: float) -> str | None:
    return None if 0 < value <= MAX_TIMEOUT else f"must be between 0 and {MAX_TIMEOUT:g} seconds"


def _canary_problem(name: str) -> str | None:
    return None if _PROJECT_NAME.fullmatch(name) else f"is not a valid project name: {name!r}"


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

    def fail(self, key: str, problem: str, *, table: tuple[str, int] | None = None) -> SwitchError:
        """An error naming the line of ``key`` (within the ``table``-th ``[[name]]`` or
        ``[name]`` table, counting from 0, when given)."""
        line = self.line_of(key, table=table)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return SwitchError(f"{where}: {problem}")

    def line_of(self, key: str, *, table: tuple[str, int] | None = None) -> int | None:
        start = 0
        if table is not None:
            name, nth = table
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?", re.MULTILINE)
            found = list(header.finditer(self.text))
            if nth >= len(found):
                return None
            start = found[nth].start()
            nxt = re.compile(r"^\s*\[", re.MULTILINE).search(self.text, found[nth].end())
            end = nxt.start() if nxt else len(self.text)
            m = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE).search(
                self.text, found[nth].end(), end
            )
            return self.text.count("\n", 0, (m or found[nth]).start()) + 1
        m = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE).search(self.text, start)
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
        raw = read_regular(path)
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
            problem = _canary_problem(name)
            if problem:
                raise r.fail(key, f"{key} {problem}")
            kw[key] = name
    if "upstream" in data:
        kw["upstream"] = _url(r, "upstream", r.typed(data, "upstream", str, "a URL"))
    if "timeout" in data:
        timeout = float(r.typed(data, "timeout", (int, float), "a number of seconds"))
        problem = _timeout_problem(timeout)
        if problem:
            raise r.fail("timeout", f"timeout {problem}")
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


def _url(r: _Reader, key: str, value: str, *, table: tuple[str, int] | None = None) -> str:
    try:
        return validate_index_url(value)
    except SwitchError as exc:
        raise r.fail(key, f"{key}: {exc.message}", table=table) from None


def _mirrors(r: _Reader, value: Any) -> tuple[MirrorEntry, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise r.fail("mirror", "mirror entries must be written as [[mirror]] tables")
    entries = []
    seen: set[str] = set()
    for n, item in enumerate(value):
        table = ("mirror", n)
        extra = sorted(set(item) - {"name", "url", "country", "operator", "notes"})
        if extra:
            raise r.fail(extra[0], f"[[mirror]] has an unknown key {extra[0]!r}", table=table)
        name, url = item.get("name"), item.get("url")
        if not isinstance(name, str) or not name.strip():
            raise r.fail("name", "every [[mirror]] needs a name", table=table)
        if not isinstance(url, str):
            raise r.fail("url", f"mirror {name!r} needs a url", table=table)
        if name in seen:
            raise r.fail("name", f"two [[mirror]] entries are named {name!r}", table=table)
        seen.add(name)
        entries.append(
            MirrorEntry(
                name=name.strip(),
                url=_url(r, "url", url, table=table),
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
    table = ("auto", 0)
    if extra:
        raise r.fail(extra[0], f"[auto] has an unknown key {extra[0]!r}", table=table)
    kw = {}
    for key in ("fail_after", "recover_after"):
        if key in value:
            number = r.typed(value, key, int, "a whole number")
            if number < 1:
                raise r.fail(key, f"{key} must be at least 1", table=table)
            kw[key] = number
    return AutoSettings(**kw)


def with_overrides(
    settings: Settings,
    *,
    timeout: float | None = None,
    canary: str | None = None,
    upstream: str | None = None,
    file_canary: str | None = None,
    require: Sequence[Path] | None = None,
) -> Settings:
    """``settings`` with the command line's options applied, checked.

    ``require`` (the --require files) replaces the configured list when given.
    """
    if timeout is not None and (problem := _timeout_problem(timeout)):
        raise UsageError(f"--timeout {problem}")
    for option, name in (("--canary", canary), ("--file-canary", file_canary)):
        if name is not None and (problem := _canary_problem(name)):
            raise UsageError(f"{option} {problem}")
    if upstream is not None:
        try:
            upstream = validate_index_url(upstream)
        except SwitchError as exc:
            raise UsageError(f"--upstream: {exc.message}") from None
    return dataclasses.replace(
        settings,
        timeout=settings.timeout if timeout is None else float(timeout),
        canary=canary or settings.canary,
        upstream=upstream or settings.upstream,
        file_canary=file_canary or settings.file_canary,
        require=tuple(require) if require else settings.require,
    )
