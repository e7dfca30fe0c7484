"""The file-canary pages are asked only where they can matter: upstream at once, the
mirrors the caller wants, and more only when a wait needs them (a thousand mirrors must
not cost a thousand more requests)."""

from __future__ import annotations

from contextlib import ExitStack

from pypi_switch.config import MirrorEntry
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.filecheck import VOTERS, FilePages
from pypi_switch.net.pages import ProjectPage
from pypi_switch.net.transport import Transport
from pypi_switch.net.trust import Trust
from tests.support import hostile
from tests.support.hostile import Server

PAGE = hostile.simple_html({"six-1.17.0-py2.py3-none-any.whl": "a" * 64})


def test_only_wanted_pages_are_asked_and_waits_ask_a_few_more() -> None:
    with ExitStack() as stack:
        servers = [stack.enter_context(Server(hostile.static(200, PAGE))) for _ in range(8)]
        entries = [MirrorEntry(name=f"m{i}", url=s.index_url) for i, s in enumerate(servers)]
        upstream, mirrors = entries[0], entries[1:]
        pages = FilePages(
            entries,
            "six",
            deadline=Deadline.after(10),
            transport=Transport(Trust.from_environ({})),
            eager=[upstream],
        )
        try:
            pages.want(mirrors[0].url)
            assert isinstance(pages.page(mirrors[0].url), ProjectPage)
            assert isinstance(pages.page(upstream.url), ProjectPage)
            assert [s.hits for s in servers] == [1, 1, 0, 0, 0, 0, 0, 0]
            # A page nobody wanted yet is asked when waited for.
            assert isinstance(pages.page(mirrors[5].url), ProjectPage)
            assert servers[6].hits == 1 and sum(s.hits for s in servers) == 3

            # Voters: a wait that needs more pages than were asked asks the next few.
            def heard(got: dict[str, ProjectPage | str]) -> bool:
                return sum(isinstance(p, ProjectPage) for p in got.values()) >= 6

            pages.wait_until(heard)
            assert sum(isinstance(p, ProjectPage) for p in pages.arrived().values()) >= 6
            assert sum(s.hits for s in servers) <= 6 + VOTERS
            assert all(s.hits <= 1 for s in servers)
        finally:
            pages.close()
