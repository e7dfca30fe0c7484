"""`pypi-switch schedule`: a crontab line and a systemd user timer that run `auto`.

Pure text from an absolute command and the environment it must keep: cron and systemd
start with an almost empty environment, so the variables that move pypi-switch's files
(XDG_*, BUILDOUT_HOME, PIP_CONFIG_FILE) are written into the schedule itself.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEPT_VARIABLES", "UNIT", "Schedule", "find_command", "schedule"]

UNIT = "pypi-switch-auto"
EVERY_MINUTES = 5
# What decides which files a tick reads and writes; PATH is not kept on purpose (the
# command is absolute) and proxies are the user's to add.
KEPT_VARIABLES = (
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_CONFIG_DIRS",
    "BUILDOUT_HOME",
    "PIP_CONFIG_FILE",
)


@dataclass(frozen=True)
class Schedule:
    command: tuple[str, ...]  # the absolute argv of one tick
    environment: tuple[tuple[str, str], ...]
    crontab: str  # one line, ready for `crontab -e`
    unit_dir: Path  # where systemd looks for the user's units
    service_name: str
    service: str
    timer_name: str
    timer: str


def find_command(argv0: str, executable: str, path: str | None) -> tuple[str, ...]:
    """The absolute command that runs pypi-switch here: the console script when there is one.

    A symlink (pipx's ~/.local/bin entry) is kept as it is, not resolved: it survives
    upgrades, the venv path behind it may not.
    """
    if Path(argv0).name == "pypi-switch" and os.path.isfile(argv0):
        return (os.path.abspath(argv0),)
    beside = Path(executable).parent / "pypi-switch"
    if beside.is_file() and os.access(beside, os.X_OK):
        return (str(beside),)
    found = shutil.which("pypi-switch", path=path)
    if found:
        return (os.path.abspath(found),)
    return (os.path.abspath(executable), "-m", "pypi_switch")


def schedule(command: Sequence[str], environ: Mapping[str, str], config_home: Path) -> Schedule:
    argv = (*command, "auto")
    env = tuple((k, environ[k]) for k in KEPT_VARIABLES if environ.get(k))
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in env)
    # cron turns a bare % into a newline: \% is a literal one.
    line = f"{prefix}{shlex.join(argv)}".replace("%", "\\%")
    crontab = f"*/{EVERY_MINUTES} * * * * {line}"
    service = "\n".join(
        [
            "[Unit]",
            "Description=pypi-switch: use a PyPI mirror while PyPI is down, switch back after",
            "",
            "[Service]",
            "Type=oneshot",
            *(f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in env),
            f"ExecStart={' '.join(_systemd_quote(a) for a in argv)}",
            "",
        ]
    )
    timer = "\n".join(
        [
            "[Unit]",
            f"Description=Run {UNIT}.service every {EVERY_MINUTES} minutes",
            "",
            "[Timer]",
            # Wall-clock times: unlike OnBootSec, never "already past" when enabled later.
            f"OnCalendar=*:0/{EVERY_MINUTES}",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
    return Schedule(
        command=argv,
        environment=env,
        crontab=crontab,
        unit_dir=config_home / "systemd" / "user",
        service_name=f"{UNIT}.service",
        service=service,
        timer_name=f"{UNIT}.timer",
        timer=timer,
    )


_SYSTEMD_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def _systemd_quote(word: str) -> str:
    """One word of a systemd command line; ``%`` is a specifier there and must be doubled."""
    word = word.replace("%", "%%")
    if _SYSTEMD_PLAIN.fullmatch(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
