"""The right files, words and schedule on Linux, macOS and Windows, asked on any OS.

The rules are pure (paths.py, schedule.py): a Windows place over real temp dirs gives real
files the targets can read, so the target tests below run Windows' rules on Linux.
"""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from pypi_switch.config import Settings
from pypi_switch.paths import LINUX, MACOS, WINDOWS, Paths, Place, shown
from pypi_switch.schedule import LABEL, TASK, find_command, schedule
from pypi_switch.targets.base import Context, FileSpec
from pypi_switch.targets.buildout import BUILDOUT
from pypi_switch.targets.pdm import PDM
from pypi_switch.targets.pip import PIP
from pypi_switch.targets.pydistutils import PYDISTUTILS
from pypi_switch.targets.uv import UV
from tests import conftest

WIN_ENV = {
    "USERPROFILE": "C:\\Users\\ann",
    "APPDATA": "C:\\Users\\ann\\AppData\\Roaming",
    "LOCALAPPDATA": "C:\\Users\\ann\\AppData\\Local",
    "PROGRAMDATA": "C:\\ProgramData",
}


# -- the marker ------------------------------------------------------------------------------


@pytest.mark.linux_only("an example")
def test_linux_only_tests_are_skipped_elsewhere_with_their_reason(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(pytest.skip.Exception, match="Linux only: an example"):
        conftest.pytest_runtest_setup(request.node)
    monkeypatch.setattr(sys, "platform", "linux")
    conftest.pytest_runtest_setup(request.node)  # runs here


# -- paths as each OS's users write them ---------------------------------------------------------


def test_windows_paths_are_shown_with_their_folder_variables() -> None:
    place = Place.of(WINDOWS, WIN_ENV)
    assert shown(PureWindowsPath(WIN_ENV["APPDATA"], "pip", "pip.ini"), place) == (
        "%APPDATA%\\pip\\pip.ini"
    )
    assert shown(PureWindowsPath(WIN_ENV["LOCALAPPDATA"], "pdm", "pdm", "config.toml"), place) == (
        "%LOCALAPPDATA%\\pdm\\pdm\\config.toml"
    )
    assert shown("C:\\Users\\ann\\pip\\pip.ini", place) == "%USERPROFILE%\\pip\\pip.ini"
    assert shown("c:\\programdata\\pip\\pip.ini", place) == "%PROGRAMDATA%\\pip\\pip.ini"
    assert shown("D:\\work\\buildout.cfg", place) == "D:\\work\\buildout.cfg"
    assert shown("C:\\Users\\ann", place) == "%USERPROFILE%"


def test_unix_paths_are_shown_from_the_home() -> None:
    mac = Place.of(MACOS, {"HOME": "/Users/ann"})
    support = PurePosixPath("/Users/ann/Library/Application Support/pdm/config.toml")
    assert shown(support, mac) == "~/Library/Application Support/pdm/config.toml"
    linux = Place.of(LINUX, {"HOME": "/home/ann"})
    assert shown("/home/ann/.pip/pip.conf", linux) == "~/.pip/pip.conf"
    assert shown("/home/annie/.pip/pip.conf", linux) == "/home/annie/.pip/pip.conf"
    assert shown("/etc/pip.conf", Place.of(LINUX, {"HOME": "/"})) == "/etc/pip.conf"


# -- the targets' files and words under each OS's rules ------------------------------------------


def _windows(tmp_path: Path, **extra: str) -> Context:
    """Windows' rules over real temp dirs (the profile folders under ``tmp_path``)."""
    home = tmp_path / "Users" / "ann"
    env = {
        "USERPROFILE": str(home),
        "APPDATA": str(home / "AppData" / "Roaming"),
        "LOCALAPPDATA": str(home / "AppData" / "Local"),
        "PROGRAMDATA": str(tmp_path / "ProgramData"),
        **extra,
    }
    paths = Paths.for_place(Place.of(WINDOWS, env), tmp_path / "project")
    return Context(paths=paths, settings=Settings(), environ=env)


def _macos(tmp_path: Path, **extra: str) -> Context:
    env = {"HOME": str(tmp_path / "ann"), **extra}
    paths = Paths.for_place(Place.of(MACOS, env), tmp_path / "project")
    return Context(paths=paths, settings=Settings(), environ=env)


def test_windows_targets_write_the_files_windows_clients_read(tmp_path: Path) -> None:
    ctx = _windows(tmp_path)
    home = tmp_path / "Users" / "ann"
    assert PIP.files(ctx) == [
        FileSpec(home / "pip" / "pip.ini"),
        FileSpec(home / "AppData" / "Roaming" / "pip" / "pip.ini", create=False),
    ]
    assert PYDISTUTILS.files(ctx) == [FileSpec(home / "pydistutils.cfg")]
    assert BUILDOUT.files(ctx) == [FileSpec(home / ".buildout" / "default.cfg")]
    assert UV.files(ctx) == [FileSpec(home / "AppData" / "Roaming" / "uv" / "uv.toml")]
    assert PDM.files(ctx) == [FileSpec(home / "AppData" / "Local" / "pdm" / "pdm" / "config.toml")]
    assert ctx.paths.poetry_config == home / "AppData" / "Roaming" / "pypoetry" / "config.toml"
    assert ctx.paths.tool_config == home / "AppData" / "Roaming" / "pypi-switch" / "config.toml"
    assert ctx.paths.state_dir == home / "AppData" / "Local" / "pypi-switch"


def test_macos_targets_follow_pip_and_platformdirs(tmp_path: Path) -> None:
    ctx = _macos(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    home = tmp_path / "ann"
    support = home / "Library" / "Application Support"
    # no Application Support/pip: pip's ~/.config/pip, whatever XDG_CONFIG_HOME says
    assert PIP.files(ctx)[1].path == home / ".config" / "pip" / "pip.conf"
    (support / "pip").mkdir(parents=True)
    assert PIP.files(_macos(tmp_path))[1].path == support / "pip" / "pip.conf"
    assert PDM.files(_macos(tmp_path)) == [FileSpec(support / "pdm" / "config.toml")]
    assert UV.files(_macos(tmp_path)) == [FileSpec(home / ".config" / "uv" / "uv.toml")]
    assert _macos(tmp_path).paths.tool_config == support / "pypi-switch" / "config.toml"


# -- schedule per OS --------------------------------------------------------------------------


def test_macos_schedule_is_a_launch_agent_every_300_seconds(tmp_path: Path) -> None:
    from pypi_switch.render.schedule import to_text as schedule_text

    env = {"HOME": "/Users/ann", "XDG_DATA_HOME": "/Users/ann/data", "PIP_INDEX_URL": "x"}
    paths = Paths.for_place(Place.of(MACOS, env), tmp_path)
    plan = schedule(("/Users/ann/.local/bin/pypi-switch",), paths, uid=501)
    assert plan.launchd is not None and plan.systemd is None and plan.task is None
    assert plan.launchd.path == Path("/Users/ann/Library/LaunchAgents/pypi-switch.auto.plist")
    job = plistlib.loads(plan.launchd.plist.encode())
    assert job == {
        "Label": LABEL,
        "ProgramArguments": ["/Users/ann/.local/bin/pypi-switch", "auto"],
        "StartInterval": 300,
        "ProcessType": "Background",
        "EnvironmentVariables": {"XDG_DATA_HOME": "/Users/ann/data"},
    }
    assert plan.log == "~/Library/Application Support/pypi-switch/auto.log"
    text = schedule_text(plan)
    assert "cat > /Users/ann/Library/LaunchAgents/pypi-switch.auto.plist <<'EOF'\n" in text
    assert (
        "launchctl bootstrap gui/501 /Users/ann/Library/LaunchAgents/pypi-switch.auto.plist\n"
        in text
    )
    assert "launchctl bootout gui/501/pypi-switch.auto" in text
    assert f"\n{plan.crontab}\n" in text  # cron works on macOS too
    assert "systemctl" not in text
    # the pasted heredoc is exactly the plist
    body = text.split("<<'EOF'\n", 1)[1].split("EOF\n", 1)[0]
    assert plistlib.loads(body.encode()) == job


def test_windows_schedule_is_a_task_every_5_minutes(tmp_path: Path) -> None:
    from pypi_switch.render.schedule import to_text as schedule_text

    env = {**WIN_ENV, "PIP_CONFIG_FILE": "C:\\cfg\\pip.ini"}
    paths = Paths.for_place(Place.of(WINDOWS, env), tmp_path)
    exe = "C:\\Program Files\\Python313\\Scripts\\pypi-switch.exe"
    plan = schedule((exe,), paths)
    assert plan.task is not None and plan.crontab is None and plan.launchd is None
    assert plan.task.create == (
        'schtasks /Create /SC MINUTE /MO 5 /TN "pypi-switch auto" '
        '/TR "\\"C:\\Program Files\\Python313\\Scripts\\pypi-switch.exe\\" auto" /F'
    )
    assert plan.task.delete == 'schtasks /Delete /TN "pypi-switch auto" /F'
    assert not plan.task.too_long
    assert plan.log == "%LOCALAPPDATA%\\pypi-switch\\auto.log"
    text = schedule_text(plan)
    assert f"\n{plan.task.create}\n" in text
    assert 'setx PIP_CONFIG_FILE "C:\\cfg\\pip.ini"\n' in text
    assert f"REM To stop: {plan.task.delete}\n" in text
    assert "REM Each tick is logged in %LOCALAPPDATA%\\pypi-switch\\auto.log\n" in text
    assert TASK == "pypi-switch auto"
    deep = schedule(("C:\\" + "x" * 260 + "\\pypi-switch.exe",), paths)
    assert deep.task is not None and deep.task.too_long
    assert "longer than schtasks accepts" in schedule_text(deep)


def test_linux_schedule_is_cron_and_a_systemd_timer(tmp_path: Path) -> None:
    from pypi_switch.render.schedule import to_text as schedule_text

    paths = Paths.for_place(Place.of(LINUX, {"HOME": "/home/ann"}), tmp_path)
    plan = schedule(("/home/ann/.local/bin/pypi-switch",), paths)
    assert plan.log == "~/.local/state/pypi-switch/auto.log"
    text = schedule_text(plan)
    assert plan.crontab == "*/5 * * * * /home/ann/.local/bin/pypi-switch auto"
    assert "systemctl --user enable --now pypi-switch-auto.timer" in text
    assert "launchctl" not in text and "schtasks" not in text


def test_find_command_knows_windows_launchers(tmp_path: Path) -> None:
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    exe = scripts / "pypi-switch.exe"
    exe.write_bytes(b"MZ")
    exe.chmod(0o755)
    python = scripts / "python.exe"
    # argv[0] of a launcher may lack its suffix; from `python -m`, the launcher beside python
    assert find_command(str(scripts / "pypi-switch"), str(python), "") == (str(exe),)
    assert find_command("-m", str(python), "") == (str(exe),)


def test_windows_warnings_name_files_the_windows_way(tmp_path: Path) -> None:
    other = tmp_path / "other.ini"
    other.write_text("[global]\nextra-index-url = https://pypi.org/simple\n")
    ctx = _windows(tmp_path, PIP_CONFIG_FILE=str(other))
    warnings = PIP.warnings(ctx)
    assert warnings[0] == (
        f"PIP_CONFIG_FILE={other}: pip reads that file last and skips "
        "%USERPROFILE%\\pip\\pip.ini and %APPDATA%\\pip\\pip.ini"
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "setup.cfg").write_text("[easy_install]\nindex_url = https://x.example/simple\n")
    assert PYDISTUTILS.warnings(ctx) == [
        f"{PureWindowsPath(project / 'setup.cfg')} sets [easy_install] index_url and overrides "
        "%USERPROFILE%\\pydistutils.cfg"
    ]
    uv = _windows(tmp_path, UV_INDEX_URL="https://y.example/simple")
    assert UV.warnings(uv)[0].endswith(
        "uv uses it instead of the default index in %APPDATA%\\uv\\uv.toml"
    )
    pdm = _windows(tmp_path, PDM_PYPI_URL="https://y.example/simple")
    assert PDM.warnings(pdm)[0].endswith(
        "pdm uses it instead of [pypi] url in %LOCALAPPDATA%\\pdm\\pdm\\config.toml"
    )


def test_macos_warnings_name_files_from_the_home(tmp_path: Path) -> None:
    ctx = _macos(tmp_path, PDM_PYPI_URL="https://y.example/simple")
    assert PDM.warnings(ctx)[0].endswith(
        "pdm uses it instead of [pypi] url in ~/Library/Application Support/pdm/config.toml"
    )
