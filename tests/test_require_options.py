"""``require``/``file_canary`` in config.toml, and the command-line options that set them.

Every usage error here is told before any probing: the mirrors named are dead ports, so a
run that probed anyway would say something else (and take longer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pypi_switch.config import Settings, load_settings, with_overrides
from pypi_switch.errors import SwitchError, UsageError
from tests.support.sandbox import Sandbox

DEAD = "http://127.0.0.1:9/simple/"
LOCKS = Path(__file__).resolve().parent.parent / "fixtures" / "locks"


def test_config_require_is_relative_to_the_config_file_and_expands_home(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text('require = ["uv.lock", "~/work/requirements.txt", "/abs/pdm.lock"]\n')
    settings = load_settings(path)
    assert settings.require == (
        tmp_path / "conf" / "uv.lock",
        Path.home() / "work" / "requirements.txt",
        Path("/abs/pdm.lock"),
    )


def test_config_file_canary_defaults_to_six_and_can_be_set(tmp_path: Path) -> None:
    assert Settings().file_canary == "six"
    path = tmp_path / "config.toml"
    path.write_text('file_canary = "idna"\n')
    assert load_settings(path).file_canary == "idna"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('canary = "pip"\nfile_canary = "no spaces"\n', "line 2: file_canary is not a valid"),
        ("file_canary = 3\n", "line 1: file_canary must be a project name, not 3"),
        ('require = "uv.lock"\n', "line 1: require must be a list of strings"),
        ("require = [1]\n", "line 1: require must be a list of strings"),
    ],
)
def test_bad_config_values_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(SwitchError) as err:
        load_settings(path)
    assert err.value.message.startswith(f"{path}, {message}")


def test_command_line_require_replaces_the_configured_list() -> None:
    configured = Settings(require=(Path("/a/uv.lock"),))
    assert with_overrides(configured).require == (Path("/a/uv.lock"),)
    assert with_overrides(configured, require=[Path("b.txt")]).require == (Path("b.txt"),)
    assert with_overrides(configured, file_canary="idna").file_canary == "idna"
    with pytest.raises(UsageError, match="--file-canary is not a valid project name: 'a b'"):
        with_overrides(Settings(), file_canary="a b")


# -- the command line -----------------------------------------------------------------------


def _usage_error(box: Sandbox, *args: str) -> str:
    out = box.run(*args)
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert out.stdout == ""
    return out.stderr


@pytest.mark.parametrize("command", ["use-mirror", "probe"])
def test_a_missing_require_file_is_a_usage_error(sandbox: Sandbox, command: str) -> None:
    err = _usage_error(sandbox, command, "--mirror", DEAD, "--require", "nope.lock")
    assert err == "pypi-switch: error: nope.lock: no such file\n"


@pytest.mark.parametrize("command", ["use-mirror", "probe"])
def test_a_file_of_no_known_kind_is_a_usage_error_naming_it(sandbox: Sandbox, command: str) -> None:
    (sandbox.project / "setup.cfg").write_text("[metadata]\nname = demo\n")
    (sandbox.project / "uv.lock").write_bytes((LOCKS / "uv.lock").read_bytes())
    err = _usage_error(
        sandbox, command, "--mirror", DEAD, "--require", "uv.lock", "--require", "setup.cfg"
    )
    assert err.startswith(
        "pypi-switch: error: setup.cfg: not a requirements or lock file this tool reads ("
    )


def test_allow_missing_needs_something_required(sandbox: Sandbox) -> None:
    err = _usage_error(sandbox, "use-mirror", "--mirror", DEAD, "--allow-missing")
    assert err == (
        "pypi-switch: error: --allow-missing needs --require FILE (or require in config.toml)\n"
    )


def test_require_cannot_be_checked_with_force(sandbox: Sandbox) -> None:
    (sandbox.project / "requirements.txt").write_text("six==1.17.0\n")
    err = _usage_error(sandbox, "use-mirror", DEAD, "--force", "--require", "requirements.txt")
    assert err == (
        "pypi-switch: error: --require cannot be checked with --force, which switches unprobed\n"
    )


@pytest.mark.parametrize("command", ["use-mirror", "probe"])
def test_a_bad_file_canary_is_a_usage_error(sandbox: Sandbox, command: str) -> None:
    err = _usage_error(sandbox, command, "--mirror", DEAD, "--file-canary", "a b")
    assert err == "pypi-switch: error: --file-canary is not a valid project name: 'a b'\n"


def test_a_broken_file_named_in_config_is_blamed_on_config(sandbox: Sandbox) -> None:
    config = sandbox.write_config('require = ["missing.lock"]\n')
    out = sandbox.run("use-mirror", "--mirror", DEAD)
    assert out.returncode == 1
    assert out.stderr == (
        f"pypi-switch: error: require in {config}: {config.parent / 'missing.lock'}: no such file\n"
    )
