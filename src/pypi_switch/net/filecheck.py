"""Download one small file from a mirror and check its bytes against the consensus.

A mirror's index can be fine while its file links 404, bounce to plain http, or serve
bytes other than the ones listed: only fetching a file shows it. Which file: the smallest
one listed for the ``file_canary`` project (``six`` by default, about 11 KB), capped at
``CAP``. The project's page is fetched while the probe runs (``FilePages``): from upstream
at once, and from each of the first mirrors to answer the probe validly (the likely
choice and the voters that may judge it), so once a mirror is chosen only the download
is left: one round trip plus the transfer. Other mirrors are asked only when needed: a
thousand mirrors must not cost a thousand more requests.

The sha256 the bytes must have is the consensus: upstream's when it lists the file, else
the one most mirrors list (a tie is no consensus), else the mirror's own listing.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from pypi_switch.config import MirrorEntry
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.fanout import Fanout
from pypi_switch.net.pages import DistFile, PageError, ProjectPage, page_of, page_url
from pypi_switch.net.transport import NetError, Transport
from pypi_switch.words import size

__all__ = ["CAP", "FileCheck", "FilePages", "check_file", "consensus", "smallest"]

CAP = 1024 * 1024
# Other mirrors heard before their listings decide the sha256 (when upstream cannot).
VOTERS = 2

VERIFIED = "verified"
REJECTED = "rejected"
NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class FileCheck:
    """What one mirror's file told."""

    name: str
    url: str
    status: str  # "verified", "rejected" or "not checked" (which does not reject)
    reason: str
    filename: str | None = None
    size: int | None = None
    elapsed_ms: float | None = None

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED


# What one source's page told: the page, or why there is none.
_Got = ProjectPage | str


class FilePages:
    """The ``project`` page of the ``sources``: asked for when ``want``ed (``eager`` ones
    at once), collected when needed; a source nobody asked for is asked when waited for."""

    def __init__(
        self,
        sources: Sequence[MirrorEntry],
        project: str,
        *,
        deadline: Deadline,
        transport: Transport,
        eager: Sequence[MirrorEntry] | None = None,
        limit: int = 128,
    ) -> None:
        self.project = project
        self._deadline = deadline
        self._transport = transport
        self._sources = {e.url: e for e in sources}
        self._asked: set[str] = set()
        self._got: dict[str, _Got] = {}
        limit = max(1, min(limit, len(self._sources)))
        self._fan: Fanout[str, _Got] = Fanout(limit=limit, name="file")
        for entry in sources if eager is None else eager:
            self.want(entry.url)

    def want(self, url: str) -> None:
        """Ask ``url``'s page now (once; a URL not among the sources is ignored)."""
        entry = self._sources.get(url)
        if entry is None or url in self._asked:
            return
        self._asked.add(url)
        self._fan.submit(url, _page_task(self._transport, entry, self.project, self._deadline))

    def page(self, url: str) -> _Got | None:
        """``url``'s page, waiting for it until the deadline; None if it did not come."""
        self.want(url)
        self.wait_until(lambda got: url in got)
        return self._got.get(url)

    def wait_until(self, enough: Callable[[dict[str, _Got]], bool]) -> None:
        """Collect pages until ``enough`` of them came, none is left to come, or the deadline.

        When nothing asked is still coming, the next few sources not asked yet are asked.
        """
        self._collect()
        while not enough(self._got):
            if not self._fan.pending() and not self._ask_more(VOTERS + 1):
                return
            done = self._fan.next(self._deadline.remaining())
            if done is None:
                return
            self._store(done.key, done.value, done.error)
            self._collect()

    def _ask_more(self, n: int) -> bool:
        more = [url for url in self._sources if url not in self._asked][:n]
        for url in more:
            self.want(url)
        return bool(more)

    def arrived(self) -> dict[str, _Got]:
        """Every page that has come by now, by source URL."""
        self._collect()
        return dict(self._got)

    def close(self) -> None:
        self._fan.close()

    def _collect(self) -> None:
        for done in self._fan.drain():
            self._store(done.key, done.value, done.error)

    def _store(self, url: str, value: _Got | None, error: BaseException | None) -> None:
        self._got[url] = value if value is not None else f"internal error: {error}"


def _page_task(
    transport: Transport, entry: MirrorEntry, project: str, deadline: Deadline
) -> Callable[[], _Got]:
    def task() -> _Got:
        try:
            got = transport.get(page_url(entry.url, project), deadline=deadline)
        except NetError as exc:
            return exc.reason
        try:
            return page_of(got, project)
        except PageError as exc:
            return exc.reason

    return task


def consensus(
    filename: str, upstream: ProjectPage | None, mirrors: Sequence[ProjectPage]
) -> tuple[str | None, str]:
    """The sha256 ``filename`` must have, and where that comes from, in words.

    ``mirrors`` includes the mirror being checked: alone, its listing is all there is.
    """
    if upstream is not None and filename in upstream.digests:
        return upstream.digests[filename], "upstream"
    votes = Counter(p.digests[filename] for p in mirrors if filename in p.digests)
    if not votes:
        return None, "no source lists it"
    top = votes.most_common(2)
    if len(top) > 1 and top[0][1] == top[1][1]:
        return None, "the mirrors disagree, with no majority"
    count = top[0][1]
    if count == 1 and len(votes) == 1:
        return top[0][0], "this mirror's own listing (no other source)"
    return top[0][0], f"{count} mirrors" if count > 1 else "1 mirror"


