"""The requirement check's scheduling, against servers that count what they are asked:
best candidate first, a bounded number of requests in flight, one deadline, and a stop as
soon as the answer is known. Also the file check's parts that need no command line."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from pypi_switch.config import MirrorEntry
from pypi_switch.lockfiles import Needs, Pin
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.filecheck import consensus, smallest
from pypi_switch.net.pages import DistFile, ProjectPage, parse_page
from pypi_switch.net.requirements import RequirementCheck
from pypi_switch.net.transport import Transport
from tests.support.hostile import Server, simple_json
from tests.support.indexes import FileIndex
from tests.support.wheels import build_wheel

NAMES = [f"p{i:02d}" for i in range(12)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("wheels")
    for name in NAMES:
        build_wheel(folder, name, "1.0")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def needs(names: list[str] = NAMES) -> Needs:
    return Needs(pins=tuple(Pin(n, "1.0") for n in names))


def entry(server: Server, name: str) -> MirrorEntry:
    return MirrorEntry(name=name, url=server.index_url)


def pages_asked(index: FileIndex) -> int:
    return sum(1 for p in index.requests if p.startswith("/simple/"))


@pytest.fixture
def transport() -> Iterator[Transport]:
    yield Transport()


def test_requests_in_flight_never_exceed_the_limit(
    files: dict[str, bytes], transport: Transport
) -> None:
    index = FileIndex(files, delay=0.05)
    with Server(index) as srv:
        check = RequirementCheck(
            [entry(srv, "a")], needs(), deadline=Deadline.after(10), transport=transport, limit=3
        )
        assert list(check.passing()) == [0]
    assert pages_asked(index) == len(NAMES)
    assert index.max_in_flight == 3


def test_once_the_best_has_everything_the_next_is_not_asked_on(
    files: dict[str, bytes], transport: Transport
) -> None:
    first, second = FileIndex(files, delay=0.02), FileIndex(files, delay=0.02)
    with Server(first) as a, Server(second) as b:
        check = RequirementCheck(
            [entry(a, "a"), entry(b, "b")],
            needs(),
            deadline=Deadline.after(10),
            transport=transport,
            limit=2,
        )
        found = check.passing()
        assert next(found) == 0
        time.sleep(0.3)  # a page asked just before the verdict lands meanwhile
        asked = pages_asked(second)
        time.sleep(0.3)
        # While the caller looks at the one that passed (its file check), nothing is asked.
        assert pages_asked(second) == asked
        coverages = check.coverages()
    assert pages_asked(first) == len(NAMES)
    # Only a worker with nothing of the first left to ask went on to the next one.
    assert asked < len(NAMES)
    assert [c.status for c in coverages] == ["passed", "not checked"]


def test_a_mirror_lacking_a_pin_is_passed_over_and_still_listed_in_full(
    files: dict[str, bytes], transport: Transport
) -> None:
    lacking = FileIndex({k: v for k, v in files.items() if not k.startswith(("p03", "p07"))})
    with Server(lacking) as a, Server(FileIndex(files)) as b:
        check = RequirementCheck(
            [entry(a, "a"), entry(b, "b")],
            needs(),
            deadline=Deadline.after(10),
            transport=transport,
        )
        assert list(check.passing()) == [1]
        a_cov, b_cov = check.coverages()
    assert (a_cov.status, a_cov.reason) == ("rejected", "lacks p03==1.0, p07==1.0")
    assert b_cov.passed


def test_when_none_passes_every_list_is_completed(
    files: dict[str, bytes], transport: Transport
) -> None:
    one = FileIndex({k: v for k, v in files.items() if not k.startswith(("p01", "p05"))})
    two = FileIndex({k: v for k, v in files.items() if not k.startswith(("p05", "p09"))})
    with Server(one) as a, Server(two) as b:
        check = RequirementCheck(
            [entry(a, "a"), entry(b, "b")],
            needs(),
            deadline=Deadline.after(10),
            transport=transport,
            limit=2,
        )
        assert list(check.passing()) == []
        coverages = check.coverages()
    assert [c.reason for c in coverages] == [
        "lacks p01==1.0, p05==1.0",
        "lacks p05==1.0, p09==1.0",
    ]
    assert all(c.checked == c.total == len(NAMES) for c in coverages)


def test_pages_that_do_not_come_in_time_leave_the_mirror_unjudged(
    files: dict[str, bytes], transport: Transport
) -> None:
    with Server(FileIndex(files, slow=["p04"])) as srv:
        check = RequirementCheck(
            [entry(srv, "a")], needs(), deadline=Deadline.after(2.0), transport=transport
        )
        assert list(check.passing()) == []
        (coverage,) = check.coverages()
    # Neither passed nor rejected: what came in time is all that is known.
    assert coverage.status == "incomplete"
    assert re.fullmatch(rf"not checked in time: (\d+) of {len(NAMES)} projects", coverage.reason)
    assert coverage.checked < len(NAMES) and not coverage.gaps


def test_a_page_that_cannot_be_read_rejects_with_the_status(
    files: dict[str, bytes], transport: Transport
) -> None:
    with Server(FileIndex(files, broken={"p02": 503})) as srv:
        check = RequirementCheck(
            [entry(srv, "a")], needs(), deadline=Deadline.after(10), transport=transport
        )
        assert list(check.passing()) == []
        (coverage,) = check.coverages()
    assert coverage.reason == "cannot read the page of p02: 503 for /simple/p02/"


def test_a_bare_name_needs_the_project_only(files: dict[str, bytes], transport: Transport) -> None:
    with Server(FileIndex(files)) as srv:
        wanted = Needs(names=("p00", "nothere"))
        check = RequirementCheck(
            [entry(srv, "a")], wanted, deadline=Deadline.after(10), transport=transport
        )
        assert list(check.passing()) == []
        (coverage,) = check.coverages()
    assert coverage.reason == "lacks nothere"


# -- the file check's parts ---------------------------------------------------------------------


def page(*files: tuple[str, str | None, int | None]) -> ProjectPage:
    return ProjectPage(
        "six",
        "json",
        None,
        tuple(DistFile(name, f"https://m/{name}", sha, "1.0", size) for name, sha, size in files),
    )


WHEEL, SDIST = "six-1.0-py2.py3-none-any.whl", "six-1.0.tar.gz"


def test_the_smallest_file_is_taken_by_size_else_a_pure_python_wheel() -> None:
    sized = page((SDIST, "a" * 64, 900), (WHEEL, "b" * 64, 11_000))
    assert smallest(sized, {}) == sized.files[0]
    unsized = page((SDIST, "a" * 64, None), (WHEEL, "b" * 64, None))
    assert smallest(unsized, {}) == unsized.files[1]
    assert smallest(unsized, {SDIST: 10}) == unsized.files[0]  # a size another page gave
    assert smallest(page((WHEEL, None, 5)), {}) is None  # nothing to check it against


def test_json_pages_give_file_sizes() -> None:
    body = simple_json({WHEEL: "a" * 64}, name="six").replace(
        b'"hashes"', b'"size": 11053, "hashes"'
    )
    parsed = parse_page(
        body,
        content_type="application/vnd.pypi.simple.v1+json",
        url="https://m/simple/six/",
        project="six",
    )
    assert parsed.files[0].size == 11053


def test_consensus_upstream_first_else_the_majority_else_none() -> None:
    a, b = "a" * 64, "b" * 64
    upstream = page((WHEEL, a, None))
    assert consensus(WHEEL, upstream, [page((WHEEL, b, None))]) == (a, "upstream")
    assert consensus(WHEEL, None, [page((WHEEL, b, None))] * 2 + [page((WHEEL, a, None))]) == (
        b,
        "2 mirrors",
    )
    assert consensus(WHEEL, None, [page((WHEEL, b, None)), page((WHEEL, a, None))]) == (
        None,
        "the mirrors disagree, with no majority",
    )
    assert consensus(WHEEL, None, [page((WHEEL, b, None))]) == (
        b,
        "this mirror's own listing (no other source)",
    )
    assert consensus(WHEEL, None, [page((SDIST, b, None))]) == (None, "no source lists it")
