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
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pypi_switch.edit import (
    atomic_write,
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
    def from_json(cls, data: dict[str, Any] | None) -> Written | None:
        if data is None:
            return None
        return cls(str(data["sha256"]), tuple(Change.from_json(c) for c in data["changes"]))


@dataclass
class FileRecord:
    target: str
    path: str  # as configured (may be a symlink)
    real: str  # where the bytes are
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
    def from_json(cls, data: dict[str, Any]) -> FileRecord:
        return cls(
            target=str(data["target"]),
            path=str(data["path"]),
            real=str(data["real"]),
            existed=bool(data["existed"]),
            mode=data["mode"],
            uid=data.get("uid"),
            gid=data.get("gid"),
            original_sha256=data["original_sha256"],
            created_dirs=list(data.get("created_dirs", [])),
            written=Written.from_json(data.get("written")),
            pending=Written.from_json(data.get("pending")),
            user_edited=bool(data.get("user_edited", False)),
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
    def from_json(cls, data: dict[str, Any]) -> Journal:
        if data.get("version") != VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        mode = data.get("mode")
        if mode not in ("manual", "auto", None):
            raise ValueError(f"unknown mode {mode!r}")
        return cls(
            mirror=data.get("mirror"),
            since=data.get("since"),
            mode=mode,
            pending=data.get("pending"),
            files=[FileRecord.from_json(r) for r in data.get("files", [])],
        )


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
        lock = FileLock(self.dir / "lock", timeout=timeout, mode=0o600, preserve_lock_file=True)
        try:
            lock.acquire()
        except Timeout:
            raise Busy("another pypi-switch run is in progress") from None
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
            lock.release()

    def load(self) -> Journal:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return Journal()
        except OSError as exc:
            raise SwitchError(f"cannot read {self.journal_path}: {exc.strerror}") from None
        try:
            return Journal.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise SwitchError(
                f"{self.journal_path} is damaged ({exc}); move it away to go on"
            ) from None

    def save(self, journal: Journal) -> None:
        if not journal.files and journal.pending is None:
            self.clear()
            return
        self.ensure()
        data = json.dumps(journal.to_json(), indent=2, sort_keys=True).encode() + b"\n"
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
            data = path.read_bytes()
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


class Busy(SwitchError):
    """Another run holds the lock."""


def recover(journal: Journal, current_sha: dict[str, str | None]) -> bool:
    """Settle a switch that was interrupted, from each file's current hash.

    A file whose hash is the intended one was written: its pending edit becomes the
    written one. Any other file was not reached: its pending edit is dropped. Records of
    files that were never written are dropped. Returns whether anything changed.
    """
    if journal.pending is None and not any(r.pending for r in journal.files):
        return False
    promoted = False
    for record in journal.files:
        if record.pending is None:
            continue
        if current_sha.get(record.real) == record.pending.sha256:
            record.written = record.pending
            promoted = True
        record.pending = None
    journal.files = [r for r in journal.files if r.written is not None]
    if journal.pending is not None and promoted:
        journal.mirror = journal.pending["mirror"]
        journal.mode = "auto" if journal.pending["mode"] == "auto" else "manual"
        journal.since = journal.pending["since"]
    journal.pending = None
    return True


def settle(journal: Journal, store: StateStore) -> None:
    """Finish the books of an interrupted run (see ``recover``), and sweep its temp files."""
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
            remove_dirs(record.created_dirs)  # made for a file the killed run never wrote
    store.save(journal)
    store.drop_unused_backups(journal)
