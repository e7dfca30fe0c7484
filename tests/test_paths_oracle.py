"""paths.py against the clients' own code, run as if on Linux, macOS and Windows.

Each case runs the client's locator in a fresh subprocess (tests/support/locators.py) with
an environment, and compares what it picks with the pure function given the same
platform, environment and home. A directory the rules ask about (pip's Application
Support folder on macOS, PIP_CONFIG_FILE) is made real in a temp dir.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

import pytest

from pypi_switch.paths import (
    LINUX,
    MACOS,
    WINDOWS,
    Disk,
    Place,
    _homebrew_prefix,
    buildout_files,
    current_platform,
    pdm_files,
    pip_files,
    poetry_files,
    setuptools_files,
    tool_files,
    uv_files,
    uv_system_file,
)

LOCATORS = Path(__file__).parent / "support" / "locators.py"
HOST = current_platform()


@dataclass(frozen=True)
class Case:
    """An environment to try; ``setup`` makes directories and returns extra variables."""

    id: str
    platform: str
    env: dict[str, str]
    setup: Callable[[Path], dict[str, str]] | None = None


def _nothing(home: Path) -> dict[str, str]:
    return {}


def _support_dir(home: Path) -> dict[str, str]:
    (home / "Library" / "Application Support" / "pip").mkdir(parents=True)
    return {}


def _xdg_data_pip(home: Path) -> dict[str, str]:
    (home / "Library" / "Application Support" / "pip").mkdir(parents=True)
    (home / "data" / "pip").mkdir(parents=True)
    return {"XDG_DATA_HOME": str(home / "data")}


def _xdg_data_without_pip(home: Path) -> dict[str, str]:
    (home / "Library" / "Application Support" / "pip").mkdir(parents=True)
    (home / "data").mkdir()
    return {"XDG_DATA_HOME": str(home / "data")}


def _config_file(home: Path) -> dict[str, str]:
    (home / "env.conf").write_text("[global]\n")
    return {"PIP_CONFIG_FILE": str(home / "env.conf")}


def _missing_config_file(home: Path) -> dict[str, str]:
    return {"PIP_CONFIG_FILE": str(home / "missing.conf")}


def _windows_roots(home: Path) -> dict[str, str]:
    # Windows rules over real POSIX dirs: what the target tests on Linux rely on.
    return {
        "APPDATA": str(home / "AppData" / "Roaming"),
        "LOCALAPPDATA": str(home / "AppData" / "Local"),
        "PROGRAMDATA": str(home.parent / "ProgramData"),
    }


WIN = {
    "APPDATA": "C:\\Users\\ann\\AppData\\Roaming",
    "LOCALAPPDATA": "C:\\Users\\ann\\AppData\\Local",
    "PROGRAMDATA": "C:\\ProgramData",
}

PIP_CASES = [
    Case("linux-defaults", LINUX, {}),
    Case("linux-xdg", LINUX, {"XDG_CONFIG_HOME": "/x/cfg", "XDG_CONFIG_DIRS": "/x/a:/x/b"}),
    Case("linux-xdg-relative", LINUX, {"XDG_CONFIG_HOME": "rel", "XDG_CONFIG_DIRS": "r:/x/a:"}),
    Case("linux-xdg-empty", LINUX, {"XDG_CONFIG_HOME": "", "XDG_CONFIG_DIRS": ""}),
    Case("linux-xdg-padded", LINUX, {"XDG_CONFIG_HOME": " /x/cfg ", "XDG_CONFIG_DIRS": " /x/a "}),
    Case("linux-config-file", LINUX, {}, _config_file),
    Case("linux-config-file-missing", LINUX, {}, _missing_config_file),
    Case("linux-devnull", LINUX, {"PIP_CONFIG_FILE": "/dev/null"}),
    Case("linux-config-file-empty", LINUX, {"PIP_CONFIG_FILE": ""}),
    Case("macos-no-support-dir", MACOS, {}),
    Case("macos-support-dir", MACOS, {}, _support_dir),
    Case("macos-xdg-config-ignored", MACOS, {"XDG_CONFIG_HOME": "/x/cfg"}),
    Case("macos-xdg-config-ignored-support", MACOS, {"XDG_CONFIG_HOME": "/x/cfg"}, _support_dir),
    Case("macos-xdg-data-home", MACOS, {}, _xdg_data_pip),
    Case("macos-xdg-data-home-without-pip", MACOS, {}, _xdg_data_without_pip),
    Case("macos-xdg-data-dirs", MACOS, {"XDG_DATA_DIRS": "/x/a:rel:/x/b"}),
    Case("macos-config-file", MACOS, {}, _config_file),
    Case("macos-devnull", MACOS, {"PIP_CONFIG_FILE": "/dev/null"}),
    Case("windows", WINDOWS, WIN),
    Case("windows-xdg-ignored", WINDOWS, {**WIN, "XDG_CONFIG_HOME": "/x", "XDG_DATA_HOME": "/y"}),
    Case("windows-roots", WINDOWS, {}, _windows_roots),
    Case("windows-config-file", WINDOWS, WIN, _config_file),
    Case("windows-config-file-missing", WINDOWS, WIN, _missing_config_file),
]


def _run(platform: str, client: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    if platform != HOST and HOST != LINUX:
        pytest.skip("the locators are run as another OS on Linux hosts only (checked there)")
    out = subprocess.run(
        [sys.executable, str(LOCATORS), platform, client, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _environment(case: Case, tmp_path: Path) -> tuple[dict[str, str], Path]:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), **case.env, **(case.setup or _nothing)(home)}
    if case.platform == WINDOWS:
        env.setdefault("USERPROFILE", str(home))
    return env, home


def _as(platform: str, raw: str) -> PurePath:
    return PureWindowsPath(raw) if platform == WINDOWS else PurePosixPath(raw)


@pytest.mark.parametrize("case", PIP_CASES, ids=lambda c: c.id)
def test_pip_files_are_pips_own(case: Case, tmp_path: Path) -> None:
    env, _ = _environment(case, tmp_path)
    oracle = _run(case.platform, "pip", env)
    # pip "loads" an empty PIP_CONFIG_FILE name: a file named "" is no file.
    expected = [
        (_as(case.platform, path), "env-file" if kind == "env" else kind)
        for kind, path in oracle["layers"]
        if path
    ]
    mine = pip_files(
        Place.of(case.platform, env), prefix=oracle["prefix"], base_prefix=oracle["base_prefix"]
    )
    assert list(mine.layers()) == expected
    assert mine.writes == mine.legacy == expected_legacy(case.platform, env)


def expected_legacy(platform: str, env: dict[str, str]) -> PurePath:
    if platform == WINDOWS:
        return PureWindowsPath(env["USERPROFILE"], "pip", "pip.ini")
    return PurePosixPath(env["HOME"], ".pip", "pip.conf")


def test_pip_on_macos_reads_application_support_only_when_it_exists(tmp_path: Path) -> None:
    home = tmp_path / "home"
    place = Place.of(MACOS, {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert pip_files(place).user == PurePosixPath(home, ".config", "pip", "pip.conf")
    (home / "Library" / "Application Support" / "pip").mkdir(parents=True)
    assert pip_files(place).user == PurePosixPath(
        home, "Library", "Application Support", "pip", "pip.conf"
    )


def test_pip_on_windows_null_device_loads_nothing() -> None:
    # os.devnull is "nul" on Windows (the locator run on Linux knows only /dev/null).
    place = Place.of(WINDOWS, {**WIN, "USERPROFILE": "C:\\Users\\ann", "PIP_CONFIG_FILE": "nul"})
    assert pip_files(place).layers() == ()
    place = Place.of(WINDOWS, {**WIN, "USERPROFILE": "C:\\Users\\ann"})
    assert [str(p) for p in pip_files(place, prefix="C:\\Python313").reads] == [
        "C:\\ProgramData\\pip\\pip.ini",
        "C:\\Users\\ann\\pip\\pip.ini",
        "C:\\Users\\ann\\AppData\\Roaming\\pip\\pip.ini",
        "C:\\Python313\\pip.ini",
    ]


@pytest.mark.parametrize(
    "base_prefix",
    [
        "/opt/homebrew/opt/python@3.13/Frameworks/Python.framework/Versions/3.13",
        "/usr/local/opt/python3/Frameworks/Python.framework/Versions/3.12",
        "/opt/homebrew/Cellar/python@3.13/3.13.7_1/Frameworks/Python.framework/Versions/3.13",
        "/opt/homebrew/opt/python-freethreading/Frameworks/PythonT.framework/Versions/3.14",
        "/Library/Frameworks/Python.framework/Versions/3.13",
        "/usr",
    ],
)
def test_homebrew_prefix_is_platformdirs_own(
    base_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs.macos
    from pip._vendor.platformdirs import macos as vendored

    monkeypatch.setattr(sys, "base_prefix", base_prefix)
    assert _homebrew_prefix(base_prefix, pip=True) == vendored._homebrew_prefix()
    assert _homebrew_prefix(base_prefix, pip=False) == platformdirs.macos._homebrew_prefix()


# -- pdm, poetry and pypi-switch itself: platformdirs -----------------------------------------


def _pdm_config_file(home: Path) -> dict[str, str]:
    return {"PDM_CONFIG_FILE": str(home / "pdm.toml")}


PLATFORMDIRS_CASES = [
    Case("linux-defaults", LINUX, {}),
    Case("linux-xdg", LINUX, {"XDG_CONFIG_HOME": "/x/cfg", "XDG_STATE_HOME": "/x/st"}),
    Case("linux-xdg-dirs", LINUX, {"XDG_CONFIG_DIRS": "rel:/x/a:/x/b"}),
    Case("linux-xdg-relative", LINUX, {"XDG_CONFIG_HOME": "rel", "XDG_STATE_HOME": "rel"}),
    Case("linux-overrides", LINUX, {"POETRY_CONFIG_DIR": "/x/poetry"}, _pdm_config_file),
    Case("macos-defaults", MACOS, {}),
    Case("macos-xdg", MACOS, {"XDG_CONFIG_HOME": "/x/cfg", "XDG_STATE_HOME": "/x/st"}),
    Case("macos-xdg-dirs", MACOS, {"XDG_CONFIG_DIRS": "/x/a:/x/b"}),
    Case("macos-overrides", MACOS, {"POETRY_CONFIG_DIR": "~/poetry"}, _pdm_config_file),
    Case("windows", WINDOWS, WIN),
    Case("windows-xdg-ignored", WINDOWS, {**WIN, "XDG_CONFIG_HOME": "/x/cfg"}),
    Case("windows-roots", WINDOWS, {}, _windows_roots),
    Case("windows-overrides", WINDOWS, {**WIN, "POETRY_CONFIG_DIR": "D:\\poetry"}),
]


@pytest.mark.parametrize("case", PLATFORMDIRS_CASES, ids=lambda c: c.id)
def test_pdm_poetry_and_own_files_are_their_own(case: Case, tmp_path: Path) -> None:
    env, _ = _environment(case, tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    oracle = _run(case.platform, "platformdirs", env, str(project))
    place = Place.of(case.platform, env)
    pdm = pdm_files(place, base_prefix=oracle["base_prefix"])
    assert pdm.reads == (
        _as(case.platform, oracle["pdm_site"]),
        _as(case.platform, oracle["pdm_user"]),
    )
    assert poetry_files(place).writes == _as(case.platform, oracle["poetry"])
    own = tool_files(place)
    assert own.config == _as(case.platform, oracle["own_config"]) / "config.toml"
    assert own.state == _as(case.platform, oracle["own_state"])


def test_pdm_on_windows_has_the_author_segment_and_no_roaming() -> None:
    place = Place.of(WINDOWS, {**WIN, "USERPROFILE": "C:\\Users\\ann"})
    assert str(pdm_files(place).writes) == "C:\\Users\\ann\\AppData\\Local\\pdm\\pdm\\config.toml"
    assert str(poetry_files(place).writes) == (
        "C:\\Users\\ann\\AppData\\Roaming\\pypoetry\\config.toml"
    )


# -- setuptools and buildout ---------------------------------------------------------------

SETUPTOOLS_CASES = [
    Case("linux-defaults", LINUX, {}),
    Case("linux-env", LINUX, {"BUILDOUT_HOME": "/x/bo", "DIST_EXTRA_CONFIG": "/x/extra.cfg"}),
    Case("linux-buildout-home-empty", LINUX, {"BUILDOUT_HOME": ""}),
    Case("macos-defaults", MACOS, {}),
    Case("windows", WINDOWS, {"USERPROFILE": "C:\\Users\\ann"}),
    Case("windows-homepath", WINDOWS, {"HOMEDRIVE": "D:", "HOMEPATH": "\\Users\\bo"}),
    Case("windows-env", WINDOWS, {"USERPROFILE": "C:\\U", "BUILDOUT_HOME": "E:\\bo"}),
]


@pytest.mark.parametrize("case", SETUPTOOLS_CASES, ids=lambda c: c.id)
def test_setuptools_and_buildout_files_are_their_own(case: Case, tmp_path: Path) -> None:
    env, _ = _environment(case, tmp_path)
    if case.platform == WINDOWS and "USERPROFILE" not in case.env:
        del env["USERPROFILE"]
    oracle = _run(case.platform, "setuptools-buildout", env)
    place = Place.of(case.platform, env)
    assert setuptools_files(place).reads == tuple(
        _as(case.platform, p) for p in oracle["setuptools"]
    )
    assert buildout_files(place).writes == _as(case.platform, oracle["buildout"])


# -- uv: the real binary says where it looks (natively, on every OS) --------------------------


def _uv_system_in_first(root: Path) -> dict[str, str]:
    for name in ("a", "b"):
        (root / name / "uv").mkdir(parents=True)
    (root / "a" / "uv" / "uv.toml").write_text("")
    (root / "b" / "uv" / "uv.toml").write_text("")
    return {"XDG_CONFIG_DIRS": f"{root / 'a'}:{root / 'b'}"}


def _uv_system_in_second(root: Path) -> dict[str, str]:
    (root / "b" / "uv").mkdir(parents=True)
    (root / "b" / "uv" / "uv.toml").write_text("")
    return {"XDG_CONFIG_DIRS": f"{root / 'a'}:{root / 'b'}"}


def _uv_system_after_empty_entry(root: Path) -> dict[str, str]:
    (root / "b" / "uv").mkdir(parents=True)
    (root / "b" / "uv" / "uv.toml").write_text("")
    return {"XDG_CONFIG_DIRS": f"{root / 'a'}::{root / 'b'}"}


def _uv_windows(root: Path) -> dict[str, str]:
    return {"APPDATA": str(root / "Roaming")}


UV_CASES = [
    Case("defaults", HOST, {}),
    Case("xdg-config-home", HOST, {"XDG_CONFIG_HOME": "/x/cfg"}),
    Case("xdg-config-home-relative", HOST, {"XDG_CONFIG_HOME": "rel"}),
    Case("system-first", HOST, {}, _uv_system_in_first),
    Case("system-second", HOST, {}, _uv_system_in_second),
    Case("system-after-empty-entry", HOST, {}, _uv_system_after_empty_entry),
    Case("system-off", HOST, {"UV_NO_SYSTEM_CONFIG": "1"}, _uv_system_in_first),
    Case("appdata", HOST, {}, _uv_windows),
]


@pytest.mark.parametrize("case", UV_CASES, ids=lambda c: c.id)
def test_uv_files_are_uvs_own(case: Case, tmp_path: Path) -> None:
    import os
    import re
    import shutil

    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    assert uv is not None
    env, _ = _environment(case, tmp_path)
    env.update({k: os.environ[k] for k in ("SYSTEMROOT", "SYSTEMDRIVE") if k in os.environ})
    out = subprocess.run(
        [uv, "-v", "python", "dir"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    user = re.search(r"Searching for user configuration in: `?(.+?)`?$", out.stderr, re.M)
    system = re.search(r"Found system configuration in: `?(.+?)`?$", out.stderr, re.M)
    assert user is not None, out.stderr
    mine = uv_files(Place.of(HOST, env))
    assert mine.writes == _as(HOST, user[1])
    assert mine.reads == (*([_as(HOST, system[1])] if system else []), _as(HOST, user[1]))


def test_uv_on_windows_and_macos() -> None:
    # Documented table and uv's source (crates/uv-dirs): no locator to run as another OS.
    place = Place.of(WINDOWS, {**WIN, "USERPROFILE": "C:\\Users\\ann", "SYSTEMDRIVE": "C:"})
    assert str(uv_files(place).writes) == "C:\\Users\\ann\\AppData\\Roaming\\uv\\uv.toml"
    on_disk = Disk(is_file=lambda p: p == "C:/ProgramData/uv/uv.toml")
    assert str(uv_system_file(place, disk=on_disk)) == "C:\\ProgramData\\uv\\uv.toml"
    assert uv_system_file(place, disk=Disk(is_file=lambda p: False)) is None
    mac = Place.of(MACOS, {"HOME": "/Users/ann"})
    assert uv_files(mac, disk=Disk(is_file=lambda p: False)).reads == (
        PurePosixPath("/Users/ann/.config/uv/uv.toml"),
    )
