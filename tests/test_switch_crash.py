"""Black-box fault injection at every write step of a switch and of a restore.

The hook sees every disk-changing call of the real command line (see
tests/support/faults.py): an I/O error, a disk that is full from there on, SIGKILL,
SIGINT and SIGTERM, each just before the N-th step. After each fault:

- a run that ends by itself (an error, Ctrl-C, SIGTERM) leaves the switch all or nothing
  and says so in one line; a killed run leaves every file whole (its original or its
  switched bytes, never half-written);
- ``status`` tells the truth about which files are switched;
- ``restore`` gives back every original byte for byte, with its mode, and leaves
  nothing behind: no temp file, no journal, no backup.
"""

from __future__ import annotations

import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import FaultRunner, fault_runner
from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, ERROR_PREFIX, ok, ok_json, write

URL = DEAD_URL
SWITCH = ("use-mirror", URL, "--force")
ALLOCATING = ("open", "io.open", "write", "mkdir", "symlink", "link", "truncate", "ftruncate")

pytestmark = pytest.mark.linux_only("SIGKILL, SIGINT and SIGTERM at a write step")


def _files(box: Sandbox) -> dict[str, Path]:
    return {
        "pip": box.pip_conf,
        "pip-user": box.pip_user_conf,
        "pydistutils": box.pydistutils,
        "buildout": box.buildout_default,
        "project": box.project / "buildout.cfg",
    }


ORIGINAL: dict[str, bytes | None] = {
    "pip": b"# legacy\n[global]\nindex-url = https://old.example/simple\ntimeout = 60\n",
    "pip-user": b"[install]\r\nindex-url = https://corp.example/simple\r\n",
    "pydistutils": None,  # absent: created by the switch, removed by restore
    "buildout": None,  # absent, and so is ~/.buildout
    "project": b"[buildout]\nparts =\n",
}

SWITCHED: dict[str, bytes] = {
    "pip": f"# legacy\n[global]\nindex-url = {URL}\ntimeout = 60\n".encode(),
    "pip-user": f"[install]\r\nindex-url = {URL}\r\n".encode(),
    "pydistutils": f"[easy_install]\nindex_url = {URL}\n".encode(),
    "buildout": f"[buildout]\nindex = {URL}\n".encode(),
    "project": f"[buildout]\nparts =\nindex = {URL}\n".encode(),
}


def _fresh(root: Path) -> Sandbox:
    box = Sandbox.create(root)
    # The classic targets only, whatever is on PATH: uv, pdm or poetry files are written
    # by the same code, and would only add steps.
    box.write_config('targets = ["pip", "pydistutils", "buildout", "project"]\n')
    for name, path in _files(box).items():
        data = ORIGINAL[name]
        if data is not None:
            write(path, data, mode=0o600 if name == "pip" else None)
    return box


class _Boxes:
    """One sandbox path reused by every case: a copy of a template made there once (the
    journal holds absolute paths), so that a case costs a copy, not a switch."""

    def __init__(self, tmp_path: Path, *, switched: bool) -> None:
        self.root = tmp_path / "box"
        self.template = tmp_path / "template"
        box = _fresh(self.root)
        if switched:
            ok(box, *SWITCH)
        shutil.copytree(self.root, self.template, symlinks=True)

    def fresh(self) -> Sandbox:
        shutil.rmtree(self.root)
        shutil.copytree(self.template, self.root, symlinks=True)
        return Sandbox.create(self.root)


def _state(box: Sandbox) -> dict[str, bytes | None]:
    return {n: (p.read_bytes() if p.exists() else None) for n, p in _files(box).items()}


def _switched_names(box: Sandbox) -> set[str]:
    return {n for n, data in _state(box).items() if data == SWITCHED[n]}


def _not_original(box: Sandbox, when: str) -> list[str]:
    """What differs from the original setup (empty: every original is back, and only it)."""
    problems = [
        f"{when}: {name} is {data!r}, not the original"
        for name, data in _state(box).items()
        if data != ORIGINAL[name]
    ]
    if box.pip_conf.exists() and box.pip_conf.stat().st_mode & 0o777 != 0o600:
        problems.append(f"{when}: pip.conf lost its mode 0600")
    left = sorted(str(p.relative_to(box.root)) for p in _debris(box))
    if left:
        problems.append(f"{when}: left behind {left}")
    return problems


