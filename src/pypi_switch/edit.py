"""The only module that writes configuration files.

Reading resolves symlinks (the target is edited, the link stays a link) and turns every
problem into a one-line ``SwitchError``. Targets work on the file's text without its BOM,
with every line ending as found: ``split_lines`` cuts lines where the clients do, and a
target keeps each line's own ending, so only the lines that really changed differ;
``encode`` puts the BOM back. Writes are atomic: a temp file in the same directory, fsync,
``os.replace``, with the original mode and owner.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import re
import stat
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypi_switch.errors import SwitchError

__all__ = [
    "TMP_SUFFIX",
    "FileChanged",
    "FileState",
    "NotRegularFile",
    "atomic_write",
    "decode",
    "encode",
    "line_ending",
    "missing_dirs",
    "newline_of",
    "read_regular",
    "read_state",
    "read_toml",
    "remove_dirs",
    "remove_file",
    "remove_stale_temps",
    "resolve",
    "sha256",
    "split_lines",
]

BOM = b"\xef\xbb\xbf"
TMP_SUFFIX = ".pypi-switch-tmp"
# Text-mode files (configparser, pip, setuptools and buildout read them so) end a line at
# "\r\n", "\r" or "\n"; str.splitlines would also split at \v, \f, \x1c... inside a line.
_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# Seconds to wait for a file another program holds open (Windows only: see _replace).
IN_USE_PATIENCE = 2.0 if sys.platform == "win32" else 0.0


@dataclass(frozen=True)
class FileState:
    """A config file as found: ``data`` is None when it does not exist."""

    path: Path
    real: Path
    data: bytes | None
    mode: int | None
    uid: int | None
    gid: int | None
    stamp: tuple[int, int, int] | None = None  # size, mtime_ns, inode: a cheap "unchanged?"
    links: int = 1

    @property
    def sha256(self) -> str | None:
        return None if self.data is None else sha256(self.data)


class FileChanged(SwitchError):
    """The file is no longer what the plan was made from (another program wrote it)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed while pypi-switch was writing it")
        self.path = path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve(path: Path) -> Path:
    """Where the bytes of ``path`` live (a symlink's final target), refusing loops."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        # Absent, or a dangling link: the file will be created where the link points.
        return Path(os.path.realpath(path))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SwitchError(f"{path}: symlink loop") from None
        raise SwitchError(f"{path}: {exc.strerror}") from None


class NotRegularFile(OSError):
    """A FIFO, socket or device where a file was expected."""


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """The bytes of a regular file (the first ``limit`` of them), refusing anything else.

    ``Path.read_bytes`` on a FIFO waits for a writer, forever, and a device may never end:
    the file is opened non-blocking and checked before a single byte is read. Errors are
    ``OSError`` as ``open`` raises them, with ``strerror`` fit for a message.
    """
    data, _ = _read_regular(path, limit)
    return data


def _read_regular(path: Path | str, limit: int | None) -> tuple[bytes, os.stat_result]:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        if os.path.isdir(path):  # Windows refuses to open a folder at all
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path)) from None
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            what = f"not a regular file ({_kind(st.st_mode)})"
            raise NotRegularFile(errno.EINVAL, what, str(path))
        return (fh.read() if limit is None else fh.read(limit)), st


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def read_state(path: Path) -> FileState:
    real = resolve(path)
    try:
        data, st = _read_regular(real, None)
    except FileNotFoundError:
        return FileState(path, real, None, None, None, None)
    except NotADirectoryError:
        raise SwitchError(f"{path}: a parent of this path is a file, not a directory") from None
    except PermissionError:
        raise SwitchError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise SwitchError(f"{path}: is a directory, expected a config file") from None
    except NotRegularFile as exc:
        raise SwitchError(f"{path}: {exc.strerror}, expected a config file") from None
    except OSError as exc:
        raise SwitchError(f"{path}: cannot read: {exc.strerror}") from None
    return FileState(
        path,
        real,
        data,
        stat.S_IMODE(st.st_mode),
        st.st_uid,
        st.st_gid,
        stamp=_stamp(st),
        links=st.st_nlink,
    )


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _check_unchanged(expect: FileState) -> None:
    """Raise ``FileChanged`` unless ``expect.real`` still holds what ``expect`` read.

    Size, mtime and inode first (cheap); when they differ, the bytes decide (a ``touch``
    or a sync tool rewriting the same text is no change).
    """
    try:
        st = os.stat(expect.real)
    except FileNotFoundError:
        if expect.data is not None:
            raise FileChanged(expect.path) from None
        return
    except OSError:
        return  # the write itself reports what is wrong with the path
    if expect.data is None:
        raise FileChanged(expect.path)
    if _stamp(st) == expect.stamp:
        return
    try:
        now = read_regular(expect.real)
    except OSError:
        raise FileChanged(expect.path) from None
    if now != expect.data:
        raise FileChanged(expect.path)


def read_toml(path: Path) -> dict[str, Any] | None:
    """The data of a TOML file another tool reads (for warnings); None if unusable."""
    try:
        state = read_state(path)
        if state.data is None:
            return None
        return tomllib.loads(decode(state.data, path))
    except (SwitchError, tomllib.TOMLDecodeError):
        return None


def decode(data: bytes | None, path: Path) -> str:
    """Bytes -> text without the BOM, line endings untouched ("" for an absent file)."""
    if data is None:
        return ""
    body = data[len(BOM) :] if data.startswith(BOM) else data
    if b"\x00" in body:
        raise SwitchError(f"{path}: not a text file (it contains NUL bytes)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SwitchError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None


def encode(new_text: str, reference: bytes | None) -> bytes:
    """Encode ``new_text`` as its file ``reference`` was: with its BOM if it had one."""
    bom = BOM if reference and reference.startswith(BOM) else b""
    return bom + new_text.encode("utf-8")


def split_lines(text: str, *, keepends: bool = True) -> list[str]:
    """The lines of ``text`` as the clients read them, each with its own ending or none."""
    if keepends:
        return _LINE.findall(text)
    lines = _BREAK.split(text)
    if not lines[-1]:
        lines.pop()  # after the final line ending
    return lines


def line_ending(line: str) -> str:
    """The ending ``line`` (or a whole text) finishes with: "\r\n", "\r", "\n" or ""."""
    if line.endswith("\n"):
        return "\r\n" if line.endswith("\r\n") else "\n"
    return "\r" if line.endswith("\r") else ""


def newline_of(text: str) -> str:
    """The most common line ending of ``text``, for the lines added to it ("\n" if none)."""
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=lambda e: counts[e])


def missing_dirs(path: Path) -> list[Path]:
    """The parent directories of ``path`` that do not exist yet, outermost first."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        if parent.parent == parent:
            break
        parent = parent.parent
    return list(reversed(missing))


