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
    "FileState",
    "atomic_write",
    "decode",
    "encode",
    "line_ending",
    "missing_dirs",
    "newline_of",
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

    @property
    def sha256(self) -> str | None:
        return None if self.data is None else sha256(self.data)


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


def read_state(path: Path) -> FileState:
    real = resolve(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return FileState(path, real, None, None, None, None)
    except NotADirectoryError:
        raise SwitchError(f"{path}: a parent of this path is a file, not a directory") from None
    except PermissionError:
        raise SwitchError(f"{path}: permission denied") from None
    if stat.S_ISDIR(st.st_mode):
        raise SwitchError(f"{path}: is a directory, expected a config file")
    if not stat.S_ISREG(st.st_mode):
        raise SwitchError(f"{path}: not a regular file")
    try:
        data = real.read_bytes()
    except PermissionError:
        raise SwitchError(f"{path}: permission denied") from None
    except OSError as exc:
        raise SwitchError(f"{path}: cannot read: {exc.strerror}") from None
    return FileState(path, real, data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


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
    real: Path, data: bytes, *, mode: int, uid: int | None = None, gid: int | None = None
) -> None:
    """Replace ``real`` with ``data`` in one step; a crash leaves the old or the new file."""
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


def remove_file(real: Path) -> None:
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
