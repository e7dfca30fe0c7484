"""The targets: one small module per client configuration, all behind ``base.Target``.

This package owns the registry (``registry``), which targets a run switches
(``choose_targets``), the context they are given (``build_context``) and the warnings they
raise together (``all_warnings``).

The target modules are imported on first use of the registry: a healthy cron tick and
the journal (which only needs ``base``) must not pay for the TOML editors.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

from pypi_switch.config import load_settings
from pypi_switch.errors import UsageError
from pypi_switch.paths import Paths
from pypi_switch.targets.base import Context, Target

__all__ = ["all_warnings", "build_context", "choose_targets", "registry"]


@functools.cache
def registry() -> dict[str, Target]:
    """Every target by name, in the order they are switched (``config.TARGET_NAMES``)."""
    from pypi_switch.targets.buildout import BUILDOUT, PROJECT
    from pypi_switch.targets.pdm import PDM
    from pypi_switch.targets.pip import PIP
    from pypi_switch.targets.pixi import PIXI
    from pypi_switch.targets.poetry import POETRY
    from pypi_switch.targets.pydistutils import PYDISTUTILS
    from pypi_switch.targets.uv import UV

    return {t.name: t for t in (PIP, PYDISTUTILS, BUILDOUT, PROJECT, UV, PDM, POETRY, PIXI)}


def build_context(projects: Sequence[Path] = (), *, include_cwd: bool = True) -> Context:
    """Locations, settings and project files for one run.

    ``include_cwd=False`` (a cron tick): only the projects listed in config.toml, never a
    buildout.cfg that happens to lie in the working directory.
    """
    from pypi_switch.targets.buildout import project_files

    paths = Paths.from_environ()
    settings = load_settings(paths.tool_config)
    found = project_files(
        tuple(Path(p) for p in projects),
        settings.projects,
        paths.cwd if include_cwd else None,
    )
    return Context(paths=paths, settings=settings, projects=found, environ=dict(os.environ))


def choose_targets(ctx: Context, names: Sequence[str] | None) -> list[Target]:
    """``--target`` names, else config.toml's ``targets``, else every target in use here."""
    targets = registry()
    if names:
        unknown = [n for n in names if n not in targets]
        if unknown:
            raise UsageError(f"unknown target {unknown[0]!r} (known: {', '.join(targets)})")
        chosen = list(dict.fromkeys(names))
    elif ctx.settings.targets is not None:
        chosen = list(ctx.settings.targets)
    else:
        chosen = [name for name, target in targets.items() if target.default_enabled(ctx)]
    return [targets[n] for n in chosen]


def all_warnings(ctx: Context, targets: Sequence[Target]) -> list[str]:
    """What would shadow the targets' files, each said once."""
    from pypi_switch.targets import pipenv

    out: list[str] = []
    for target in targets:
        out += target.warnings(ctx)
    out += pipenv.warnings(ctx)  # pipenv has no file to switch, only a warning
    return list(dict.fromkeys(out))
