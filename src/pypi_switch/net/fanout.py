"""Many network tasks at once, a bounded number in flight, collected as they finish.

Workers are *daemon* threads: a task stuck where no timeout reaches (a ``getaddrinfo``
that never returns) is abandoned at the deadline and cannot keep the process alive.
``concurrent.futures`` would not do: its workers are joined at interpreter exit.
Threads rather than asyncio because requests is blocking; a bounded pool rather than a
thread per task because a thousand thread starts on the deadline's clock left the last
mirrors no time (measured in ``bench/probe_bench.py``).

The caller owns the clock: it waits with ``next(timeout)``, and ``drain()`` takes what has
finished without waiting, so results that arrived in time are never reported as late.

    with Fanout(limit=8) as fan:
        for name in names:
            fan.submit(name, lambda name=name: transport.get(url_of(name), deadline=deadline))
        for done in fan.results(deadline):
            ...                                  # done.key, done.value or done.error
        late = fan.pending()                     # keys still running at the deadline
"""

from __future__ import annotations

import collections
import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

from pypi_switch.net.deadline import Deadline

__all__ = ["Done", "Fanout"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

_exit_ready = False


def _prepare_thread_exit() -> None:
    """Load glibc's unwinder now, while file descriptors are free.

    glibc loads libgcc_s the first time a thread exits. When a fan-out has taken every
    descriptor (a low ``ulimit -n``, a thousand mirrors), that load fails and glibc aborts
    the whole process, at the latest when the interpreter ends its abandoned daemon
    threads (seen: SIGABRT, "libgcc_s.so.1 must be installed for pthread_exit to work").
    Loaded once, it stays.
    """
    global _exit_ready
    if _exit_ready or not sys.platform.startswith("linux"):
        return
    _exit_ready = True
    import ctypes

    with contextlib.suppress(OSError):  # not glibc (musl), or no such library: nothing to do
        ctypes.CDLL("libgcc_s.so.1")


@dataclass(frozen=True)
class Done(Generic[K, T]):
    key: K
    value: T | None
    error: BaseException | None  # what the task raised (a bug costs one task, not the run)


class Fanout(Generic[K, T]):
    def __init__(self, *, limit: int = 64, name: str = "net") -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if limit > 1:  # one thread cannot run a machine out of descriptors
            _prepare_thread_exit()
        self._limit = limit
        self._name = name
        self._lock = threading.Lock()
        self._todo: collections.deque[tuple[K, Callable[[], T]]] = collections.deque()
        self._workers = 0
        self._closed = False
        self._out: queue.SimpleQueue[Done[K, T]] = queue.SimpleQueue()
        self._pending: dict[K, None] = {}  # submitted, not yet collected (in order)

    def submit(self, key: K, task: Callable[[], T]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("this fan-out is closed")
            if key in self._pending:
                raise ValueError(f"{key!r} is already running")
            self._pending[key] = None
            self._todo.append((key, task))
            start = self._workers < self._limit
            if start:
                self._workers += 1
        if start:
            try:
                threading.Thread(target=self._work, daemon=True, name=self._name).start()
            except RuntimeError:  # no thread left on this machine: the others carry on
                with self._lock:
                    self._workers -= 1
                    alone = self._workers == 0
                if alone:
                    raise

    def next(self, timeout: float) -> Done[K, T] | None:
        """The next finished task, waiting up to ``timeout`` seconds; None if none came."""
        try:
            done = self._out.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        self._pending.pop(done.key, None)
        return done

    def drain(self) -> list[Done[K, T]]:
        """Every task finished by now, without waiting."""
        out: list[Done[K, T]] = []
        while True:
            try:
                done = self._out.get_nowait()
            except queue.Empty:
                return out
            self._pending.pop(done.key, None)
            out.append(done)

    def results(self, deadline: Deadline) -> Iterator[Done[K, T]]:
        """Finished tasks as they come, until all are collected or the deadline passes."""
        while self._pending:
            done = self.next(deadline.remaining()) if not deadline.expired() else None
            if done is None:
                break
            yield done
        yield from self.drain()  # finished right at the deadline: in time, not late

    def pending(self) -> list[K]:
        """Submitted and not collected: queued, running, or finished since the last look."""
        return list(self._pending)

    def __contains__(self, key: object) -> bool:
        """``key`` is pending (the cheap question: ``pending()`` copies)."""
        return key in self._pending

    def close(self) -> None:
        """Queued tasks never start; running ones are abandoned (their own timeouts end them)."""
        with self._lock:
            self._closed = True
            self._todo.clear()

    def __enter__(self) -> Fanout[K, T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._closed or not self._todo:
                    self._workers -= 1
                    return
                key, task = self._todo.popleft()
            try:
                done: Done[K, T] = Done(key, task(), None)
            except BaseException as exc:
                done = Done(key, None, exc)
            self._out.put(done)
