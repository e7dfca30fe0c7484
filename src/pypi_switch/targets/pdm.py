"""pdm's home ``config.toml``: ``[pypi] url``.

pdm 2.29 reads neither pip.conf nor ``PIP_INDEX_URL``. Its HTTP client skips an index on
plain http to a non-loopback host unless the source has ``verify_ssl = false`` (which puts
the host among its trusted hosts), so such a mirror gets that key too, as pip gets
``trusted-host``; restore takes it away again.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from pypi_switch.edit import read_toml, split_lines
from pypi_switch.paths import Paths
from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError
from pypi_switch.targets.toml_edit import (
    Scalar,
    TomlTarget,
    is_explicit_table,
    render,
)
from pypi_switch.urls import needs_trusted_host

__all__ = ["PDM", "PdmTarget"]

TABLE = "pypi"


def _check(data: dict[str, Any]) -> None:
    pypi = data.get(TABLE, {})
    if not isinstance(pypi, dict):
        raise ParseError("'pypi' must be a table ([pypi])")
    if not isinstance(pypi.get("url", ""), str):
        raise ParseError("'pypi.url' must be a string")


def _as_text(value: Any) -> str | None:
    """How a Change records a value: a URL as is, a boolean as TOML writes it."""
    if value is None:
        return None
    return render(value) if isinstance(value, bool) else str(value)


def _from_text(key: str, text: str) -> Scalar:
    return text == "true" if key == "verify_ssl" else text


class PdmTarget(TomlTarget):
    name = "pdm"
    program = "pdm"

    def config(self, paths: Paths) -> Path:
        return paths.pdm_user

    def check(self, data: dict[str, Any]) -> None:
        _check(data)

    def current(self, spec: FileSpec, text: str) -> str | None:
        value = self.load(text).get((TABLE, "url"))
        return value if isinstance(value, str) else None

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = self.load(text)
        wanted: list[tuple[str, Scalar]] = [("url", url)]
        if needs_trusted_host(url):
            wanted.append(("verify_ssl", False))
        if not is_explicit_table(doc.text, TABLE):
            try:
                doc.append_table(f"[{TABLE}]", wanted)
            except ParseError:  # [pypi] implied by dotted keys (pypi.x.url = ...)
                for key, value in wanted:
                    doc.set((TABLE, key), value)
            changes = [Change(TABLE, k, None, _as_text(v) or "", True) for k, v in wanted]
            return Edit(doc.text, tuple(changes))
        changes = []
        for key, value in wanted:
            old = doc.get((TABLE, key))
            if old != value:
                doc.set((TABLE, key), value)
                changes.append(Change(TABLE, key, _as_text(old), _as_text(value) or ""))
        return Edit(doc.text if changes else text, tuple(changes))

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        doc = self.load(text)
        added = [c for c in changes if c.section == TABLE and c.section_added]
        block = [(c.key, _from_text(c.key, c.new)) for c in added]
        if added and doc.remove_table(f"[{TABLE}]", block):
            changes = tuple(c for c in changes if c not in added)
        for change in reversed(changes):
            path = (change.section, change.key)
            if _as_text(doc.get(path)) != change.new:
                continue  # the user changed it since: theirs stays
            if change.old is None:
                doc.delete(path)
            else:
                doc.set(path, _from_text(change.key, change.old))
        if added and doc.get((TABLE,)) == {} and _bare_table(doc.text):
            with contextlib.suppress(ParseError):  # an empty [pypi] is harmless
                doc.delete((TABLE,))
        return doc.text

    def warnings(self, ctx: Context) -> list[str]:
        file = ctx.paths.show(ctx.paths.pdm_user)
        found = []
        for var, effect in (
            ("PDM_PYPI_URL", "pdm uses it instead of [pypi] url in {file}"),
            ("PDM_CONFIG_FILE", "pdm reads that file instead of {file}"),
        ):
            value = ctx.environ.get(var)
            if value:
                found.append(f"{var} is set ({value}): {effect.format(file=file)}")
        root = _project_root(ctx.paths.cwd)
        for folder in dict.fromkeys([ctx.paths.cwd, *([root] if root else [])]):
            project_file = folder / "pdm.toml"
            data = read_toml(project_file) or {}
            pypi = data.get(TABLE)
            if isinstance(pypi, dict) and "url" in pypi:
                where = ctx.paths.show(project_file)
                found.append(f"{where} sets [pypi] url: it wins over {file} in that project")
        if root is not None:
            pyproject = read_toml(root / "pyproject.toml") or {}
            sources = pyproject.get("tool", {}).get("pdm", {}).get("source", [])
            if isinstance(sources, list) and any(
                isinstance(s, dict) and s.get("name") == "pypi" for s in sources
            ):
                where = ctx.paths.show(root / "pyproject.toml")
                found.append(
                    f'{where} defines a source named "pypi": it wins over {file} in that project'
                )
        return found


def _bare_table(text: str) -> bool:
    """``[pypi]`` holds nothing, not even a comment of the user's."""
    lines = split_lines(text)
    starts = [i for i, ln in enumerate(lines) if ln.strip() == f"[{TABLE}]"]
    if len(starts) != 1:
        return False
    for line in lines[starts[0] + 1 :]:
        if line.lstrip().startswith("["):
            return True
        if line.strip():
            return False
    return True


def _project_root(cwd: Path) -> Path | None:
    """The folder pdm takes as the project: the nearest one holding a pyproject.toml."""
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


PDM = PdmTarget()
