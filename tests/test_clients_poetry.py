"""poetry: the real poetry with the real plugin follows the switch; the target's edits.

poetry and poetry-plugin-pypi-mirror are in the test environment (`.[test]`), where poetry
finds the plugin through the entry points of its own environment. pypi.org is the fake one
(tests/support/fake_pypi.py), down: whatever poetry installs comes from the mirror.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from pypi_switch.targets import build_context, choose_targets
from pypi_switch.targets.base import Change, FileSpec, ParseError
from pypi_switch.targets.poetry import POETRY, has_plugin
from tests.support.fake_pypi import FakePyPIWithEnv
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import VENV_BIN, Sandbox
from tests.support.switching import local_mirror_config, ok, write

POETRY_EXE = str(Path(VENV_BIN) / "poetry")
URL = "https://mirror.example.org/pypi/simple/"
SPEC = FileSpec(Path("config.toml"))

PROJECT = """\
[project]
name = "demo"
version = "0"
requires-python = ">=3.11"
dependencies = []

[tool.poetry]
package-mode = false
"""


def _config(sandbox: Sandbox) -> Path:
    return sandbox.home / ".config" / "pypoetry" / "config.toml"


def _poetry(sandbox: Sandbox, *args: str, env: dict[str, str]) -> tuple[int, str]:
    out = sandbox.command(
        [POETRY_EXE, *args, "--no-interaction"],
        env={"POETRY_REQUESTS_MAX_RETRIES": "0", **env},
    )
    return out.returncode, out.stdout + out.stderr


def _installed_canary(sandbox: Sandbox, env: dict[str, str]) -> str:
    rc, output = _poetry(
        sandbox, "run", "python", "-c", "import canary_pkg; print(canary_pkg.VERSION)", env=env
    )
    assert rc == 0, output
    return output.strip().splitlines()[-1]


def test_real_poetry_with_the_plugin_follows_the_switch(
    sandbox: Sandbox, mirror: PypiServer, fake_pypi: FakePyPIWithEnv
) -> None:
    (sandbox.project / "pyproject.toml").write_text(PROJECT)
    env = fake_pypi.env
    rc, output = _poetry(sandbox, "add", "canary-pkg", env=env)
    assert rc != 0, output  # pypi.org answers 503: poetry is stuck
    assert fake_pypi.server.asked

    local_mirror_config(sandbox, mirror.index_url)
    out = ok(sandbox, "use-mirror", mirror.index_url, "--target", "poetry")
    assert "warning" not in out  # this poetry has the plugin: nothing to warn about
    assert _config(sandbox).read_text() == f'[plugins.pypi_mirror]\nurl = "{mirror.index_url}"\n'
    asked = fake_pypi.server.asked
    rc, output = _poetry(sandbox, "add", "canary-pkg", env=env)
    assert rc == 0, output
    assert _installed_canary(sandbox, env) == "1.1"
    assert fake_pypi.server.asked == asked  # nothing from pypi.org
    assert "127.0.0.1" not in (sandbox.project / "poetry.lock").read_text()

    ok(sandbox, "restore")
    assert not _config(sandbox).exists()
    rc, output = _poetry(sandbox, "add", "canary-pkg==1.0", env=env)
    assert rc != 0, output  # back on pypi.org, which is still down
    assert fake_pypi.server.asked > asked


def test_real_poetry_reads_the_mirror_from_the_environment(
    sandbox: Sandbox, mirror: PypiServer, fake_pypi: FakePyPIWithEnv
) -> None:
    """POETRY_PYPI_MIRROR_URL, which `pypi-switch env` prints, works without any file."""
    (sandbox.project / "pyproject.toml").write_text(PROJECT)
    env = {**fake_pypi.env, "POETRY_PYPI_MIRROR_URL": mirror.index_url}
    rc, output = _poetry(sandbox, "add", "canary-pkg", env=env)
    assert rc == 0, output
    assert _installed_canary(sandbox, env) == "1.1"
    assert not fake_pypi.server.asked
    assert not _config(sandbox).exists()


# -- the edits -----------------------------------------------------------------------------
CASES = {
    "empty": ("", f'[plugins.pypi_mirror]\nurl = "{URL}"\n'),
    "other settings": (
        "# mine\n[virtualenvs]\nin-project = true\n",
        f'# mine\n[virtualenvs]\nin-project = true\n\n[plugins.pypi_mirror]\nurl = "{URL}"\n',
    ),
    "another plugin": (
        '[plugins.other]\nkey = "v"  # keep\n',
        f'[plugins.other]\nkey = "v"  # keep\n\n[plugins.pypi_mirror]\nurl = "{URL}"\n',
    ),
    "no final newline": (
        "[virtualenvs]\ncreate = false",
        f'[virtualenvs]\ncreate = false\n\n[plugins.pypi_mirror]\nurl = "{URL}"',
    ),
    "the user's own mirror": (
        "[plugins.pypi_mirror]\nurl = 'https://corp.example/simple'  # IT\n",
        f"[plugins.pypi_mirror]\nurl = '{URL}'  # IT\n",
    ),
    "the table without url": (
        "[plugins.pypi_mirror]\n# none yet\n",
        f'[plugins.pypi_mirror]\n# none yet\nurl = "{URL}"\n',
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_sets_only_the_key_and_revert_gives_back_the_bytes(case: str) -> None:
    before, expected = CASES[case]
    edit = POETRY.plan(SPEC, before, URL)
    assert edit.text == expected
    assert POETRY.current(SPEC, edit.text) == URL
    assert POETRY.revert(SPEC, edit.text, edit.changes) == before
    assert POETRY.plan(SPEC, expected, URL).changes == ()


def test_revert_keeps_a_url_the_user_set_since() -> None:
    edit = POETRY.plan(SPEC, "", URL)
    theirs = edit.text.replace(URL, "https://theirs.example/simple")
    assert POETRY.revert(SPEC, theirs, edit.changes) == theirs


def test_revert_keeps_keys_the_user_added_to_our_table() -> None:
    edit = POETRY.plan(SPEC, "[virtualenvs]\ncreate = false\n", URL)
    assert edit.changes == (Change("plugins.pypi_mirror", "url", None, URL, True),)
    theirs = edit.text + 'extra = "x"\n'
    assert POETRY.revert(SPEC, theirs, edit.changes) == (
        '[virtualenvs]\ncreate = false\n\n[plugins.pypi_mirror]\nextra = "x"\n'
    )


def test_a_wrong_type_is_refused() -> None:
    with pytest.raises(ParseError, match=r"plugins\.pypi_mirror"):
        POETRY.parse("plugins = 3\n")


# -- is the plugin there? -------------------------------------------------------------------
def _fake_poetry(root: Path, *, plugin: bool, launcher: str = "shebang") -> Path:
    """A venv as pip lays one out: bin/poetry whose interpreter line names bin/python."""
    venv = root / "poetry venv" if launcher == "sh" else root / "venv"
    site = venv / "lib" / "python3.12" / "site-packages"
    (site / "poetry-2.5.1.dist-info").mkdir(parents=True)
    if plugin:
        (site / "poetry_plugin_pypi_mirror-0.6.5.dist-info").mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    python = venv / "bin" / "python"
    write(python, "")
    head = (
        f"#!{python}\n"
        if launcher == "shebang"
        else f"#!/bin/sh\n'''exec' '{python}' \"$0\" \"$@\"\n' '''\n"
    )
    script = write(venv / "bin" / "poetry", head + "from poetry.console.application import main\n")
    script.chmod(0o755)
    link = root / "bin" / "poetry"  # how pipx and poetry's installer expose it
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(script)
    return link


def test_the_real_poetry_has_the_plugin(tmp_path: Path) -> None:
    assert has_plugin(Path(POETRY_EXE), tmp_path) is True


@pytest.mark.parametrize("launcher", ["shebang", "sh"])
def test_plugin_found_or_missing_in_the_scripts_environment(tmp_path: Path, launcher: str) -> None:
    assert has_plugin(_fake_poetry(tmp_path / "a", plugin=True, launcher=launcher), tmp_path)
    missing = has_plugin(_fake_poetry(tmp_path / "b", plugin=False, launcher=launcher), tmp_path)
    assert missing is False


def test_plugin_state_unknown_is_not_claimed_missing(tmp_path: Path) -> None:
    binary = write(tmp_path / "poetry", b"\x7fELF\x02\x01")
    assert has_plugin(binary, tmp_path) is None
    env_line = write(tmp_path / "env-poetry", "#!/usr/bin/env python3\n")
    assert has_plugin(env_line, tmp_path) is None


def test_use_mirror_and_status_tell_the_plugin_is_missing(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    poetry = _fake_poetry(sandbox.root / "tools", plugin=False)
    assert stat.S_IMODE(poetry.stat().st_mode) & 0o111
    env = {"PATH": f"{poetry.parent}{os.pathsep}{sandbox.env['PATH']}"}
    local_mirror_config(sandbox, mirror.index_url)
    for out in (
        ok(sandbox, "use-mirror", mirror.index_url, "--target", "poetry", env=env),
        ok(sandbox, "status", env=env),
    ):
        lines = [ln for ln in out.splitlines() if "poetry-plugin-pypi-mirror" in ln]
        assert len(lines) == 1, out
        assert "does not have the plugin poetry-plugin-pypi-mirror" in lines[0]
        assert "`poetry self add poetry-plugin-pypi-mirror`" in lines[0]
        assert "`poetry source add --priority=primary mirror <URL>`" in lines[0]
        assert "rewrites pyproject.toml and poetry.lock" in lines[0]
    assert _config(sandbox).is_file()  # set all the same: it works once the plugin is there


def test_poetry_is_a_default_target_when_installed(sandbox: Sandbox) -> None:
    tools = sandbox.root / "tools"
    ctx = build_context()
    bare = dataclasses.replace(ctx, environ={**ctx.environ, "PATH": str(sandbox.root / "none")})
    assert "poetry" not in [t.name for t in choose_targets(bare, None)]
    _fake_poetry(tools, plugin=True)
    found = dataclasses.replace(ctx, environ={**ctx.environ, "PATH": str(tools / "bin")})
    assert "poetry" in [t.name for t in choose_targets(found, None)]
