"""Run the tool with a fault injected at its N-th write step, from outside the engine.

A *write step* is any call that changes the disk: ``os.open``/``open()`` for writing,
``os.write``, ``os.fsync``, ``os.replace``/``rename``/``link``/``symlink``, ``os.unlink``/
``remove``/``rmdir``/``mkdir``, ``os.chmod``/``chown``/``utime``/``truncate`` (and their fd
forms). The hook sits on the ``os``/``io`` functions, so it sees every write whatever
module makes it. Modes:

- ``count``: no fault; the steps are logged to ``FAULT_LOG`` (one line each);
- ``raise``: the N-th step raises ``OSError(EIO)`` (a full disk, an I/O error);
- ``kill``: the process SIGKILLs itself just before the N-th step (a crash, power loss).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.support.sandbox import Sandbox

__all__ = ["KILL_AT_REPLACE", "WRAPPER", "count_steps", "run_with_fault"]

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

WRAPPER = r"""
import builtins, errno, io, os, runpy, signal, sys

AT = int(os.environ.pop("FAULT_AT"))
MODE = os.environ.pop("FAULT_MODE")
LOG = os.environ.pop("FAULT_LOG", "")
_real_open = os.open
_real_write = os.write
_count = 0

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _step(name, args):
    global _count
    _count += 1
    if LOG:
        fd = _real_open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        _real_write(fd, f"{_count} {name} {args[:1]!r}\n".encode())
        os.close(fd)
    if _count == AT:
        if MODE == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if MODE == "raise":
            raise OSError(errno.EIO, f"injected fault at write step {AT} ({name})")


def _hook_os(name):
    real = getattr(os, name)

    def hook(*args, **kwargs):
        if name == "open":
            flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
            if not flags & _WRITE_FLAGS:
                return real(*args, **kwargs)
        _step(name, args)
        return real(*args, **kwargs)

    setattr(os, name, hook)


for _name in (
    "open", "write", "fsync", "fdatasync", "replace", "rename", "link", "symlink",
    "unlink", "remove", "rmdir", "mkdir", "chmod", "fchmod", "lchmod", "chown",
    "fchown", "lchown", "utime", "truncate", "ftruncate",
):
    if hasattr(os, _name):
        _hook_os(_name)

_real_io_open = io.open


def _io_open(file, mode="r", *args, **kwargs):
    if any(c in mode for c in "wax+"):
        _step("io.open", (file,))
    return _real_io_open(file, mode, *args, **kwargs)


io.open = _io_open
builtins.open = _io_open

sys.argv = ["pypi-switch", *sys.argv[1:]]
runpy.run_module("pypi_switch", run_name="__main__", alter_sys=True)
"""


def run_with_fault(
    box: Sandbox,
    *args: str,
    mode: str,
    at: int = 0,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m pypi_switch ARGS`` in the sandbox, with a fault at write step ``at``."""
    extra = {"FAULT_AT": str(at), "FAULT_MODE": mode, "FAULT_LOG": str(log or "")}
    extra.update(env or {})
    return box.command([sys.executable, "-c", WRAPPER, *args], env=extra, timeout=60)


def count_steps(box: Sandbox, *args: str, log: Path) -> list[str]:
    """Run without a fault; the write steps it made, in order (the run must succeed)."""
    out = run_with_fault(box, *args, mode="count", log=log)
    assert out.returncode == 0, out.stdout + out.stderr
    return log.read_text().splitlines() if log.exists() else []
