"""The switch transaction: every target to one mirror, all or nothing.

``use_mirror`` plans every file first (parse, edit, re-parse), then records backups and its
intent, then replaces the files one by one; any failure puts back the files it already
wrote. Its counterpart is ``restore.py``.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pypi_switch.diff import unified_diff
from pypi_switch.edit import (
    FileState,
    atomic_write,
    decode,
    encode,
    missing_dirs,
    read_state,
    remove_dirs,
    remove_file,
    resolve,
    sha256,
)
from pypi_switch.errors import SwitchError
from pypi_switch.journal import FileRecord, Journal, Mode, StateStore, Written, now_iso, settle
from pypi_switch.status import pip_verdict
from pypi_switch.targets import all_warnings, choose_targets
from pypi_switch.targets.base import Change, Context, FileSpec, ParseError, Target
from pypi_switch.targets.pip import PIP
from pypi_switch.traces import LockTrace, context_dirs, next_lock_rewrites
from pypi_switch.urls import host_of, needs_trusted_host, same_index, validate_index_url

__all__ = ["LOCK_WAIT", "FileChange", "SwitchResult", "check_url", "use_mirror"]

LOCK_WAIT = 30.0  # seconds a person's run waits for another run to finish


@dataclass(frozen=True)
class FileChange:
    target: str
    path: Path
    action: Literal["created", "modified"]
    diff: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class SwitchResult:
    mirror: str
    dry_run: bool
    changed: tuple[FileChange, ...]
    unchanged: tuple[Path, ...]
    warnings: tuple[str, ...]
    # Lock files the next lock run would fill with the mirror's URL.
    locks: tuple[LockTrace, ...] = ()
    # Switched, but pip will not use the mirror: the line status prints (exit 3).
    verdict: str | None = None


@dataclass(frozen=True)
class _Plan:
    target: Target
    spec: FileSpec
    state: FileState
    after: bytes
    changes: tuple[Change, ...]
    diff: str
    new_dirs: tuple[Path, ...]
    user_edited: bool = False


def _parse(target: Target, text: str, path: Path) -> None:
    try:
        target.parse(text)
    except ParseError as exc:
        raise SwitchError(f"{path}: {exc}") from None


def _plan_file(
    target: Target, spec: FileSpec, url: str, journal: Journal, store: StateStore
) -> tuple[_Plan | None, FileState]:
    state = read_state(spec.path)
    if state.data is None and not spec.create:
        return None, state
    text = decode(state.data, spec.path)
    _parse(target, text, spec.path)
    base, reference = text, state.data
    record = journal.record(state.real)
    edited = False
    if record is not None and record.written is not None:
        edited = record.user_edited or state.sha256 != record.written.sha256
        if not edited:
            # Untouched since our last switch: start again from the pristine original.
            reference = store.backup(record)
            base = decode(reference, spec.path)
        else:
            base = target.revert(spec, text, record.written.changes)
    edit = target.plan(spec, base, url)
    after = encode(edit.text, reference)
    new_text = decode(after, spec.path)
    _parse(target, new_text, spec.path)  # never write what we could not read back
    if after == state.data:
        return None, state
    plan = _Plan(
        target=target,
        spec=spec,
        state=state,
        after=after,
        changes=edit.changes,
        diff=unified_diff(spec.path, text, new_text),
        new_dirs=tuple(missing_dirs(state.real)) if state.data is None else (),
        user_edited=edited,
    )
    return plan, state


def use_mirror(
    ctx: Context,
    url: str,
    *,
    targets: Sequence[str] | None = None,
    dry_run: bool = False,
    allow_insecure: bool = False,
    mode: Mode = "manual",
    lock_timeout: float = LOCK_WAIT,
) -> SwitchResult:
    url = check_url(url, allow_insecure=allow_insecure)
    chosen = choose_targets(ctx, targets)
    store = StateStore(ctx.paths.state_dir)
    lock = contextlib.nullcontext() if dry_run else store.lock(timeout=lock_timeout)
    with lock:
        return _use_mirror_locked(ctx, url, chosen, store, dry_run=dry_run, mode=mode)


def check_url(url: str, *, allow_insecure: bool) -> str:
    """A well-formed index URL, refusing plain http to a remote host unless allowed."""
    url = validate_index_url(url)
    if needs_trusted_host(url) and not allow_insecure:
        raise SwitchError(
            f"{url} is plain http to {host_of(url)}: anyone on the way can change "
            "what you install; pass --allow-insecure to switch anyway "
            "(pip will then trust that host)"
        )
    return url


def _use_mirror_locked(
    ctx: Context, url: str, chosen: list[Target], store: StateStore, *, dry_run: bool, mode: Mode
) -> SwitchResult:
    journal = store.load()
    if not dry_run:
        settle(journal, store)
    plans: list[_Plan] = []
    unchanged: list[Path] = []
    seen: set[Path] = set()
    for target in chosen:
        for spec in target.files(ctx):
            real = resolve(spec.path)
            if real in seen:
                continue  # one file reached twice through a symlink: planned once, first rules
            seen.add(real)
            plan, state = _plan_file(target, spec, url, journal, store)
            if plan is not None:
                plans.append(plan)
            elif state.data is not None:
                unchanged.append(spec.path)
    if plans and not dry_run:
        _commit(store, journal, plans, url, mode)
    elif (
        not dry_run and journal.active and journal.mode != mode and same_index(journal.mirror, url)
    ):
        journal.mode = mode  # a manual choice of the same mirror takes ownership
        store.save(journal)
    return SwitchResult(
        mirror=url,
        dry_run=dry_run,
        changed=tuple(
            FileChange(
                p.target.name,
                p.spec.path,
                "modified" if p.state.data is not None else "created",
                p.diff,
                p.changes,
            )
            for p in plans
        ),
        unchanged=tuple(unchanged),
        warnings=tuple(all_warnings(ctx, chosen)),
        locks=tuple(next_lock_rewrites(context_dirs(ctx), [t.name for t in chosen])),
        verdict=None if dry_run or PIP not in chosen else pip_verdict(ctx, url),
    )


def _new_file_mode(url: str) -> int:
    if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        return 0o600  # the file holds a credential
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _commit(store: StateStore, journal: Journal, plans: list[_Plan], url: str, mode: Mode) -> None:
    before = copy.deepcopy(journal)
    now = now_iso()
    done: list[_Plan] = []
    try:
        for plan in plans:
            record = journal.record(plan.state.real)
            if record is None:
                data = plan.state.data
                record = FileRecord(
                    target=plan.target.name,
                    path=str(plan.spec.path),
                    real=str(plan.state.real),
                    existed=data is not None,
                    mode=plan.state.mode,
                    uid=plan.state.uid,
                    gid=plan.state.gid,
                    original_sha256=store.save_backup(data) if data is not None else None,
                    created_dirs=[str(d) for d in plan.new_dirs],
                )
                journal.files.append(record)
            record.pending = Written(sha256(plan.after), plan.changes)
            record.user_edited = plan.user_edited
        journal.pending = {"mirror": url, "mode": mode, "since": now}
        store.save(journal)  # the intent is on disk before the first file changes

        for plan in plans:
            state = plan.state
            file_mode = state.mode if state.mode is not None else _new_file_mode(url)
            atomic_write(state.real, plan.after, mode=file_mode, uid=state.uid, gid=state.gid)
            done.append(plan)

        for record in journal.files:
            if record.pending is not None:
                record.written, record.pending = record.pending, None
        if not same_index(journal.mirror, url) or journal.since is None:
            journal.since = now
        journal.mirror, journal.mode, journal.pending = url, mode, None
        store.save(journal)
    except BaseException as exc:
        clean = _rollback(store, before, done, plans)
        if not isinstance(exc, Exception):
            raise  # Ctrl-C: rolled back, now let it through
        detail = exc.message if isinstance(exc, SwitchError) else f"cannot write: {exc}"
        outcome = (
            "nothing was changed"
            if clean
            else "some files could not be put back: run `pypi-switch restore`"
        )
        raise SwitchError(f"{detail}; {outcome}") from None


def _rollback(store: StateStore, before: Journal, done: list[_Plan], plans: list[_Plan]) -> bool:
    """Put back the files this run wrote and the journal it found; True if all went well."""
    clean = True
    for plan in plans:
        if plan not in done:
            remove_dirs(plan.new_dirs)  # made for a file whose write then failed
    for plan in reversed(done):
        state = plan.state
        try:
            if state.data is None:
                remove_file(state.real)
                remove_dirs(plan.new_dirs)
            else:
                mode = state.mode if state.mode is not None else 0o644
                atomic_write(state.real, state.data, mode=mode, uid=state.uid, gid=state.gid)
        except (OSError, SwitchError):
            clean = False
    try:
        store.save(before)
        store.drop_unused_backups(before)
    except (OSError, SwitchError):
        pass  # the journal on disk still says what is pending: the next run settles it
    return clean
