"""pixi's global ``config.toml``: a ``[mirrors]`` entry for PyPI's simple index.

pixi resolves PyPI packages with uv but reads no uv or pip file. Its ``[mirrors]`` table
maps URL prefixes to mirrors, and its documentation says the mirrors "also affect the
PyPi resolving and downloading steps of uv" (docs/reference/pixi_configuration.md,
"Mirrors for PyPi resolving and PyPi package downloading"); the source passes the same
mirror middleware to uv's client (crates/pixi_utils/src/reqwest.rs, ``uv_middlewares``).
A switch maps ``https://pypi.org/simple`` to the mirror in ``$PIXI_HOME/config.toml``
(``~/.pixi``), the global file pixi loads last. pixi merges ``mirrors`` key by key, so
the user's conda mirrors stay as they are. The file links of a mirror's pages point at
the mirror itself, so ``files.pythonhosted.org`` needs no entry.

Not checked with the real pixi: it is not installable on the machines that run the tests.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pypi_switch.paths import Paths
from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError
from pypi_switch.targets.toml_edit import TomlTarget, TomlText, is_explicit_table, render

__all__ = ["PIXI", "PYPI_KEY", "PixiTarget"]

TABLE = "mirrors"
PYPI_KEY = "https://pypi.org/simple"


def _check(data: dict[str, Any]) -> None:
    mirrors = data.get(TABLE, {})
    if not isinstance(mirrors, dict):
        raise ParseError("'mirrors' must be a table ([mirrors])")
    for key, value in mirrors.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParseError(f"'mirrors.\"{key}\"' must be a list of URLs")


def _pypi_key(doc: TomlText) -> str | None:
    """The key that maps PyPI's index, as the user wrote it (pixi adds the final slash)."""
    mirrors = doc.data.get(TABLE, {})
    return next((k for k in mirrors if k.rstrip("/") == PYPI_KEY), None)


def _as_list(text: str) -> tuple[str, ...]:
    return tuple(tomllib.loads(f"v = {text}")["v"])


class PixiTarget(TomlTarget):
    name = "pixi"
    program = "pixi"

    def config(self, paths: Paths) -> Path:
        return paths.pixi_config

    def check(self, data: dict[str, Any]) -> None:
        _check(data)

    def current(self, spec: FileSpec, text: str) -> str | None:
        doc = self.load(text)
        key = _pypi_key(doc)
        value = doc.get((TABLE, key)) if key else None
        return value[0] if value else None

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = self.load(text)
        key = _pypi_key(doc)
        old = doc.get((TABLE, key)) if key else None
        if old == [url]:
            return Edit(text)
        if key is not None:
            doc.set((TABLE, key), (url,))
            return Edit(doc.text, (Change(TABLE, key, render(tuple(old or ())), url),))
        if is_explicit_table(text, TABLE):
            doc.set((TABLE, PYPI_KEY), (url,))
            return Edit(doc.text, (Change(TABLE, PYPI_KEY, None, url),))
        doc.append_table(f"[{TABLE}]", [(PYPI_KEY, (url,))])
        return Edit(doc.text, (Change(TABLE, PYPI_KEY, None, url, section_added=True),))

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        doc = self.load(text)
        for change in reversed(changes):
            path = (TABLE, change.key)
            if doc.get(path) != [change.new]:
                continue  # the user changed it since: theirs stays
            if change.section_added and doc.remove_table(
                f"[{TABLE}]", [(change.key, (change.new,))]
            ):
                continue
            if change.old is None:
                doc.delete(path)
            else:
                doc.set(path, _as_list(change.old))
        return doc.text

    def warnings(self, ctx: Context) -> list[str]:
        return []


PIXI = PixiTarget()
