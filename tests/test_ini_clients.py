"""The real readers (pip's config loader, setuptools, zc.buildout) get exactly the URL
from every file pypi-switch writes: every switched fixture, CR-only line endings, ``%``
and ``$`` in the URL, and key spellings only pip understands.

Each client runs once per test in the sandbox and reads all the cases of that test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    FIXTURES,
    assert_one_line_error,
    ok,
    ok_json,
    render,
    write,
)

# Every byte a URL may hold that some reader treats specially: %-escapes (setuptools
# interpolates %), $ (buildout substitutes ${...}), ~ and ; and #.
ODD_URL = "http://user:p%40ss@127.0.0.1:9/~%7Euser/$ix;v=1/simple/"

# Loads each file with pip's own loader at the path given, as `pip config list` does.
PIP_READS = """
import json, sys
from pip._internal.configuration import Configuration, Kind
out = []
for where, source in json.loads(sys.argv[1]):
    with open(source, "rb") as src:
        data = src.read()
    with open(where, "wb") as fh:
        fh.write(data)
    config = Configuration(isolated=False)
    try:
        config.load()
    except Exception as exc:
        out.append(f"ERROR {type(exc).__name__}: {exc}")
        continue
    out.append(config.get_values_in_config(Kind.USER).get(where, {}))
print(json.dumps(out))
"""

# Reads ~/.pydistutils.cfg with setuptools' own Distribution, as a build would.
SETUPTOOLS_READS = """
import json, pathlib, sys
from setuptools.dist import Distribution
out = []
for source in json.loads(sys.argv[1]):
    data = pathlib.Path(source).read_bytes()
    (pathlib.Path.home() / ".pydistutils.cfg").write_bytes(data)
    d = Distribution()
    try:
        d.parse_config_files()
    except Exception as exc:
        out.append(f"ERROR {type(exc).__name__}: {exc}")
        continue
    out.append(d.get_option_dict("easy_install").get("index_url", (None, None))[1])
print(json.dumps(out))
"""

# `buildout query index` (raw) and the value buildout works with (substituted).
BUILDOUT_READS = """
import contextlib, io, json, pathlib, sys
from zc.buildout.buildout import Buildout, main
out = []
for source in json.loads(sys.argv[1]):
    data = pathlib.Path(source).read_bytes()
    (pathlib.Path.home() / ".buildout" / "default.cfg").write_bytes(data)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            main(["-q", "query", "index"])
        query = printed.getvalue().strip().splitlines()[-1]
        out.append([query, Buildout("buildout.cfg", [])["buildout"]["index"]])
    except (Exception, SystemExit) as exc:
        out.append(f"ERROR {type(exc).__name__}: {exc} {printed.getvalue()}")
