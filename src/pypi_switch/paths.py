"""Every location the tool reads or writes, derived from HOME and the XDG variables.

Nothing else in the package reads ``os.environ`` to find a path: tests and users redirect
everything through the environment alone.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["Paths"]

APP = "pypi-switch"


@dataclass(frozen=True)
class Paths:
    home: Path
    config_home: Path
    state_home: Path
    buildout_home: Path
    config_dirs: tuple[Path, ...]
    cwd: Path

    @classmethod
    def from_environ(cls) -> Paths:
        home = Path(os.path.expanduser("~"))
        # platformdirs applies the XDG rules (unset or blank -> ~/.config, ~/.local/state).
        config_home = Path(platformdirs.user_config_dir(roaming=True))
        state_home = Path(platformdirs.user_state_dir())
        if sys.platform == "darwin":  # pragma: no cover - pip uses ~/.config there too
            config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
            state_home = Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state")
        buildout_home = Path(os.environ.get("BUILDOUT_HOME") or home / ".buildout")
        raw_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        config_dirs = tuple(Path(p) for p in raw_dirs.split(os.pathsep) if p)
        return cls(
            home=home,
            config_home=config_home,
            state_home=state_home,
            buildout_home=buildout_home,
            config_dirs=config_dirs,
            cwd=Path.cwd(),
        )

    # -- the tool's own files ---------------------------------------------------------
    @property
    def tool_config(self) -> Path:
        return self.config_home / APP / "config.toml"

    @property
    def state_dir(self) -> Path:
        return self.state_home / APP

    # -- client configuration files ---------------------------------------------------
    @property
    def pip_legacy(self) -> Path:
        return self.home / ".pip" / "pip.conf"

    @property
    def pip_user(self) -> Path:
        return self.config_home / "pip" / "pip.conf"

    @property
    def pip_global(self) -> tuple[Path, ...]:
        return (*(d / "pip" / "pip.conf" for d in self.config_dirs), Path("/etc/pip.conf"))

    @property
    def pydistutils(self) -> Path:
        return self.home / ".pydistutils.cfg"

    @property
    def buildout_default(self) -> Path:
        return self.buildout_home / "default.cfg"

    @property
    def uv_user(self) -> Path:
        return self.config_home / "uv" / "uv.toml"

    @property
    def pdm_user(self) -> Path:
        return self.config_home / "pdm" / "config.toml"
