"""Switch every target to a mirror, all or nothing; restore the originals.

One ``use_mirror`` plans every file first (parse, edit, re-parse), then records backups
and its intent, then replaces the files one by one; any failure puts back the files it
already wrote. ``restore`` gives back pristine bytes, or, for a file the user edited since,
undoes only the options pypi-switch set.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypi_switch.config import TARGET_NAMES, load_settings
from pypi_switch.edit import (
    FileState,
    atomic_write,
    decode,
    encode,
    missing_dirs,
    read_state,
    remove_file,
    remove_stale_temps,
    resolve,
    sha256,
    unified_diff,
)
from pypi_switch.errors import SwitchError, UsageError
from pypi_switch.journal import FileRecord, Journal, StateStore, Written, now_iso, recover
from pypi_switch.paths import Paths
from pypi_switch.targets.base import Change, Context, FileSpec, ParseError, Target
from pypi_switch.targets.buildout import BUILDOUT, PROJECT, project_files
from pypi_switch.targets.pdm import PDM
from pypi_switch.targets.pip import PIP
from pypi_switch.targets.pixi import PIXI
from pypi_switch.targets.poetry import POETRY
from pypi_switch.targets.pydistutils import PYDISTUTILS
from pypi_switch.targets.uv import UV
from pypi_switch.urls import host_of, needs_trusted_host, redact, same_index, validate_index_url

__all__ = [
    "CLASSIC_TARGETS",
    "TARGETS",
    "FileChange",
    "RestoreResult",
    "RestoredFile",
    "SwitchResult",
    "build_context",
    "choose_targets",
    "restore",
    "use_mirror",
]

CLASSIC_TARGETS = ("pip", "pydistutils", "buildout", "project")
TARGETS: dict[str, Target] = {
    t.name: t for t in (PIP, PYDISTUTILS, BUILDOUT, PROJECT, UV, PDM, POETRY, PIXI)
}

LOCK_WAIT = 30.0


def build_context(projects: Sequence[Path] = ()) -> Context:
    paths = Paths.from_environ()
    settings = load_settings(paths.tool_config)
    found = project_files(tuple(Path(p) for p in projects), settings.projects, paths.cwd)
    return Context(paths=paths, settings=settings, projects=found, environ=dict(os.environ))


def choose_targets(ctx: Context, names: Sequence[str] | None) -> list[Target]:
    if names:
        unknown = [n for n in names if n not in TARGETS]
        if unknown:
            known = ", ".join(n for n in TARGET_NAMES if n in TARGETS)
            raise UsageError(f"unknown target {unknown[0]!r} (known: {known})")
        chosen = list(dict.fromkeys(names))
    elif ctx.settings.targets is not None:
        chosen = [n for n in ctx.settings.targets if n in TARGETS]
    else:
        chosen = [n for n in TARGETS if n in CLASSIC_TARGETS or _default_enabled(TARGETS[n], ctx)]
    return [TARGETS[n] for n in chosen]


def _default_enabled(target: Target, ctx: Context) -> bool:
    check = getattr(target, "default_enabled", None)
    return bool(check(ctx)) if check else False


def all_warnings(ctx: Context, targets: Sequence[Target]) -> list[str]:
    out: list[str] = []
    for target in targets:
        out += target.warnings(ctx)
    return list(dict.fromkeys(out))


# -- use-mirror --------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    target: str
    path: Path
    action: str  # "created" | "modified"
    diff: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class SwitchResult:
    mirror: str
    dry_run: bool
    changed: tuple[FileChange, ...]
    unchanged: tuple[Path, ...]
    warnings: tuple[str, ...]


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
    mode: str = "manual",
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
            f"{redact(url)} is plain http to {host_of(url)}: anyone on the way can change "
            "what you install; pass --allow-insecure to switch anyway "
            "(pip will then trust that host)"
        )
    return url


def _use_mirror_locked(
    ctx: Context, url: str, chosen: list[Target], store: StateStore, *, dry_run: bool, mode: str
) -> SwitchResult:
    journal = store.load()
    if not dry_run:
        _settle(journal, store)
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
    )


def _new_file_mode(url: str) -> int:
    if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        return 0o600  # the file holds a credential
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _commit(store: StateStore, journal: Journal, plans: list[_Plan], url: str, mode: str) -> None:
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
            _remove_dirs(plan.new_dirs)  # made for a file whose write then failed
    for plan in reversed(done):
        state = plan.state
        try:
            if state.data is None:
                remove_file(state.real)
                _remove_dirs(plan.new_dirs)
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


def _remove_dirs(dirs: Sequence[Path | str]) -> None:
    for d in reversed(list(dirs)):
        try:
            os.rmdir(d)
        except OSError:
            break  # not empty (the user put something there) or gone already


def _settle(journal: Journal, store: StateStore) -> None:
    """Finish the books of an interrupted run (see ``journal.recover``)."""
    for record in journal.files:
        remove_stale_temps(Path(record.real))
    remove_stale_temps(store.journal_path)
    if journal.pending is None and not any(r.pending for r in journal.files):
        return
    current: dict[str, str | None] = {}
    for record in journal.files:
        try:
            current[record.real] = read_state(Path(record.real)).sha256
        except SwitchError:
            current[record.real] = None
    before = list(journal.files)
    recover(journal, current)
    for record in before:
        if record not in journal.files and not record.existed and current[record.real] is None:
            _remove_dirs(record.created_dirs)  # made for a file the killed run never wrote
    store.save(journal)
    store.drop_unused_backups(journal)


# -- restore -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoredFile:
    target: str
    path: Path
    action: str  # restored | removed | reverted-options | unchanged | missing
    diff: str


@dataclass(frozen=True)
class RestoreResult:
    files: tuple[RestoredFile, ...]
    dry_run: bool
    mirror: str | None

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
            _settle(journal, store)
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
    return RestoreResult(tuple(done), dry_run, mirror)


def _restore_one(
    record: FileRecord, store: StateStore, *, dry_run: bool, force: bool
) -> RestoredFile:
    path = Path(record.path)
    state = read_state(path)
    current = state.sha256
    written = record.written.sha256 if record.written else None
    text = decode(state.data, path)

    def result(action: str, new: bytes | None) -> RestoredFile:
        return RestoredFile(
            record.target, path, action, unified_diff(path, text, decode(new, path))
        )

    if current == record.original_sha256:
        if state.data is None and not dry_run:
            _remove_dirs(record.created_dirs)  # a killed switch may have made them
        return result("unchanged", state.data)
    if state.data is None and not force:
        return result("missing", None)  # the user deleted it since: theirs to decide
    if (current == written and not record.user_edited) or force:
        pristine = store.backup(record)
        if not dry_run:
            if pristine is None:
                remove_file(state.real)
                _remove_dirs(record.created_dirs)
            else:
                mode = record.mode if record.mode is not None else 0o644
                atomic_write(state.real, pristine, mode=mode, uid=record.uid, gid=record.gid)
        return result("removed" if pristine is None else "restored", pristine)
    # Edited by the user after the switch: undo only what pypi-switch set.
    target = TARGETS.get(record.target)
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
