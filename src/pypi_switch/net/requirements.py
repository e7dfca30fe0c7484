"""Fetch the pages a requirement check needs: best candidate first, a bounded number of
requests in flight, under the run's deadline, stopping once the answer is known.

One page per project per candidate. ``limit`` workers each take, when free, the most
urgent request left: the best undecided candidate's first; a candidate already rejected
goes to the back (its other pages only complete the list of what it lacks). So the first
candidate is judged as fast as ``limit`` parallel requests allow, and nothing is spent on
the next one unless the first falls short. The workers live as long as the check: each
keeps its connection to the mirror (a thread and a connection per page cost a 200-pin
lock a second, measured in ``bench/require_bench.py``).

    check = RequirementCheck(candidates, needs, deadline=deadline, transport=transport)
    for i in check.passing():       # best first; resume to get the next one
        if file_is_good(candidates[i]):
            break
    coverages = check.coverages()   # every candidate's state, reasons in words
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pypi_switch.config import MirrorEntry
from pypi_switch.lockfiles import Needs
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.fanout import Fanout
from pypi_switch.net.pages import PageError, page_of, page_url
from pypi_switch.net.transport import NetError, Transport
from pypi_switch.require import UNREADABLE, Coverage, Gap, Listed, judge_project, pins_by_project

__all__ = ["LIMIT", "RequirementCheck"]

# Requests in flight at once, over all candidates. uv downloads 50 at a time; a mirror
# serving 200 pages to 32 connections answers a lock in a handful of round trips.
LIMIT = 32

_GONE = (404, 410)


@dataclass
class _Candidate:
    entry: MirrorEntry
    started: float | None = None  # set by a worker: one assignment, atomic
    finished: float | None = None
    answered: dict[str, list[Gap]] = field(default_factory=dict)  # project -> its gaps
    rejected: bool = False  # a gap was found (read by the workers to reorder their queue)
    timed_out: bool = False


class _Late:
    """The deadline came before the page: nothing is known about that project."""


# What one page told: the files listed, None for "no such project", why it is unreadable,
# or that it came too late.
_Answer = list[Listed] | None | str | _Late


class RequirementCheck:
    def __init__(
        self,
        candidates: Sequence[MirrorEntry],
        needs: Needs,
        *,
        deadline: Deadline,
        transport: Transport,
        limit: int = LIMIT,
    ) -> None:
        self._cands = [_Candidate(e) for e in candidates]
        self._projects = needs.projects
        self._pins = pins_by_project(needs)
        self._must_exist = set(needs.names)
        self._deadline = deadline
        self._transport = transport
        # (demoted, candidate, project index): the heap gives the next request to send.
        self._queue: list[tuple[bool, int, int]] = [
            (False, c, p) for c in range(len(self._cands)) for p in range(len(self._projects))
        ]
        heapq.heapify(self._queue)
        self._lock = threading.Lock()
        # Set while answers are wanted: cleared while the caller looks at a candidate that
        # passed (its file check), so no page of the next one is asked for nothing.
        self._wanted = threading.Event()
        self._closed = False
        self._next = 0  # the best candidate not yet handed out by passing()
        self._fan: Fanout[int, int | None] = Fanout(limit=max(1, limit), name="require")
        self._started = False

    # -- the public calls ---------------------------------------------------------------------

    def passing(self) -> Iterator[int]:
        """Indexes of candidates that have every pin, best first, each as soon as no better
        candidate is still undecided. Resume the iterator to look further."""
        self._start()
        while self._next < len(self._cands):
            with self._lock:
                verdict = self._decide(self._next)
            if verdict == "pending":
                if not self._collect():
                    break  # the deadline, or nothing left to ask: nothing more will come
                continue
            if verdict == "passed":
                self._wanted.clear()  # before _next moves on: the workers hold meanwhile
            i = self._next
            self._next += 1
            if verdict == "passed":
                yield i
                self._wanted.set()
        # Every candidate judged and none taken: let the rejected ones finish their
        # lists, so that "which pins no mirror has" is true.
        while self._collect():
            pass

    def coverages(self) -> tuple[Coverage, ...]:
        """Each candidate as judged so far (call once done with ``passing``)."""
        self._closed = True
        self._wanted.set()  # waiting workers wake up, see the end, and leave
        self._fan.close()
        with self._lock:
            return tuple(self._coverage(i) for i in range(len(self._cands)))

    # -- the workers ----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._wanted.set()
        # One task per request; each takes the most urgent request left when it runs.
        for n in range(len(self._queue)):
            self._fan.submit(n, self._step)

    def _step(self) -> int | None:
        taken = None
        while taken is None:
            if self._closed or self._deadline.expired():
                return None
            if not self._wanted.wait(0.05):
                continue
            with self._lock:
                if not self._queue:
                    return None
                if not self._held():
                    taken = self._take()
            if taken is None:
                time.sleep(0.005)  # a passed candidate awaits the caller's look
        c, p = taken
        answer = _fetch(self._transport, self._cands[c].entry, self._projects[p], self._deadline)
        with self._lock:
            self._record(c, self._projects[p], answer)
        return c

    def _held(self) -> bool:
        """The best undecided candidate has passed: the caller looks at it before any more
        pages are asked (under the lock)."""
        for cand in self._cands[self._next :]:
            if cand.rejected:
                continue
            return len(cand.answered) == len(self._projects)
        return False

    def _take(self) -> tuple[int, int] | None:
        """The most urgent request left (under the lock)."""
        while self._queue and not self._closed:
            demoted, c, p = heapq.heappop(self._queue)
            cand = self._cands[c]
            if not demoted and cand.rejected:
                heapq.heappush(self._queue, (True, c, p))
                continue
            if cand.started is None:
                cand.started = time.monotonic()
            return c, p
        return None

    # -- the caller's side ----------------------------------------------------------------------

    def _collect(self) -> bool:
        """Wait for one batch of answers (the workers record them); False when none can
        come any more."""
        if not self._fan.pending():
            return False
        remaining = self._deadline.remaining()
        first = self._fan.next(remaining) if remaining > 0 else None
        self._fan.drain()
        if first is None:  # the deadline came first
            with self._lock:
                for cand in self._cands:
                    if cand.started is not None and len(cand.answered) < len(self._projects):
                        cand.timed_out = True
            return False
        return True

    def _record(self, c: int, project: str, answer: _Answer) -> None:
        """Judge one answer (under the lock)."""
        cand = self._cands[c]
        if isinstance(answer, _Late):
            cand.timed_out = True
            return
        if isinstance(answer, str):
            gaps = [Gap(UNREADABLE, project, answer)]
        else:
            gaps = judge_project(
                project,
                self._pins.get(project, []),
                must_exist=project in self._must_exist,
                listed=answer,
            )
        cand.answered[project] = gaps
        if gaps:
            cand.rejected = True
        if len(cand.answered) == len(self._projects):
            cand.finished = time.monotonic()

    def _decide(self, c: int) -> str:
        cand = self._cands[c]
        if cand.rejected:
            return "rejected"
        if len(cand.answered) == len(self._projects):
            return "passed"
        if cand.timed_out or self._deadline.expired():
            return "incomplete"
        return "pending"

    def _coverage(self, c: int) -> Coverage:
        cand = self._cands[c]
        gaps = tuple(g for project in self._projects for g in cand.answered.get(project, []))
        if cand.started is None:
            status = "not checked"
        elif gaps:
            status = "rejected"  # one gap is enough, even if the list is not complete
        elif len(cand.answered) == len(self._projects):
            status = "passed"
        elif cand.timed_out or self._deadline.expired():
            status = "incomplete"
        else:
            status = "not checked"  # begun, then a better mirror passed
        elapsed = None
        if cand.started is not None:
            end = cand.finished if cand.finished is not None else time.monotonic()
            elapsed = (end - cand.started) * 1000
        return Coverage(
            name=cand.entry.name,
            url=cand.entry.url,
            status=status,
            gaps=gaps,
            checked=len(cand.answered),
            total=len(self._projects),
            elapsed_ms=elapsed,
        )


def _fetch(transport: Transport, mirror: MirrorEntry, project: str, deadline: Deadline) -> _Answer:
    """One project page from one mirror: its files, None when the mirror has no such
    project, or why the page cannot be read."""
    try:
        got = transport.get(page_url(mirror.url, project), deadline=deadline)
    except NetError as exc:
        return _Late() if exc.timed_out else exc.reason
    if got.status in _GONE:
        return None
    try:
        page = page_of(got, project)
    except PageError as exc:
        return exc.reason
    return [Listed(f.filename, f.version, f.sha256) for f in page.files]


def _internal(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"internal error: {lines[0][:120] if lines else type(error).__name__}"
