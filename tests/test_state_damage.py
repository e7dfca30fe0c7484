"""Damaged or odd state: one clear line, nothing lost, never a hang.

Named pipes where the tool reads a file, a journal that is not what pypi-switch writes,
a lock path that is not a file, and the temp files and loose modes a killed run or an
older version left in the state dir.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.support.faults import fault_runner
from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    DEAD_URL2,
    Entry,
    assert_one_line_error,
    assert_same_tree,
    ok,
    ok_json,
    snapshot,
    write,
)

URL = DEAD_URL
PIP_CONF = b"# mine\n[global]\nindex-url = https://old.example/simple\n"
HANG = 20  # seconds: a run still blocked then is hung on the pipe

# Ticks that find upstream and every mirror unreachable at once: no network needed.
AUTO_CONFIG = f"""builtin_mirrors = false
upstream = "{DEAD_URL}"
timeout = 2

[[mirror]]
name = "m1"
url = "{DEAD_URL2}"

[auto]
fail_after = 1
"""


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


def _everything(box: Sandbox) -> dict[Path, Entry]:
    return snapshot(box.home, box.project)


# -- named pipes ----------------------------------------------------------------------------


@pytest.mark.linux_only("named pipes")
@pytest.mark.parametrize("command", [("status",), ("use-mirror", URL, "--force"), ("restore",)])
def test_a_named_pipe_as_config_toml_is_named_not_waited_for(
    sandbox: Sandbox, command: tuple[str, ...]
) -> None:
    fifo = _fifo(sandbox.tool_config)
    message = assert_one_line_error(sandbox.run(*command, timeout=HANG))
    assert message == f"cannot read {fifo}: not a regular file (a named pipe)"


@pytest.mark.linux_only("named pipes")
def test_a_named_pipe_as_setup_cfg_in_the_working_directory_is_skipped(
    sandbox: Sandbox,
) -> None:
    """setup.cfg is only looked at for a warning: a pipe there is not the user's index."""
    _fifo(sandbox.project / "setup.cfg")
    write(sandbox.pip_conf, PIP_CONF)
    assert ok_json(sandbox, "status")["switched"] is False
    ok(sandbox, "use-mirror", URL, "--force")
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


@pytest.mark.linux_only("named pipes")
@pytest.mark.parametrize("command", [("status",), ("use-mirror", URL, "--force"), ("restore",)])
def test_a_named_pipe_as_the_journal_is_named_not_waited_for(
    sandbox: Sandbox, command: tuple[str, ...]
) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    fifo = _fifo(sandbox.state_dir / "journal.json")
    message = assert_one_line_error(sandbox.run(*command, timeout=HANG))
    assert message == f"cannot read {fifo}: not a regular file (a named pipe)"
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # left for the user to look at
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


@pytest.mark.linux_only("named pipes")
@pytest.mark.parametrize("name", ["auto.json", "auto.log"])
def test_a_named_pipe_in_auto_state_does_not_hold_the_tick(sandbox: Sandbox, name: str) -> None:
    """A hung tick would hold the lock: every later tick would report "busy"."""
    sandbox.write_config(AUTO_CONFIG)
    _fifo(sandbox.state_dir / name)
    for _ in range(2):
        out = sandbox.run("auto", timeout=HANG)
        assert out.returncode == 0, out.stderr
        assert "unreachable" in out.stdout, out.stdout


@pytest.mark.linux_only("named pipes")
def test_a_named_pipe_as_a_requirements_file_is_named(sandbox: Sandbox) -> None:
    fifo = _fifo(sandbox.project / "requirements.txt")
    out = sandbox.run("probe", "--mirror", URL, "--require", str(fifo), timeout=HANG)
    message = assert_one_line_error(out, code=2)
    assert message == f"cannot read {fifo}: not a regular file (a named pipe)"


# -- a damaged journal ----------------------------------------------------------------------

SHA = "0" * 64
RECORD = {
    "target": "pip",
    "path": "/x/pip.conf",
    "real": "/x/pip.conf",
    "existed": True,
    "mode": 0o600,
    "uid": 0,
    "gid": 0,
    "original_sha256": SHA,
    "created_dirs": [],
    "written": {"sha256": SHA, "changes": []},
    "pending": None,
    "user_edited": False,
}


def _journal(**changes: object) -> dict[str, object]:
    return {"version": 1, "mirror": URL, "since": None, "mode": "manual", "pending": None,
            "files": [RECORD], **changes}  # fmt: skip


def _record(**changes: object) -> dict[str, object]:
    return _journal(files=[{**RECORD, **changes}])


