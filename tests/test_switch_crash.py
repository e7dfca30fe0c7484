"""Black-box fault injection at every write step of a four-target switch and a restore.

Unlike test_switch_faults.py (which counts ``os.replace`` in-process), the hook here sees
every disk-changing call of the real command line (see tests/support/faults.py).

After an I/O error the switch is all or nothing; after a crash (SIGKILL) every file is
either original or fully switched, never half-written; and ``restore`` then gives back
every original byte for byte.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from tests.support.faults import count_steps, run_with_fault
from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, ERROR_PREFIX, ok, write

URL = DEAD_URL
CHUNKS = 3  # each mode's steps are spread over this many tests, for pytest-xdist

pytestmark = pytest.mark.linux_only("SIGKILL at a write step")


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

SWITCH = ("use-mirror", URL, "--force")


def _fresh(root: Path) -> Sandbox:
    box = Sandbox.create(root)
    for name, path in _files(box).items():
        data = ORIGINAL[name]
        if data is not None:
            write(path, data, mode=0o600 if name == "pip" else None)
    return box


def _state(box: Sandbox) -> dict[str, bytes | None]:
    return {n: (p.read_bytes() if p.exists() else None) for n, p in _files(box).items()}


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
    """Paths under HOME and the project that were not there before (the state aside)."""
    expected = {path for name, path in _files(box).items() if ORIGINAL[name] is not None}
    expected |= {parent for path in expected for parent in path.parents}
    found = [*box.home.rglob("*"), *box.project.rglob("*")]
    state = box.home / ".local"
    return [p for p in found if p not in expected and p != state and state not in p.parents]


def _half_done(box: Sandbox, when: str) -> list[str]:
    return [
        f"{when}: {name} is half-done: {data!r}"
        for name, data in _state(box).items()
        if data not in (ORIGINAL[name], SWITCHED[name])
    ]


def _steps(tmp_path: Path, *args: str, kill: bool, prepare: bool = False) -> list[tuple[int, str]]:
    """The write steps worth a fault, as (number, description).

    Every step, except those that cannot lead anywhere new (to keep the run short):
    exact repeats of a mkdir/chmod of one directory (``mkdir -p`` before each state
    write); the same steps again for a second backup file (all backups are written by
    one code path); for a crash, a step right after an fsync or a temp file's chmod,
    since the disk looks the same as one step earlier; for an I/O error, wrapping the
    temp file's descriptor and its chmod (the same failure path as its fsync).
    """
    box = _fresh(tmp_path / "count")
    if prepare:
        ok(box, *SWITCH)
    steps = count_steps(box, *args, log=tmp_path / "count.log")
    assert steps, "no write step seen: the hook does not see the engine's writes"
    chosen: list[tuple[int, str]] = []
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
        if repeat or (after_noop if kill else same_path):
            continue
        chosen.append((number, f"{number}/{len(steps)} {name} {about}"))
    return chosen


def test_a_clean_switch_gives_the_expected_bytes(tmp_path: Path) -> None:
    """The reference the fault tests compare with."""
    box = _fresh(tmp_path / "box")
    ok(box, *SWITCH)
    assert _state(box) == SWITCHED
    ok(box, "restore")
    assert not _not_original(box, "after restore")


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_io_error_at_each_write_step_is_all_or_nothing(tmp_path: Path, chunk: int) -> None:
    steps = _steps(tmp_path, *SWITCH, kill=False)
    problems: list[str] = []
    for at, step in steps[chunk::CHUNKS]:
        when = f"I/O error at write step {step}"
        box = _fresh(tmp_path / f"at{at}")
        out = run_with_fault(box, *SWITCH, mode="raise", at=at)
        assert "Traceback" not in out.stderr, f"{when}\n{out.stderr}"
        if out.returncode == 0:
            assert _state(box) == SWITCHED, when
        else:
            assert out.returncode == 1, f"{when}: exit {out.returncode}\n{out.stderr}"
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), f"{when}\n{out.stderr}"
            problems += _not_original(box, f"{when}, rolled back (exit 1)")
        ok(box, "restore")
        problems += _not_original(box, f"{when}, then restore")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_crash_at_each_write_step_then_restore(tmp_path: Path, chunk: int) -> None:
    steps = _steps(tmp_path, *SWITCH, kill=True)
    problems: list[str] = []
    for at, step in steps[chunk::CHUNKS]:
        when = f"killed before write step {step}"
        box = _fresh(tmp_path / f"at{at}")
        out = run_with_fault(box, *SWITCH, mode="kill", at=at)
        assert out.returncode == -signal.SIGKILL, f"{when}: not killed\n{out.stderr}"
        problems += _half_done(box, when)
        ok(box, "restore")
        problems += _not_original(box, f"{when}, then restore")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_crash_during_restore_then_restore_again(tmp_path: Path, chunk: int) -> None:
    steps = _steps(tmp_path, "restore", kill=True, prepare=True)
    problems: list[str] = []
    for at, step in steps[chunk::CHUNKS]:
        when = f"restore killed before write step {step}"
        box = _fresh(tmp_path / f"at{at}")
        ok(box, *SWITCH)
        out = run_with_fault(box, "restore", mode="kill", at=at)
        assert out.returncode == -signal.SIGKILL, f"{when}: not killed\n{out.stderr}"
        problems += _half_done(box, when)
        ok(box, "restore")
        problems += _not_original(box, f"{when}, then restore")
    assert not problems, "\n".join(problems)
