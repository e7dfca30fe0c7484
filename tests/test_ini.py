"""Reading and editing INI files the way the clients read them.

The oracle is the client's own parser: configparser reading a real file (text mode, so
``\\r``, ``\\n`` and ``\\r\\n`` all end a line), over many generated texts.
"""

from __future__ import annotations

import configparser
import difflib
import io
import random
from pathlib import Path

import pytest

from pypi_switch.diff import unified_diff
from pypi_switch.edit import split_lines
from pypi_switch.targets.base import Change, FileSpec, ParseError
from pypi_switch.targets.ini import Dialect, IniDoc
from pypi_switch.targets.pip import PIP
from pypi_switch.targets.pydistutils import PYDISTUTILS
from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, ok

URL = "https://mirror.example/simple/"
SPEC = FileSpec(Path("/nowhere/pip.conf"))
AS_CONFIGPARSER = Dialect(name=str.lower)  # configparser's own optionxform

# Lines that exercise configparser's rules: indentation decides continuation, comments
# and blank lines inside values, both separators, odd headers, lines that are errors.
POOL = [
    "[global]",
    "[install]",
    "  [indented]",
    "[odd] trailing words",
    "index-url = https://a.example/simple",
    "Index_URL: https://b.example/simple",
    "timeout=60",
    "  timeout = 61",
    "\tcontinued",
    "    https://c.example/simple",
    "empty =",
    "key = value = more",
    "# comment",
    "  ; indented comment",
    "",
    "   ",
    "= no key",
    "no separator at all",
    "x\x0cy = form feed inside a line",
    "unicode\u2028key = line separator inside a line",
]


def _configparser_view(path: Path) -> dict[str, dict[str, str]] | None:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return None
    return {s: {k: v.strip() for k, v in parser.items(s)} for s in parser.sections()}


def _our_view(text: str) -> dict[str, dict[str, str]] | None:
    try:
        doc = IniDoc(text, AS_CONFIGPARSER)
    except ParseError:
        return None
    return {s: {o.name: o.value for o in doc.options(s)} for s in doc.section_names()}


def test_lines_end_where_text_mode_files_end_them() -> None:
    text = "a\rb\r\nc\nd\x0cstill d\x1cstill d\x85still d\u2028still d\r\re"
    expected = [line for line in io.StringIO(text, newline="")]  # text mode, kept endings
    assert split_lines(text) == expected
    assert split_lines(text, keepends=False) == [ln.rstrip("\r\n") for ln in expected]
    assert split_lines("") == split_lines("", keepends=False) == []
    assert split_lines("x\n", keepends=False) == ["x"]


@pytest.mark.parametrize("seed", range(4))
def test_reading_agrees_with_configparser(tmp_path: Path, seed: int) -> None:
    """Random texts with random line endings: same sections, options, values and the same
    verdict on what is not a valid file as configparser reading the file."""
    rng = random.Random(seed)
    path = tmp_path / "generated.cfg"
    for _ in range(400):
        lines = [rng.choice(POOL) for _ in range(rng.randint(1, 9))]
        if rng.random() < 0.8:
            lines.insert(0, "[first]")
        endings = [rng.choice(["\n", "\r\n", "\r"]) for _ in lines]
        text = "".join(ln + e for ln, e in zip(lines, endings, strict=True))
        if rng.random() < 0.3:
            text = text.rstrip("\r\n")  # no final newline
        path.write_bytes(text.encode("utf-8"))
        assert _our_view(text) == _configparser_view(path), repr(text)


@pytest.mark.parametrize(
    ("text", "expected", "reverted"),
    [
        (
            "[global]\rindex-url = https://old.example/simple\rtimeout = 1\r",
            f"[global]\rindex-url = {URL}\rtimeout = 1\r",
            None,
        ),
        (
            "[global]\r\nindex-url =\r    https://old.example/simple\r\n[install]\n",
            f"[global]\r\nindex-url = {URL}\r[install]\n",
            "[global]\r\nindex-url = https://old.example/simple\r[install]\n",
        ),
        (
            "[global]\nindex-url = https://old.example/simple",
            f"[global]\nindex-url = {URL}",
            None,
        ),
        (
            "[install]\r\nno-compile = true\r\n[download]\rno-deps = true",
            f"[install]\r\nno-compile = true\r\n[download]\rno-deps = true\r\n\r\n"
            f"[global]\r\nindex-url = {URL}",
            None,
        ),
    ],
    ids=["cr-only", "mixed-continuation", "no-final-newline", "append-to-mixed"],
)
def test_an_edit_keeps_every_line_ending(text: str, expected: str, reverted: str | None) -> None:
    """Changed lines keep their own ending, added lines take the most common one."""
    edit = PIP.plan(SPEC, text, URL)
    assert edit.text == expected
    assert PIP.revert(SPEC, edit.text, edit.changes) == (reverted or text)


