"""Warnings for what would keep a client off the mirror: pip's corner cases, uv's system
file, pipenv projects. Each case is built with real files; each has its negative twin."""

from __future__ import annotations

from pathlib import Path

from pypi_switch.config import Settings
from pypi_switch.paths import LINUX, Paths, Place
from pypi_switch.targets import pipenv
from pypi_switch.targets.base import Context
from pypi_switch.targets.pip import PIP
from pypi_switch.targets.uv import UV
from tests.support.switching import write


def _ctx(
    tmp_path: Path,
    environ: dict[str, str] | None = None,
    *,
    cwd: Path | None = None,
    projects: tuple[Path, ...] = (),
) -> Context:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    place_env = {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "xdg")}
    place_env.update(environ or {})
    paths = Paths.for_place(
        Place.of(LINUX, place_env), cwd or tmp_path / "cwd", prefix=place_env.get("VIRTUAL_ENV")
    )
    (cwd or tmp_path / "cwd").mkdir(exist_ok=True)
    settings = Settings(projects=projects)
    return Context(paths=paths, settings=settings, environ=dict(place_env))


# -- pip --------------------------------------------------------------------------------------
def test_pip_extra_index_url_pointing_at_pypi(tmp_path: Path) -> None:
    value = "https://corp.example/simple https://pypi.org/simple"
    found = PIP.warnings(_ctx(tmp_path, {"PIP_EXTRA_INDEX_URL": value}))
    assert found == [
        f"PIP_EXTRA_INDEX_URL is set ({value}) and points at PyPI: pip keeps trying PyPI too"
    ]
    assert PIP.warnings(_ctx(tmp_path, {"PIP_EXTRA_INDEX_URL": "https://corp.example/s"})) == []


def test_a_project_venvs_own_pip_conf(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    elsewhere = tmp_path / "configured"
    write(cwd / ".venv" / "pip.conf", "[global]\nindex-url = https://corp.example/simple\n")
    write(elsewhere / "venv" / "pip.conf", "[install]\nextra_index_url = https://pypi.org/simple\n")
    write(tmp_path / "unlisted" / ".venv" / "pip.conf", "[global]\nindex-url = https://x/simple\n")
    ctx = _ctx(tmp_path, cwd=cwd, projects=(elsewhere,))
    legacy = "~/.pip/pip.conf"
    assert PIP.warnings(ctx) == [
        f"{cwd}/.venv/pip.conf [global] sets index-url: {cwd}/.venv/bin/pip uses it instead of "
        f"{legacy}, even when that virtualenv is not activated",
        f"{elsewhere}/venv/pip.conf [install] extra-index-url points at PyPI: "
        f"{elsewhere}/venv/bin/pip keeps trying PyPI too",
    ]
    write(cwd / ".venv" / "pip.conf", "[global]\ntimeout = 5\n")
    write(elsewhere / "venv" / "pip.conf", "")
    assert PIP.warnings(ctx) == []


def test_the_active_venv_is_told_once(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    write(cwd / ".venv" / "pip.conf", "[global]\nindex-url = https://corp.example/simple\n")
    found = PIP.warnings(_ctx(tmp_path, {"VIRTUAL_ENV": str(cwd / ".venv")}, cwd=cwd))
    assert len(found) == 1 and "sets index-url and overrides" in found[0], found


# -- uv's system file ----------------------------------------------------------------------------
def test_uv_system_file_with_pypi_as_an_extra_index(tmp_path: Path) -> None:
    system = write(
        tmp_path / "xdg" / "uv" / "uv.toml",
        '[[index]]\nname = "pypi"\nurl = "https://pypi.org/simple"\n',
    )
    assert UV.warnings(_ctx(tmp_path)) == [
        f"{system} still lists https://pypi.org/simple as an extra index: uv queries it before "
        "the default index and stops when it cannot reach it"
    ]
    write(system, '[[index]]\nurl = "https://corp.example/simple"\ndefault = true\n')
    assert UV.warnings(_ctx(tmp_path)) == []


# -- pipenv ----------------------------------------------------------------------------------
def test_a_pipfile_in_the_cwd_or_a_configured_project(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    other = tmp_path / "other"
    ctx = _ctx(tmp_path, cwd=cwd, projects=(other / "buildout.cfg",))
    assert pipenv.warnings(ctx) == []
    write(cwd / "Pipfile", "[packages]\n")
    write(other / "Pipfile", "[packages]\n")
    found = pipenv.warnings(ctx)
    assert [w.split(":")[0] for w in found] == [f"{cwd}/Pipfile", f"{other}/Pipfile"]
    assert all("PIPENV_PYPI_MIRROR" in w and "pypi-switch env" in w for w in found)
    told = _ctx(tmp_path, {"PIPENV_PYPI_MIRROR": "https://m/simple"}, cwd=cwd)
    assert pipenv.warnings(told) == []
