"""What switch and restore promise about the user's files, however the files move.

Another program writing a file during a run, a symlink re-pointed after a switch, a file
deleted since, a token written into a file others can read, hard links and owners, and
a restore that stops half-way.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.support.faults import fault_runner
from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    DEAD_URL2,
    assert_one_line_error,
    ok,
    ok_json,
    snapshot,
    write,
)

URL = DEAD_URL
PIP_CONF = b"# mine\n[global]\nindex-url = https://old.example/simple\n"
SWITCHED = f"# mine\n[global]\nindex-url = {URL}\n".encode()
MINE = "timeout = 42\n"  # what the user's editor appends while pypi-switch runs
PIP_ONLY = ("--target", "pip")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- another program writes a file during the run ------------------------------------------


def _editor(path: Path, data: str, times: int) -> dict[str, object]:
    """Another program appending ``data`` to ``path`` each time pypi-switch opens the temp
    file that will replace it (the first ``times`` times)."""
    match = f"open ('{path.parent}/.{path.name}."
    return {"match": match, "path": str(path), "data": data, "times": times}


@pytest.mark.linux_only("a write injected into a real process")
def test_a_line_appended_during_a_switch_is_kept_and_switched(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    edit = _editor(sandbox.pip_conf, MINE, 1)
    with fault_runner(tmp_path / "runner") as runner:
        out = runner.run(sandbox, "use-mirror", URL, "--force", *PIP_ONLY, mode="edit", edit=edit)
    assert out.returncode == 0, out.stderr
    assert sandbox.pip_conf.read_bytes() == SWITCHED + MINE.encode()
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF + MINE.encode()


@pytest.mark.linux_only("a write injected into a real process")
def test_a_file_that_keeps_changing_stops_the_switch_with_nothing_changed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    before = snapshot(sandbox.home, skip=(sandbox.pip_conf, sandbox.home / ".local"))
    typed = "# typed meanwhile\n"
    edit = _editor(sandbox.pip_conf, typed, 99)
    with fault_runner(tmp_path / "runner") as runner:
        out = runner.run(sandbox, "use-mirror", URL, "--force", mode="edit", edit=edit)
    message = assert_one_line_error(out)
    assert message == f"{sandbox.pip_conf} changed while switching; nothing was changed"
    assert sandbox.pip_conf.read_bytes() == PIP_CONF + 3 * typed.encode()  # every try's line
    assert snapshot(sandbox.home, skip=(sandbox.pip_conf, sandbox.home / ".local")) == before
    assert ok_json(sandbox, "status")["switched"] is False


@pytest.mark.linux_only("a write injected into a real process")
def test_a_line_appended_during_a_restore_is_kept(sandbox: Sandbox, tmp_path: Path) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    ok(sandbox, "use-mirror", URL, "--force", *PIP_ONLY)
    edit = _editor(sandbox.pip_conf, MINE, 1)
    with fault_runner(tmp_path / "runner") as runner:
        out = runner.run(sandbox, "restore", mode="edit", edit=edit)
    assert out.returncode == 0, out.stderr
    # Edited since the switch: only pypi-switch's option is taken back.
    assert sandbox.pip_conf.read_bytes() == PIP_CONF + MINE.encode()
    assert ok_json(sandbox, "status")["switched"] is False


# -- symlinks and deleted files -------------------------------------------------------------


def test_restore_puts_back_the_file_that_was_switched_after_its_link_moved(
    sandbox: Sandbox,
) -> None:
    a = write(sandbox.home / "dotfiles" / "a" / "pip.conf", PIP_CONF)
    b = write(sandbox.home / "dotfiles" / "b" / "pip.conf", b"[global]\ntimeout = 5\n")
    sandbox.pip_conf.parent.mkdir(parents=True)
    sandbox.pip_conf.symlink_to(a)
    ok(sandbox, "use-mirror", URL, "--force", *PIP_ONLY)
    assert a.read_bytes() == SWITCHED
    sandbox.pip_conf.unlink()
    sandbox.pip_conf.symlink_to(b)  # a dotfile manager re-points the link
    b_before = snapshot(b)

    report = ok_json(sandbox, "restore")
    assert [(r["path"], r["action"]) for r in report["restored"]] == [(str(a), "restored")]
    assert a.read_bytes() == PIP_CONF
    assert snapshot(b) == b_before  # never touched, not even its mtime
    assert os.readlink(sandbox.pip_conf) == str(b)
    assert ok_json(sandbox, "status")["switched"] is False


def test_a_deleted_file_keeps_its_original_for_force(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    ok(sandbox, "use-mirror", URL, "--force", *PIP_ONLY)
    sandbox.pip_conf.unlink()

    for _ in range(2):  # the promise holds on every run, not only the first
        out = ok(sandbox, "restore")
        assert "deleted since the switch; left as it is (--force brings back the original)" in out
        assert not sandbox.pip_conf.exists()
    report = ok_json(sandbox, "restore", "--force")
    assert [r["action"] for r in report["restored"]] == ["restored"]
    assert sandbox.pip_conf.read_bytes() == PIP_CONF
    assert ok_json(sandbox, "status")["switched"] is False
    assert not list((sandbox.state_dir / "backups").glob("*"))


# -- credentials and modes ------------------------------------------------------------------

TOKEN_URL = "http://bob:hunter2@127.0.0.1:9/simple/"


def test_a_token_written_into_a_file_others_can_read_tightens_it(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, PIP_CONF, mode=0o644)
    out = ok(sandbox, "use-mirror", TOKEN_URL, "--force", *PIP_ONLY)
    assert "hunter2" in sandbox.pip_conf.read_text()
    assert _mode(sandbox.pip_conf) == 0o600
    shown = sandbox.paths.show(sandbox.pip_conf)
    assert (
        f"warning: {shown} now holds the mirror's credentials: made it readable by you "
        "only (0644 -> 0600); restore puts 0644 back\n"
    ) in out.replace(str(sandbox.pip_conf), shown)
    assert "hunter2" not in out

    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF
    assert _mode(sandbox.pip_conf) == 0o644


def test_a_file_created_for_a_plain_url_is_tightened_for_a_token(sandbox: Sandbox) -> None:
    ok(sandbox, "use-mirror", DEAD_URL2, "--force", *PIP_ONLY)
    assert _mode(sandbox.pip_conf) & 0o044  # created readable by others (the umask's)
    ok(sandbox, "use-mirror", TOKEN_URL, "--force", *PIP_ONLY)
    assert _mode(sandbox.pip_conf) == 0o600
    ok(sandbox, "restore")
    assert not sandbox.pip_conf.exists()


def test_restore_puts_the_mode_back_after_keeping_the_users_edits(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, PIP_CONF, mode=0o644)
    ok(sandbox, "use-mirror", TOKEN_URL, "--force", *PIP_ONLY)
    with sandbox.pip_conf.open("a") as fh:
        fh.write(MINE)
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF + MINE.encode()
    assert _mode(sandbox.pip_conf) == 0o644


# -- hard links and owners ------------------------------------------------------------------


def test_a_hard_linked_file_is_switched_with_a_warning(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    other = sandbox.home / "dotfiles" / "pip.conf"
    other.parent.mkdir()
    os.link(sandbox.pip_conf, other)
    out = ok(sandbox, "use-mirror", URL, "--force", *PIP_ONLY)
    shown = sandbox.paths.show(sandbox.pip_conf)
    assert (
        f"warning: {shown} had 1 other hard link: the switch wrote a new file, so they keep "
        "the old text\n"
    ) in out.replace(str(sandbox.pip_conf), shown)
    assert other.read_bytes() == PIP_CONF
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


@pytest.mark.linux_only("owners")
def test_root_gives_a_users_file_back_to_its_owner(sandbox: Sandbox) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can make a file owned by someone else")
    write(sandbox.pip_conf, PIP_CONF)
    os.chown(sandbox.pip_conf, 65534, 65534)
    out = ok(sandbox, "use-mirror", URL, "--force", *PIP_ONLY)
    assert "belonged to another user" not in out
    assert (sandbox.pip_conf.stat().st_uid, sandbox.pip_conf.stat().st_gid) == (65534, 65534)
    ok(sandbox, "restore")
    assert (sandbox.pip_conf.stat().st_uid, sandbox.pip_conf.stat().st_gid) == (65534, 65534)


@pytest.mark.linux_only("owners")
def test_a_user_is_told_a_file_of_roots_becomes_theirs(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only root may give a file to someone else: a user's switch makes root's file theirs
    (this machine runs the tests as root: the run is told it is uid 1000)."""
    write(sandbox.pip_conf, PIP_CONF)
    os.chown(sandbox.pip_conf, 0, 0)
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    out = ok(sandbox, "use-mirror", URL, "--force", *PIP_ONLY)
    shown = sandbox.paths.show(sandbox.pip_conf)
    assert (
        f"warning: {shown} belonged to another user (uid 0); it now belongs to you (only "
        "root can give a file to someone else), and stays yours after restore\n"
    ) in out.replace(str(sandbox.pip_conf), shown)