def atomic_write(
    real: Path,
    data: bytes,
    *,
    mode: int,
    uid: int | None = None,
    gid: int | None = None,
    expect: FileState | None = None,
) -> None:
    """Replace ``real`` with ``data`` in one step; a crash leaves the old or the new file.

    With ``expect``, the file must still be what ``expect`` read right before it is
    replaced (else ``FileChanged``, and nothing was written): a user's or an editor's write
    made since is never overwritten.
    """
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=TMP_SUFFIX)
    except PermissionError:
        raise SwitchError(f"{real}: permission denied") from None
    except (FileExistsError, NotADirectoryError):
        raise SwitchError(f"{real}: a parent of this path is a file, not a directory") from None
    except OSError as exc:
        raise SwitchError(f"{real}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        # Not root: the file becomes ours, as any editor would leave it (no owners on Windows).
        owned = hasattr(os, "getuid") and (uid, gid) == (os.getuid(), os.getgid())
        if uid is not None and gid is not None and hasattr(os, "chown") and not owned:
            with contextlib.suppress(PermissionError):
                os.chown(tmp, uid, gid)
        if expect is not None:
            _check_unchanged(expect)
        _replace(tmp, real)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, SwitchError):
            raise SwitchError(f"{real}: cannot write: {exc.strerror or exc}") from None
        raise
    _fsync_dir(real.parent)


def _replace(tmp: str, real: Path) -> None:
    """``os.replace``, waiting briefly for a file another program holds open.

    Windows refuses to replace a file that another process has open without delete sharing
    (an editor, an indexer, an antivirus scan): that passes in a moment. POSIX renames
    never wait on readers, so there a refusal is final at once.
    """
    delay, waited = 0.05, 0.0
    while True:
        try:
            os.replace(tmp, real)
            return
        except PermissionError:
            if waited >= IN_USE_PATIENCE or _read_only(real):
                if IN_USE_PATIENCE and not _read_only(real):
                    raise SwitchError(
                        f"{real}: in use by another program; close it and try again"
                    ) from None
                raise
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)


def _read_only(real: Path) -> bool:
    """The file has no write bit: on Windows, its read-only attribute."""
    try:
        return not os.stat(real).st_mode & stat.S_IWRITE
    except OSError:
        return False


def remove_stale_temps(real: Path) -> None:
    """Delete temp files a killed run left next to ``real`` (callers hold the state lock)."""
    try:
        for tmp in real.parent.glob(f".{glob.escape(real.name)}.*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # best effort: a leftover temp file harms nothing


def remove_dirs(dirs: Sequence[Path | str]) -> None:
    """Remove directories pypi-switch created (innermost first) while they are empty."""
    for d in reversed(list(dirs)):
        try:
            os.rmdir(d)
        except OSError:
            break  # not empty (the user put something there) or gone already


def remove_file(real: Path, *, expect: FileState | None = None) -> None:
    """Delete ``real`` (with ``expect``: only if it still holds what ``expect`` read)."""
    if expect is not None:
        _check_unchanged(expect)
    try:
        os.unlink(real)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SwitchError(f"{real}: cannot remove: {exc.strerror}") from None
    _fsync_dir(real.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