DAMAGED: dict[str, tuple[bytes, str]] = {
    "null": (b"null", "the journal is null, not an object"),
    "a list": (b"[]", "the journal is a list, not an object"),
    "a string": (b'"switched"', "the journal is a string, not an object"),
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "a number for the mirror": (
        json.dumps(_journal(mirror=3)).encode(),
        "the journal.mirror is a number, not a string",
    ),
    "files not a list": (
        json.dumps(_journal(files={"a": 1})).encode(),
        "the journal.files is an object, not a list",
    ),
    "a record that is a number": (
        json.dumps(_journal(files=[1])).encode(),
        "files[0] is a number, not an object",
    ),
    "a record without its path": (
        json.dumps(_journal(files=[{k: v for k, v in RECORD.items() if k != "path"}])).encode(),
        "files[0] has no 'path'",
    ),
    "a mode that is a string": (
        json.dumps(_record(mode="0600")).encode(),
        "files[0].mode is a string, not a number",
    ),
    "existed that is a number": (
        json.dumps(_record(existed=1)).encode(),
        "files[0].existed is a number, not true or false",
    ),
    "written that is a string": (
        json.dumps(_record(written="yes")).encode(),
        "files[0].written is a string, not an object",
    ),
    "a change that is a list": (
        json.dumps(_record(written={"sha256": SHA, "changes": [[1]]})).encode(),
        "files[0].written.changes[0] is a list, not an object",
    ),
    "a backup name that is a path": (
        json.dumps(_record(original_sha256="../../../etc/passwd")).encode(),
        "files[0].original_sha256 is not a sha256 hash",
    ),
    "a relative real path": (
        json.dumps(_record(real="pip.conf")).encode(),
        "files[0].real must be an absolute path, not 'pip.conf'",
    ),
    "pending that is a list": (
        json.dumps(_journal(pending=[])).encode(),
        "the journal.pending is a list, not an object",
    ),
}


@pytest.mark.parametrize("case", DAMAGED)
@pytest.mark.parametrize("command", [("status",), ("use-mirror", URL, "--force"), ("restore",)])
def test_a_damaged_journal_is_one_line_and_nothing_is_lost(
    sandbox: Sandbox, case: str, command: tuple[str, ...]
) -> None:
    data, detail = DAMAGED[case]
    write(sandbox.pip_conf, PIP_CONF)
    write(sandbox.state_dir / "journal.json", data, mode=0o600)
    write(sandbox.state_dir / "backups" / SHA, b"a backup\n", mode=0o600)
    for folder in (sandbox.state_dir, sandbox.state_dir / "backups"):
        folder.chmod(0o700)  # as pypi-switch makes them
    before = _everything(sandbox)
    message = assert_one_line_error(sandbox.run(*command))
    journal = sandbox.state_dir / "journal.json"
    assert message == f"{journal} is damaged ({detail}); move it away to go on"
    after = _everything(sandbox)
    after.pop(sandbox.state_dir / "lock", None)  # the runs that write take the lock first
    assert_same_tree(before, after)


# -- the lock path --------------------------------------------------------------------------


def test_a_directory_as_the_lock_is_one_line(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    lock = sandbox.state_dir / "lock"
    lock.mkdir(parents=True)
    for command in (("use-mirror", URL, "--force"), ("restore",)):
        message = assert_one_line_error(sandbox.run(*command))
        assert message == (
            f"cannot lock {lock}: it is a directory, not a file; move it away to go on"
        )
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


def test_a_symlink_as_the_lock_is_one_line_and_its_target_is_not_touched(
    sandbox: Sandbox,
) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    elsewhere = sandbox.root / "elsewhere"
    victim = write(sandbox.root / "victim", b"not yours\n")
    lock = sandbox.state_dir / "lock"
    lock.parent.mkdir(parents=True)
    for target in (elsewhere, victim):
        lock.unlink(missing_ok=True)
        lock.symlink_to(target)
        message = assert_one_line_error(sandbox.run("use-mirror", URL, "--force"))
        assert message == f"cannot lock {lock}: it is a symlink, not a file; move it away to go on"
    assert not elsewhere.exists()
    assert victim.read_bytes() == b"not yours\n"
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


# -- what a killed run leaves in the state dir ----------------------------------------------


@pytest.mark.linux_only("SIGKILL at a write step")
@pytest.mark.parametrize("where", ["backups", "journal"])
def test_temp_files_a_killed_run_left_in_the_state_dir_are_removed_by_the_next(
    sandbox: Sandbox, tmp_path: Path, where: str
) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    switch = ("use-mirror", URL, "--force", "--target", "pip")
    ok(sandbox, *switch)
    ok(sandbox, "restore")  # the state dir and its lock exist, as in the runs below
    with fault_runner(tmp_path / "runner") as runner:
        steps = runner.count_steps(sandbox, *switch)
        ok(sandbox, "restore")
        # Killed with the temp file written and synced, before it replaced anything.
        at = next(
            n
            for n, line in enumerate(steps, 1)
            if " replace " in line and ("/backups/" in line) == (where == "backups")
        )
        out = runner.run(sandbox, *switch, mode="kill", at=at)
    assert out.returncode == -9
    temps = sorted(sandbox.state_dir.rglob("*.pypi-switch-tmp"))
    assert temps, "the killed run left no temp file: the test kills at the wrong step"
    ok(sandbox, "restore")
    assert sorted(sandbox.state_dir.rglob("*.pypi-switch-tmp")) == []
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


def test_backups_and_the_journal_found_readable_by_others_are_tightened(
    sandbox: Sandbox,
) -> None:
    write(sandbox.pip_conf, PIP_CONF.replace(b"old.example", b"bob:hunter2@old.example"))
    ok(sandbox, "use-mirror", URL, "--force", "--target", "pip")
    state = [sandbox.state_dir / "journal.json", *(sandbox.state_dir / "backups").iterdir()]
    for path in state:
        path.chmod(0o644)  # an older version, or a copy made with a loose umask
    ok(sandbox, "use-mirror", DEAD_URL2, "--force", "--target", "pip")
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in state} == dict.fromkeys(state, 0o600)
