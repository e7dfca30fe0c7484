"""poetry's ``config.toml``: ``[plugins.pypi_mirror] url``, read by poetry-plugin-pypi-mirror.

poetry has no user-level setting of its own that replaces PyPI (poetry issue #1632). The
plugin ``poetry-plugin-pypi-mirror`` swaps poetry's PyPI repository for the URL in that key
(``POETRY_PYPI_MIRROR_URL`` wins over it; both checked with poetry 2.5 and the plugin 0.6,
and poetry.lock keeps no trace of the mirror). Without the plugin the key does nothing, so
the warnings say whether the poetry that would run has it, and how to get it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from pypi_switch.edit import read_regular, read_toml
from pypi_switch.paths import Paths
from pypi_switch.programs import find_program
from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError
from pypi_switch.targets.toml_edit import TomlTarget

__all__ = ["PLUGIN", "POETRY", "PoetryTarget", "has_plugin"]

PLUGIN = "poetry-plugin-pypi-mirror"
SECTION = "plugins.pypi_mirror"  # Change.section
HEADER = f"[{SECTION}]"
TABLE = ("plugins", "pypi_mirror")
URL = (*TABLE, "url")
ENV = "POETRY_PYPI_MIRROR_URL"


def _check(data: dict[str, Any]) -> None:
    plugins = data.get("plugins", {})
    if not isinstance(plugins, dict) or not isinstance(plugins.get("pypi_mirror", {}), dict):
        raise ParseError("'plugins.pypi_mirror' must be a table ([plugins.pypi_mirror])")
    if not isinstance(plugins.get("pypi_mirror", {}).get("url", ""), str):
        raise ParseError("'plugins.pypi_mirror.url' must be a string")


class PoetryTarget(TomlTarget):
    name = "poetry"
    program = "poetry"

    def config(self, paths: Paths) -> Path:
        return paths.poetry_config

    def check(self, data: dict[str, Any]) -> None:
        _check(data)

    def current(self, spec: FileSpec, text: str) -> str | None:
        value = self.load(text).get(URL)
        return value if isinstance(value, str) else None

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = self.load(text)
        old = doc.get(URL)
        if old == url:
            return Edit(text)
        if isinstance(doc.get(TABLE), dict):
            doc.set(URL, url)
            return Edit(doc.text, (Change(SECTION, "url", old, url),))
        doc.append_table(HEADER, [("url", url)])
        return Edit(doc.text, (Change(SECTION, "url", None, url, section_added=True),))

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        doc = self.load(text)
        for change in reversed(changes):
            if doc.get(URL) != change.new:
                continue  # the user changed it since: theirs stays
            if change.section_added and doc.remove_table(HEADER, [("url", change.new)]):
                continue
            if change.old is None:
                doc.delete(URL)
                if change.section_added and doc.get(TABLE) == {}:
                    with contextlib.suppress(ParseError):  # an empty table is harmless
                        doc.delete(TABLE)
            else:
                doc.set(URL, change.old)
        return doc.text

    def warnings(self, ctx: Context) -> list[str]:
        file = ctx.paths.show(ctx.paths.poetry_config)
        found = []
        value = ctx.environ.get(ENV)
        if value:
            found.append(f"{ENV} is set ({value}): poetry uses it instead of {file}")
        poetry = _poetry(ctx)
        if poetry is not None:
            plugin = has_plugin(poetry, ctx.paths.home)
            if plugin is not True:
                where = ctx.paths.show(poetry)
                state = "does not have" if plugin is False else "may not have (could not tell)"
                found.append(
                    f"poetry ({where}) {state} the plugin {PLUGIN}: without it poetry ignores "
                    f"{file} and keeps using pypi.org; install it with "
                    f"`poetry self add {PLUGIN}`, or per project run "
                    "`poetry source add --priority=primary mirror <URL>` "
                    "(that rewrites pyproject.toml and poetry.lock)"
                )
        root = _project_root(ctx.paths.cwd)
        if root is not None and _primary_source(root / "pyproject.toml"):
            where = ctx.paths.show(root / "pyproject.toml")
            found.append(
                f"{where} sets a primary source: poetry does not use PyPI there, "
                "so the mirror does not apply to that project"
            )
        return found


def _poetry(ctx: Context) -> Path | None:
    return find_program("poetry", ctx.environ, ctx.paths.home)


def _project_root(cwd: Path) -> Path | None:
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def _primary_source(pyproject: Path) -> bool:
    """Whether poetry drops PyPI in this project: a source of priority primary (the default)."""
    data = read_toml(pyproject) or {}
    sources = data.get("tool", {}).get("poetry", {}).get("source", [])
    if not isinstance(sources, list):
        return False
    return any(
        isinstance(s, dict)
        and s.get("priority", "primary") == "primary"
        and str(s.get("name", "")).lower() != "pypi"
        for s in sources
    )


# -- is the plugin installed where that poetry runs? ---------------------------------------


def has_plugin(poetry: Path, home: Path) -> bool | None:
    """Whether the Python that runs ``poetry`` has the plugin installed; None: cannot tell.

    Read from the script's interpreter line and that environment's site-packages: running
    ``poetry self show plugins`` costs a second, and ``status`` must stay quick.
    """
    python = _interpreter(poetry.resolve())
    if python is None:
        return None
    sites = _site_dirs(python, home)
    if not any(_dist_info(site, "poetry") for site in sites):
        return None  # not where poetry itself is installed: we are looking at the wrong place
    return any(_dist_info(site, PLUGIN) for site in sites)


def _interpreter(script: Path) -> Path | None:
    """The Python a console script runs with, from its first lines (pip's two launchers)."""
    try:
        head = read_regular(script, 1024).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if not head or not head[0].startswith("#!"):
        return None
    argv = _split(head[0][2:])
    if argv and Path(argv[0]).name == "sh" and len(head) > 1:
        # '''exec' "/long path/python" "$0" "$@"  (pip's launcher when the path cannot
        # be a #! line: too long, or with spaces)
        argv = _split(head[1])
        argv = argv[1:] if argv and argv[0] == "exec" else []
    if not argv or Path(argv[0]).name == "env":
        return None
    return Path(argv[0])


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return []


def _site_dirs(python: Path, home: Path) -> list[Path]:
    prefix = python.parent.parent  # a venv's bin/python: never resolved, that leaves the venv
    patterns = [
        "lib/python3*/site-packages",
        "lib/python3*/dist-packages",
        "lib/python3/dist-packages",
    ]
    if sys.platform == "win32":  # pragma: no cover - Scripts\\poetry.exe is no script
        patterns = ["Lib/site-packages"]
    dirs = [d for pattern in patterns for d in sorted(prefix.glob(pattern))]
    if not (prefix / "pyvenv.cfg").is_file():  # a system Python also reads the user site
        dirs += sorted(home.glob(".local/lib/python3*/site-packages"))
    return [d for d in dirs if d.is_dir() and os.access(d, os.R_OK)]


def _dist_info(site: Path, project: str) -> bool:
    name = project.replace("-", "_")
    return any(site.glob(f"{name}-*.dist-info")) or any(site.glob(f"{name}-*.egg-info"))


POETRY = PoetryTarget()
