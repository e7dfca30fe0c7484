"""The switch transaction: every target to one mirror, all or nothing.

``use_mirror`` plans every file first (parse, edit, re-parse), then records backups and its
intent, then replaces the files one by one; any failure puts back the files it already
wrote. Its counterpart is ``restore.py``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import signal
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
    missing_dirs,
    read_state,
    remove_dirs,
    remove_file,
    resolve,
    sha256,
)
from pypi_switch.errors import SwitchError, Terminated
from pypi_switch.journal import FileRecord, Journal, Mode, StateStore, Written, now_iso, settle
from pypi_switch.status import pip_verdict
from pypi_switch.targets import all_warnings, choose_targets
from pypi_switch.targets.base import Change, Context, FileSpec, ParseError, Target
from pypi_switch.targets.pip import PIP
from pypi_switch.traces import LockTrace, context_dirs, next_lock_rewrites
from pypi_switch.urls import host_of, needs_trusted_host, redact, same_index, validate_index_url

__all__ = ["LOCK_WAIT", "FileChange", "SwitchResult", "check_url", "use_mirror"]

LOCK_WAIT = 30.0  # seconds a person's run waits for another run to finish
PLAN_TRIES = 3  # plans made again when another program writes a file during the switch


@dataclass(frozen=True)
class FileChange:
    target: str
    path: Path
    action: Literal["created", "modified"]
    before: str = field(repr=False)  # the text found
    after: str = field(repr=False)  # the text written (or that a dry run would write)
    changes: tuple[Change, ...] = ()

    @functools.cached_property
    def diff(self) -> str:
        """Made when shown (a dry run): on a 10 MB file it costs more than the switch."""
        return unified_diff(self.path, self.before, self.after)


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
    before_text: str
    after_text: str
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
        before_text=text,
        after_text=new_text,
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
    for attempt in range(1, PLAN_TRIES + 1):
        plans, unchanged = _plan_all(ctx, chosen, url, journal, store)
        if not plans or dry_run:
            break
        try:
            _commit(store, journal, plans, url, mode)
            break
        except _Moved as moved:
            # Another program wrote a file between our read and our write; everything was
            # put back: plan again from what is there now.
            if attempt == PLAN_TRIES:
                raise SwitchError(
                    f"{moved.path} changed while switching; nothing was changed"
                ) from None
            journal = store.load()
    if (
        not plans
        and not dry_run
        and journal.active
        and journal.mode != mode
        and same_index(journal.mirror, url)
    ):
        journal.mode = mode  # a manual choice of the same mirror takes ownership
        store.save(journal)
    notes = [note for p in plans for note in _notes(p, url)]
    return SwitchResult(
        mirror=url,
        dry_run=dry_run,
        changed=tuple(
            FileChange(
                p.target.name,
                p.spec.path,
                "modified" if p.state.data is not None else "created",
                p.before_text,
                p.after_text,
                p.changes,
            )
            for p in plans
        ),
        unchanged=tuple(unchanged),
        warnings=tuple([*notes, *all_warnings(ctx, chosen)]),
        locks=tuple(next_lock_rewrites(context_dirs(ctx), [t.name for t in chosen])),
        verdict=None if dry_run or PIP not in chosen else pip_verdict(ctx, url),
    )


def _plan_all(
    ctx: Context, chosen: list[Target], url: str, journal: Journal, store: StateStore
) -> tuple[list[_Plan], list[Path]]:
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
    return plans, unchanged


def _holds_credential(url: str) -> bool:
    return redact(url) != url


def _new_file_mode(url: str) -> int:
    if _holds_credential(url):
        return 0o600
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _file_mode(plan: _Plan, url: str) -> int:
    """The mode to write with: the file's own, but never readable by others once it holds
    the mirror's credentials (restore puts the original mode back)."""
    if plan.state.mode is None:
        return _new_file_mode(url)
    if _holds_credential(url) and os.name != "nt":  # Windows: the profile's access list
        return plan.state.mode & 0o700
    return plan.state.mode


def _notes(plan: _Plan, url: str) -> list[str]:
    """What the user should know about how this file was written."""
    path, state = plan.spec.path, plan.state
    notes = []
    mode = _file_mode(plan, url)
    if state.mode is not None and mode != state.mode:
        notes.append(
            f"{path} now holds the mirror's credentials: made it readable by you only "
            f"({state.mode:04o} -> {mode:04o}); restore puts {state.mode:04o} back"
        )
    if state.links > 1:
        others = state.links - 1
        notes.append(
            f"{path} had {others} other hard {'link' if others == 1 else 'links'}: the "
            "switch wrote a new file, so they keep the old text"
        )
    if _becomes_ours(state):
        notes.append(
            f"{path} belonged to another user (uid {state.uid}); it now belongs to you "
            "(only root can give a file to someone else), and stays yours after restore"
        )
    return notes


