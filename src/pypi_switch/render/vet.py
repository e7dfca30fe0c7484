"""Showing a vetting: which mirrors have the project's pins, and whose bytes were checked.

Plain text and JSON: the output sink hides credentials and escapes control characters;
lock-file text and server-given file names are shown as data, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pypi_switch.require import LACKS, NO_HASH, SHA256, UNREADABLE, Coverage

if TYPE_CHECKING:  # the network stack: not needed to show its results
    from pypi_switch.net.filecheck import FileCheck
    from pypi_switch.vet import Vetting

__all__ = ["coverage_json", "file_json", "vetting_json", "vetting_lines"]


def _ms(value: float | None) -> str:
    return "" if value is None else f", {value:.0f} ms"


def vetting_lines(v: Vetting) -> list[str]:
    """A few plain lines: the pins, each mirror checked for them, the bytes."""
    lines: list[str] = []
    if v.required is not None:
        r = v.required
        what = f"{len(r.pins)} pins" + (f" and {len(r.names)} names" if r.names else "")
        sources = ", ".join(str(p) for p in r.sources)
        lines.append(f"required: {what} from {sources}")
        if v.set_aside:
            lines.append(f"  not asked of a PyPI mirror: {', '.join(v.set_aside)}")
        for c in v.coverages:
            if c.status != "not checked":
                lines.append(f"  {c.name}: {c.reason}{_ms(c.elapsed_ms)}")
        if v.missing:
            lines.append(f"  no mirror has: {', '.join(v.missing)}")
        if v.despite_gaps and v.chosen is not None:
            lines.append(f"  --allow-missing: {v.chosen.result.name} chosen all the same")
    for f in v.files:
        lines.append(f"bytes from {f.name}: {f.reason}")
    return lines


def vetting_json(v: Vetting) -> dict[str, Any]:
    """The keys are a contract for scripts; every gap is listed, not just the first few."""
    required = None
    if v.required is not None:
        required = {
            "files": [str(p) for p in v.required.sources],
            "pins": [p.label for p in v.required.pins],
            "names": list(v.required.names),
            "not_from_an_index": [s for s in v.required.skipped],
            "set_aside": [s for s in v.set_aside],
            "mirrors": [coverage_json(c) for c in v.coverages],
            "missing_everywhere": list(v.missing),
        }
    return {
        "chosen": v.chosen.result.name if v.chosen is not None else None,
        "despite_gaps": v.despite_gaps,
        "require": required,
        "file_check": [file_json(f) for f in v.files],
        "elapsed_ms": round(v.elapsed_s * 1000, 1),
    }


def coverage_json(c: Coverage) -> dict[str, Any]:
    def kind(k: str) -> list[str]:
        return [g.label for g in c.gaps if g.kind == k]

    return {
        "name": c.name,
        "url": c.url,
        "status": c.status,
        "reason": c.reason,
        "lacks": kind(LACKS),
        "sha256_differs": [{"pin": g.label, "file": g.detail} for g in c.gaps if g.kind == SHA256],
        "no_allowed_hash": kind(NO_HASH),
        "unreadable": [
            {"project": g.label, "reason": g.detail} for g in c.gaps if g.kind == UNREADABLE
        ],
        "checked": c.checked,
        "total": c.total,
        "elapsed_ms": None if c.elapsed_ms is None else round(c.elapsed_ms, 1),
    }


def file_json(f: FileCheck) -> dict[str, Any]:
    return {
        "name": f.name,
        "url": f.url,
        "status": f.status,
        "reason": f.reason,
        "file": f.filename,
        "size": f.size,
        "elapsed_ms": None if f.elapsed_ms is None else round(f.elapsed_ms, 1),
    }
