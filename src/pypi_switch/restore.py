"""The restore transaction: the original files back, byte for byte.

A file untouched since the switch gets its pristine bytes back (or is removed again if it
did not exist); a file the user edited since keeps their edits and loses only the options
pypi-switch set (``--force``: the pristine bytes anyway).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pypi_switch.diff import unified_diff
from pypi_switch.edit import (
    atomic_write,
    decode,
    encode,
    read_state,
    remove_dirs,
    remove_file,
)
from pypi_switch.errors import SwitchError
from pypi_switch.journal import FileRecord, StateStore, settle
from pypi_switch.switch import LOCK_WAIT
from pypi_switch.targets import choose_targets, registry
from pypi_switch.targets.base import Context, FileSpec, ParseError
from pypi_switch.traces import LockTrace, context_dirs, holding

__all__ = ["RestoreAction", "RestoreResult", "RestoredFile", "restore"]

RestoreAction = Literal["restored", "removed", "reverted-options", "unchanged", "missing"]


@dataclass(frozen=True)
class RestoredFile:
    target: str
    path: Path
    action: RestoreAction
    diff: str


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
    if not store.journal_path.exists():
        return RestoreResult((), dry_run, None)
    lock = contextlib.nullcontext() if dry_run else store.lock(timeout=lock_timeout)
    with lock:
        journal = store.load()
        if not dry_run:
            settle(journal, store)
        mirror = journal.mirror
        selected = [r for r in journal.files if not targets or r.target in targets]
        done: list[RestoredFile] = []
        try:
            for record in selected:
                done.append(_restore_one(record, store, dry_run=dry_run, force=force))
                if not dry_run:
                    journal.files.remove(record)
        finally:
            if not dry_run:
                store.save(journal)
                store.drop_unused_backups(journal)
    traces = holding(context_dirs(ctx), mirror) if mirror else []
    return RestoreResult(tuple(done), dry_run, mirror, tuple(traces))


def _restore_one(
    record: FileRecord, store: StateStore, *, dry_run: bool, force: bool
) -> RestoredFile:
    path = Path(record.path)
    state = read_state(path)
    current = state.sha256
    written = record.written.sha256 if record.written else None
    text = decode(state.data, path)

    def result(action: RestoreAction, new: bytes | None) -> RestoredFile:
        return RestoredFile(
            record.target, path, action, unified_diff(path, text, decode(new, path))
        )

    if current == record.original_sha256:
        if state.data is None and not dry_run:
            remove_dirs(record.created_dirs)  # a killed switch may have made them
        return result("unchanged", state.data)
    if state.data is None and not force:
        return result("missing", None)  # the user deleted it since: theirs to decide
    if (current == written and not record.user_edited) or force:
        pristine = store.backup(record)
        if not dry_run:
            if pristine is None:
                remove_file(state.real)
                remove_dirs(record.created_dirs)
            else:
                mode = record.mode if record.mode is not None else 0o644
                atomic_write(state.real, pristine, mode=mode, uid=record.uid, gid=record.gid)
        return result("removed" if pristine is None else "restored", pristine)
    # Edited by the user after the switch: undo only what pypi-switch set.
    target = registry().get(record.target)
    if target is None or record.written is None:
        return result("missing", state.data)
    try:
        new_text = target.revert(FileSpec(path), text, record.written.changes)
    except ParseError as exc:
        raise SwitchError(
            f"{path}: {exc} (fix it, or use --force to restore the original)"
        ) from None
    after = encode(new_text, state.data)
    if after != state.data and not dry_run:
        assert state.mode is not None
        atomic_write(state.real, after, mode=state.mode, uid=state.uid, gid=state.gid)
    return result("reverted-options", after)
