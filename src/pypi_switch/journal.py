"""Pristine backups and the intent log that make every switch undoable.

Layout of the state dir (0700; files 0600, a pip.conf can hold credentials; on Windows,
where a mode is only the read-only bit, the profile folder's ACL keeps it to the user)::

    journal.json        what is switched, to what, and per file: original hash and mode,
                        what was written (hash + the options set), what is being written
    backups/<sha256>    the pristine bytes of each file, saved before its first edit
    lock                one run at a time

Crash safety: backups and the intent (``pending``) are on disk before the first file
is replaced; each file is replaced atomically. After a crash every file is either as it
was or as intended, and ``recover`` tells which from its hash.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pypi_switch.edit import (
    TMP_SUFFIX,
    atomic_write,
    read_regular,
    read_state,
    remove_dirs,
    remove_stale_temps,
    sha256,
)
from pypi_switch.errors import SwitchError
from pypi_switch.targets.base import Change

__all__ = [
    "Busy",
    "FileRecord",
    "Journal",
    "Mode",
    "StateStore",
    "Written",
    "as_found",
    "now_iso",
    "recover",
    "settle",
]

Mode = Literal["manual", "auto"]  # who made a switch: a person, or the cron tick

VERSION = 1
_HELD: set[str] = set()  # state dirs whose lock this process holds


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class Written:
    sha256: str
    changes: tuple[Change, ...]

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "changes": [c.to_json() for c in self.changes]}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Written | None:
        if data is None:
            return None
        f = _Fields(data, where)
        changes = f.get("changes", list)
        return cls(
            f.sha("sha256"),
            tuple(_change(c, f"{where}.changes[{i}]") for i, c in enumerate(changes)),
        )


@dataclass
class FileRecord:
    target: str
    path: str  # as configured (may be a symlink)
    real: str  # where the bytes are: the file that was switched, even if the link moved since
    existed: bool
    mode: int | None
    uid: int | None
    gid: int | None
    original_sha256: str | None
    created_dirs: list[str] = field(default_factory=list)
    written: Written | None = None
    pending: Written | None = None
    user_edited: bool = False  # changed by the user since a switch: restore reverts options only

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "path": self.path,
            "real": self.real,
            "existed": self.existed,
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
            "original_sha256": self.original_sha256,
            "created_dirs": self.created_dirs,
            "written": self.written.to_json() if self.written else None,
            "pending": self.pending.to_json() if self.pending else None,
            "user_edited": self.user_edited,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> FileRecord:
        f = _Fields(data, where)
        existed = f.get("existed", bool)
        original = f.sha_or_none("original_sha256")
        if existed and original is None:
            raise ValueError(f"{where}: a file that existed has no original_sha256")
        dirs = f.get("created_dirs", list, default=[])
        if not all(isinstance(d, str) for d in dirs):
            raise ValueError(f"{where}.created_dirs must be a list of strings")
        real = f.get("real", str)
        if not os.path.isabs(real):
            raise ValueError(f"{where}.real must be an absolute path, not {real!r}")
        return cls(
            target=f.get("target", str),
            path=f.get("path", str),
            real=real,
            existed=existed,
            mode=f.get("mode", int, optional=True),
            uid=f.get("uid", int, optional=True, default=None),
            gid=f.get("gid", int, optional=True, default=None),
            original_sha256=original,
            created_dirs=list(dirs),
            written=Written.from_json(
                f.get("written", dict, optional=True, default=None), f"{where}.written"
            ),
            pending=Written.from_json(
                f.get("pending", dict, optional=True, default=None), f"{where}.pending"
            ),
            user_edited=f.get("user_edited", bool, default=False),
        )


@dataclass
class Journal:
    mirror: str | None = None
    since: str | None = None
    mode: Mode | None = None
    files: list[FileRecord] = field(default_factory=list)
    pending: dict[str, str] | None = None  # {"mirror", "mode", "since"} of a switch under way

    def record(self, real: Path | str) -> FileRecord | None:
        return next((r for r in self.files if r.real == str(real)), None)

    @property
    def active(self) -> bool:
        return any(r.written for r in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "mirror": self.mirror,
            "since": self.since,
            "mode": self.mode,
            "pending": self.pending,
            "files": [r.to_json() for r in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> Journal:
        """The journal ``to_json`` wrote; ``ValueError`` naming the first field that is not."""
        f = _Fields(data, "the journal")
        version = data.get("version")
        if version != VERSION:
            raise ValueError(f"unknown version {version!r}")
        mode = f.get("mode", str, optional=True, default=None)
        if mode not in ("manual", "auto", None):
            raise ValueError(f"unknown mode {mode!r}")
        pending = f.get("pending", dict, optional=True, default=None)
        if pending is not None:
            p = _Fields(pending, "pending")
            pending = {k: p.get(k, str) for k in ("mirror", "mode", "since")}
        files = f.get("files", list, default=[])
        return cls(
            mirror=f.get("mirror", str, optional=True, default=None),
            since=f.get("since", str, optional=True, default=None),
            mode=mode,
            pending=pending,
            files=[FileRecord.from_json(r, f"files[{i}]") for i, r in enumerate(files)],
        )


_MISSING = object()
_SHA = re.compile(r"[0-9a-f]{64}")


class _Fields:
    """Typed access to one JSON object of the journal (bool is not an int here)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{where} is {_json_type(data)}, not an object")
        self.data, self.where = data, where

    def get(self, key: str, kind: type, *, optional: bool = False, default: Any = _MISSING) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ValueError(f"{self.where} has no {key!r}")
            return default
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            want = {str: "a string", int: "a number", bool: "true or false"}.get(
                kind, f"{_json_type(kind())}"
            )
            raise ValueError(f"{self.where}.{key} is {_json_type(value)}, not {want}")
        return value

    def sha(self, key: str) -> str:
        value = self.sha_or_none(key)
        if value is None:
            raise ValueError(f"{self.where}.{key} is null, not a sha256 hash")
        return value

    def sha_or_none(self, key: str) -> str | None:
        # Also a file name under backups/: nothing but a hash may reach the file system.
        value: str | None = self.get(key, str, optional=True)
        if value is not None and not _SHA.fullmatch(value):
            raise ValueError(f"{self.where}.{key} is not a sha256 hash")
        return value


