"""Lock files that name the mirror, as use-mirror, restore and status show them."""

from __future__ import annotations

from pypi_switch.paths import Paths
from pypi_switch.traces import LockTrace

__all__ = ["traces_json", "traces_text"]


def traces_json(traces: tuple[LockTrace, ...]) -> list[dict[str, str]]:
    return [{"path": str(t.path), "relock": t.relock} for t in traces]


def traces_text(traces: tuple[LockTrace, ...], head: str) -> list[str]:
    """``head``, then each lock file with the command that re-locks it, and where to run it."""
    if not traces:
        return []
    paths = Paths.from_environ()
    lines = [head]
    for t in traces:
        lines.append(f"  {paths.show(t.path)}: in {paths.show(t.path.parent)} run {t.relock}")
    return lines
