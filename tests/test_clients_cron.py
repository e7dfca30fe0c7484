"""cron runs `auto` with PATH=/usr/bin:/bin: uv installed in ~/.local/bin is switched all the same.

The tick runs as a real subprocess with cron's PATH; the uv it must find is the real uv,
linked where uv's installer and pipx put it, and the real uv then resolves from the mirror.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pypi_switch.programs import find_program
from tests.conftest import CANARY
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import VENV_BIN, Sandbox
from tests.support.switching import DEAD_URL

CRON_PATH = "/usr/bin:/bin"


def _configure(box: Sandbox, mirror: str) -> None:
    box.write_config(
        f'builtin_mirrors = false\ncanary = "{CANARY}"\nupstream = "{DEAD_URL}"\n'
        f'[[mirror]]\nname = "m1"\nurl = "{mirror}"\n\n[auto]\nfail_after = 1\n'
    )


def _uv_toml(box: Sandbox) -> Path:
    return box.home / ".config" / "uv" / "uv.toml"


@pytest.mark.parametrize("folder", [".local/bin", ".cargo/bin"])
def test_auto_with_crons_path_switches_uv_from_a_user_folder(
    sandbox: Sandbox, mirror: PypiServer, folder: str
) -> None:
    uv = sandbox.home / folder / "uv"
    uv.parent.mkdir(parents=True)
    uv.symlink_to(Path(VENV_BIN) / "uv")
    _configure(sandbox, mirror.index_url)

    out = sandbox.run("auto", env={"PATH": CRON_PATH})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("pypi-switch auto: switched to "), out.stdout
    assert mirror.index_url in _uv_toml(sandbox).read_text()

    resolved = sandbox.command(
        [str(uv), "pip", "compile", "-", "--python", sys.executable, "--no-header"],
        input=f"{CANARY}\n",
        env={"PATH": CRON_PATH, "UV_CACHE_DIR": str(sandbox.root / "uv-cache")},
    )
    assert resolved.returncode == 0, resolved.stderr
    assert f"{CANARY}==1.1" in resolved.stdout


def test_auto_with_crons_path_leaves_uv_alone_when_it_is_nowhere(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    """The counter-test: without uv in a user folder nor on PATH, no uv.toml is written."""
    _configure(sandbox, mirror.index_url)
    out = sandbox.run("auto", env={"PATH": CRON_PATH})
    assert out.stdout.startswith("pypi-switch auto: switched to "), out.stdout + out.stderr
    assert not _uv_toml(sandbox).exists()


@pytest.mark.parametrize(
    ("var", "folder"),
    [
        ("PIPX_BIN_DIR", "pipx-bin"),
        ("UV_INSTALL_DIR", "uv-install"),
        ("XDG_BIN_HOME", "xdg-bin"),
        ("CARGO_HOME", "cargo/bin"),
        ("POETRY_HOME", "poetry/bin"),
    ],
)
def test_installers_own_folders_count(tmp_path: Path, var: str, folder: str) -> None:
    program = tmp_path / folder / "poetry"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    value = str(tmp_path / folder.removesuffix("/bin"))
    environ = {"PATH": str(tmp_path / "empty"), var: value}
    assert find_program("poetry", environ, tmp_path / "home") == program
    assert find_program("poetry", {"PATH": str(tmp_path / "empty")}, tmp_path / "home") is None


def test_path_wins_and_a_plain_file_is_no_program(tmp_path: Path) -> None:
    home = tmp_path / "home"
    local = home / ".local" / "bin" / "uv"
    local.parent.mkdir(parents=True)
    local.write_text("not executable")
    assert find_program("uv", {"PATH": str(tmp_path)}, home) is None
    local.chmod(0o755)
    assert find_program("uv", {"PATH": str(tmp_path)}, home) == local
    on_path = tmp_path / "bin" / "uv"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert find_program("uv", {"PATH": str(on_path.parent)}, home) == on_path