def _change(data: Any, where: str) -> Change:
    f = _Fields(data, where)
    for key in ("section", "key", "new"):
        f.get(key, str)
    f.get("old", str, optional=True)
    f.get("section_added", bool, default=False)
    f.get("kind", str, optional=True, default=None)
    return Change.from_json(data)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) else type(value).__name__


class StateStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir
        self.journal_path = state_dir / "journal.json"
        self.backups = state_dir / "backups"

    def ensure(self) -> None:
        for d in (self.dir, self.backups):
            try:
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(d, 0o700)
            except OSError as exc:
                raise SwitchError(
                    f"cannot create the state directory {d}: {exc.strerror}"
                ) from None

    @contextlib.contextmanager
    def lock(self, *, timeout: float) -> Iterator[None]:
        """Hold the state lock; raise ``Busy`` if another run holds it past ``timeout``.

        filelock takes the OS's own lock on every platform (flock on Unix, ``msvcrt.locking``
        on Windows): the OS drops it when its holder dies, so a killed run never blocks the
        next one. ``_HELD`` makes it re-entrant within one process.
        """
        key = str(self.dir.absolute())
        if key in _HELD:  # this process holds it already (an auto tick calling restore)
            yield
            return
        from filelock import FileLock, Timeout  # costs 30 ms: only runs that write need it

        self.ensure()
        path = self.dir / "lock"
        _check_lock_path(path)
        lock = FileLock(path, timeout=timeout, mode=0o600, preserve_lock_file=True)
        try:
            lock.acquire()
        except Timeout:
            raise Busy("another pypi-switch run is in progress") from None
        except OSError as exc:
            raise SwitchError(f"cannot lock {path}: {exc.strerror or exc}") from None
        _HELD.add(key)
        try:
            self._tidy()
            yield
        finally:
            _HELD.discard(key)
            lock.release()

    def _tidy(self) -> None:
        """What a killed run may have left in the state dir: its temp files (removed) and
        files a loose umask or an older version made readable by others (tightened)."""
        for folder in (self.dir, self.backups):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                private = folder == self.backups or entry.name in ("journal.json", "auto.json")
                try:
                    if entry.name.endswith(TMP_SUFFIX):
                        os.unlink(entry.path)
                    elif private and _loose(entry):
                        os.chmod(entry.path, 0o600)
                except OSError:
                    continue  # best effort: the next run tries again

    def load(self) -> Journal:
        try:
            raw = read_regular(self.journal_path)
        except FileNotFoundError:
            return Journal()
        except OSError as exc:
            raise SwitchError(f"cannot read {self.journal_path}: {exc.strerror}") from None
        try:
            return Journal.from_json(json.loads(raw))
        except (ValueError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise SwitchError(
                f"{self.journal_path} is damaged ({detail}); move it away to go on"
            ) from None

    def save(self, journal: Journal) -> None:
        if not journal.files and journal.pending is None:
            self.clear()
            return
        self.ensure()
        # One line, by json's C encoder: with ``indent`` the pure-Python one takes seconds
        # on a switch that sets a hundred thousand options.
        doc = json.dumps(journal.to_json(), separators=(",", ":"), sort_keys=True)
        data = doc.encode() + b"\n"
        atomic_write(self.journal_path, data, mode=0o600)

    def save_backup(self, data: bytes) -> str:
        self.ensure()
        name = sha256(data)
        path = self.backups / name
        if not path.exists():
            atomic_write(path, data, mode=0o600)
        return name

    def backup(self, record: FileRecord) -> bytes | None:
        if not record.existed or record.original_sha256 is None:
            return None
        path = self.backups / record.original_sha256
        try:
            data = read_regular(path)
        except OSError as exc:
            raise SwitchError(
                f"the backup of {record.path} is missing ({path}: {exc.strerror})"
            ) from None
        if sha256(data) != record.original_sha256:
            raise SwitchError(f"the backup of {record.path} is damaged ({path})")
        return data

    def drop_unused_backups(self, journal: Journal) -> None:
        used = {r.original_sha256 for r in journal.files}
        if not self.backups.is_dir():
            return
        for path in self.backups.iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        self.journal_path.unlink(missing_ok=True)
        if self.backups.is_dir():
            for path in self.backups.iterdir():
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.backups.rmdir()


def _loose(entry: os.DirEntry[str]) -> bool:
    """A file of the state dir that others may read (on Windows, the profile's access
    list decides: a mode there is only the read-only bit)."""
    if os.name == "nt" or not entry.is_file(follow_symlinks=False):
        return False
    return bool(stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) & 0o077)


