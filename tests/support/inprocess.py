"""Run the command line in this process, the way ``python -m pypi_switch`` runs it.

A run as a subprocess costs an interpreter start and every import again (~140 ms); here it
costs a few milliseconds. What the program can observe is made the same as in that
subprocess: exactly the sandbox's environment, the working directory, ``sys.argv``,
stdin/stdout/stderr (typer's test runner swaps the streams), the warning filters of a
fresh interpreter, and the exit code, message or traceback Python itself would give.

What a process would drop at exit must not outlive a run here: functools caches are
emptied before each run, and a run that leaves module state behind (a lock still marked
as held, a list that grew) fails the test that made it.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import locale
import os
import signal
import subprocess
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer.testing
from typer.testing import CliRunner

__all__ = ["run_cli"]

PACKAGE = "pypi_switch"


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so the CLI's handlers cannot swallow it."""


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    input: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m pypi_switch ARGS`` with exactly ``env``, in ``cwd``, without a process."""
    spec = importlib.util.find_spec(f"{PACKAGE}.__main__")
    assert spec is not None and spec.origin is not None
    argv = [spec.origin, *args]  # what runpy puts in sys.argv for ``python -m``
    from pypi_switch import cli

    _clear_caches()
    before = _module_state()
    code = 0
    with (
        _environ(env),
        contextlib.chdir(cwd),
        _patched(sys, argv=argv, excepthook=sys.excepthook),
        _patched(sys.modules, __main__=_main_module()),
        CliRunner().isolation(input=input) as (out, err, _),
        # The runner fixes help at 80 columns; a process sizes it like any other pipe.
        _patched(typer.testing.formatting, FORCED_WIDTH=None),
        warnings.catch_warnings(),
    ):
        _fresh_interpreter_warning_filters()
        try:
            with _alarm(timeout, args):
                cli.main()
        except SystemExit as exc:
            code = _exit_status(exc)
        except _Timeout:
            raise subprocess.TimeoutExpired(argv, timeout or 0) from None
        except BaseException as exc:
            traceback.print_exc()
            # Python ends by SIGINT itself on an uncaught Ctrl-C.
            code = -signal.SIGINT if isinstance(exc, KeyboardInterrupt) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    _assert_no_state_left(before)
    return subprocess.CompletedProcess(
        [sys.executable, "-m", PACKAGE, *args], code, _text(stdout), _text(stderr)
    )


def _text(data: bytes) -> str:
    # As subprocess.run(text=True) decodes: the locale's encoding, universal newlines.
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _exit_status(exc: SystemExit) -> int:
    """The status the interpreter would exit with for this SystemExit."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _main_module() -> types.ModuleType:
    # click names the program from ``__main__.__package__``: "python -m pypi_switch".
    main = types.ModuleType("__main__")
    main.__package__ = PACKAGE
    return main


@contextlib.contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    """Exactly ``env`` for the run (a subprocess gets nothing else), then the old one back."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _patched(target: Any, **values: Any) -> Iterator[None]:
    """Set attributes (or mapping items) for the run; put the old values back after."""
    mapping = isinstance(target, dict)
    saved = {k: (target[k] if mapping else getattr(target, k)) for k in values}
    for k, v in values.items():
        if mapping:
            target[k] = v
        else:
            setattr(target, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            if mapping:
                target[k] = v
            else:
                setattr(target, k, v)


def _fresh_interpreter_warning_filters() -> None:
    """The filters of ``python`` started without -W: pytest's ``error`` is not the CLI's."""
    warnings.resetwarnings()
    # CPython's defaults, in its order (the warnings module's documentation lists them).
    warnings.filterwarnings("ignore", category=ResourceWarning)
    warnings.filterwarnings("ignore", category=ImportWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


@contextlib.contextmanager
def _alarm(timeout: float | None, args: Sequence[str]) -> Iterator[None]:
    """Stop a run that hangs, as subprocess.run(timeout=...) would (main thread only)."""
    if not timeout or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: types.FrameType | None) -> None:
        raise _Timeout(args)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _package_modules() -> list[types.ModuleType]:
    return [m for n, m in list(sys.modules.items()) if n.split(".")[0] == PACKAGE and m]


def _clear_caches() -> None:
    """Empty every functools cache of the package: a new process would start without."""
    for module in _package_modules():
        for value in list(vars(module).values()):
            # Asked of the type: a module's own __getattr__ (a lazy import) stays untouched.
            if callable(getattr(type(value), "cache_clear", None)):
                value.cache_clear()


_Containers = (dict, list, set, bytearray)


def _module_state() -> dict[tuple[str, str], Any]:
    """A copy of every mutable module-level container of the package."""
    return {
        (module.__name__, name): copy.copy(value)
        for module in _package_modules()
        for name, value in vars(module).items()
        if not name.startswith("__") and isinstance(value, _Containers)
    }


def _assert_no_state_left(before: dict[tuple[str, str], Any]) -> None:
    from pypi_switch import journal

    left = [f"{journal.__name__}._HELD = {journal._HELD!r}"] if journal._HELD else []
    journal._HELD.clear()  # one leak must not fail every later run of this worker
    after = _module_state()
    left += [f"{m}.{n}" for (m, n), value in before.items() if after.get((m, n)) != value]
    assert not left, f"an in-process run left module state behind: {', '.join(left)}"
