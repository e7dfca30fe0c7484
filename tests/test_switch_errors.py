"""Bad input: one clear line on stderr, exit 1, and no file changed in any target."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    Entry,
    assert_one_line_error,
    assert_same_tree,
    ok,
    ok_json,
    snapshot,
    write,
)

URL = DEAD_URL

GOOD = {
    "pip": b"[global]\nindex-url = https://old.example/simple\n",
    "pip-user": b"[install]\nindex-url = https://corp.example/simple\n",
    "pydistutils": b"[easy_install]\nindex_url = https://old.example/simple\n",
    "buildout": b"[buildout]\nindex = https://old.example/simple\n",
    "project": b"[buildout]\nparts =\n",
}


def _path(box: Sandbox, which: str) -> Path:
    return {
        "pip": box.pip_conf,
        "pip-user": box.pip_user_conf,
        "pydistutils": box.pydistutils,
        "buildout": box.buildout_default,
        "project": box.project / "buildout.cfg",
    }[which]


def _all_good(box: Sandbox) -> None:
    for which, data in GOOD.items():
        write(_path(box, which), data)


def _everything(box: Sandbox) -> dict[Path, Entry]:
    return snapshot(box.root, skip=(box.home / ".local",))


def _replace_with_dir(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("x")


def _parent_is_a_file(path: Path) -> None:
    path.unlink()
    path.parent.rmdir()
    path.parent.write_text("not a directory\n")


def _self_loop(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.name)


def _two_link_loop(path: Path) -> None:
    path.unlink()
    other = path.with_name(path.name + ".other")
    other.symlink_to(path.name)
    path.symlink_to(other.name)


def _content(data: bytes) -> Callable[[Path], None]:
    def breaker(path: Path) -> None:
        path.write_bytes(data)

    return breaker


# (file to break, how, the name the message must mention)
BAD_FILES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "pip-duplicate-option": (
        "pip",
        _content(b"[global]\nindex-url = https://a.example/\nindex-url = https://b.example/\n"),
        "pip.conf",
    ),
    "pip-user-no-section-header": (
        "pip-user",
        _content(b"index-url = https://corp.example/simple\n"),
        "pip.conf",
    ),
    "pydistutils-duplicate-option": (
        "pydistutils",
        _content(b"[easy_install]\nindex_url = https://a.example/\nindex_url = https://b/\n"),
        ".pydistutils.cfg",
    ),
    "buildout-duplicate-other-option": (
        "buildout",
        _content(b"[buildout]\nparts = a\nparts = b\n"),
        "default.cfg",
    ),
    "project-no-section-header": (
        "project",
        _content(b"# a project\nindex = https://old.example/simple\n[buildout]\n"),
        "buildout.cfg",
    ),
    "pydistutils-latin1": (
        "pydistutils",
        _content(b"[easy_install]\n# caf\xe9\nindex_url = https://old.example/simple\n"),
        ".pydistutils.cfg",
    ),
    "buildout-binary": (
        "buildout",
        _content(b"\x00\x01\x02\xff\xfe\x00[buildout]\n"),
        "default.cfg",
    ),
    "pip-is-a-directory": ("pip", _replace_with_dir, "pip.conf"),
    "pydistutils-is-a-directory": ("pydistutils", _replace_with_dir, ".pydistutils.cfg"),
    "buildout-parent-is-a-file": ("buildout", _parent_is_a_file, ".buildout"),
    "pydistutils-symlink-self-loop": ("pydistutils", _self_loop, ".pydistutils.cfg"),
    "pip-user-symlink-loop": ("pip-user", _two_link_loop, "pip.conf"),
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.linux_only("symlinks need a privilege on Windows"))
        if "symlink" in c
        else c
        for c in sorted(BAD_FILES)
    ],
)
def test_bad_file_changes_nothing(sandbox: Sandbox, case: str) -> None:
    which, breaker, name = BAD_FILES[case]
    _all_good(sandbox)
    breaker(_path(sandbox, which))
    before = _everything(sandbox)

    out = sandbox.run("use-mirror", URL, "--force")
    message = assert_one_line_error(out)
    assert name in message, f"the message does not say which file: {message}"
    assert_same_tree(before, _everything(sandbox), mtime=True)
    assert ok_json(sandbox, "restore")["nothing_to_restore"] is True
    assert_same_tree(before, _everything(sandbox), mtime=True)


def test_project_file_that_is_a_directory(sandbox: Sandbox) -> None:
    _all_good(sandbox)
    elsewhere = sandbox.root / "elsewhere"
    (elsewhere / "buildout.cfg").mkdir(parents=True)
    before = _everything(sandbox)
    out = sandbox.run("use-mirror", URL, "--force", "--project", str(elsewhere))
    assert "buildout.cfg" in assert_one_line_error(out)
    assert_same_tree(before, _everything(sandbox), mtime=True)


@pytest.mark.parametrize("name", ["pip.conf", "setup.cfg", "empty.cfg"])
def test_project_that_is_not_a_buildout_config_is_refused(sandbox: Sandbox, name: str) -> None:
    _all_good(sandbox)
    other = write(
        sandbox.root / "elsewhere" / name,
        "" if name == "empty.cfg" else "[global]\nindex-url = https://old.example/simple\n",
    )
    before = _everything(sandbox)
    out = sandbox.run("use-mirror", URL, "--force", "--project", str(other))
    message = assert_one_line_error(out)
    assert message == f"--project {other}: not a buildout config (no [buildout] section)"
    assert_same_tree(before, _everything(sandbox), mtime=True)
    assert other.read_bytes() == (
        b"" if name == "empty.cfg" else b"[global]\nindex-url = https://old.example/simple\n"
    )


def test_bad_file_in_an_unselected_target_does_not_matter(sandbox: Sandbox) -> None:
    _all_good(sandbox)
    _path(sandbox, "buildout").write_bytes(b"[buildout]\nparts = a\nparts = b\n")
    ok(sandbox, "use-mirror", URL, "--force", "--target", "pip")
    assert URL in sandbox.pip_conf.read_text()


@pytest.mark.linux_only("POSIX permissions")
@pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() == 0, reason="root ignores file permissions"
)
def test_unreadable_file_changes_nothing(sandbox: Sandbox) -> None:
    _all_good(sandbox)
    _path(sandbox, "buildout").chmod(0)
    before = _everything(sandbox)
    try:
        message = assert_one_line_error(sandbox.run("use-mirror", URL, "--force"))
        assert "default.cfg" in message
        assert_same_tree(before, _everything(sandbox), mtime=True)
    finally:
        _path(sandbox, "buildout").chmod(0o644)


@pytest.mark.linux_only("POSIX permissions")
@pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() == 0, reason="root ignores directory permissions"
)
def test_unwritable_directory_changes_nothing(sandbox: Sandbox) -> None:
    _all_good(sandbox)
    folder = _path(sandbox, "buildout").parent
    folder.chmod(0o555)
    before = _everything(sandbox)
    try:
        assert_one_line_error(sandbox.run("use-mirror", URL, "--force"))
        assert_same_tree(before, _everything(sandbox), mtime=True)
    finally:
        folder.chmod(0o755)


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: refused even to root, so the permission path runs in CI as well."""
    if not shutil.which("chattr"):
        pytest.skip("no chattr on this machine")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i not supported here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.linux_only("chattr +i")