def _becomes_ours(state: FileState) -> bool:
    """Replacing a file makes it ours unless we may give it back: only root may."""
    if state.uid is None or not hasattr(os, "getuid"):
        return False
    return os.getuid() not in (0, state.uid)


class _Moved(Exception):
    """A file changed under the commit; it was rolled back completely."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def _commit(store: StateStore, journal: Journal, plans: list[_Plan], url: str, mode: Mode) -> None:
    """Write every plan, or none: a failure, Ctrl-C or SIGTERM puts back what was written.

    Signals wait (``interrupts.held``) and are let through only between two files, where
    the journal's intent already covers every file; ``_rollback`` then decides from each
    file's bytes, not from what this code believes it wrote.
    """
    before = copy.deepcopy(journal)
    now = now_iso()
    tried: list[_Plan] = []  # the files this run may have replaced
    with interrupts.held() as signals:
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
                signals.check()
                state = plan.state
                tried.append(plan)
                atomic_write(
                    state.real,
                    plan.after,
                    mode=_file_mode(plan, url),
                    uid=state.uid,
                    gid=state.gid,
                    expect=state,
                )

            for record in journal.files:
                if record.pending is not None:
                    record.written, record.pending = record.pending, None
            if not same_index(journal.mirror, url) or journal.since is None:
                journal.since = now
            journal.mirror, journal.mode, journal.pending = url, mode, None
            store.save(journal)
            signals.check()
        except BaseException as exc:
            if isinstance(exc, FileChanged):
                tried.pop()  # refused before its replace: the other program's text stays
            kept = _rollback(store, before, plans, tried)
            # A signal that came meanwhile (even during the rollback) ends the run.
            stop = signals.signum
            if isinstance(exc, KeyboardInterrupt | Terminated):
                stop = signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM
            if isinstance(exc, FileChanged) and not kept and stop is None:
                raise _Moved(exc.path) from None
            outcome = (
                "nothing was changed"
                if not kept
                else f"{_names(kept)} could not be put back: run `pypi-switch restore` "
                "once the problem is solved"
            )
            if stop is not None:
                raise interrupts.as_exception(stop, outcome) from None
            detail = exc.message if isinstance(exc, SwitchError) else f"cannot write: {exc}"
            raise SwitchError(f"{detail}; {outcome}") from None


def _names(paths: Sequence[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def _rollback(
    store: StateStore, before: Journal, plans: list[_Plan], tried: list[_Plan]
) -> list[Path]:
    """Put back every file this run wrote; the files that are not as found (none: all well).

    Each file's bytes decide, not what this code believes it wrote: ours (the planned
    bytes) are replaced by what was found; what was found is left alone; anything else
    in a file this run tried to replace was written by someone else since, and stays.
    The journal found at the start is saved again only if every file is verified back;
    otherwise the intent on disk stays, with every backup, and the next run settles it.
    """
    kept: list[Path] = []
    for plan in reversed(plans):
        with contextlib.suppress(OSError, SwitchError):  # verified below
            _put_back(plan)
        if plan in tried and not _as_found(plan):
            kept.append(plan.spec.path)
    if kept:
        return list(reversed(kept))
    try:
        store.save(before)
        store.drop_unused_backups(before)
    except (OSError, SwitchError):
        pass  # the intent on disk still covers every file: the next run settles it
    return []


def _put_back(plan: _Plan) -> None:
    state = plan.state
    now = read_state(state.real)
    if now.data == state.data:
        if state.data is None:
            remove_dirs(plan.new_dirs)  # made for a file whose write then failed
        return
    if now.data != plan.after:
        return  # not ours: someone wrote it since; their text stays
    if state.data is None:
        remove_file(state.real, expect=now)
        remove_dirs(plan.new_dirs)
    else:
        mode = state.mode if state.mode is not None else 0o644
        atomic_write(state.real, state.data, mode=mode, uid=state.uid, gid=state.gid, expect=now)


def _as_found(plan: _Plan) -> bool:
    try:
        return read_state(plan.state.real).data == plan.state.data
    except SwitchError:
        return False