# -- a restore that stops half-way ----------------------------------------------------------


@pytest.mark.linux_only("an I/O error injected into a real process")
def test_a_restore_that_fails_names_the_files_it_did_restore(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = sandbox.project / "buildout.cfg"
    write(sandbox.pip_conf, PIP_CONF)
    write(project, b"[buildout]\nparts =\n")
    sandbox.write_config('targets = ["pip", "buildout", "project"]\n')
    ok(sandbox, "use-mirror", URL, "--force")
    with fault_runner(tmp_path / "runner") as runner:
        steps = runner.count_steps(sandbox, "restore")
        ok(sandbox, "use-mirror", URL, "--force")
        at = next(n for n, s in enumerate(steps, 1) if " replace " in s and "/.buildout.cfg." in s)
        out = runner.run(sandbox, "restore", mode="raise", at=at)
    message = assert_one_line_error(out)
    assert message.startswith(f"{project}: cannot write: injected fault at write step {at}")
    assert message.endswith(
        f"; restored {sandbox.pip_conf}, {sandbox.buildout_default}; "
        "run `pypi-switch restore` again for the rest"
    )
    assert sandbox.pip_conf.read_bytes() == PIP_CONF
    assert not sandbox.buildout_default.exists()
    assert ok_json(sandbox, "status")["switched"] is True  # the project file still is
    ok(sandbox, "restore")
    assert project.read_bytes() == b"[buildout]\nparts =\n"
