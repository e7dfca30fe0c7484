"""The right files, words and schedule on Linux, macOS and Windows, asked on any OS.

The rules are pure (paths.py, schedule.py): a Windows place over real temp dirs gives real
files the targets can read, so the target tests below run Windows' rules on Linux.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from pypi_switch.config import Settings
from pypi_switch.paths import LINUX, MACOS, WINDOWS, Paths, Place, shown
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
