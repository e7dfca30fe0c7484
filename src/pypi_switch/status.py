"""What is switched, where, and what pip really uses: read-only and fast.

Imports nothing of the network or page-parsing stack: people in a hurry and scripts run it.
"What pip really uses" is computed the way pip layers its configuration (``effective_index``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pypi_switch.edit import decode, read_state, resolve
from pypi_switch.errors import SwitchError
from pypi_switch.journal import Journal, Mode, StateStore, as_found
from pypi_switch.targets import all_warnings, choose_targets, registry
from pypi_switch.targets.base import Context, FileSpec, ParseError, Target
from pypi_switch.targets.ini import bom_warning
from pypi_switch.targets.pip import INDEX, option_from_files, pip_layers
from pypi_switch.traces import LockTrace, context_dirs, holding
from pypi_switch.urls import same_index

__all__ = ["EffectiveIndex", "Status", "TargetStatus", "effective_index", "pip_verdict", "status"]

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
    # While switched: lock files that name the mirror, with the command that re-locks each.
    traces: tuple[LockTrace, ...] = ()


def status(ctx: Context) -> Status:
    found = StateStore(ctx.paths.state_dir).load()
    journal = as_found(found)  # what the files say, even after a run that was killed
    targets = list(choose_targets(ctx, None))
    for record in journal.files:  # a target switched earlier is shown even if not chosen now
        target = registry().get(record.target)
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
    shown = {_real(r.path) for r in rows}
    for record in journal.files:  # a file switched from elsewhere (--project): shown too
        if record.written is None or Path(record.real) in shown:
            continue
        target = registry().get(record.target)
        if target is not None:
            rows.append(_row(target, FileSpec(Path(record.path)), journal, warnings))
    pip = effective_index(ctx)
    pip_switched = any(r.target == "pip" and r.written for r in journal.files)
    verdict = pip_verdict(ctx, journal.mirror) if pip_switched and journal.mirror else None
    if verdict:
        warnings.append(verdict)
    warnings += all_warnings(ctx, targets)
    traces = holding(context_dirs(ctx), journal.mirror) if journal.active and journal.mirror else []
    return Status(
        switched=journal.active,
        mirror=journal.mirror if journal.active else None,
        since=journal.since if journal.active else None,
        mode=journal.mode if journal.active else None,
        interrupted=found.pending is not None,
        targets=tuple(rows),
        effective_pip_index=pip.url,
        effective_pip_source=pip.source,
        warnings=tuple(dict.fromkeys(warnings)),
        traces=tuple(traces),
    )


def _real(path: Path) -> Path:
    try:
        return resolve(path)
    except SwitchError:  # a symlink loop: its row says so already
        return path


def _row(target: Target, spec: FileSpec, journal: Journal, warnings: list[str]) -> TargetStatus:
    try:
        state = read_state(spec.path)
        index = target.current(spec, decode(state.data, spec.path)) if state.data else None
    except (SwitchError, ParseError) as exc:
        problem = exc.message if isinstance(exc, SwitchError) else f"{spec.path}: {exc}"
        warnings.append(problem)
        return TargetStatus(target.name, spec.path, spec.path.exists(), None, False, problem)
    rec = journal.record(state.real)
    ours = bool(rec and rec.written) and same_index(index, journal.mirror)
    return TargetStatus(target.name, spec.path, state.data is not None, index, ours)


def pip_verdict(ctx: Context, mirror: str) -> str | None:
    """The one line that says ``pip install`` will not use ``mirror``, or None if it will."""
    for layer in pip_layers(ctx):
        if bom_warning(ctx, layer.path, "pip"):  # pip stops at such a file: no index at all
            return (
                f"pip install does not use the mirror: pip cannot read "
                f"{ctx.paths.show(layer.path)} (it starts with a byte-order mark)"
            )
    pip = effective_index(ctx)
    if same_index(pip.url, mirror):
        return None
    return f"pip install does not use the mirror: {pip.source} decides ({pip.url})"


@dataclass(frozen=True)
class EffectiveIndex:
    url: str
    source: str  # where it comes from, in words


def effective_index(ctx: Context, command: str = "install") -> EffectiveIndex:
    """The index ``pip <command>`` uses, computed the way pip layers its configuration."""
    if ctx.environ.get("PIP_INDEX_URL"):
        return EffectiveIndex(ctx.environ["PIP_INDEX_URL"], "PIP_INDEX_URL")
    found = option_from_files(ctx, INDEX, command)
    return EffectiveIndex(*found) if found else EffectiveIndex(DEFAULT_INDEX, "pip's default")
