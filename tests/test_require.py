"""Judging one mirror's pages against what the project needs: gaps, and the words for them."""

from __future__ import annotations

import pytest

from pypi_switch.lockfiles import Needs, Pin
from pypi_switch.require import (
    LACKS,
    NO_HASH,
    SHA256,
    UNREADABLE,
    Coverage,
    Gap,
    Listed,
    judge_project,
    missing_everywhere,
    reason,
    select,
)
from pypi_switch.urls import is_pypi

A = "a" * 64
B = "b" * 64
WHEEL = "alpha-1.0-py3-none-any.whl"
SDIST = "alpha-1.0.tar.gz"


def listed(*files: tuple[str, str | None, str | None]) -> list[Listed]:
    return [Listed(name, version, sha) for name, version, sha in files]


def test_a_project_the_mirror_does_not_have_lacks_every_pin_of_it() -> None:
    pins = [Pin("alpha", "1.0"), Pin("alpha", "2.0")]
    assert judge_project("alpha", pins, must_exist=False, listed=None) == [
        Gap(LACKS, "alpha==1.0"),
        Gap(LACKS, "alpha==2.0"),
    ]
    assert judge_project("gamma", [], must_exist=True, listed=None) == [Gap(LACKS, "gamma")]


def test_a_pinned_version_must_have_a_file_compared_as_a_version() -> None:
    page = listed((WHEEL, "1.0", A), ("alpha-1.1.tar.gz", "1.1", B))
    assert judge_project("alpha", [Pin("alpha", "1.0.0")], must_exist=False, listed=page) == []
    assert judge_project("alpha", [Pin("alpha", "1.2")], must_exist=False, listed=page) == [
        Gap(LACKS, "alpha==1.2")
    ]
    # A bare name is satisfied by any file at all.
    assert judge_project("alpha", [], must_exist=True, listed=page) == []


def test_a_file_the_lock_names_must_be_listed_with_the_same_sha256() -> None:
    pin = Pin("alpha", "1.0", files={WHEEL: A, SDIST: B})
    assert (
        judge_project(
            "alpha", [pin], must_exist=False, listed=listed((WHEEL, "1.0", A), (SDIST, "1.0", B))
        )
        == []
    )
    # A file the mirror does not list is no gap: the version still has a file.
    assert judge_project("alpha", [pin], must_exist=False, listed=listed((WHEEL, "1.0", A))) == []
    assert judge_project(
        "alpha", [pin], must_exist=False, listed=listed((WHEEL, "1.0", B), (SDIST, "1.0", None))
    ) == [Gap(SHA256, "alpha==1.0", WHEEL), Gap(SHA256, "alpha==1.0", SDIST)]


def test_hashes_without_names_need_one_listed_file_that_matches() -> None:
    pin = Pin("alpha", "1.0", hashes=frozenset({A}))
    both = listed((WHEEL, "1.0", B), (SDIST, "1.0", A))
    assert judge_project("alpha", [pin], must_exist=False, listed=both) == []
    assert judge_project("alpha", [pin], must_exist=False, listed=listed((WHEEL, "1.0", B))) == [
        Gap(NO_HASH, "alpha==1.0")
    ]


def test_the_reason_names_the_first_two_gaps_of_each_kind() -> None:
    lacks = [
        Gap(LACKS, label) for label in ("numpy==2.3.1", "torch==2.9.0", "a==1", "b==2", "c==3")
    ]
    assert reason(lacks) == "lacks numpy==2.3.1, torch==2.9.0 (+3 more)"
    assert reason(lacks[:2]) == "lacks numpy==2.3.1, torch==2.9.0"
    mixed = [
        Gap(UNREADABLE, "idna", "503 for /simple/idna/"),
        Gap(UNREADABLE, "six", "connection reset by 127.0.0.1"),
        Gap(SHA256, "alpha==1.0", WHEEL),
        Gap(NO_HASH, "beta==2.0"),
        lacks[0],
    ]
    assert reason(mixed) == (
        "lacks numpy==2.3.1; sha256 differs from the lock for alpha-1.0-py3-none-any.whl; "
        "no file of beta==2.0 has a sha256 the lock allows; "
        "cannot read the page of idna: 503 for /simple/idna/ (+1 more)"
    )


@pytest.mark.parametrize(
    ("status", "gaps", "checked", "expected"),
    [
        ("passed", (), 200, "has every pin (200 projects checked)"),
        ("not checked", (), 0, "not checked: a better mirror has every pin"),
        ("rejected", (Gap(LACKS, "a==1"),), 200, "lacks a==1"),
        ("incomplete", (), 120, "not checked in time: 120 of 200 projects"),
        (
            "incomplete",
            (Gap(LACKS, "a==1"),),
            120,
            "lacks a==1; not checked in time: 120 of 200 projects",
        ),
    ],
)
def test_coverage_reasons(status: str, gaps: tuple[Gap, ...], checked: int, expected: str) -> None:
    coverage = Coverage("m", "http://m/simple/", status, gaps, checked, 200)
    assert coverage.reason == expected


def test_pins_no_fully_checked_mirror_has() -> None:
    def rejected(*labels: str, checked: int = 3) -> Coverage:
        gaps = tuple(Gap(LACKS, label) for label in labels)
        return Coverage("m", "u", "rejected", gaps, checked, 3)

    assert missing_everywhere([rejected("a==1", "b==2"), rejected("b==2", "c==3")]) == ("b==2",)
    # A mirror not fully read says nothing about what it lacks.
    assert missing_everywhere([rejected("a==1"), rejected(checked=1)]) == ("a==1",)
    assert missing_everywhere([rejected(checked=1)]) == ()


def test_pins_from_another_index_are_set_aside_when_the_lock_also_uses_pypi() -> None:
    torch = Pin("torch", "2.9.0+cpu", index="https://download.pytorch.org/whl/cpu")
    six = Pin("six", "1.17.0", index="https://pypi.org/simple")
    bare = Pin("idna", "3.10")
    kept, aside = select(Needs((bare, six, torch), ("attrs",)), pypi_like=is_pypi)
    assert kept.pins == (bare, six) and kept.names == ("attrs",)
    assert aside == ("torch==2.9.0+cpu (from download.pytorch.org)",)


def test_a_lock_made_against_one_unknown_index_is_checked_whole() -> None:
    corp = Pin("six", "1.17.0", index="https://corp.example/simple")
    kept, aside = select(Needs((corp,)), pypi_like=is_pypi)
    assert kept.pins == (corp,) and aside == ()
