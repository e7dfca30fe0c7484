"""`pypi-switch env`: quoting for each reader, checked against hostile values.

sh is checked by the real sh evaluating the output; fish and PowerShell (not installed on
these machines) by decoders written from their documented single-quote rules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pypi_switch.errors import SwitchError, UsageError
from pypi_switch.shell_env import (
    NAMES,
    Assignment,
    EnvPlan,
    assignments,
    fish_quote,
    format_plan,
    powershell_quote,
    sh_quote,
)

HOSTILE = [
    "plain",
    "",
    "it's",
    "''",
    "a'b\"c",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}",
    "$HOME",
    "a\nb",
    "line\n",
    "\\",
    "back\\slash\\'",
    "semi; touch pwned",
    "tab\there",
    "\u2018curly\u2019 \u201bquotes\u201a",
    "%PATH% & | > <",
    "\x1b[31mred",
    "ünïcödé",
]


def _plan(values: dict[str, str]) -> EnvPlan:
    return EnvPlan("x", "argument", tuple(Assignment(k, v) for k, v in values.items()))


@pytest.mark.parametrize("value", HOSTILE)
def test_sh_eval_gives_back_the_exact_value(value: str, tmp_path: Path) -> None:
    script = format_plan(_plan({"PIP_INDEX_URL": value, "UV_DEFAULT_INDEX": "after"}), "sh")
    out = subprocess.run(
        [
            "sh",
            "-c",
            'eval "$1"; printf "%s|%s" "$PIP_INDEX_URL" "$UV_DEFAULT_INDEX"',
            "sh",
            script,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.stdout == f"{value}|after"
    assert not (tmp_path / "pwned").exists()


def test_sh_unset_removes_every_variable(tmp_path: Path) -> None:
    script = format_plan(EnvPlan(None, "unset", assignments(None)), "sh")
    env = {name: "x" for name in NAMES} | {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        ["sh", "-c", 'eval "$1"; env', "sh", script], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert not [name for name in NAMES if f"{name}=" in out.stdout]


def _fish_unquote(text: str) -> str:
    """fish: inside '...', only \\' and \\\\ are escapes; any other backslash is literal."""
    assert text[0] == "'"
    out, i = [], 1
    while True:
        ch = text[i]
        if ch == "\\" and text[i + 1] in "'\\":
            out.append(text[i + 1])
            i += 2
        elif ch == "'":
            assert i == len(text) - 1, "the quoted string ended early"
            return "".join(out)
        else:
            out.append(ch)
            i += 1


_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def _powershell_unquote(text: str) -> str:
    """PowerShell verbatim string: any single-quote character ends it unless doubled."""
    assert text[0] in _PS_QUOTES
    out, i = [], 1
    while True:
        ch = text[i]
        if ch in _PS_QUOTES:
            if i + 1 < len(text) and text[i + 1] in _PS_QUOTES:
                out.append(ch)
                i += 2
                continue
            assert i == len(text) - 1, "the quoted string ended early"
            return "".join(out)
        out.append(ch)
        i += 1


@pytest.mark.parametrize("value", HOSTILE)
def test_fish_and_powershell_quotes_round_trip(value: str) -> None:
    assert _fish_unquote(fish_quote(value)) == value
    assert _powershell_unquote(powershell_quote(value)) == value
    assert sh_quote(value).startswith("'")


def test_the_lines_of_each_shell() -> None:
    url = "https://user:p'w@mirror.example/simple/"
    plan = _plan({"PIP_INDEX_URL": url})
    assert (
        format_plan(plan, "sh")
        == "export PIP_INDEX_URL='https://user:p'\\''w@mirror.example/simple/'\n"
    )
    assert (
        format_plan(plan, "fish")
        == "set -gx PIP_INDEX_URL 'https://user:p\\'w@mirror.example/simple/'\n"
    )
    assert (
        format_plan(plan, "powershell")
        == "$env:PIP_INDEX_URL = 'https://user:p''w@mirror.example/simple/'\n"
    )
    assert format_plan(plan, "github") == f"PIP_INDEX_URL={url}\n"
    with pytest.raises(SwitchError, match="cannot be written safely"):
        format_plan(plan, "dotenv")


def test_github_uses_a_heredoc_for_a_value_with_a_newline() -> None:
    text = format_plan(_plan({"PIP_INDEX_URL": "a\nEOF\nb"}), "github")
    first, *body, last = text.splitlines()
    name, delimiter = first.split("<<")
    assert (name, body, last) == ("PIP_INDEX_URL", ["a", "EOF", "b"], delimiter)
    assert delimiter not in "a\nEOF\nb"


def test_dotenv_plain_bare_odd_quoted_unsafe_refused() -> None:
    plain = "https://user:tok@mirror.example:8443/pypi/simple/"
    assert format_plan(_plan({"A": plain}), "dotenv") == f"A={plain}\n"
    assert format_plan(_plan({"A": "a b$c#d"}), "dotenv") == "A='a b$c#d'\n"
    for unsafe in ("it's", "a\nb"):
        with pytest.raises(SwitchError, match="cannot be written safely"):
            format_plan(_plan({"A": unsafe}), "dotenv")


@pytest.mark.parametrize("shell", ["github", "dotenv"])
def test_unset_has_no_form_where_variables_can_only_be_added(shell: str) -> None:
    with pytest.raises(UsageError, match="--unset"):
        format_plan(EnvPlan(None, "unset", assignments(None)), shell)


def test_a_nul_character_is_refused_everywhere() -> None:
    for shell in ("sh", "fish", "powershell", "github", "dotenv"):
        with pytest.raises(SwitchError, match="NUL"):
            format_plan(_plan({"A": "a\0b"}), shell)


def test_unknown_shell_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="known: sh, fish, powershell, github, dotenv"):
        format_plan(_plan({"A": "b"}), "csh")


def test_the_variables_for_a_mirror() -> None:
    https = "https://mirror.example/simple/"
    assert [(a.name, a.value) for a in assignments(https)] == [
        ("PIP_INDEX_URL", https),
        ("UV_DEFAULT_INDEX", https),
        ("PDM_PYPI_URL", https),
        ("PIPENV_PYPI_MIRROR", https),
        ("POETRY_PYPI_MIRROR_URL", https),
    ]
    plain = "http://10.0.0.5:3141/root/pypi/+simple/"
    assert [(a.name, a.value) for a in assignments(plain)] == [
        ("PIP_INDEX_URL", plain),
        ("PIP_TRUSTED_HOST", "10.0.0.5"),
        ("UV_DEFAULT_INDEX", plain),
        ("PDM_PYPI_URL", plain),
        ("PDM_PYPI_VERIFY_SSL", "false"),
        ("PIPENV_PYPI_MIRROR", plain),
        ("POETRY_PYPI_MIRROR_URL", plain),
    ]
    loopback = "http://127.0.0.1:8080/simple/"
    assert "PIP_TRUSTED_HOST" not in [a.name for a in assignments(loopback)]
