from __future__ import annotations

import pytest

from pypi_switch import __version__
from pypi_switch.errors import SwitchError
from pypi_switch.paths import Paths
from pypi_switch.urls import redact, same_index, validate_index_url
from tests.conftest import CANARY
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import Sandbox


def test_version_from_console_script_and_module(sandbox: Sandbox) -> None:
    out = sandbox.run_process("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"pypi-switch {__version__}"
    out = sandbox.command(["pypi-switch", "--version"])
    assert out.stdout.strip() == f"pypi-switch {__version__}"


@pytest.mark.linux_only("the XDG layout; macOS and Windows: tests/test_paths_oracle.py")
def test_paths_follow_home_and_xdg(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    p = Paths.from_environ()
    assert p.pip_legacy == sandbox.home / ".pip" / "pip.conf"
    assert p.pip_user == sandbox.home / ".config" / "pip" / "pip.conf"
    assert p.state_dir == sandbox.home / ".local" / "state" / "pypi-switch"
    assert p.buildout_default == sandbox.home / ".buildout" / "default.cfg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(sandbox.root / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(sandbox.root / "st"))
    monkeypatch.setenv("BUILDOUT_HOME", str(sandbox.root / "bo"))
    p = Paths.from_environ()
    assert p.pip_user == sandbox.root / "cfg" / "pip" / "pip.conf"
    assert p.tool_config == sandbox.root / "cfg" / "pypi-switch" / "config.toml"
    assert p.state_dir == sandbox.root / "st" / "pypi-switch"
    assert p.buildout_default == sandbox.root / "bo" / "default.cfg"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("ftp://host/simple", r"not an http\(s\) URL"),
        ("https:///simple", "no host"),
        ("", "empty"),
        ("https://host/sim ple", "space"),
        ("https://host:99999/simple", "not a valid index URL"),
        ("file:///opt/pypi/simple", r"not an http\(s\) URL"),
        # No client can use these, and they can pass for another URL on screen.
        ("https://host/\x1b[2Jsimple", "invisible character U\\+001B"),
        ("https://ho\u200bst/simple", "invisible character U\\+200B"),
        ("https://host/simple\u202e", "invisible character U\\+202E"),
        ("https://host/\x7fsimple", "invisible character U\\+007F"),
    ],
)
def test_bad_urls_are_refused(raw: str, problem: str) -> None:
    with pytest.raises(SwitchError, match=problem):
        validate_index_url(raw)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("https://bob:s3cret@host/simple/", "https://***@host/simple/"),
        # A token as the user part, Gemfury's "TOKEN:" and an unencoded @ in a password.
        ("https://T0KEN@host/simple/", "https://***@host/simple/"),
        ("https://T0KEN:@repo.fury.io/acme/", "https://***@repo.fury.io/acme/"),
        ("https://bob:p@ss@host:8443/simple", "https://***@host:8443/simple"),
        # Tokens in the query string, by the names services give them.
        ("https://h/simple/?token=T0KEN", "https://h/simple/?token=***"),
        ("https://h/s?a=1&access_token=T0KEN&b=2", "https://h/s?a=1&access_token=***&b=2"),
        ("https://h/s?X-Amz-Signature=T0KEN#frag", "https://h/s?X-Amz-Signature=***#frag"),
        ("https://h/s?api_key=T0KEN", "https://h/s?api_key=***"),
        ("https://host/simple/", "https://host/simple/"),
        ("https://host/simple/?page=2", "https://host/simple/?page=2"),
    ],
)
def test_credentials_are_hidden(raw: str, shown: str) -> None:
    assert redact(raw) == shown
    assert redact(f"see {raw} and {raw}") == f"see {shown} and {shown}"
    assert redact(redact(raw)) == shown


def test_same_index_ignores_trivia() -> None:
    assert same_index("https://Host.example/simple", "https://host.example:443/simple/")
    assert not same_index("https://host/simple", "http://host/simple")
    assert not same_index("https://host/a/simple", "https://host/b/simple")


def test_pypiserver_serves_the_canary(mirror: PypiServer, sandbox: Sandbox) -> None:
    out = sandbox.command(
        [
            "pip",
            "download",
            "--no-deps",
            "-d",
            str(sandbox.root / "dl"),
            "--index-url",
            mirror.index_url,
            f"{CANARY}==1.1",
        ]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (sandbox.root / "dl" / "canary_pkg-1.1-py3-none-any.whl").exists()


def test_a_ctrl_c_wrapped_by_python_is_still_a_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C while a class is built (a lazy import) reaches us as a RuntimeError from
    ``__set_name__``: it is one 'interrupted' line and exit 130, not an unexpected failure."""
    import typer

    from pypi_switch.cli import handled

    class Field:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    @handled
    def command() -> None:
        type("Late", (), {"field": Field()})

    with pytest.raises(BaseException) as caught:
        command()
    assert getattr(caught.value, "code", None) == 130, caught.value
    assert not isinstance(caught.value, typer.Exit)
    assert capsys.readouterr().err == "pypi-switch: interrupted\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["use-mirror", "--timeout", "abc"],
            "Invalid value for '--timeout': 'abc' is not a valid float.",
        ),
        (["status", "--bogus"], "No such option: --bogus"),
        (["no-such-command"], "No such command 'no-such-command'."),
    ],
)
def test_usage_errors_are_one_line(sandbox: Sandbox, args: list[str], message: str) -> None:
    out = sandbox.run(*args)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == f"pypi-switch: error: {message}\n"


def test_config_knows_every_target_in_the_registrys_order() -> None:
    """config.toml's ``targets = [...]`` is checked against TARGET_NAMES (config cannot
    import the targets): the two lists must be the same."""
    from pypi_switch.config import TARGET_NAMES
    from pypi_switch.targets import registry

    assert tuple(registry()) == TARGET_NAMES
