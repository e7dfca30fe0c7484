"""Where the clients are installed, with or without the user's PATH.

cron and systemd start a tick with a bare PATH (``/usr/bin:/bin``), while uv, pdm and
poetry usually live in a user folder that only the login shell adds: ``~/.local/bin``
(pipx, uv's and poetry's installers, pdm's), ``~/.cargo/bin`` (older uv installers,
``cargo install``). So a client counts as installed when it is on PATH *or* in one of
those folders, and the folder a user moved them to through the installers' own
variables counts too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

__all__ = ["find_program", "user_bin_dirs"]


def user_bin_dirs(environ: Mapping[str, str], home: Path) -> list[Path]:
    """The folders installers put user-level programs in, most specific first."""
    found: list[Path] = []

    def add(raw: str | Path | None, *parts: str) -> None:
        if raw:
            path = Path(raw).expanduser().joinpath(*parts)
            if path not in found:
                found.append(path)

    add(environ.get("PIPX_BIN_DIR"))
    add(environ.get("UV_INSTALL_DIR"))  # uv's installer: the folder itself ...
    add(environ.get("UV_INSTALL_DIR"), "bin")  # ... or, in older installers, its bin/
    add(environ.get("XDG_BIN_HOME"))
    add(environ.get("POETRY_HOME"), "bin")
    add(environ.get("CARGO_HOME"), "bin")
    add(environ.get("PIXI_HOME"), "bin")
    add(home / ".local" / "bin")
    add(home / ".cargo" / "bin")
    add(home / ".pixi" / "bin")
    add(home / ".poetry" / "bin")  # poetry's installer before 1.2
    add("/usr/local/bin")  # not in cron's PATH either
    return found


def find_program(program: str, environ: Mapping[str, str], home: Path) -> Path | None:
    """``program`` as the user's shell would find it, else in a user install folder."""
    on_path = shutil.which(program, path=environ.get("PATH", os.defpath))
    if on_path:
        return Path(on_path)
    for folder in user_bin_dirs(environ, home):
        candidate = folder / program
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