def _debris(box: Sandbox) -> list[Path]:
    """Paths that were not there before: under HOME and the project, and in the state
    dir anything but the lock once nothing is switched."""
    expected = {path for name, path in _files(box).items() if ORIGINAL[name] is not None}
    expected.add(box.tool_config)
    expected |= {parent for path in expected for parent in path.parents}
    found = [*box.home.rglob("*"), *box.project.rglob("*")]
    state = box.home / ".local"
    others = [p for p in found if p not in expected and p != state and state not in p.parents]
    kept = {box.state_dir / "lock", box.state_dir, box.state_dir.parent, box.state_dir / "backups"}
    leftovers = [p for p in state.rglob("*") if p not in kept and box.state_dir in p.parents]
    return others + leftovers


def _half_done(box: Sandbox, when: str) -> list[str]:
    return [
        f"{when}: {name} is half-done: {data!r}"
        for name, data in _state(box).items()
        if data not in (ORIGINAL[name], SWITCHED[name])
    ]


def _status_is_true(box: Sandbox, when: str) -> list[str]:
    """``status`` says switched exactly when some file holds the switched bytes."""
    doc = ok_json(box, "status")
    switched = bool(_switched_names(box) - {n for n, d in ORIGINAL.items() if d == SWITCHED[n]})
    if doc["switched"] != switched:
        return [f"{when}: status says switched={doc['switched']}, files say {switched}"]
    return []


def _restore_finishes(box: Sandbox, when: str) -> list[str]:
    out = box.run("restore")
    if out.returncode != 0 or "Traceback" in out.stderr:
        return [f"{when}: restore failed (exit {out.returncode}): {out.stderr.strip()}"]
    problems = _not_original(box, f"{when}, then restore")
    doc = ok_json(box, "status")
    if doc["switched"] or doc["interrupted"]:
        problems.append(f"{when}, then restore: status still says {doc}")
    return problems


def _one_line(out_stderr: str, when: str, prefix: str) -> list[str]:
    lines = out_stderr.strip().splitlines()
    if len(lines) == 1 and lines[0].startswith(prefix):
        return []
    return [f"{when}: expected one line starting {prefix!r}, got:\n{out_stderr}"]


def _steps(
    runner: FaultRunner, boxes: _Boxes, args: tuple[str, ...], mode: str
) -> Iterator[tuple[int, str]]:
    """The write steps worth a fault of this mode, as (number, description).

    Every step, except those that cannot lead anywhere new: exact repeats of a mkdir/chmod
    of one directory (``mkdir -p`` before each state write); the same steps again for a
    second backup file (all backups are written by one code path); for a crash, a step
    right after an fsync or a temp file's chmod (the disk looks the same as one step
    earlier); for an error or a signal, wrapping the temp file's descriptor and its chmod
    (the same path as its fsync); for a full disk, the steps that need no space.
    """
    steps = runner.count_steps(boxes.fresh(), *args)
    assert steps, "no write step seen: the hook does not see the engine's writes"
    seen: set[tuple[str, str]] = set()
    current = ""  # the path the latest open() created: fd-only steps are about it
    previous = ("", "")
    for number, line in enumerate(steps, 1):
        _, name, arg = line.split(" ", 2)
        if name == "open" or (name == "io.open" and not arg.startswith("(4")):
            current = arg
        about = arg if "/" in arg else f"{arg} on {current}"
        key = (name, re.sub(r"/backups/[^/']+", "/backups/*", about))
        repeat = key in seen and (name in ("mkdir", "chmod") or "/backups/" in about)
        after_noop = previous[0] in ("fsync", "fdatasync") or (
            previous[0] == "chmod" and previous[1].rstrip("',)").endswith("tmp")
        )
        same_path = (name == "io.open" and "/" not in arg) or (
            name == "chmod" and arg.rstrip("',)").endswith("tmp")
        )
        seen.add(key)
        previous = (name, arg)
        if repeat:
            continue
        if mode == "kill" and after_noop:
            continue
        if mode != "kill" and same_path:
            continue
        if mode == "full" and name not in ALLOCATING:
            continue
        yield number, f"{number}/{len(steps)} {name} {about}"


