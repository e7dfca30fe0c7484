"""`pypi-switch schedule`: what runs `auto` every 5 minutes on each OS.

Linux: a crontab line and a systemd user timer. macOS: a LaunchAgent (launchd) and, as
there too, a crontab line. Windows: a Task Scheduler task (``schtasks``). Pure text from an
absolute command and the environment it must keep: cron, systemd and launchd start with
an almost empty environment, so the variables that move pypi-switch's files are written
into the schedule itself; Task Scheduler starts a task with the user's saved environment.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypi_switch.paths import LINUX, MACOS, WINDOWS, Paths, tool_files

__all__ = [
    "EVERY_MINUTES",
    "KEPT_VARIABLES",
    "LABEL",
    "TASK",
    "UNIT",
    "LaunchAgent",
    "Schedule",
    "SystemdTimer",
    "WindowsTask",
    "find_command",
    "for_this_machine",
    "schedule",
]

UNIT = "pypi-switch-auto"
LABEL = "pypi-switch.auto"  # launchd job label
TASK = "pypi-switch auto"  # Task Scheduler task name
EVERY_MINUTES = 5
# What decides which files a tick reads and writes; PATH is not kept on purpose (the
# command is absolute) and proxies are the user's to add.
KEPT_VARIABLES = (
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_CONFIG_DIRS",
    "XDG_DATA_HOME",  # pip on macOS
    "BUILDOUT_HOME",
    "PIP_CONFIG_FILE",
    "POETRY_CONFIG_DIR",
)
_SCRIPTS = ("pypi-switch", "pypi-switch.exe")
_SCHTASKS_TR_MAX = 261  # schtasks refuses a longer /TR


@dataclass(frozen=True)
class SystemdTimer:
    unit_dir: Path  # where systemd looks for the user's units
    service_name: str
    service: str
    timer_name: str
    timer: str


@dataclass(frozen=True)
class LaunchAgent:
    path: Path  # ~/Library/LaunchAgents/<label>.plist
    label: str
    plist: str


@dataclass(frozen=True)
class WindowsTask:
    name: str
    create: str  # the schtasks command line, for Command Prompt
    delete: str
    too_long: bool  # the command exceeds what schtasks accepts in /TR


@dataclass(frozen=True)
class Schedule:
    platform: str
    command: tuple[str, ...]  # the absolute argv of one tick
    environment: tuple[tuple[str, str], ...]
    crontab: str | None  # one line, ready for `crontab -e` (Linux, macOS)
    systemd: SystemdTimer | None  # Linux
    launchd: LaunchAgent | None  # macOS
    task: WindowsTask | None  # Windows
    uid: int | None  # for `launchctl bootstrap gui/<uid>`
    log: str  # where each tick is logged, as the user writes that path


def find_command(argv0: str, executable: str, path: str | None) -> tuple[str, ...]:
    """The absolute command that runs pypi-switch here: the console script when there is one.

    A symlink (pipx's ~/.local/bin entry) is kept as it is, not resolved: it survives
    upgrades, the venv path behind it may not.
    """
    # Windows launchers are pypi-switch.exe; argv[0] may name one without its suffix.
    for name in (argv0, argv0 + ".exe"):
        if Path(name).name in _SCRIPTS and os.path.isfile(name):
            return (os.path.abspath(name),)
    for script in _SCRIPTS:
        beside = Path(executable).parent / script
        if beside.is_file() and os.access(beside, os.X_OK):
            return (str(beside),)
    found = shutil.which("pypi-switch", path=path)
    if found:
        return (os.path.abspath(found),)
    return (os.path.abspath(executable), "-m", "pypi_switch")


def for_this_machine(argv0: str) -> Schedule:
    """The schedule for the pypi-switch running now, with this shell's environment."""
    paths = Paths.from_environ()
    command = find_command(argv0, sys.executable, os.environ.get("PATH"))
    return schedule(command, paths, uid=os.getuid() if hasattr(os, "getuid") else None)


def schedule(command: Sequence[str], paths: Paths, *, uid: int | None = None) -> Schedule:
    """The schedule for ``paths.place``'s OS; ``uid`` is the user id launchd wants (macOS)."""
    place = paths.place
    argv = (*command, "auto")
    env = tuple((k, place.environ[k]) for k in KEPT_VARIABLES if place.environ.get(k))
    unix = place.platform in (LINUX, MACOS)
    return Schedule(
        platform=place.platform,
        command=argv,
        environment=env,
        crontab=_crontab(argv, env) if unix else None,
        systemd=_systemd(argv, env, paths.config_home) if place.platform == LINUX else None,
        launchd=_launch_agent(argv, env, paths.home) if place.platform == MACOS else None,
        task=_windows_task(argv) if place.platform == WINDOWS else None,
        uid=uid,
        log=paths.show(tool_files(paths.place).state / "auto.log"),
    )


def _crontab(argv: tuple[str, ...], env: tuple[tuple[str, str], ...]) -> str:
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in env)
    # cron turns a bare % into a newline: \% is a literal one.
    line = f"{prefix}{shlex.join(argv)}".replace("%", "\\%")
    return f"*/{EVERY_MINUTES} * * * * {line}"


def _systemd(
    argv: tuple[str, ...], env: tuple[tuple[str, str], ...], config_home: Path
) -> SystemdTimer:
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
    return SystemdTimer(
        unit_dir=config_home / "systemd" / "user",
        service_name=f"{UNIT}.service",
        service=service,
        timer_name=f"{UNIT}.timer",
        timer=timer,
    )


def _launch_agent(
    argv: tuple[str, ...], env: tuple[tuple[str, str], ...], home: Path
) -> LaunchAgent:
    job: dict[str, object] = {
        "Label": LABEL,
        "ProgramArguments": list(argv),
        "StartInterval": EVERY_MINUTES * 60,
        # Background: launchd may defer it a little to save energy, never skips it.
        "ProcessType": "Background",
    }
    if env:
        job["EnvironmentVariables"] = dict(env)
    import plistlib  # with its XML parser, ~15 ms that only macOS needs

    plist = plistlib.dumps(job, sort_keys=False).decode()
    return LaunchAgent(home / "Library" / "LaunchAgents" / f"{LABEL}.plist", LABEL, plist)


def _windows_task(argv: tuple[str, ...]) -> WindowsTask:
    run = subprocess.list2cmdline(argv)
    # /TR is one argument: its own quotes are escaped with a backslash.
    tr = run.replace('"', '\\"')
    create = f'schtasks /Create /SC MINUTE /MO {EVERY_MINUTES} /TN "{TASK}" /TR "{tr}" /F'
    delete = f'schtasks /Delete /TN "{TASK}" /F'
    return WindowsTask(TASK, create, delete, too_long=len(run) > _SCHTASKS_TR_MAX)


_SYSTEMD_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def _systemd_quote(word: str) -> str:
    """One word of a systemd command line; ``%`` is a specifier there and must be doubled."""
    word = word.replace("%", "%%")
    if _SYSTEMD_PLAIN.fullmatch(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
