"""Fetch the pages a requirement check needs: best candidate first, a bounded number of
requests in flight, under the run's deadline, stopping once the answer is known.

One page per project per candidate. Requests are handed to the fan-out one at a time, in
order of priority: the best undecided candidate first; a candidate already rejected goes
to the back (its other pages only complete the list of what it lacks). So the first
candidate is judged as fast as ``limit`` parallel requests allow, and nothing is spent on
the next one unless the first falls short.

    check = RequirementCheck(candidates, needs, deadline=deadline, transport=transport)
    for i in check.passing():       # best first; resume to get the next one
        if file_is_good(candidates[i]):
            break
    coverages = check.coverages()   # every candidate's state, reasons in words
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pypi_switch.config import MirrorEntry
from pypi_switch.lockfiles import Needs
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.fanout import Fanout
from pypi_switch.net.pages import PageError, page_url, parse_page
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
    started: float | None = None
    finished: float | None = None
    answered: dict[str, list[Gap]] = field(default_factory=dict)  # project -> its gaps
    timed_out: bool = False

    @property
    def rejected(self) -> bool:
        return any(self.answered.values())


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
        on_coverage: Callable[[Coverage], None] | None = None,
    ) -> None:
        self._cands = [_Candidate(e) for e in candidates]
        self._needs = needs
        self._projects = needs.projects
        self._pins = pins_by_project(needs)
        self._must_exist = set(needs.names)
        self._deadline = deadline
        self._transport = transport
        self._limit = limit
        self._on_coverage = on_coverage
        self._told: set[int] = set()
        # (demoted, candidate, project index): the heap gives the next request to send.
        self._queue: list[tuple[bool, int, int]] = [
            (False, c, p) for c in range(len(self._cands)) for p in range(len(self._projects))
        ]
        heapq.heapify(self._queue)
        self._in_flight = 0
        self._next = 0  # the best candidate not yet handed out by passing()
        self._fan: Fanout[tuple[int, int], _Answer] = Fanout(limit=limit, name="require")

    # -- the public calls ---------------------------------------------------------------------

    def passing(self) -> Iterator[int]:
        """Indexes of candidates that have every pin, best first, each as soon as no better
        candidate is still undecided. Resume the iterator to look further."""
        while self._next < len(self._cands):
            verdict = self._decide(self._next)
            if verdict == "pending":
                if not self._pump():
                    break  # the deadline: nothing more will be known
                continue
            i = self._next
            self._next += 1
            if verdict == "passed":
                yield i
        # Every candidate judged and none taken: let the rejected ones finish their
        # lists, so that "which pins no mirror has" is true.
        while (self._queue or self._in_flight) and self._pump():
            pass

    def coverages(self) -> tuple[Coverage, ...]:
        """Each candidate as judged so far (call once done with ``passing``)."""
        self._fan.close()
        return tuple(self._coverage(i) for i in range(len(self._cands)))

    # -- scheduling ---------------------------------------------------------------------------

    def _pump(self) -> bool:
        """Fill the fan-out up to the limit, then take one batch of answers.

        False once the deadline has passed.
        """
        while self._queue and self._in_flight < self._limit:
            demoted, c, p = heapq.heappop(self._queue)
            cand = self._cands[c]
            if demoted is False and cand.rejected:
                heapq.heappush(self._queue, (True, c, p))
                continue
            if cand.started is None:
                cand.started = time.monotonic()
            self._fan.submit((c, p), self._task(cand.entry, self._projects[p]))
            self._in_flight += 1
        remaining = self._deadline.remaining()
        if remaining <= 0 or self._in_flight == 0:
            return remaining > 0
        first = self._fan.next(remaining)
        for done in ([first] if first is not None else []) + self._fan.drain():
            self._in_flight -= 1
            c, p = done.key
            answer: _Answer = done.value if done.error is None else _internal(done.error)
            self._record(c, self._projects[p], answer)
        if first is None:  # the deadline came first
            for c in {c for c, _ in self._fan.pending()}:
                self._cands[c].timed_out = True
            return False
        return True

    def _task(self, mirror: MirrorEntry, project: str) -> Callable[[], _Answer]:
        return lambda: _fetch(self._transport, mirror, project, self._deadline)

    def _record(self, c: int, project: str, answer: _Answer) -> None:
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
        if len(cand.answered) == len(self._projects):
            cand.finished = time.monotonic()
        self._tell(c)

    def _decide(self, c: int) -> str:
        cand = self._cands[c]
        if cand.rejected:
            return "rejected"
        if len(cand.answered) == len(self._projects):
            return "passed"
        if cand.timed_out or self._deadline.expired():
            return "incomplete"
        return "pending"

    def _tell(self, c: int) -> None:
        if self._on_coverage is None or c in self._told:
            return
        coverage = self._coverage(c)
        if coverage.status in ("passed", "rejected"):
            self._told.add(c)
            self._on_coverage(coverage)

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
    if got.status != 200:
        return f"{got.status} for {urlsplit(got.url).path or '/'}"
    try:
        page = parse_page(
            got.body, content_type=got.headers.get("content-type"), url=got.url, project=project
        )
    except PageError as exc:
        return exc.reason
    return [Listed(f.filename, f.version, f.sha256) for f in page.files]


def _internal(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"internal error: {lines[0][:120] if lines else type(error).__name__}"