print(json.dumps(out))
"""


def _read_with(box: Sandbox, script: str, cases: list[Any]) -> list[Any]:
    out = box.command(["python", "-c", script, json.dumps(cases)])
    assert out.returncode == 0, out.stderr
    result: list[Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _fixtures(kind: str, tmp: Path, skip: tuple[str, ...] = ()) -> list[tuple[str, Path, Path]]:
    """Each fixture of ``kind``: its name, the original and the switched text, as files.

    The switched text is its ``.expected``, which test_switch_roundtrip.py holds equal to
    what ``use-mirror DEAD_URL`` writes, byte for byte.
    """
    cases = []
    for expected in sorted((FIXTURES / kind).glob("*.expected")):
        if expected.stem in skip:
            continue
        (original,) = [p for p in expected.parent.glob(f"{expected.stem}.*") if p != expected]
        before, after = tmp / f"{kind}-{expected.stem}.before", tmp / f"{kind}-{expected.stem}"
        before.write_bytes(render(original.read_bytes(), DEAD_URL))
        after.write_bytes(render(expected.read_bytes(), DEAD_URL))
        cases.append((expected.stem, before, after))
    return cases


def _readable_or_already_broken(
    cases: list[tuple[str, Path, Path]], before: list[Any], after: list[Any]
) -> list[tuple[str, Any]]:
    """The cases the client reads after the switch, with what it read; a case it cannot
    read must be one it could not read before either (a file starting with a byte-order
    mark: pip, setuptools and buildout all refuse those)."""
    readable = []
    for (name, _, _), old, new in zip(cases, before, after, strict=True):
        if isinstance(new, str) and new.startswith("ERROR"):
            assert isinstance(old, str) and old.startswith("ERROR"), f"{name}: {new}"
            continue
        readable.append((name, new))
    assert len(readable) >= len(cases) - 2, readable
    return readable


@pytest.mark.parametrize("kind", ["pip", "pip-user"])
def test_pip_reads_every_switched_fixture(sandbox: Sandbox, kind: str) -> None:
    where = str(sandbox.pip_conf if kind == "pip" else sandbox.pip_user_conf)
    Path(where).parent.mkdir(parents=True, exist_ok=True)
    cases = _fixtures(kind, sandbox.root)
    got = _read_with(sandbox, PIP_READS, [(where, str(p)) for _, b, a in cases for p in (b, a)])
    for name, values in _readable_or_already_broken(cases, got[::2], got[1::2]):
        indexes = {k: v for k, v in values.items() if k.endswith(".index-url")}
        assert set(indexes.values()) <= {DEAD_URL}, f"{name}: {values}"
        if kind == "pip":
            assert indexes.get("global.index-url") == DEAD_URL, f"{name}: {values}"


def test_setuptools_reads_every_switched_fixture(sandbox: Sandbox) -> None:
    cases = _fixtures("pydistutils", sandbox.root)
    got = _read_with(sandbox, SETUPTOOLS_READS, [str(p) for _, b, a in cases for p in (b, a)])
    for name, index in _readable_or_already_broken(cases, got[::2], got[1::2]):
        assert index == DEAD_URL, name


def test_buildout_reads_every_switched_fixture(sandbox: Sandbox) -> None:
    write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")
    sandbox.buildout_default.parent.mkdir(parents=True)
    # extends-chain extends a file over https, which buildout would have to download
    cases = _fixtures("buildout", sandbox.root, skip=("extends-chain",))
    got = _read_with(sandbox, BUILDOUT_READS, [str(p) for _, b, a in cases for p in (b, a)])
    for name, (query, value) in _readable_or_already_broken(cases, got[::2], got[1::2]):
        assert query == value == DEAD_URL, name


def test_cr_only_files_switch_for_every_client(sandbox: Sandbox) -> None:
    """Files whose lines end in a lone CR (old Mac editors): one index per section after
    the switch, read by the real clients; restore gives back the exact bytes."""
    files = {
        sandbox.pip_conf: "[global]\rindex-url = https://old.example/simple\rtimeout = 60\r",
        sandbox.pydistutils: "[easy_install]\rindex_url = https://old.example/simple\r",
        sandbox.buildout_default: "[buildout]\rindex = https://old.example/simple\r",
    }
    for path, text in files.items():
        write(path, text.encode())
    write(sandbox.project / "buildout.cfg", "[buildout]\rparts =\r")

    ok(sandbox, "use-mirror", ODD_URL, "--force", "--allow-insecure")
    for path in files:
        assert b"\n" not in path.read_bytes(), path
    pip = _read_with(sandbox, PIP_READS, [(str(sandbox.pip_conf), str(sandbox.pip_conf))])
    assert pip[0]["global.index-url"] == ODD_URL
    assert _read_with(sandbox, SETUPTOOLS_READS, [str(sandbox.pydistutils)]) == [ODD_URL]
    got = _read_with(sandbox, BUILDOUT_READS, [str(sandbox.buildout_default)])
    assert got == [[ODD_URL, ODD_URL]]

    ok(sandbox, "restore")
    for path, text in files.items():
        assert path.read_bytes() == text.encode(), path


def test_percent_in_the_url_reaches_setuptools_exactly(sandbox: Sandbox) -> None:
    """setuptools reads ~/.pydistutils.cfg with %-interpolation: a raw ``p%40ss`` breaks
    every build. Written as ``%%``, read back as the URL by setuptools and by status."""
    original = "[easy_install]\nindex_url = https://old.example/simple\n"
    write(sandbox.pydistutils, original)

    ok(sandbox, "use-mirror", ODD_URL, "--force", "--allow-insecure", "--target", "pydistutils")
    assert "p%%40ss" in sandbox.pydistutils.read_text()
    assert _read_with(sandbox, SETUPTOOLS_READS, [str(sandbox.pydistutils)]) == [ODD_URL]
    status = ok_json(sandbox, "status")
    rows = [t for t in status["targets"] if t["name"] == "pydistutils"]
    assert rows and rows[0]["set_by_pypi_switch"] is True, status
    assert "~%7Euser/$ix;v=1/simple/" in rows[0]["index"], status  # not doubled

    ok(sandbox, "restore")
    assert sandbox.pydistutils.read_text() == original


def test_percent_and_dollar_stay_as_they_are_for_pip_and_buildout(sandbox: Sandbox) -> None:
    """pip reads raw values and buildout only substitutes ``${...}``: no escaping there."""
    write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")
    ok(sandbox, "use-mirror", ODD_URL, "--force", "--allow-insecure", "--target", "pip")
    ok(sandbox, "use-mirror", ODD_URL, "--force", "--allow-insecure", "--target", "buildout")
    assert f"index-url = {ODD_URL}\n" in sandbox.pip_conf.read_text()
    assert f"index = {ODD_URL}\n" in sandbox.buildout_default.read_text()
    pip = _read_with(sandbox, PIP_READS, [(str(sandbox.pip_conf), str(sandbox.pip_conf))])
    assert pip[0]["global.index-url"] == ODD_URL
    got = _read_with(sandbox, BUILDOUT_READS, [str(sandbox.buildout_default)])
    assert got == [[ODD_URL, ODD_URL]]


def test_a_url_buildout_would_substitute_is_refused(sandbox: Sandbox) -> None:
    write(sandbox.buildout_default, "[buildout]\nindex = https://old.example/simple\n")
    out = sandbox.run("use-mirror", "https://h.example/${x}/simple/", "--force")
    message = assert_one_line_error(out)
    assert "buildout" in message, message
    assert (
        sandbox.buildout_default.read_text() == "[buildout]\nindex = https://old.example/simple\n"
    )
    assert not sandbox.pip_conf.exists()


def test_pip_key_spelled_like_its_command_line_option(sandbox: Sandbox) -> None:
    """``--index-url = ...`` and ``--INDEX_URL`` set pip's index-url: they are switched in
    place (adding ``index-url`` beside them would make pip refuse the file), status
    reports what pip reads, and restore puts the original back."""
    legacy = f"[global]\n--index-url = {DEAD_URL}\ntimeout = 60\n"
    user = "[install]\n--INDEX_URL = https://corp.example/simple\n"
    write(sandbox.pip_conf, legacy)
    write(sandbox.pip_user_conf, user)
    url = "http://127.0.0.1:7/pypi/simple/"

    ok(sandbox, "use-mirror", url, "--force", "--target", "pip")
    assert sandbox.pip_conf.read_text() == legacy.replace(DEAD_URL, url)
    assert sandbox.pip_user_conf.read_text() == user.replace("https://corp.example/simple", url)
    out = sandbox.command(["python", "-m", "pip", "config", "list"])
    assert out.returncode == 0, out.stderr
    assert f"global.index-url='{url}'" in out.stdout, out.stdout
    assert f"install.index-url='{url}'" in out.stdout, out.stdout
    status = ok_json(sandbox, "status")
    assert status["effective_pip_index"] == url, status
    assert {t["index"] for t in status["targets"] if t["name"] == "pip"} == {url}, status
    assert not status["warnings"], status

    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == legacy
    assert sandbox.pip_user_conf.read_text() == user


def test_status_reads_a_dashed_key_pip_uses(sandbox: Sandbox) -> None:
    """A global file's ``[install] --index-url`` beats [global]: the switch counters it."""
    global_conf = sandbox.root / "xdg-config-dirs" / "pip" / "pip.conf"
    write(global_conf, "[install]\n--index_url = https://corp.example/simple\n")
    ok(sandbox, "use-mirror", DEAD_URL, "--force", "--target", "pip")
    assert "[install]\nindex-url = " + DEAD_URL in sandbox.pip_conf.read_text()
    out = sandbox.command(["python", "-m", "pip", "config", "list"])
    assert f"install.index-url='{DEAD_URL}'" in out.stdout, out.stdout
    assert ok_json(sandbox, "status")["effective_pip_index"] == DEAD_URL


