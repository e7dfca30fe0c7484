"""``Sandbox.run`` runs the command line in the test's process; it must tell the same as a
real ``python -m pypi_switch``: exit code, stdout and stderr, byte for byte, and the same
files written, for commands of every kind (success, usage error, one-line error, --json,
help, the schedule that names the running program)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pypi_switch import cli, journal
from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, DEAD_URL2, snapshot, write

Run = Callable[..., subprocess.CompletedProcess[str]]

# When a switch was made: the one thing that differs between two runs of the story.
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")

STORY: list[tuple[str, ...]] = [
    ("--version",),
    ("--help",),
    ("use-mirror", "--help"),
    ("no-such-command",),
    ("use-mirror", "--no-such-option"),
    ("use-mirror", "--force"),
    ("status",),
    ("restore",),
    ("use-mirror", "ftp://bob:hunter2@mirror.example/simple/", "--force"),
    ("use-mirror", DEAD_URL, "--force", "--dry-run"),
    ("use-mirror", DEAD_URL, "--force"),
    ("status",),
    ("status", "--json"),
    ("use-mirror", DEAD_URL2, "--force", "--json", "--target", "pip"),
    ("restore", "--dry-run"),
    ("restore",),
    ("mirrors",),
    ("mirrors", "--json"),
    ("schedule",),
]


def _tell(root: Path, how: Callable[[Sandbox], Run]) -> list[tuple[object, ...]]:
    box = Sandbox.create(root)
    write(box.pip_conf, "# mine\n[global]\nindex-url = https://old.example/simple\n")
    write(box.project / "buildout.cfg", "[buildout]\nparts =\n")
    told: list[tuple[object, ...]] = []
    for args in STORY:
        out = how(box)(*args)
        told.append((args, out.returncode, _untimed(out.stdout), _untimed(out.stderr)))
    for path, entry in sorted(snapshot(box.home, box.project).items()):
        data = entry.data and _untimed(entry.data.decode())
        told.append((path, entry.kind, data, entry.mode, entry.link))
    return told


def _untimed(text: str) -> str:
    return TIME.sub("<time>", text)


def test_in_process_runs_tell_what_a_process_tells(tmp_path: Path) -> None:
    root = tmp_path / "box"  # the same paths both times: they are in the output
    by_process = _tell(root, lambda box: box.run_process)
    shutil.rmtree(root)
    in_process = _tell(root, lambda box: box.run)
    for a, b in zip(by_process, in_process, strict=True):
        assert b == a


def test_a_run_that_leaves_a_lock_held_fails(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process would drop the lock at exit; a run here that keeps it must not pass."""

    def leaky() -> None:
        journal._HELD.add(str(sandbox.state_dir))

    monkeypatch.setattr(cli, "main", leaky)
    with pytest.raises(AssertionError, match="_HELD"):
        sandbox.run("status")
    assert not journal._HELD  # and the next run starts clean


def test_a_hanging_run_times_out(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "main", lambda: time.sleep(30))
    with pytest.raises(subprocess.TimeoutExpired):
        sandbox.run("status", timeout=0.5)


def test_an_escaping_exception_is_a_traceback_and_exit_1(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the interpreter reports it: the tests that look for "Traceback" can fail."""

    def broken() -> None:
        raise ValueError("boom")

    monkeypatch.setattr(cli, "main", broken)
    out = sandbox.run("status")
    assert out.returncode == 1
    assert out.stderr.startswith("Traceback (most recent call last):\n"), out.stderr
    assert out.stderr.endswith("ValueError: boom\n"), out.stderr
