"""pipenv: nothing to switch in a file, so a warning where it matters.

pipenv reads neither pip.conf nor any user file for its index: only ``PIPENV_PYPI_MIRROR``
(checked with pipenv 2026.10) or the Pipfile's ``[[source]]``. A Pipfile in the working
directory or a configured project means pipenv is in use there.
"""

from __future__ import annotations

from pypi_switch.targets.base import Context
from pypi_switch.traces import context_dirs

__all__ = ["warnings"]


def warnings(ctx: Context) -> list[str]:
    if ctx.environ.get("PIPENV_PYPI_MIRROR"):
        return []
    found = []
    for folder in context_dirs(ctx):
        pipfile = folder / "Pipfile"
        if pipfile.is_file():
            found.append(
                f"{ctx.paths.show(pipfile)}: pipenv ignores the switched files "
                "(it reads only PIPENV_PYPI_MIRROR or the Pipfile's [[source]]); "
                'run `eval "$(pypi-switch env)"` in the shell that runs pipenv'
            )
    return found