def test_a_file_pip_refuses_is_refused(sandbox: Sandbox) -> None:
    """``index_url`` and ``--index-url`` are one option to pip, which refuses the file;
    pypi-switch says so rather than editing both."""
    text = "[global]\nindex_url = https://a.example/simple\n--index-url = https://b.example/\n"
    write(sandbox.pip_conf, text)
    out = sandbox.command(["python", "-m", "pip", "config", "list"])
    assert out.returncode != 0, out.stdout
    message = assert_one_line_error(sandbox.run("use-mirror", DEAD_URL, "--force"))
    assert "pip.conf" in message and "twice" in message, message
    assert sandbox.pip_conf.read_text() == text


def test_setup_cfg_in_the_working_directory(sandbox: Sandbox) -> None:
    """A ./setup.cfg index is reported, whichever way setuptools spells it; a setup.cfg
    that is not a regular file (a FIFO) is left alone instead of blocking the run."""
    write(sandbox.project / "setup.cfg", "[easy_install]\nIndex-URL = https://corp.example/\n")
    warnings = ok_json(sandbox, "status")["warnings"]
    assert any("setup.cfg" in w for w in warnings), warnings

    (sandbox.project / "setup.cfg").unlink()
    os.mkfifo(sandbox.project / "setup.cfg")
    out = sandbox.run_process(
        "use-mirror", DEAD_URL, "--force", "--target", "pydistutils", timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert not [w for w in ok_json(sandbox, "status")["warnings"] if "setup.cfg" in w]
