"""The process behind ``tests.support.faults.FaultRunner`` (run as a script).

It imports the tool once, warms it with one switch and one restore in a scratch HOME,
then serves cases read from stdin, one JSON object a line: for each it forks, and the
child runs ``python -m pypi_switch ARGS`` as a process would (``pypi_switch.__main__``:
its signal handling, its ``os._exit``) with a fault at its N-th write step. It answers
each case with one JSON line, the child's exit status as ``subprocess`` reports it.

A fork costs a few milliseconds where a fresh interpreter costs a few hundred: that is
what lets the fault suite try every write step with every kind of fault.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # a .pyc written mid-run would be a write step of its own
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Calls that change the disk. ``open`` counts only when it opens for writing.
WRITE_CALLS = (
    "open", "write", "fsync", "fdatasync", "replace", "rename", "link", "symlink",
    "unlink", "remove", "rmdir", "mkdir", "chmod", "fchmod", "lchmod", "chown",
    "fchown", "lchown", "utime", "truncate", "ftruncate",
)  # fmt: skip
# What a full disk refuses: anything that needs a new block or inode. Removing, renaming
# and changing modes still work there.
ALLOCATING = ("open", "io.open", "write", "mkdir", "symlink", "link", "truncate", "ftruncate")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
CASE_TIMEOUT = 60  # seconds; a child still running then is stopped by SIGALRM


def _install_hooks(case: dict[str, Any]) -> None:
    mode, at, log = case["mode"], case["at"], case["log"]
    edit = case.get("edit") or {}
    real_open, real_write, real_close = os.open, os.write, os.close
    count = 0
    edits = 0

    def append(path: str, data: bytes) -> None:
        fd = real_open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            real_write(fd, data)
        finally:
            real_close(fd)

    def fill(path: str) -> None:
        fd = real_open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            while True:
                real_write(fd, b"\0" * 4096)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        finally:
            real_close(fd)

    def step(name: str, args: tuple[Any, ...]) -> None:
        nonlocal count, edits
        count += 1
        line = f"{name} {args[:1]!r}"
        if log:
            append(log, f"{count} {line}\n".encode())
        if mode == "edit" and edits < edit["times"] and edit["match"] in line:
            # Another program (an editor, a sync tool) writes the file right now.
            edits += 1
            append(edit["path"], edit["data"].encode())
        if mode == "full" and count >= at and name in ALLOCATING:
            raise OSError(errno.ENOSPC, "No space left on device")
        if count != at:
            return
        if mode == "fill":
            fill(case["fill"])  # another program takes every free block of that disk
        elif mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif mode == "sigint":
            os.kill(os.getpid(), signal.SIGINT)
        elif mode == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        elif mode == "raise":
            raise OSError(errno.EIO, f"injected fault at write step {at} ({name})")

    def hook_os(name: str) -> None:
        real = getattr(os, name)

        def hook(*args: Any, **kwargs: Any) -> Any:
            if name == "open":
                flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
                if not flags & _WRITE_FLAGS:
                    return real(*args, **kwargs)
            step(name, args)
            return real(*args, **kwargs)

        setattr(os, name, hook)

    for name in WRITE_CALLS:
        if hasattr(os, name):
            hook_os(name)
    real_io_open = io.open

    def io_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            step("io.open", (file,))
        return real_io_open(file, mode, *args, **kwargs)

    io.open = io_open
    builtins.open = io_open


def _child(case: dict[str, Any]) -> None:
    """Become ``python -m pypi_switch ARGS`` with the case's fault; never returns."""
    try:
        signal.alarm(CASE_TIMEOUT)
        for fd, name in ((0, os.devnull), (1, case["out"]), (2, case["err"])):
            flags = os.O_RDONLY if fd == 0 else os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            target = os.open(name, flags, 0o600)
            os.dup2(target, fd)
            os.close(target)
        os.environ.clear()
        os.environ.update(case["env"])
        os.chdir(case["cwd"])
        import pypi_switch

        # What runpy gives ``python -m pypi_switch`` (click names the program from them).
        sys.argv = [str(Path(pypi_switch.__file__).parent / "__main__.py"), *case["argv"]]
        sys.modules["__main__"].__package__ = "pypi_switch"
        from tests.support.inprocess import _clear_caches

        _clear_caches()
        _install_hooks(case)
        from pypi_switch.__main__ import main

        main()
        status = 0  # main() ends the process itself; an older one may return
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _warm_up() -> None:
    """Import everything a switch and a restore use, so each child does not."""
    from tests.support.inprocess import run_cli
    from tests.support.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox.create(Path(tmp))
        for args in (("use-mirror", "http://127.0.0.1:9/simple/", "--force"), ("restore",)):
            run_cli(args, env=box.env, cwd=box.project)
        run_cli(("status", "--json"), env=box.env, cwd=box.project)


def main() -> None:
    _warm_up()
    print("ready", flush=True)
    for line in sys.stdin:
        case = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(case)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    main()
