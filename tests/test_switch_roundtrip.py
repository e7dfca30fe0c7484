"""Round-trip exactness over the ``fixtures/`` corpus: switch, compare, restore, compare.

Each ``fixtures/<kind>/<case>.<ext>`` is an odd but legal file; ``<case>.expected`` is the
exact text after switching it to ``{URL}``. After ``restore`` the original bytes are back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, FIXTURES, ok, render, snapshot, write

URL = DEAD_URL


def _cases(kind: str) -> list[Path]:
    found = sorted(p for p in (FIXTURES / kind).iterdir() if p.suffix != ".expected")
    assert found, f"no fixtures in {FIXTURES / kind}"
    return found


def _ids(kind: str) -> list[str]:
    return [p.stem for p in _cases(kind)]


# kind -> (the --target name, where the sandbox keeps that file)
LOCATIONS: dict[str, tuple[str, Callable[[Sandbox], Path]]] = {
    "pip": ("pip", lambda box: box.pip_conf),
    "pip-user": ("pip", lambda box: box.pip_user_conf),
    "pydistutils": ("pydistutils", lambda box: box.pydistutils),
    "buildout": ("buildout", lambda box: box.buildout_default),
    "project": ("project", lambda box: box.project / "buildout.cfg"),
}


def _round_trip(box: Sandbox, kind: str, case: Path) -> None:
    target, where = LOCATIONS[kind]
    path = where(box)
    original = render(case.read_bytes(), URL)
    expected = render(case.with_suffix(".expected").read_bytes(), URL)
    write(path, original)
    before = snapshot(path)

    out = box.run("use-mirror", URL, "--target", target, "--force")
    if original.startswith(b"\xef\xbb\xbf"):
        # Switched byte for byte all the same, but no client reads such a file: said, and
        # for pip (whose verdict use-mirror gives) exit 3, "a client will not use it".
        assert "starts with a byte-order mark" in out.stdout, out.stdout
        assert out.returncode == (3 if target == "pip" else 0), out.stderr
    else:
        assert out.returncode == 0, out.stdout + out.stderr

    got = path.read_bytes()
    assert got.decode("utf-8") == expected.decode("utf-8")  # readable diff on failure
    assert got == expected
    if expected == original:
        assert snapshot(path) == before, "an unchanged file was rewritten (mtime changed)"

    ok(box, "restore")
    assert path.read_bytes() == original


@pytest.mark.parametrize("case", _cases("pip"), ids=_ids("pip"))
def test_pip_legacy_file(sandbox: Sandbox, case: Path) -> None:
    _round_trip(sandbox, "pip", case)


@pytest.mark.parametrize("case", _cases("pip-user"), ids=_ids("pip-user"))
def test_pip_xdg_file(sandbox: Sandbox, case: Path) -> None:
    _round_trip(sandbox, "pip-user", case)
    # the legacy file did not exist: restore removed it, and the directory it created
    assert not sandbox.pip_conf.exists()
    assert not sandbox.pip_conf.parent.exists()


@pytest.mark.parametrize("case", _cases("pydistutils"), ids=_ids("pydistutils"))
def test_pydistutils_file(sandbox: Sandbox, case: Path) -> None:
    _round_trip(sandbox, "pydistutils", case)


@pytest.mark.parametrize("case", _cases("buildout"), ids=_ids("buildout"))
def test_buildout_default_file(sandbox: Sandbox, case: Path) -> None:
    _round_trip(sandbox, "buildout", case)


@pytest.mark.parametrize("case", _cases("buildout"), ids=_ids("buildout"))
def test_project_buildout_file(sandbox: Sandbox, case: Path) -> None:
    # the project's buildout.cfg follows the same rules as the user default.cfg
    _round_trip(sandbox, "project", case)


def test_every_fixture_has_its_expected_text() -> None:
    for kind in ("pip", "pip-user", "pydistutils", "buildout"):
        for case in _cases(kind):
            assert case.with_suffix(".expected").is_file(), case
            assert b"{URL}" in case.with_suffix(".expected").read_bytes() or kind == "pip-user"


def test_crlf_fixtures_really_hold_crlf() -> None:
    """Guard against a checkout that converted line endings (see .gitattributes)."""
    for case in FIXTURES.rglob("*crlf*"):
        assert b"\r\n" in case.read_bytes(), case
    for case in FIXTURES.rglob("*bom*"):
        assert case.read_bytes().startswith(b"\xef\xbb\xbf"), case


def test_cr_only_fixtures_really_hold_cr_only() -> None:
    """Lines that end in a lone CR, nothing else (see .gitattributes)."""
    cases = list(FIXTURES.rglob("*cr-only*"))
    assert cases
    for case in cases:
        assert b"\r" in case.read_bytes() and b"\n" not in case.read_bytes(), case