class Busy(SwitchError):
    """Another run holds the lock."""


def _check_lock_path(path: Path) -> None:
    """The lock must be a plain file: a directory cannot be locked, and a symlink would
    have the lock created, or truncated, wherever it points."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SwitchError(f"cannot lock {path}: {exc.strerror}") from None
    if stat.S_ISREG(st.st_mode):
        return
    kind = (
        "a symlink"
        if stat.S_ISLNK(st.st_mode)
        else "a directory"
        if stat.S_ISDIR(st.st_mode)
        else "not a regular file"
    )
    raise SwitchError(f"cannot lock {path}: it is {kind}, not a file; move it away to go on")


def recover(journal: Journal, current_sha: dict[str, str | None]) -> bool:
    """Settle a switch that was interrupted, from each file's current hash.

    A file whose hash is the intended one was written: its pending edit becomes the
    written one. A file still as it was before that switch was not reached: its pending
    edit is dropped, and so is the record of a file never switched before. A file that is
    neither was written and then changed by someone else (or cannot be read): its record
    stays, marked as edited by the user, so that restore takes back only pypi-switch's
    options and its original is kept for ``restore --force``. Returns whether anything
    changed.
    """
    if journal.pending is None and not any(r.pending for r in journal.files):
        return False
    promoted = False
    for record in journal.files:
        if record.pending is None:
            continue
        now = current_sha.get(record.real)
        before = record.written.sha256 if record.written else record.original_sha256
        if now == record.pending.sha256:
            record.written = record.pending
            promoted = True
        elif now != before:
            if record.written is None:
                record.written = record.pending
                promoted = True
            record.user_edited = True
        record.pending = None
    journal.files = [r for r in journal.files if r.written is not None]
    if journal.pending is not None and promoted:
        journal.mirror = journal.pending["mirror"]
        journal.mode = "auto" if journal.pending["mode"] == "auto" else "manual"
        journal.since = journal.pending["since"]
    journal.pending = None
    return True


def _current_hashes(journal: Journal) -> dict[str, str | None]:
    current: dict[str, str | None] = {}
    for record in journal.files:
        try:
            current[record.real] = read_state(Path(record.real)).sha256
        except SwitchError:
            current[record.real] = None
    return current


def _interrupted(journal: Journal) -> bool:
    return journal.pending is not None or any(r.pending for r in journal.files)


def as_found(journal: Journal) -> Journal:
    """The books as the files are now, without writing anything (for ``status``): a
    killed switch settled (see ``recover``), and no record of a file that holds its
    original bytes again (a restore killed before it could say so)."""
    view = copy.deepcopy(journal)
    current = _current_hashes(view)
    recover(view, current)
    view.files = [r for r in view.files if current.get(r.real) != r.original_sha256]
    return view


def settle(journal: Journal, store: StateStore) -> None:
    """Finish the books of an interrupted run (see ``recover``), sweep the temp files it
    left beside the files, and drop the backups no record needs (a run killed before its
    intent was saved had changed no file)."""
    for record in journal.files:
        remove_stale_temps(Path(record.real))
    if not _interrupted(journal):
        store.drop_unused_backups(journal)
        return
    current = _current_hashes(journal)
    before = list(journal.files)
    recover(journal, current)
    for record in before:
        if record not in journal.files and not record.existed and current[record.real] is None:
            remove_dirs(record.created_dirs)  # made for a file the killed run never wrote
    store.save(journal)
    store.drop_unused_backups(journal)
