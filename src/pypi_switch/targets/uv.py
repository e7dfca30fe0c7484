"""uv's user ``uv.toml``: the default index (``[[index]]`` with ``default = true``).

Which setting wins, by experiment with uv 0.13 (``uv pip compile`` against local servers):
the first ``[[index]]`` with ``default = true`` beats a top-level ``index-url``, and
``[pip] index-url`` beats the top-level one for ``uv pip`` commands only. So a switch
updates every one of them that exists, and appends a default ``[[index]]`` entry only when
neither a default entry nor a top-level ``index-url`` is there. uv does not require the
entry to have a ``name``; ``default-index`` is not a key uv accepts in a file (CLI/env only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypi_switch.edit import read_toml
from pypi_switch.paths import Paths
from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError
from pypi_switch.targets.toml_edit import (
    Scalar,
    TomlTarget,
    TomlText,
    is_inline_array,
)
from pypi_switch.urls import is_pypi

__all__ = ["UV", "UvTarget"]

HEADER = "[[index]]"  # the table header of an index entry

# Environment variables that replace or precede the user file, and what they do to it.
_ENV = (
    ("UV_DEFAULT_INDEX", "uv uses it instead of the default index in {file}"),
    ("UV_INDEX_URL", "uv uses it instead of the default index in {file}"),
    ("UV_INDEX", "uv queries those indexes before the default index in {file}"),
    ("UV_EXTRA_INDEX_URL", "uv queries those indexes before the default index in {file}"),
    ("UV_CONFIG_FILE", "uv reads that file instead of {file}"),
    ("UV_NO_CONFIG", "uv ignores {file}"),
)


def _default_entry(data: dict[str, Any]) -> int | None:
    """The position of the ``[[index]]`` entry uv takes as default (the first one)."""
    for i, entry in enumerate(data.get("index", [])):
        if entry.get("default") is True:
            return i
    return None


def _check(data: dict[str, Any]) -> None:
    index = data.get("index", [])
    if not isinstance(index, list) or not all(isinstance(e, dict) for e in index):
        raise ParseError("'index' must be a list of tables ([[index]])")
    if not isinstance(data.get("index-url", ""), str):
        raise ParseError("'index-url' must be a string")
    pip = data.get("pip", {})
    if not isinstance(pip, dict):
        raise ParseError("'pip' must be a table")
    if not isinstance(pip.get("index-url", ""), str):
        raise ParseError("'pip.index-url' must be a string")


class UvTarget(TomlTarget):
    name = "uv"
    program = "uv"

    def config(self, paths: Paths) -> Path:
        return paths.uv_user

    def check(self, data: dict[str, Any]) -> None:
        _check(data)

    def current(self, spec: FileSpec, text: str) -> str | None:
        doc = self.load(text)
        at = _default_entry(doc.data)
        for value in (
            doc.get(("index", at, "url")) if at is not None else None,
            doc.get(("index-url",)),
            doc.get(("pip", "index-url")),
        ):
            if isinstance(value, str):
                return value
        return None

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = self.load(text)
        changes: list[Change] = []
        for path in (("index-url",), ("pip", "index-url")):
            old = doc.get(path)
            if isinstance(old, str) and old != url:
                doc.set(path, url)
                changes.append(_change(path, old, url))
        at = _default_entry(doc.data)
        if at is not None:
            old = doc.get(("index", at, "url"))
            if old != url:
                doc.set(("index", at, "url"), url)
                old = old if isinstance(old, str) else None
                changes.append(Change("index", "url", old, url, kind="entry"))
        elif doc.get(("index-url",)) is None:
            entry: list[tuple[str, Scalar]] = [("url", url), ("default", True)]
            if "index" in doc.data and is_inline_array(doc.text, "index"):
                doc.append_inline(("index",), entry)
            else:
                doc.append_table(HEADER, entry)
            changes.append(Change("index", "url", None, url, section_added=True, kind="entry"))
        return Edit(doc.text if changes else text, tuple(changes))

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        doc = self.load(text)
        for change in reversed(changes):
            if change.kind == "entry" and change.section_added:
                _remove_entry(doc, change.new)
            elif change.kind == "entry":
                for i, entry in enumerate(doc.data.get("index", [])):
                    if entry.get("default") is True:
                        if entry.get("url") == change.new and change.old is None:
                            doc.delete(("index", i, "url"))
                        elif entry.get("url") == change.new and change.old is not None:
                            doc.set(("index", i, "url"), change.old)
                        break
            else:
                path = (change.key,) if change.kind == "root" else (change.section, change.key)
                if doc.get(path) == change.new:
                    if change.old is None:
                        doc.delete(path)
                    else:
                        doc.set(path, change.old)
        return doc.text

    def warnings(self, ctx: Context) -> list[str]:
        user = ctx.paths.uv_user
        file = ctx.paths.show(user)
        found = []
        for var, effect in _ENV:
            value = ctx.environ.get(var)
            if value:
                what = "" if var == "UV_NO_CONFIG" else f" ({value})"
                found.append(f"{var} is set{what}: {effect.format(file=file)}")
        project = _project_config(ctx.paths.cwd, user)
        if project is not None:
            path, settings = project
            where = ctx.paths.show(path)
            if _sets_default(settings):
                found.append(f"{where} sets uv's default index: it wins over {file} there")
            elif _extra_urls(settings):
                found.append(
                    f"{where} adds indexes that uv queries before the default index in {file}"
                )
        system = ctx.paths.uv_system
        for path in (user, *([system] if system is not None else [])):
            data = read_toml(path)
            for extra in _extra_urls(data or {}):
                if is_pypi(extra):
                    found.append(
                        f"{ctx.paths.show(path)} still lists {extra} as an extra "
                        "index: uv queries it before the default index and stops when it "
                        "cannot reach it"
                    )
        return found


def _change(path: tuple[str, ...], old: str, new: str) -> Change:
    if len(path) == 1:
        return Change("", path[0], old, new, kind="root")
    return Change(path[0], path[1], old, new)


def _project_config(cwd: Path, user: Path) -> tuple[Path, dict[str, Any]] | None:
    """The project settings uv would merge over the user file (nearest directory first)."""
    for folder in (cwd, *cwd.parents):
        candidate = folder / "uv.toml"
        if candidate.is_file() and candidate.resolve() != user.resolve():
            data = read_toml(candidate)
            return (candidate, data) if data is not None else None
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data = read_toml(pyproject)
            tool_uv = (data or {}).get("tool", {}).get("uv")
            if isinstance(tool_uv, dict):
                return pyproject, tool_uv
    return None


def _sets_default(settings: dict[str, Any]) -> bool:
    pip = settings.get("pip")
    return (
        any(isinstance(e, dict) and e.get("default") is True for e in _list(settings, "index"))
        or "index-url" in settings
        or (isinstance(pip, dict) and "index-url" in pip)
    )


def _extra_urls(settings: dict[str, Any]) -> list[str]:
    """Indexes that uv asks before the default one."""
    urls = [
        e["url"]
        for e in _list(settings, "index")
        if isinstance(e, dict) and e.get("default") is not True and isinstance(e.get("url"), str)
    ]
    pip = settings.get("pip")
    for table in (settings, pip if isinstance(pip, dict) else {}):
        urls += [u for u in _list(table, "extra-index-url") if isinstance(u, str)]
    return urls


def _list(table: dict[str, Any], key: str) -> list[Any]:
    value = table.get(key, [])
    return value if isinstance(value, list) else []


def _remove_entry(doc: TomlText, url: str) -> None:
    """Remove the default entry pypi-switch appended, while it still points at ``url``.

    Keys the user added to it go with it: an entry without its url is invalid for uv.
    """
    entries = doc.data.get("index", [])
    ours = [i for i, e in enumerate(entries) if e.get("url") == url and e.get("default") is True]
    if not ours:
        return  # the user changed it since: theirs stays
    if doc.remove_table(HEADER, [("url", url), ("default", True)], whole=True):
        return
    if len(entries) == 1 and not is_inline_array(doc.text, "index"):
        doc.delete(("index",))
    else:
        doc.delete(("index", ours[-1]))


UV = UvTarget()