def test_write_refused_midway_rolls_back_every_file(sandbox: Sandbox) -> None:
    """The buildout directory refuses new files: pip and pydistutils, written before it,
    are put back and the one-line error names the refused path."""
    _all_good(sandbox)
    before = _everything(sandbox)
    with _immutable(_path(sandbox, "buildout").parent):
        message = assert_one_line_error(sandbox.run("use-mirror", URL, "--force"))
    assert ".buildout" in message and "nothing was changed" in message, message
    assert_same_tree(before, _everything(sandbox), mtime=False)
    assert ok_json(sandbox, "restore", "--json")["nothing_to_restore"] is True


@pytest.mark.parametrize(
    "url",
    [
        "ftp://mirror.example/simple/",
        "file:///srv/pypi/simple/",
        "https:///simple/",
        "http://",
        "mirror.example/simple",
        "https://mirror.example:99999/simple/",
        "https://mirror.example/sim ple/",
    ],
)
def test_bad_url_changes_nothing(sandbox: Sandbox, url: str) -> None:
    _all_good(sandbox)
    before = _everything(sandbox)
    for extra in ((), ("--force",), ("--dry-run",)):
        assert_one_line_error(sandbox.run("use-mirror", url, *extra))
    assert_same_tree(before, _everything(sandbox), mtime=True)


def test_bad_url_error_hides_credentials(sandbox: Sandbox) -> None:
    out = sandbox.run("use-mirror", "ftp://bob:hunter2@mirror.example/simple/", "--force")
    assert_one_line_error(out)
    assert "hunter2" not in out.stdout + out.stderr


def test_restore_never_clobbers_a_file_the_user_broke(sandbox: Sandbox) -> None:
    """A file made invalid after the switch is bad input for restore: exit 1, nothing
    changed, the journal kept, so that ``--force`` can still bring every original back."""
    _all_good(sandbox)
    ok(sandbox, "use-mirror", URL, "--force")
    broken = b"[global]\nindex-url = https://a.example/\nindex-url = https://b.example/\n"
    sandbox.pip_conf.write_bytes(broken)
    before = _everything(sandbox)

    message = assert_one_line_error(sandbox.run("restore"))
    assert "pip.conf" in message, message
    assert_same_tree(before, _everything(sandbox), mtime=True)

    ok(sandbox, "restore", "--force")
    for which, data in GOOD.items():
        assert _path(sandbox, which).read_bytes() == data, which
