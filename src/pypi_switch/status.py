"""What is switched, where, and what pip really uses: read-only and fast.

Imports nothing of the network or page-parsing stack: people in a hurry and scripts run it.
"What pip really uses" is computed the way pip layers its configuration (``effective_index``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pypi_switch.edit import decode, read_state
from pypi_switch.errors import SwitchError
from pypi_switch.journal import Mode, StateStore
from pypi_switch.targets import TARGETS, all_warnings, choose_targets
from pypi_switch.targets.base import Context, ParseError
from pypi_switch.targets.pip import is_index, option_from_files
from pypi_switch.urls import same_index

__all__ = ["EffectiveIndex", "Status", "TargetStatus", "effective_index", "status"]

DEFAULT_INDEX = "https://pypi.org/simple"


@dataclass(frozen=True)
class TargetStatus:
    name: str
    path: Path
    exists: bool
    index: str | None
    set_by_pypi_switch: bool
    problem: str | None = None


@dataclass(frozen=True)
class Status:
    switched: bool
    mirror: str | None
    since: str | None
    mode: Mode | None
    interrupted: bool
    targets: tuple[TargetStatus, ...]
    effective_pip_index: str
    effective_pip_source: str
    warnings: tuple[str, ...]


def status(ctx: Context) -> Status:
    journal = StateStore(ctx.paths.state_dir).load()
    targets = list(choose_targets(ctx, None))
    for record in journal.files:  # a target switched earlier is shown even if not chosen now
        target = TARGETS.get(record.target)
        if target is not None and target not in targets:
            targets.append(target)
    rows: list[TargetStatus] = []
    warnings: list[str] = []
    for target in targets:
        for spec in target.files(ctx):
            try:
                state = read_state(spec.path)
                index = target.current(spec, decode(state.data, spec.path)) if state.data else None
            except (SwitchError, ParseError) as exc:
                problem = exc.message if isinstance(exc, SwitchError) else f"{spec.path}: {exc}"
                rows.append(
                    TargetStatus(target.name, spec.path, spec.path.exists(), None, False, problem)
                )
                warnings.append(problem)
                continue
            if state.data is None and not spec.create:
                continue
            rec = journal.record(state.real)
            ours = bool(rec and rec.written) and same_index(index, journal.mirror)
            rows.append(TargetStatus(target.name, spec.path, state.data is not None, index, ours))
    pip = effective_index(ctx)
    pip_switched = any(r.target == "pip" and r.written for r in journal.files)
    if pip_switched and journal.mirror and not same_index(pip.url, journal.mirror):
        warnings.append(f"pip install does not use the mirror: {pip.source} decides ({pip.url})")
    warnings += all_warnings(ctx, targets)
    return Status(
        switched=journal.active,
        mirror=journal.mirror if journal.active else None,
        since=journal.since if journal.active else None,
        mode=journal.mode if journal.active else None,
        interrupted=journal.pending is not None,
        targets=tuple(rows),
        effective_pip_index=pip.url,
        effective_pip_source=pip.source,
        warnings=tuple(dict.fromkeys(warnings)),
    )


@dataclass(frozen=True)
class EffectiveIndex:
    url: str
    source: str  # where it comes from, in words


def effective_index(ctx: Context, command: str = "install") -> EffectiveIndex:
    """The index ``pip <command>`` uses, computed the way pip layers its configuration."""
    if ctx.environ.get("PIP_INDEX_URL"):
        return EffectiveIndex(ctx.environ["PIP_INDEX_URL"], "PIP_INDEX_URL")
    found = option_from_files(ctx, is_index, command)
    return EffectiveIndex(*found) if found else EffectiveIndex(DEFAULT_INDEX, "pip's default")
