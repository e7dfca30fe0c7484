"""Run the tool with a fault injected at its N-th write step, from outside the engine.

A *write step* is any call that changes the disk: ``os.open``/``open()`` for writing,
``os.write``, ``os.fsync``, ``os.replace``/``rename``/``link``/``symlink``, ``os.unlink``/
``remove``/``rmdir``/``mkdir``, ``os.chmod``/``chown``/``utime``/``truncate`` (and their fd
forms). The hook sits on the ``os``/``io`` functions, so it sees every write whatever
module makes it. Modes:

- ``count``: no fault; the steps are logged (one line each);
- ``raise``: the N-th step raises ``OSError(EIO)`` (an I/O error);
- ``full``: from the N-th step on, every step that needs space raises ``ENOSPC`` (a disk
  filled up by another program: the rollback cannot write either);
- ``kill``: the process SIGKILLs itself just before the N-th step (a crash, power loss);
- ``sigint`` / ``sigterm``: the process gets SIGINT (Ctrl-C) / SIGTERM just before it;
- ``fill``: just before the N-th step, another program takes every free block of the
  disk that holds the path ``fill`` (a real full disk: a small tmpfs);
- ``edit``: no fault, but another program appends ``edit["data"]`` to ``edit["path"]``
  at each of the first ``edit["times"]`` steps whose log line (``open ('/path',)``)
  contains ``edit["match"]``.

The cases run in one ``FaultRunner`` process (tests/support/fault_runner.py), which forks
a child per case: real processes, without an interpreter start for each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.support.sandbox import Sandbox

__all__ = ["KILL_AT_REPLACE", "MODES", "FaultRunner", "fault_runner"]

MODES = ("raise", "full", "kill", "sigint", "sigterm", "fill", "edit")

# The coarser hook: SIGKILL at the N-th ``os.replace`` (each backup, journal and config
# file lands by one), then run the CLI with the remaining arguments.
# Usage: [sys.executable, "-c", KILL_AT_REPLACE, N, *cli_args]
KILL_AT_REPLACE = r"""
import os, signal, sys
n = int(sys.argv[1])
calls = 0
real = os.replace
def replace(src, dst):
    global calls
    calls += 1
    if calls == n:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
from pypi_switch.cli import main
sys.argv = ["pypi-switch", *sys.argv[2:]]
main()
"""

RUNNER = Path(__file__).with_name("fault_runner.py")


class FaultRunner:
    """One process that runs ``python -m pypi_switch`` cases with a fault each."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=scratch,
        )
        assert self._read() == "ready", "the fault runner did not start"

    def _read(self) -> str:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        assert line, f"the fault runner died (exit {self.process.wait()})"
        return line.strip()

    def run(
        self,
        box: Sandbox,
        *args: str,
        mode: str = "count",
        at: int = 0,
        log: Path | None = None,
        fill: Path | None = None,
        edit: Mapping[str, object] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``python -m pypi_switch ARGS`` in the sandbox, with a fault at write step ``at``."""
        assert mode == "count" or mode in MODES, mode
        out, err = self.scratch / "stdout", self.scratch / "stderr"
        case = {
            "env": box.env,
            "cwd": str(box.project),
            "argv": list(args),
            "mode": mode,
            "at": at,
            "log": str(log or ""),
            "out": str(out),
            "err": str(err),
            "fill": str(fill or ""),
            "edit": dict(edit or {}),
        }
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(case) + "\n")
        stdin.flush()
        rc = json.loads(self._read())["rc"]
        argv = [sys.executable, "-m", "pypi_switch", *args]
        return subprocess.CompletedProcess(argv, rc, out.read_text(), err.read_text())

    def count_steps(self, box: Sandbox, *args: str) -> list[str]:
        """The write steps a run without a fault makes, in order (the run must succeed)."""
        log = self.scratch / "count.log"
        log.unlink(missing_ok=True)
        out = self.run(box, *args, log=log)
        assert out.returncode == 0, out.stdout + out.stderr
        return log.read_text().splitlines() if log.exists() else []

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self.process.wait(timeout=60)


@contextmanager
def fault_runner(scratch: Path) -> Iterator[FaultRunner]:
    runner = FaultRunner(scratch)
    try:
        yield runner
    finally:
        runner.close()
