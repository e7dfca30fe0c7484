"""Vet the probe's candidates before one is chosen: the project's pins first (``require``),
then the bytes of one small file. Best first; the first that passes both is the choice.

A fresh, valid index page says nothing about the versions a lock pins (mirrors lag, some
skip very large projects) nor about the files behind its links (a 404, a bounce to plain
http, other bytes). Both are checked here, under the probe's deadline, on as few mirrors as
it takes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pypi_switch.config import MirrorEntry
from pypi_switch.lockfiles import Needs
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.filecheck import FileCheck, FilePages, check_file
from pypi_switch.net.requirements import RequirementCheck
from pypi_switch.net.transport import Transport
from pypi_switch.rank import Ranked
from pypi_switch.require import Coverage, missing_everywhere, select

__all__ = ["SHOWN_MISSING", "Vetting", "anyway", "combined", "vet"]

# How many pins no mirror has the one-line error names before "(+N more)".
SHOWN_MISSING = 5


@dataclass(frozen=True)
class Vetting:
    required: Needs | None  # the pins a mirror had to have (None: nothing was required)
    set_aside: tuple[str, ...]  # pins from other indexes, not asked of a PyPI mirror
    coverages: tuple[Coverage, ...]  # each candidate against ``required``, best first
    missing: tuple[str, ...]  # pins that no fully checked mirror has
    files: tuple[FileCheck, ...]  # each mirror whose file was checked, in that order
    chosen: Ranked | None
    despite_gaps: bool  # chosen by --allow-missing although it lacks pins
    allow_missing: bool
    elapsed_s: float

    @property
    def judged(self) -> set[str]:
        """The URLs of the mirrors judged here, whatever the verdict."""
        return {c.url for c in self.coverages if c.status != "not checked"} | {
            f.url for f in self.files
        }

    @property
    def file_check(self) -> FileCheck | None:
        """The chosen mirror's file check, if its bytes were checked."""
        if self.chosen is None:
            return None
        return next((f for f in self.files if f.url == self.chosen.result.url), None)

    def failure(self, *, hints: bool = True) -> str:
        """Why no mirror may be chosen, in one line (when ``chosen`` is None).

        ``hints``: end with what the command line can do about it.
        """
        core, hint = self._failure()
        return f"{core}; nothing changed{f' ({hint})' if hint else ''}" if hints else core

    def _failure(self) -> tuple[str, str]:
        bad_bytes = "; ".join(f"{f.name}: {f.reason}" for f in self.files if f.rejected)
        if not self.files and not self.coverages:
            return "no mirror may be chosen", ""
        if self.required is None or any(c.passed for c in self.coverages) or self.allow_missing:
            return f"no mirror serves the right bytes: {bad_bytes}", ""
        anyway = "--allow-missing switches to the best anyway"
        if self.missing:
            more = len(self.missing) - SHOWN_MISSING
            names = ", ".join(self.missing[:SHOWN_MISSING])
            tail = f" (+{more} more)" if more > 0 else ""
            return f"no mirror has every pin: none has {names}{tail}", anyway
        checked = [c for c in self.coverages if c.status != "not checked"]
        if checked and all(c.status == "incomplete" for c in checked):
            c = checked[0]
            return (
                "no mirror could be checked against the required pins in time "
                f"({c.checked} of {c.total} projects on {c.name})",
                "a longer --timeout may help",
            )
        told = "; ".join(f"{c.name}: {c.reason}" for c in checked[:3])
        return f"no mirror has every pin: {told}", anyway


def vet(
    candidates: Sequence[Ranked],
    *,
    needs: Needs | None,
    pages: FilePages | None,
    upstream: str | None,
    upstream_valid: bool,
    deadline: Deadline,
    transport: Transport,
    pypi_like: Callable[[str], bool],
) -> Vetting:
    """The first candidate (best first) that has every pin and serves the right bytes."""
    start = time.monotonic()
    files: list[FileCheck] = []
    bytes_ok = _bytes_check(files, pages, upstream, upstream_valid, deadline, transport)
    chosen: Ranked | None = None
    required, aside = select(needs, pypi_like=pypi_like) if needs else (None, ())
    coverages: tuple[Coverage, ...] = ()
    if required:
        check = RequirementCheck(
            [_entry(r) for r in candidates], required, deadline=deadline, transport=transport
        )
        for i in check.passing():
            if bytes_ok(candidates[i]):
                chosen = candidates[i]
                break
        coverages = check.coverages()
    else:
        chosen = next((r for r in candidates if bytes_ok(r)), None)
    return Vetting(
        required=required or None,
        set_aside=aside,
        coverages=coverages,
        missing=missing_everywhere(coverages),
        files=tuple(files),
        chosen=chosen,
        despite_gaps=False,
        allow_missing=False,
        elapsed_s=time.monotonic() - start,
    )


def anyway(
    vetting: Vetting,
    candidates: Sequence[Ranked],
    *,
    pages: FilePages | None,
    upstream: str | None,
    upstream_valid: bool,
    deadline: Deadline,
    transport: Transport,
) -> Vetting:
    """--allow-missing: no mirror has every pin, so the best one whose bytes are right."""
    start = time.monotonic()
    files = list(vetting.files)
    bytes_ok = _bytes_check(files, pages, upstream, upstream_valid, deadline, transport)
    tried = {f.url for f in files}
    chosen = next((r for r in candidates if r.result.url not in tried and bytes_ok(r)), None)
    return dataclasses.replace(
        vetting,
        files=tuple(files),
        chosen=chosen,
        despite_gaps=chosen is not None,
        allow_missing=True,
        elapsed_s=vetting.elapsed_s + time.monotonic() - start,
    )


def _bytes_check(
    files: list[FileCheck],
    pages: FilePages | None,
    upstream: str | None,
    upstream_valid: bool,
    deadline: Deadline,
    transport: Transport,
) -> Callable[[Ranked], bool]:
    """Check one candidate's bytes (recorded in ``files``): not rejected, or nothing to check."""

    def bytes_ok(r: Ranked) -> bool:
        if pages is None:
            return True
        checked = check_file(
            _entry(r),
            pages,
            upstream=upstream,
            wait_for_upstream=upstream_valid,
            deadline=deadline,
            transport=transport,
        )
        files.append(checked)
        return not checked.rejected

    return bytes_ok


def combined(first: Vetting, then: Vetting) -> Vetting:
    """Two rounds of vetting as one: the second judged the mirrors the first could not."""
    coverages = first.coverages + then.coverages
    return Vetting(
        required=first.required,
        set_aside=first.set_aside,
        coverages=coverages,
        missing=missing_everywhere(coverages),
        files=first.files + then.files,
        chosen=then.chosen,
        despite_gaps=then.despite_gaps,
        allow_missing=first.allow_missing,
        elapsed_s=first.elapsed_s + then.elapsed_s,
    )


def _entry(r: Ranked) -> MirrorEntry:
    return MirrorEntry(name=r.result.name, url=r.result.url, source="probe")
