"""Does a mirror have what the project needs? Gaps from its pages, and the reasons in words.

Pure: what a mirror listed for each project in, the gaps and the words out. The pages are
fetched by ``net.requirements``; the files are read by ``lockfiles``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from pypi_switch.lockfiles import Needs, Pin
from pypi_switch.urls import host_of

__all__ = [
    "LACKS",
    "NO_HASH",
    "SHA256",
    "SHOWN",
    "UNREADABLE",
    "Coverage",
    "Gap",
    "Listed",
    "judge_project",
    "missing_everywhere",
    "pins_by_project",
    "reason",
    "select",
]

# Kinds of gap, in the order the reason tells them.
LACKS = "lacks"  # the version (or, for a bare name, the project) is not there
SHA256 = "sha256"  # a file the lock names is listed with another sha256
NO_HASH = "no-hash"  # none of the version's files has a sha256 the lock allows
UNREADABLE = "unreadable"  # the page could not be read: nothing can be said
_ORDER = (LACKS, SHA256, NO_HASH, UNREADABLE)

# How many gaps of a kind the one-line reason names before "(+N more)".
SHOWN = 2


@dataclass(frozen=True)
class Listed:
    """One file a mirror lists on a project page."""

    filename: str
    version: str | None
    sha256: str | None


@dataclass(frozen=True)
class Gap:
    kind: str
    label: str  # "numpy==2.3.1", or "numpy" for a name that must merely exist
    detail: str = ""  # the file name (SHA256), the failure (UNREADABLE)


@dataclass(frozen=True)
class Coverage:
    """One mirror held against the project's needs."""

    name: str
    url: str
    # "passed", "rejected", "incomplete" (the deadline came first) or "not checked"
    # (a better mirror passed before this one's turn).
    status: str
    gaps: tuple[Gap, ...]
    checked: int  # projects whose page was judged
    total: int  # projects to judge
    elapsed_ms: float | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def reason(self) -> str:
        if self.status == "passed":
            return f"has every pin ({self.total} projects checked)"
        if self.status == "not checked":
            return "not checked: a better mirror has every pin"
        told = reason(self.gaps)
        if self.status == "rejected" and self.checked < self.total:
            return f"{told} ({self.checked} of {self.total} projects checked)"
        if self.status == "incomplete":
            late = f"not checked in time: {self.checked} of {self.total} projects"
            return f"{told}; {late}" if told else late
        return told


def select(needs: Needs, *, pypi_like: Callable[[str], bool]) -> tuple[Needs, tuple[str, ...]]:
    """The part of ``needs`` a PyPI mirror must serve, and the pins set aside (labels).

    A lock may take some packages from another index (PyTorch's, a company's): no PyPI
    mirror serves those, and switching PyPI's mirror does not change where they come
    from. So when some pins come from PyPI or a known mirror of it (or say nothing of
    their index), pins from other indexes are set aside. When none does, the lock was made
    against an index we do not know, which is then the one being replaced: all count.
    """
    own = [p for p in needs.pins if p.index is None or pypi_like(p.index)]
    if not own:
        return needs, ()
    others = [p for p in needs.pins if p not in own]
    kept = Needs(tuple(own), needs.names, needs.skipped, needs.sources)
    return kept, tuple(f"{p.label} (from {host_of(p.index or '')})" for p in others)


def judge_project(
    project: str, pins: Sequence[Pin], *, must_exist: bool, listed: Sequence[Listed] | None
) -> list[Gap]:
    """The gaps for one project; ``listed`` None: the mirror does not have the project."""
    if listed is None:
        gaps = [Gap(LACKS, p.label) for p in pins]
        return gaps if pins or not must_exist else [Gap(LACKS, project)]
    gaps = []
    for pin in pins:
        wanted = _version(pin.version)
        files = [f for f in listed if f.version is not None and _version(f.version) == wanted]
        if not files:
            gaps.append(Gap(LACKS, pin.label))
            continue
        for f in files:
            recorded = pin.files.get(f.filename)
            if recorded is not None and f.sha256 != recorded:
                gaps.append(Gap(SHA256, pin.label, f.filename))
        if pin.hashes and not any(f.sha256 in pin.hashes for f in files):
            gaps.append(Gap(NO_HASH, pin.label))
    return gaps


def reason(gaps: Iterable[Gap], *, shown: int = SHOWN) -> str:
    """``lacks numpy==2.3.1, torch==2.9.0 (+3 more); sha256 differs from the lock for x.whl``."""
    by_kind: dict[str, list[Gap]] = {}
    for gap in gaps:
        by_kind.setdefault(gap.kind, []).append(gap)
    parts = []
    for kind in _ORDER:
        found = by_kind.get(kind, [])
        if not found:
            continue
        more = f" (+{len(found) - shown} more)" if len(found) > shown else ""
        if kind == LACKS:
            parts.append(f"lacks {', '.join(g.label for g in found[:shown])}{more}")
        elif kind == SHA256:
            files = ", ".join(g.detail for g in found[:shown])
            parts.append(f"sha256 differs from the lock for {files}{more}")
        elif kind == NO_HASH:
            labels = ", ".join(g.label for g in found[:shown])
            parts.append(f"no file of {labels}{more} has a sha256 the lock allows")
        else:
            first = found[0]
            others = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
            parts.append(f"cannot read the page of {first.label}: {first.detail}{others}")
    return "; ".join(parts)


def missing_everywhere(coverages: Sequence[Coverage]) -> tuple[str, ...]:
    """Pins that every fully checked mirror lacks (empty when none was fully checked)."""
    complete = [c for c in coverages if c.status == "rejected" and c.checked == c.total]
    if not complete:
        return ()
    lacking = [[g.label for g in c.gaps if g.kind == LACKS] for c in complete]
    common = set(lacking[0]).intersection(*lacking[1:])
    return tuple(label for label in lacking[0] if label in common)


def pins_by_project(needs: Needs) -> Mapping[str, list[Pin]]:
    out: dict[str, list[Pin]] = {name: [] for name in needs.projects}
    for pin in needs.pins:
        out[pin.name].append(pin)
    return out


def _version(spelled: str) -> Version | str:
    try:
        return Version(spelled)
    except InvalidVersion:
        return spelled