# What each mode's run may end with: exit status -> the line it must say (None: silent).
ENDINGS: dict[str, dict[int, str | None]] = {
    "raise": {0: None, 1: ERROR_PREFIX},
    "full": {0: None, 1: ERROR_PREFIX},
    "kill": {-signal.SIGKILL: None},
    "sigint": {130: "pypi-switch: interrupted"},
    "sigterm": {143: "pypi-switch: terminated", -signal.SIGTERM: None},
}


def _judge_switch(box: Sandbox, mode: str, rc: int, stderr: str, when: str) -> list[str]:
    endings = ENDINGS[mode]
    if rc not in endings or "Traceback" in stderr:
        return [f"{when}: exit {rc}\n{stderr}"]
    line = endings[rc]
    problems = _one_line(stderr, when, line) if line else []
    switched = _switched_names(box)
    if rc in (-signal.SIGKILL, -signal.SIGTERM):
        return problems + _half_done(box, when)  # no chance to roll back: each file whole
    if rc == 0:
        if len(switched) != len(SWITCHED):
            problems.append(f"{when}: exit 0, but only {sorted(switched)} are switched")
        return problems
    if "could not be put back" in stderr:
        # The disk is full for the rollback too: the line names the files still switched.
        problems += _half_done(box, when)
        tail = stderr.rsplit(";", 1)[-1]
        named = {n for n, p in _files(box).items() if str(p) in tail}
        if named != switched:
            problems.append(f"{when}: names {sorted(named)}, switched are {sorted(switched)}")
        return problems
    return problems + _not_original(box, f"{when}, rolled back (exit {rc})")


def _judge_restore(box: Sandbox, mode: str, rc: int, stderr: str, when: str) -> list[str]:
    endings = ENDINGS[mode]
    if rc not in endings or "Traceback" in stderr:
        return [f"{when}: exit {rc}\n{stderr}"]
    line = endings[rc]
    problems = _one_line(stderr, when, line) if line else []
    problems += _half_done(box, when)
    if rc == 0:
        problems += _not_original(box, when)
    elif line:
        # The line names the files restored before it stopped; they are the originals.
        for name, path in _files(box).items():
            said = f"restored {path}" in stderr or f", {path}" in stderr
            if said and _state(box)[name] != ORIGINAL[name]:
                problems.append(f"{when}: says {name} was restored, but it is not")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["raise", "full", "kill", "sigint", "sigterm"])
def test_a_fault_at_each_write_step_of_a_switch(tmp_path: Path, mode: str) -> None:
    boxes = _Boxes(tmp_path, switched=False)
    problems: list[str] = []
    with fault_runner(tmp_path / "runner") as runner:
        cases = list(_steps(runner, boxes, SWITCH, mode))
        for at, step in cases:
            when = f"{mode} at switch step {step}"
            box = boxes.fresh()
            out = runner.run(box, *SWITCH, mode=mode, at=at)
            problems += _judge_switch(box, mode, out.returncode, out.stderr, when)
            problems += _status_is_true(box, when)
            problems += _restore_finishes(box, when)
    assert len(cases) > 10
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["raise", "full", "kill", "sigint", "sigterm"])
def test_a_fault_at_each_write_step_of_a_restore(tmp_path: Path, mode: str) -> None:
    boxes = _Boxes(tmp_path, switched=True)
    problems: list[str] = []
    with fault_runner(tmp_path / "runner") as runner:
        cases = list(_steps(runner, boxes, ("restore",), mode))
        for at, step in cases:
            when = f"{mode} at restore step {step}"
            box = boxes.fresh()
            out = runner.run(box, "restore", mode=mode, at=at)
            problems += _judge_restore(box, mode, out.returncode, out.stderr, when)
            problems += _status_is_true(box, when)
            problems += _restore_finishes(box, when)
    assert len(cases) > 5
    assert not problems, "\n".join(problems)


def test_a_clean_switch_gives_the_expected_bytes(tmp_path: Path) -> None:
    """The reference the fault tests compare with."""
    box = _fresh(tmp_path / "box")
    ok(box, *SWITCH)
    assert _state(box) == SWITCHED
    ok(box, "restore")
    assert not _not_original(box, "after restore")