def smallest(
    page: ProjectPage, known_sizes: dict[str, int], among: set[str] | None = None
) -> DistFile | None:
    """The smallest file with a sha256 (of those named ``among``, if given); sizes from any
    page that says them.

    HTML pages give no size: then a pure-Python wheel is the safest guess at small.
    """
    files = [f for f in page.files if f.sha256 and (among is None or f.filename in among)]
    if not files:
        return None

    def size_of(f: DistFile) -> int | None:
        return f.size if f.size is not None else known_sizes.get(f.filename)

    sized = [f for f in files if size_of(f) is not None]
    if sized:
        return min(sized, key=lambda f: (size_of(f), f.filename))
    return min(
        files,
        key=lambda f: (
            not f.filename.endswith("-none-any.whl"),
            not f.filename.endswith(".whl"),
            f.filename,
        ),
    )


def check_file(
    mirror: MirrorEntry,
    pages: FilePages,
    *,
    upstream: str | None,
    wait_for_upstream: bool,
    deadline: Deadline,
    transport: Transport,
    cap: int = CAP,
) -> FileCheck:
    """Download the smallest file of ``pages.project`` from ``mirror`` and judge its bytes.

    ``wait_for_upstream``: upstream answered the probe, so its page is worth waiting for;
    otherwise (an outage) it counts only if it has already come.
    """
    start = time.monotonic()
    base = FileCheck(mirror.name, mirror.url, NOT_CHECKED, "")
    project = pages.project
    own = pages.page(mirror.url)
    if own is None:
        return replace(
            base, reason=f"bytes not checked: its page of {project} did not come in time"
        )
    if isinstance(own, str):
        return replace(base, reason=f"bytes not checked: no page of {project} ({own})")
    up = None
    if upstream is not None:
        up = pages.page(upstream) if wait_for_upstream else pages.arrived().get(upstream)
    if not isinstance(up, ProjectPage):
        # No upstream to trust: the mirrors vote. The chosen one is often the fastest, so
        # wait for a few others to be heard (each was asked when the probe began).
        def heard(got: dict[str, _Got]) -> bool:
            voters = [u for u, p in got.items() if u not in (mirror.url, upstream)]
            return sum(isinstance(got[u], ProjectPage) for u in voters) >= VOTERS

        pages.wait_until(heard)
    others = [p for url, p in pages.arrived().items() if url != upstream]
    mirror_pages = [p for p in others if isinstance(p, ProjectPage)]
    sizes = {
        f.filename: f.size
        for p in [*mirror_pages, *([up] if isinstance(up, ProjectPage) else [])]
        for f in p.files
        if f.size is not None
    }
    # A file only this mirror lists has nothing to be held against: take one the others know.
    if isinstance(up, ProjectPage):
        known, by = set(up.digests), "upstream"
    else:
        known, by = {n for p in mirror_pages if p is not own for n in p.digests}, "another mirror"
    chosen = smallest(own, sizes, among=known) or (smallest(own, sizes) if not known else None)
    if chosen is None:
        why = f"{by} lists none of its files of {project}" if known else "none with a sha256"
        return replace(base, reason=f"bytes not checked: {why}")
    name = chosen.filename
    base = replace(base, filename=name, size=sizes.get(name, chosen.size))
    want, source = consensus(name, up if isinstance(up, ProjectPage) else None, mirror_pages)
    if want is None:
        return replace(base, reason=f"bytes not checked: no sha256 to trust for {name} ({source})")
    if chosen.sha256 != want:
        return replace(
            base, status=REJECTED, reason=f"lists another sha256 for {name} than {source}"
        )
    said = base.size
    if said is not None and said > cap:
        return replace(
            base,
            reason=f"bytes not checked: {name} is {size(said)}, more than {size(cap)}",
        )
    digest = hashlib.sha256()
    received = 0

    def write(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)
        digest.update(chunk)

    try:
        got = transport.get(chosen.url, deadline=deadline, max_bytes=cap, accept="*/*", write=write)
    except NetError as exc:
        elapsed = (time.monotonic() - start) * 1000
        if exc.timed_out or exc.reason.startswith("response larger than"):
            why = "timed out" if exc.timed_out else f"larger than {size(cap)}"
            return replace(base, reason=f"bytes not checked: {name} {why}", elapsed_ms=elapsed)
        return replace(
            base,
            status=REJECTED,
            reason=f"{name}: {exc.reason}",
            elapsed_ms=elapsed,
        )
    elapsed = (time.monotonic() - start) * 1000
    base = replace(base, size=received, elapsed_ms=elapsed)
    if got.status != 200:
        path = urlsplit(got.url).path or "/"
        return replace(base, status=REJECTED, reason=f"{name}: {got.status} for {path}")
    if digest.hexdigest() != want:
        return replace(base, status=REJECTED, reason=f"serves other bytes for {name} than {source}")
    return replace(
        base,
        status=VERIFIED,
        reason=f"{name} ({size(received)}) matches {source}, {elapsed:.0f} ms",
    )
