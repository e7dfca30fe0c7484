"""A real disk that fills up mid-switch: HOME on a small tmpfs, taken whole by another
program just before a write step.

Then the rollback cannot write either: every file it could not put back keeps its journal
entry and its backup, the error says which, ``status`` says they are switched, and
``restore`` finishes the job once there is space again.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import FaultRunner, fault_runner
from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, ERROR_PREFIX, ok, ok_json, write

URL = DEAD_URL
SWITCH = ("use-mirror", URL, "--force")
# Steps that need a block or an inode: where a full disk shows.
ALLOCATING = (" open ", " io.open ", " mkdir ")

ORIGINAL = {
    ".pip/pip.conf": b"# mine\n[global]\nindex-url = https://old.example/simple\n",
    ".config/pip/pip.conf": b"[install]\nindex-url = https://corp.example/simple\n",
    ".buildout/default.cfg": b"[buildout]\nnewest = false\n",
}
CREATED = (".pydistutils.cfg",)

pytestmark = [pytest.mark.linux_only("a tmpfs mount"), pytest.mark.slow]


@pytest.fixture
def small_home(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox whose HOME is a 1 MiB tmpfs (skipped where mounting is not allowed)."""
    box = Sandbox.create(tmp_path / "box")
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(box.home)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip() or mount.returncode}")
    try:
        yield box
    finally:
        subprocess.run(["umount", "-l", str(box.home)], check=False)


def _setup(box: Sandbox) -> None:
    for child in list(box.home.iterdir()):
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    box.write_config('targets = ["pip", "pydistutils", "buildout"]\n')
    for name, data in ORIGINAL.items():
        write(box.home / name, data, mode=0o600)


def _filler(box: Sandbox) -> Path:
    return box.home / "another-programs-download"


def _as_found(box: Sandbox) -> list[str]:
    problems = [
        f"{name} is not its original"
        for name, data in ORIGINAL.items()
        if (box.home / name).read_bytes() != data
    ]
    problems += [f"{name} was left behind" for name in CREATED if (box.home / name).exists()]
    return problems


def _switched(box: Sandbox) -> set[str]:
    return {
        name
        for name in (*ORIGINAL, *CREATED)
        if (box.home / name).exists() and URL in (box.home / name).read_text()
    }


def _fill_case(runner: FaultRunner, box: Sandbox, at: int, when: str) -> list[str]:
    _setup(box)
    out = runner.run(box, *SWITCH, mode="fill", at=at, fill=_filler(box))
    problems: list[str] = []
    lines = out.stderr.strip().splitlines()
    switched = _switched(box)
    if out.returncode == 0:
        if switched != {*ORIGINAL, *CREATED}:
            problems.append(f"{when}: exit 0, but only {sorted(switched)} are switched")
    elif out.returncode != 1 or len(lines) != 1 or not lines[0].startswith(ERROR_PREFIX):
        problems.append(f"{when}: exit {out.returncode}:\n{out.stderr}")
    elif "could not be put back" in out.stderr:
        tail = out.stderr.rsplit(";", 1)[-1]
        named = {name for name in (*ORIGINAL, *CREATED) if str(box.home / name) in tail}
        if named != switched:
            problems.append(f"{when}: names {sorted(named)}, switched are {sorted(switched)}")
    else:
        problems += [f"{when}, rolled back: {p}" for p in _as_found(box)]
    if ok_json(box, "status")["switched"] != bool(switched):
        problems.append(f"{when}: status does not say what the files say ({sorted(switched)})")
    _filler(box).unlink(missing_ok=True)  # the space is back
    ok(box, "restore")
    problems += [f"{when}, then restore: {p}" for p in _as_found(box)]
    return problems


def test_a_full_disk_after_the_first_file_keeps_its_backup_for_restore(
    small_home: Sandbox, tmp_path: Path
) -> None:
    box = small_home
    _setup(box)
    with fault_runner(tmp_path / "runner") as runner:
        steps = runner.count_steps(box, *SWITCH)
        ok(box, "restore")
        # The disk fills up as the second file's temp file is made: pip.conf is switched.
        at = next(n for n, s in enumerate(steps, 1) if " open " in s and "/.config/pip/." in s)
        _setup(box)
        out = runner.run(box, *SWITCH, mode="fill", at=at, fill=_filler(box))
    pip_conf = box.home / ".pip/pip.conf"
    assert out.returncode == 1, out.stderr
    assert out.stderr.endswith(
        f"No space left on device; {pip_conf} could not be put back: "
        "run `pypi-switch restore` once the problem is solved\n"
    ), out.stderr
    assert _switched(box) == {".pip/pip.conf"}
    status = ok_json(box, "status")
    assert (status["switched"], status["mirror"]) == (True, URL)

    _filler(box).unlink()
    restored = ok_json(box, "restore")
    assert [(r["path"], r["action"]) for r in restored["restored"]] == [(str(pip_conf), "restored")]
    assert not _as_found(box)
    assert not list(box.state_dir.glob("backups/*"))


def test_a_disk_that_fills_up_at_any_step_of_a_switch(small_home: Sandbox, tmp_path: Path) -> None:
    box = small_home
    _setup(box)
    problems: list[str] = []
    with fault_runner(tmp_path / "runner") as runner:
        steps = runner.count_steps(box, *SWITCH)
        ok(box, "restore")
        cases = [n for n, s in enumerate(steps, 1) if any(a in f" {s} " for a in ALLOCATING)]
        for at in cases:
            problems += _fill_case(runner, box, at, f"disk full at step {steps[at - 1]}")
    assert len(cases) > 10
    assert not problems, "\n".join(problems)
