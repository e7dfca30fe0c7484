"""Ctrl-C and SIGTERM: one line and exit 130 or 143, and never between a file and its books.

Three regimes. Before the command starts and after it has finished (``at_the_edges``),
nothing is half-done: a signal ends the process at once with one line, however early or
late it comes (Python would print a traceback from whatever import or shutdown step it
interrupted). While the command runs, SIGINT is Python's ``KeyboardInterrupt``, which
``cli`` turns into exit 130. And while a transaction replaces files (``held``), both
signals wait for the transaction to say where it can stop with the files and the journal
agreeing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn

from pypi_switch.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

__all__ = [
    "EXIT_INTERRUPTED",
    "Held",
    "as_exception",
    "at_the_edges",
    "held",
    "in_the_command",
    "leave",
]

_LEAVE: dict[int, tuple[bytes, int]] = {signal.SIGINT: (b"interrupted", EXIT_INTERRUPTED)}
if hasattr(signal, "SIGTERM"):
    _LEAVE[signal.SIGTERM] = (b"terminated", EXIT_TERMINATED)


def _leave(signum: int, frame: FrameType | None) -> None:
    word, code = _LEAVE.get(signum, (b"interrupted", EXIT_INTERRUPTED))
    with contextlib.suppress(OSError):
        os.write(2, b"pypi-switch: " + word + b"\n")
    os._exit(code)


def at_the_edges() -> None:
    """SIGINT ends the process at once with one line: only before and after the command."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said there
            stream.flush()
    signal.signal(signal.SIGINT, _leave)


def leave(status: int) -> NoReturn:
    """End the process now, its output flushed, without the interpreter's shutdown."""
    at_the_edges()
    os._exit(status)


def in_the_command() -> None:
    """SIGINT raises ``KeyboardInterrupt`` again, for the command to stop cleanly."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


class Held:
    """The signals that arrived while held; ``check`` lets the first one through."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def record(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def check(self, outcome: str = "") -> None:
        """Raise the held signal's exception, if one came: call where the books agree."""
        if self.signum is not None:
            raise as_exception(self.signum, outcome)


def as_exception(signum: int, outcome: str = "") -> BaseException:
    args = (outcome,) if outcome else ()
    if signum == signal.SIGINT:
        return KeyboardInterrupt(*args)
    return Terminated(*args)


@contextlib.contextmanager
def held() -> Iterator[Held]:
    """SIGINT and SIGTERM wait until ``Held.check`` (or the end of the block).

    Handlers can only be set in the main thread; elsewhere (an embedding program's worker)
    the signals are that program's business and nothing is held.
    """
    state = Held()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    wanted = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {s: signal.signal(s, state.record) for s in wanted}
    try:
        yield state
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
    # The block ended with the books whole but a signal unanswered: answer it now.
    state.check()
