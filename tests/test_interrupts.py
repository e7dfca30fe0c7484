"""Ctrl-C and SIGTERM: the original is never lost, and the run ends in one line.

While a switch replaces files, the signals wait for a point where the journal covers
every file (``interrupts.held``); before the command starts and after it ended they end
the process at once with one line; in between, cli answers them with one line and 130.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.faults import fault_runner
from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, ok, ok_json, write

URL = DEAD_URL
PIP_CONF = b"# mine\n[global]\nindex-url = https://old.example/simple\n"
SWITCH = ("use-mirror", URL, "--force", "--target", "pip", "--target", "buildout")

pytestmark = pytest.mark.linux_only("signals sent to a real process")


def _step_after_replacing(steps: list[str], name: str) -> int:
    """The write step right after the replace that put ``name`` in place: the fsync of its
    directory, when the file is new but the run has not yet counted it as written."""
    replaced = next(
        n for n, line in enumerate(steps, 1) if " replace " in line and f"/.{name}." in line
    )
    assert " fsync " in steps[replaced], steps[replaced]
    return replaced + 1


@pytest.mark.parametrize(
    ("mode", "code", "word"), [("sigint", 130, "interrupted"), ("sigterm", 143, "terminated")]
)
def test_a_signal_just_after_pip_conf_was_replaced_keeps_its_original(
    sandbox: Sandbox, tmp_path: Path, mode: str, code: int, word: str
) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    with fault_runner(tmp_path / "runner") as runner:
        at = _step_after_replacing(runner.count_steps(sandbox, *SWITCH), "pip.conf")
        ok(sandbox, "restore")
        out = runner.run(sandbox, *SWITCH, mode=mode, at=at)
    assert (out.returncode, out.stderr) == (code, f"pypi-switch: {word}; nothing was changed\n")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF
    assert not sandbox.buildout_default.exists()
    assert ok_json(sandbox, "status")["switched"] is False
    # Nothing is left half-booked: a switch and a restore work as ever.
    ok(sandbox, *SWITCH)
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF


SLOW_FSYNC = r"""
import os, runpy, sys, time
real = os.fsync
def fsync(fd):
    time.sleep(0.2)
    real(fd)
os.fsync = fsync
sys.argv = ["pypi-switch", *sys.argv[1:]]
runpy.run_module("pypi_switch", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_as_soon_as_pip_conf_changes_keeps_its_original(sandbox: Sandbox) -> None:
    """The report's own recipe: fsync slowed down, Ctrl-C when pip.conf's bytes change."""
    write(sandbox.pip_conf, PIP_CONF)
    run = subprocess.Popen(
        [sys.executable, "-c", SLOW_FSYNC, *SWITCH],
        env=sandbox.env,
        cwd=sandbox.project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while sandbox.pip_conf.read_bytes() == PIP_CONF and run.poll() is None:
        time.sleep(0.005)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert (run.returncode, stderr) == (130, "pypi-switch: interrupted; nothing was changed\n")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF
    assert ok_json(sandbox, "status")["switched"] is False


# Each trial: a real ``python -m pypi_switch`` that gets SIGINT at a random moment of its
# life, from the end of its package's import (where our code can first answer) to its end.
COMMANDS = [
    ("status",),
    ("restore",),
    ("use-mirror", URL, "--force", "--dry-run"),
    ("use-mirror", "--no-such-option"),
    ("--version",),
]
TRIALS = 120


def _interrupt_at_random(box: Sandbox, args: tuple[str, ...], life: float) -> tuple[int, str]:
    # -X importtime says, on stderr, when each import ends: Python's own start-up (before
    # any code of ours runs) is left out, there nothing but Python can answer a Ctrl-C.
    run = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "pypi_switch", *args],
        env=box.env,
        cwd=box.project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert run.stderr is not None
    seen = b""
    while not seen.endswith(b"| pypi_switch\n") and b"| pypi_switch\n" not in seen:
        chunk = os.read(run.stderr.fileno(), 1 << 16)
        if not chunk:
            break
        seen += chunk
    time.sleep(random.uniform(0, life))
    run.send_signal(signal.SIGINT)
    _, rest = run.communicate(timeout=60)
    lines = (seen + rest).decode().splitlines()
    return run.returncode, "\n".join(ln for ln in lines if not ln.startswith("import time:"))


@pytest.mark.slow
def test_ctrl_c_at_any_moment_is_one_line_never_a_traceback(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, PIP_CONF)
    lives = {}
    for args in COMMANDS:
        start = time.monotonic()
        sandbox.run_process(*args)
        lives[args] = time.monotonic() - start
    problems = []
    for trial in range(TRIALS):
        args = COMMANDS[trial % len(COMMANDS)]
        code, stderr = _interrupt_at_random(sandbox, args, lives[args])
        lines = stderr.splitlines()
        if "Traceback" in stderr or "Exception ignored" in stderr:
            problems.append(f"{args}: a traceback (exit {code}):\n{stderr}")
        elif code == 130 and lines[-1:] != ["pypi-switch: interrupted"]:
            problems.append(f"{args}: exit 130 without its one line:\n{stderr}")
        elif code == 130 and len(lines) > 1 and args[0] != "use-mirror":
            problems.append(f"{args}: more than one line:\n{stderr}")
        elif code not in (0, 2, 130):
            problems.append(f"{args}: exit {code}:\n{stderr}")
    assert sandbox.pip_conf.read_bytes() == PIP_CONF
    assert not problems, "\n".join(problems)
