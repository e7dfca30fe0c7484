"""The restore transaction: the original files back, byte for byte.

A file untouched since the switch gets its pristine bytes back (or is removed again if it
did not exist); a file the user edited since keeps their edits and loses only the options
pypi-switch set (``--force``: the pristine bytes anyway). A record, and the backup it
holds, is dropped only once its file is verified to be what restore meant to leave.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pypi_switch import interrupts
from pypi_switch.diff import unified_diff
from pypi_switch.edit import (
    FileChanged,
    FileState,
    atomic_write,
    decode,
    encode,
    read_state,
    remove_dirs,
    remove_file,
    resolve,
)
from pypi_switch.errors import SwitchError
from pypi_switch.journal import FileRecord, Journal, StateStore, settle
from pypi_switch.switch import LOCK_WAIT, PLAN_TRIES
from pypi_switch.targets import choose_targets, registry
from pypi_switch.targets.base import Context, FileSpec, ParseError
from pypi_switch.traces import LockTrace, context_dirs, holding
from pypi_switch.urls import redact

__all__ = ["RestoreAction", "RestoreResult", "RestoredFile", "restore"]

RestoreAction = Literal["restored", "removed", "reverted-options", "unchanged", "missing"]


@dataclass(frozen=True)
class RestoredFile:
    target: str
    path: Path
    action: RestoreAction
    before: str = field(repr=False)  # the text found
    after: str = field(repr=False)  # the text restore leaves (or a dry run would)

    @functools.cached_property
    def diff(self) -> str:
        """Made when shown (a dry run): on a big file it costs more than the restore."""
        return unified_diff(self.path, self.before, self.after)


@dataclass(frozen=True)
class RestoreResult:
    files: tuple[RestoredFile, ...]
    dry_run: bool
    mirror: str | None
    # Lock files that still name the mirror, with the command that re-locks each.
    traces: tuple[LockTrace, ...] = ()

    @property
    def nothing_to_restore(self) -> bool:
        return not self.files

    @property
    def kept_edits(self) -> tuple[Path, ...]:
        return tuple(f.path for f in self.files if f.action in ("reverted-options", "missing"))


@dataclass(frozen=True)
class _Step:
    """What restoring one file means: the result to report, the bytes to leave (None:
    no file), and whether anything is to be written at all."""

    done: RestoredFile
    state: FileState
    after: bytes | None
    mode: int | None
    write: bool


def restore(
    ctx: Context,
    *,
    targets: Sequence[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    lock_timeout: float = LOCK_WAIT,
) -> RestoreResult:
    if targets:
        choose_targets(ctx, targets)  # validates the names
    store = StateStore(ctx.paths.state_dir)
    if not (store.journal_path.exists() or (not dry_run and store.dir.is_dir())):
        return RestoreResult((), dry_run, None)
    # Even with nothing to restore, the lock is taken: a killed run's leftovers go then.
    lock = contextlib.nullcontext() if dry_run else store.lock(timeout=lock_timeout)
    with lock:
        journal = store.load()
        if not dry_run:
            settle(journal, store)
        mirror = journal.mirror
        selected = [r for r in journal.files if not targets or r.target in targets]
        if dry_run:
            done = [_plan(record, store, force=force).done for record in selected]
        else:
            done = _restore_all(journal, selected, store, force=force)
    traces = holding(context_dirs(ctx), mirror) if mirror else []
    return RestoreResult(tuple(done), dry_run, mirror, tuple(traces))


def _restore_all(
    journal: Journal, selected: list[FileRecord], store: StateStore, *, force: bool
) -> list[RestoredFile]:
    """Plan every file (a file restore cannot read changes nothing at all), then write
    them in turn. The books are saved whatever happens, holding every record whose file
    is not verified back."""
    steps = [_plan(record, store, force=force) for record in selected]
    done: list[RestoredFile] = []
    with interrupts.held() as signals:
        try:
            for record, step in zip(selected, steps, strict=True):
                signals.check(_so_far(done))
                try:
                    step = _write_one(record, step, store, force=force)
                except SwitchError as exc:
                    raise SwitchError(f"{exc.message}; {_so_far(done)}") from None
                if step.done.action == "missing":
                    done.append(step.done)
                    continue  # kept, with its backup, for `restore --force`
                problem = _unverified(step, record)
                if problem is not None:
                    raise SwitchError(f"{record.path}: {problem}; {_so_far(done)}")
                done.append(step.done)
                journal.files.remove(record)
        finally:
            store.save(journal)
            store.drop_unused_backups(journal)
        signals.check(_so_far(done))
    return done


def _so_far(done: list[RestoredFile]) -> str:
    """The outcome of a run that stopped early, for its one line."""
    put_back = [str(f.path) for f in done if f.action in ("restored", "removed")]
    if not put_back:
        return "nothing was restored: run `pypi-switch restore` again"
    return f"restored {', '.join(put_back)}; run `pypi-switch restore` again for the rest"


def _write_one(record: FileRecord, step: _Step, store: StateStore, *, force: bool) -> _Step:
    """Write one file's step, planning again if another program writes it meanwhile."""
    for attempt in range(1, PLAN_TRIES + 1):
        try:
            _write(step, record)
            return step
        except FileChanged:
            if attempt == PLAN_TRIES:
                raise SwitchError(
                    f"{record.path} changed while restoring; it was left as it is"
                ) from None
            step = _plan(record, store, force=force)
    raise AssertionError("unreachable")


