"""Text from outside (servers, config files, file names) never drives the terminal: control
characters are escaped, credentials hidden, and Rich never reads it as markup."""

from __future__ import annotations

import json

import pytest

from pypi_switch.render import safe, scrub
from tests.support import hostile
from tests.support.hostile import Server
from tests.support.sandbox import Sandbox

EVIL = "\x1b[31mEVIL[/bold]\x07"
SHOWN = "\\x1b[31mEVIL[/bold]\\x07"
# What Rich needs to think it draws on a terminal, wide enough for whole cells.
TERMINAL = {"FORCE_COLOR": "1", "COLUMNS": "400"}


def test_safe_escapes_control_and_invisible_characters() -> None:
    assert safe(EVIL) == SHOWN
    assert safe("a\u200bb\u202ec\ufeffd\x9be") == "a\\u200bb\\u202ec\\ufeffd\\x9be"
    assert safe("two\nlines\tand a tab") == "two\nlines\tand a tab"
    assert safe("https://u:p@h/s?token=t \x1b") == "https://***@h/s?token=*** \\x1b"
    assert safe("https://u:p@h/", reveal=True) == "https://u:p@h/"
    assert scrub({"a": ["https://t@h/", 1, None], "b": {"c": "?access_token=x"}}) == {
        "a": ["https://***@h/", 1, None],
        "b": {"c": "?access_token=***"},
    }


@pytest.mark.parametrize("env", [{}, TERMINAL], ids=["piped", "terminal"])
def test_a_hostile_redirect_path_is_shown_escaped(sandbox: Sandbox, env: dict[str, str]) -> None:
    def to_evil_then_404(h: hostile._Handler, server: Server) -> None:
        if "EVIL" in h.path:
            hostile.static(404)(h, server)
        else:
            hostile.redirect(lambda s, path: f"{s.root_url}/{EVIL}/")(h, server)

    with Server(to_evil_then_404) as srv:
        out = sandbox.run(
            "probe",
            "--mirror",
            srv.index_url,
            "--timeout",
            "5",
            "--upstream",
            srv.index_url,
            env=env,
        )
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and "unexpected failure" not in out.stderr, out.stderr
    assert EVIL not in out.stdout + out.stderr
    assert "\x07" not in out.stdout + out.stderr
    assert SHOWN in out.stdout


@pytest.mark.parametrize("env", [{}, TERMINAL], ids=["piped", "terminal"])
def test_mirror_names_are_never_markup(sandbox: Sandbox, env: dict[str, str]) -> None:
    sandbox.write_config(
        "builtin_mirrors = false\n"
        '[[mirror]]\nname = "[/]"\nurl = "https://a.example/simple/"\n'
        '[[mirror]]\nname = "[bold red]b[/]"\nurl = "https://b.example/simple/"\n'
        'notes = "[link=https://evil.example]x[/link]"\n'
    )
    out = sandbox.run("mirrors", env=env)
    assert out.returncode == 0, out.stderr
    assert "[/]" in out.stdout
    assert "[bold red]b[/]" in out.stdout
    doc = json.loads(sandbox.run("mirrors", "--json", env=env).stdout)
    assert [m["name"] for m in doc if m["source"] != "built-in"] == ["[/]", "[bold red]b[/]"]


def test_error_messages_are_escaped(sandbox: Sandbox) -> None:
    out = sandbox.run("use-mirror", "--force", f"https://h.example/{EVIL}/")
    assert out.returncode == 1
    assert EVIL not in out.stderr and "\x1b" not in out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
