"""A throw-away HOME for every test that runs the tool or a real client.

The machines that run these tests reach their package registry through their own pip
configuration; the tool rewrites exactly such files. So each test gets a fresh HOME, no
``PIP_*``/``XDG_*``/``UV_*``/``PDM_*``/``POETRY_*``/``PIPENV_*``/``BUILDOUT_HOME`` from the
outer environment, and the tool and subprocesses run with an almost empty environment.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pypi_switch.paths import Paths, Place
from tests.support.inprocess import run_cli

__all__ = ["SANDBOXED_PREFIXES", "RealHomeGuard", "Sandbox", "scrub_environ"]

SANDBOXED_PREFIXES = (
    "PIP_",
    "UV_",
    "PDM_",
    "POETRY_",
    "PIPENV_",
    "PIXI_",
    "XDG_",
    "BUILDOUT_",
    "PYPI_SWITCH_",
)
SANDBOXED_NAMES = ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONUSERBASE", "NO_COLOR", "FORCE_COLOR")

VENV_BIN = str(Path(sys.executable).parent)
_SYSTEM_PATH = (
    [os.path.join(os.environ.get("SYSTEMROOT", "C:\\Windows"), "System32")]
    if sys.platform == "win32"
    else ["/usr/local/bin", "/usr/bin", "/bin"]
)


def scrub_environ(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in environ.items()
        if not k.startswith(SANDBOXED_PREFIXES) and k not in SANDBOXED_NAMES
    }


@dataclass
class Sandbox:
    root: Path
    home: Path
    project: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path) -> Sandbox:
        home = root / "home"
        project = root / "project"
        xdg_dirs = root / "xdg-config-dirs"
        for d in (home, project, xdg_dirs):
            d.mkdir(parents=True, exist_ok=True)
        env = {
            "HOME": str(home),
            "PATH": os.pathsep.join([VENV_BIN, *_SYSTEM_PATH]),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "XDG_CONFIG_DIRS": str(xdg_dirs),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if sys.platform == "win32":
            # The profile folders Windows takes from these; SYSTEMROOT keeps Python alive.
            env.update(
                USERPROFILE=str(home),
                APPDATA=str(home / "AppData" / "Roaming"),
                LOCALAPPDATA=str(home / "AppData" / "Local"),
                PROGRAMDATA=str(root / "ProgramData"),
                SYSTEMROOT=os.environ.get("SYSTEMROOT", "C:\\Windows"),
            )
        return cls(root=root, home=home, project=project, env=env)

    @property
    def paths(self) -> Paths:
        """Where the tool looks in this sandbox, on this OS (paths.py decides)."""
        return Paths.for_place(Place.current(self.env), self.project)

    # -- paths the tool uses, for the tests' convenience ----------------------------------
    @property
    def pip_conf(self) -> Path:
        return self.paths.pip_legacy

    @property
    def pip_user_conf(self) -> Path:
        return self.paths.pip_user

    @property
    def pydistutils(self) -> Path:
        return self.paths.pydistutils

    @property
    def buildout_default(self) -> Path:
        return self.paths.buildout_default

    @property
    def tool_config(self) -> Path:
        return self.paths.tool_config

    @property
    def state_dir(self) -> Path:
        return self.paths.state_dir

    def write_config(self, text: str) -> Path:
        self.tool_config.parent.mkdir(parents=True, exist_ok=True)
        self.tool_config.write_text(text)
        return self.tool_config

    # -- running things -------------------------------------------------------------------
    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``python -m pypi_switch ARGS`` inside the sandbox, run in this process.

        It sees what that subprocess would see (see tests/support/inprocess.py); a test
        that needs a real process (to kill it, hook its ``os`` calls, time its start-up,
        run several at once) uses :meth:`run_process`.
        """
        full_env = dict(self.env)
        full_env.update(env or {})
        return run_cli(args, env=full_env, cwd=cwd or self.project, input=input, timeout=timeout)

    def run_process(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m pypi_switch ARGS`` in a subprocess inside the sandbox."""
        return self.command(
            [sys.executable, "-m", "pypi_switch", *args],
            cwd=cwd,
            env=env,
            timeout=timeout,
            input=input,
        )

    def command(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run any program (pip, buildout, uv...) with the sandbox's environment."""
        full_env = dict(self.env)
        full_env.update(env or {})
        return subprocess.run(
            list(argv),
            cwd=str(cwd or self.project),
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
        )


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"unreadable: {exc}"


class RealHomeGuard:
    """Remembers the real home's client configs and state dirs; says what changed."""

    def __init__(self, home: Path) -> None:
        self.paths = [
            home / ".pip" / "pip.conf",
            home / ".config" / "pip" / "pip.conf",
            home / ".pydistutils.cfg",
            home / ".buildout" / "default.cfg",
            home / ".config" / "uv" / "uv.toml",
            home / ".config" / "pdm" / "config.toml",
            home / ".config" / "pypoetry" / "config.toml",
            home / ".pixi" / "config.toml",
            home / ".config" / "pypi-switch" / "config.toml",
            home / ".local" / "state" / "pypi-switch",
        ]
        # and wherever this OS puts them (~/Library/..., %APPDATA%\...)
        real = Paths.for_place(Place.current(), Path.cwd())
        for path in (real.pip_legacy, real.pip_user, real.pydistutils, real.buildout_default):
            self.paths.append(path)
        for path in (real.uv_user, real.pdm_user, real.poetry_config, real.tool_config):
            self.paths.append(path)
        self.paths.append(real.state_dir)
        self.paths = list(dict.fromkeys(self.paths))
        self.before = dict(self._snapshot())

    def _snapshot(self) -> Iterator[tuple[Path, str | None]]:
        for p in self.paths:
            yield p, ("dir" if p.is_dir() else _digest(p))

    def changed(self) -> list[Path]:
        return [p for p, d in self._snapshot() if self.before[p] != d]