def _write(step: _Step, record: FileRecord) -> None:
    state = step.state
    if not step.write:
        if step.after is None and state.data is None:
            remove_dirs(record.created_dirs)  # a killed switch may have made them
        return
    if step.after is None:
        remove_file(state.real, expect=state)
        remove_dirs(record.created_dirs)
    else:
        assert step.mode is not None
        atomic_write(
            state.real, step.after, mode=step.mode, uid=record.uid, gid=record.gid, expect=state
        )


def _unverified(step: _Step, record: FileRecord) -> str | None:
    """What keeps the file from being what restore meant to leave there (and, for a file
    that did not exist, the empty folders made for it from being gone); None: nothing."""
    try:
        now = read_state(step.state.real).data
    except SwitchError as exc:
        return exc.message
    if now != step.after:
        return "it does not read back as restored"
    left = [d for d in record.created_dirs if _empty_dir(d)] if step.after is None else []
    if left:
        return f"the folder {left[-1]} made for it could not be removed"
    return None


def _empty_dir(path: str) -> bool:
    try:
        return not any(os.scandir(path))
    except OSError:
        return False


def _plan(record: FileRecord, store: StateStore, *, force: bool) -> _Step:
    # The file that was switched: a symlink re-pointed since does not make another file
    # the one to restore.
    real = Path(record.real)
    path = Path(record.path)
    if _points_elsewhere(path, real):
        path = real  # name the file restore works on, not the one the link shows now
    state = read_state(real)
    current = state.sha256
    written = record.written.sha256 if record.written else None
    text = decode(state.data, path)

    def step(action: RestoreAction, new: bytes | None, *, mode: int | None = None) -> _Step:
        done = RestoredFile(record.target, path, action, text, decode(new, path))
        return _Step(done, state, new, mode, write=new != state.data)

    if current == record.original_sha256:
        return step("unchanged", state.data)
    if state.data is None and not force:
        return step("missing", None)  # the user deleted it since: theirs to decide
    if (current == written and not record.user_edited) or force:
        pristine = store.backup(record)
        mode = record.mode if record.mode is not None else 0o644
        return step("removed" if pristine is None else "restored", pristine, mode=mode)
    # Edited by the user after the switch: undo only what pypi-switch set.
    target = registry().get(record.target)
    if target is None or record.written is None:
        return step("missing", state.data)
    try:
        new_text = target.revert(FileSpec(path), text, record.written.changes)
    except ParseError as exc:
        raise SwitchError(
            f"{path}: {exc} (fix it, or use --force to restore the original)"
        ) from None
    after = encode(new_text, state.data)
    return step("reverted-options", after, mode=_reverted_mode(record, state, new_text))


def _points_elsewhere(path: Path, real: Path) -> bool:
    try:
        return resolve(path) != real
    except SwitchError:
        return True


def _reverted_mode(record: FileRecord, state: FileState, new_text: str) -> int:
    """The file's mode now, or the original one back if the switch only tightened it for
    credentials that are gone again."""
    assert state.mode is not None
    original = record.mode
    if original is None or original == state.mode or redact(new_text) != new_text:
        return state.mode
    return original if state.mode == original & 0o700 else state.mode