def test_every_spelling_in_one_section_is_set(tmp_path: Path) -> None:
    """Two options of one section name the index for setuptools; the first spans lines,
    so the second moves up when the first is set: both end up set, nothing else moves."""
    text = (
        "[easy_install]\n"
        "index_url =\n    https://a.example/simple\n    https://b.example/simple\n"
        "zip_ok = 0\n"
        "index-url = https://c.example/simple\n"
        "find_links = /opt/wheels\n"
    )
    edit = PYDISTUTILS.plan(SPEC, text, URL)
    assert edit.text == (
        f"[easy_install]\nindex_url = {URL}\nzip_ok = 0\nindex-url = {URL}\n"
        "find_links = /opt/wheels\n"
    )


def test_reverting_a_value_that_spanned_lines_keeps_it_readable(tmp_path: Path) -> None:
    """Restore after the user's own edit reverts option by option: the old value goes
    back on continuation lines, so the client reads exactly the old value again."""
    text = "[global]\nindex-url =\n    https://a.example/simple\n    https://b.example/simple\n"
    edit = PIP.plan(SPEC, text, URL)
    edited = edit.text + "timeout = 60\n"  # the user's edit after the switch
    reverted = PIP.revert(SPEC, edited, edit.changes)
    path = tmp_path / "pip.conf"
    path.write_text(reverted)
    parser = configparser.RawConfigParser()
    parser.read(path)
    assert parser["global"]["index-url"].split() == [
        "https://a.example/simple",
        "https://b.example/simple",
    ]
    assert parser["global"]["timeout"] == "60"


def test_only_the_values_written_are_reverted() -> None:
    text = "[global]\nindex-url = https://old.example/simple\n"
    doc = IniDoc(text, PIP.dialect)
    doc.revert([Change("global", "index-url", "https://old.example/simple", URL)])
    assert doc.text == text  # the value is not ours: it stays


def _apply(old: list[str], diff: str) -> list[str]:
    """Apply a unified diff (as produced) to ``old``; checks every context line."""
    out: list[str] = []
    at = 0
    for line in diff.splitlines()[2:]:
        if line.startswith("@@"):
            start, _, count = line.split()[1][1:].partition(",")
            begin = int(start) - (1 if count != "0" else 0)
            out += old[at:begin]
            at = begin
        elif line[0] in " -":
            assert old[at] == line[1:]
            if line[0] == " ":
                out.append(old[at])
            at += 1
        else:
            out.append(line[1:])
    return out + old[at:]


def test_diff_applies_and_reads_like_difflib() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        old = [rng.choice(["[s]", "a = 1", "", "# c", f"u{rng.randint(0, 30)}"]) for _ in range(30)]
        new = list(old)
        for _ in range(rng.randint(0, 4)):
            at = rng.randint(0, len(new) - 1)
            how = rng.choice(["insert", "delete", "change"])
            if how == "insert":
                new.insert(at, "added")
            elif how == "delete":
                del new[at]
            else:
                new[at] = "changed"
        a, b = "\n".join(old) + "\n", "\n".join(new) + "\n"
        diff = unified_diff(Path("f"), a, b)
        assert _apply(a.splitlines(), diff) == b.splitlines()
        assert (diff == "") == (a == b)
    a = "[global]\ntimeout = 60\n" + "[s]\nx = 1\n\n" * 50
    b = a.replace("timeout = 60\n", f"timeout = 60\nindex-url = {URL}\n")
    expected = difflib.unified_diff(a.splitlines(), b.splitlines(), "f", "f", lineterm="")
    assert unified_diff(Path("f"), a, b) == "".join(f"{line}\n" for line in expected)


def _sections_file(sections: int) -> str:
    return "[global]\nindex-url = https://old.example/simple\n\n" + "".join(
        f"# team {i}\n[team-{i}]\nindex-url = https://old.example/simple\ntimeout = 60\n\n"
        for i in range(sections)
    )


def test_many_sections_switch_in_linear_time(sandbox: Sandbox) -> None:
    """8,000 sections, each with its own index-url: every one is edited, reported, diffed
    and journaled. A cost that grows with the square of the size takes hours here (the
    engine this replaced did not finish 400 sections in 45 s); linear takes seconds, so
    the generous timeout only ever trips on a regression."""
    text = _sections_file(8_000)
    sandbox.pip_conf.parent.mkdir(parents=True)
    sandbox.pip_conf.write_text(text)
    out = sandbox.run_process("use-mirror", DEAD_URL, "--force", "--target", "pip", timeout=240)
    assert out.returncode == 0, out.stderr
    assert sandbox.pip_conf.read_text() == text.replace("https://old.example/simple", DEAD_URL)
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == text
