"""What a project needs from an index, read from its requirements and lock files.

Each supported file becomes :class:`Needs`: the pinned ``name==version`` (with the sha256
the file records, per file name where it names the file) and the names that must merely
exist. Entries that do not come from an index (editable checkouts, local paths, VCS and
direct URLs) are set aside: no mirror serves them.

Pure: files in, data out; nothing here touches the network.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pypi_switch.edit import read_regular
from pypi_switch.errors import UsageError

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = [
    "FORMATS",
    "Needs",
    "Pin",
    "find_lock_files",
    "read_needs",
    "read_one",
]

# What the user may pass, in the words of the usage error.
FORMATS = "requirements*.txt, uv.lock, pylock.toml, poetry.lock, Pipfile.lock, pdm.lock"

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# pip's own rule (req_file.py): a comment starts at "#" at the line start or after blanks.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_PYLOCK_NAME = re.compile(r"pylock\.([^.]+\.)?toml")
_NAMED_URL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
# Keys by which pdm.lock and Pipfile.lock say an entry comes from elsewhere than an index.
_NOT_FROM_AN_INDEX = ("path", "file", "git", "hg", "svn", "bzr")


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` the project installs from an index."""

    name: str  # canonical (PEP 503)
    version: str  # as the file writes it
    # sha256 per file name, where the file names the file (lock files do).
    files: Mapping[str, str] = field(default_factory=dict)
    # sha256 without a file name (requirements' --hash, Pipfile.lock): any one may match.
    hashes: frozenset[str] = frozenset()
    index: str | None = None  # the index URL the file says it came from, if it says

    @property
    def label(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def key(self) -> tuple[str, Version | str]:
        return self.name, _version_key(self.version)


@dataclass(frozen=True)
class Needs:
    """Everything a project needs from an index, from one or more files."""

    pins: tuple[Pin, ...] = ()
    names: tuple[str, ...] = ()  # canonical names that must exist, any version
    # Entries no index serves, as written ("localpkg (editable)"): shown, never checked.
    skipped: tuple[str, ...] = ()
    sources: tuple[Path, ...] = ()

    @property
    def projects(self) -> tuple[str, ...]:
        """Every project whose page a mirror must serve, in a stable order."""
        return tuple(sorted({p.name for p in self.pins} | set(self.names)))

    def __bool__(self) -> bool:
        return bool(self.pins or self.names)


# -- finding and dispatching --------------------------------------------------------------


def find_lock_files(directory: Path) -> tuple[Path, ...]:
    """The requirements and lock files directly in ``directory``, in a stable order."""
    try:
        entries = sorted(p for p in directory.iterdir() if p.is_file())
    except OSError:
        return ()
    return tuple(p for p in entries if _kind_by_name(p.name, discovering=True) is not None)


def read_needs(paths: Iterable[Path]) -> Needs:
    """Read every file (a directory stands for the files :func:`find_lock_files` finds)."""
    parts: list[Needs] = []
    for path in paths:
        if path.is_dir():
            found = find_lock_files(path)
            if not found:
                raise UsageError(f"{path}: holds no requirements or lock file ({FORMATS})")
            parts.extend(read_one(p) for p in found)
        else:
            parts.append(read_one(path))
    return _merge(parts)


def read_one(path: Path) -> Needs:
    """Read one requirements or lock file; anything else is a usage error naming it."""
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text, so not a requirements or lock file") from None
    kind = _kind_by_name(path.name) or _kind_by_content(text)
    if kind is None:
        raise UsageError(f"{path}: not a requirements or lock file this tool reads ({FORMATS})")
    if kind == "requirements":
        return _merge([_requirements(path, text, seen=set())])
    data = _load(path, text, kind)
    reader = _READERS[kind]
    try:
        return _merge([reader(path, data)])
    except _Malformed as exc:
        raise UsageError(f"{path}: not a valid {kind} file ({exc})") from None


def _kind_by_name(name: str, *, discovering: bool = False) -> str | None:
    exact = {
        "uv.lock": "uv.lock",
        "poetry.lock": "poetry.lock",
        "pipfile.lock": "Pipfile.lock",
        "pdm.lock": "pdm.lock",
    }
    lowered = name.lower()
    if lowered in exact:
        return exact[lowered]
    if _PYLOCK_NAME.fullmatch(name):
        return "pylock.toml"
    # Named on the command line, any .txt is read as requirements (requirements/dev.txt);
    # found in a directory, only the files whose name says so.
    if lowered.endswith(".txt") and (not discovering or "requirements" in lowered):
        return "requirements"
    return None


def _kind_by_content(text: str) -> str | None:
    """A renamed lock file still says what it is."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("_meta"), dict):
            return "Pipfile.lock"
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    meta = doc.get("metadata")
    if "lock-version" in doc and "packages" in doc:
        return "pylock.toml"
    if isinstance(meta, dict) and "lock_version" in meta:
        return "pdm.lock"
    if isinstance(meta, dict) and ("lock-version" in meta or "content-hash" in meta):
        return "poetry.lock"
    if isinstance(doc.get("version"), int) and isinstance(doc.get("package"), list):
        return "uv.lock"
    return None


def _load(path: Path, text: str, kind: str) -> dict[str, Any]:
    if kind == "Pipfile.lock":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"{path}: not valid JSON ({exc})") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a valid {kind} file (not a table)")
    return data


class _Malformed(Exception):
    """A lock file whose structure is not the one its tool writes."""


# -- requirements files (pip-compile, pip freeze, uv export, hand-written) ------------------


def _requirements(path: Path, text: str, *, seen: set[Path]) -> Needs:
    seen.add(path.resolve())
    pins: list[Pin] = []
    names: list[str] = []
    skipped: list[str] = []
    included: list[Needs] = []
    index: str | None = None
    # packaging's parser costs ~10 ms: only a requirements file pays for it.
    from packaging.requirements import InvalidRequirement, Requirement

    for number, line in _logical_lines(text):
        where = f"{path}, line {number}"
        head, *tail = line.split(None, 1)
        rest = tail[0].strip() if tail else ""
        if head in ("-i", "--index-url") or head.startswith(("-i", "--index-url=")):
            index = _option_value(head, rest, ("-i", "--index-url")) or None
            continue
        if head in ("-r", "--requirement") or head.startswith(("-r", "--requirement=")):
            target = _option_value(head, rest, ("-r", "--requirement"))
            included.append(_include(path, target, where, seen))
            continue
        if head.startswith("-e") or head.startswith("--editable"):
            skipped.append(f"{_option_value(head, rest, ('-e', '--editable'))} (editable)")
            continue
        if head.startswith("-"):
            continue  # -c, -i, --extra-index-url, -f, --pre...: no requirement on this line
        req_text, hashes = _split_options(line, where)
        if _is_path_or_url(req_text):
            skipped.append(f"{req_text} (a path or URL)")
            continue
        try:
            req = Requirement(req_text)
        except InvalidRequirement as exc:
            raise UsageError(f"{where}: not a requirement: {req_text!r} ({exc})") from None
        name = canonicalize_name(req.name)
        if req.url:
            skipped.append(f"{req.name} @ {req.url} (a direct URL)")
            continue
        version = _pinned_version(req)
        if version is None:
            names.append(name)
        else:
            pins.append(Pin(name, version, hashes=frozenset(hashes)))
    if index is not None:  # pip-compile records the index it used when it is not PyPI
        pins = [dataclasses.replace(p, index=index) for p in pins]
    return _merge([Needs(tuple(pins), tuple(names), tuple(skipped), (path,)), *included])


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines as pip reads them (req_file.py: join_lines, then ignore_comments)."""
    start = 0
    parts: list[str] = []
    joined: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.endswith("\\") or _COMMENT.match(line):
            if _COMMENT.match(line):
                line = " " + line  # a comment ends a continuation; keep it a comment
            if parts:
                joined.append((start, "".join([*parts, line])))
                parts = []
            else:
                joined.append((number, line))
        else:
            if not parts:
                start = number
            parts.append(line.strip("\\"))
    if parts:
        joined.append((start, "".join(parts)))
    for number, line in joined:
        line = _COMMENT.sub("", line).strip()
        if line:
            yield number, line


def _option_value(head: str, rest: str, spellings: tuple[str, ...]) -> str:
    for spelling in spellings:
        if head == spelling:
            return rest.strip()
        if head.startswith(spelling + "="):
            return (head[len(spelling) + 1 :] + (" " + rest if rest else "")).strip()
        if len(spelling) == 2 and head.startswith(spelling):
            return (head[2:] + (" " + rest if rest else "")).strip()
    return rest.strip()


def _include(path: Path, target: str, where: str, seen: set[Path]) -> Needs:
    if not target:
        raise UsageError(f"{where}: -r names no file")
    if "://" in target:
        raise UsageError(f"{where}: -r {target}: only local files can be read")
    included = (path.parent / Path(target).expanduser()).resolve()
    if included in seen:
        return Needs()  # pip reads a file included twice once; a cycle must not loop
    try:
        text = read_regular(included).decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{where}: -r {target}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{where}: -r {target}: cannot be read ({exc})") from None
    return _requirements(included, text, seen=seen)


def _split_options(line: str, where: str) -> tuple[str, list[str]]:
    """``name==1.0 ; marker --hash=sha256:abc`` -> (``name==1.0 ; marker``, [``abc``])."""
    # Options start at the first blank-separated token that begins with "-" (pip's rule:
    # break_args_options); the requirement before it may hold blanks (markers).
    tokens = line.split()
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            req_part, options = " ".join(tokens[:i]).strip(), " ".join(tokens[i:])
            break
    else:
        return line.strip(), []
    try:
        words = shlex.split(options)
    except ValueError:
        raise UsageError(f"{where}: cannot read the options {options!r}") from None
    hashes: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        value = None
        if word == "--hash" and i + 1 < len(words):
            value, i = words[i + 1], i + 1
        elif word.startswith("--hash="):
            value = word[len("--hash=") :]
        if value is not None:
            algorithm, _, digest = value.partition(":")
            if algorithm.lower() == "sha256":
                if not _HEX64.fullmatch(digest):
                    raise UsageError(f"{where}: not a sha256 digest: {digest!r}")
                hashes.append(digest.lower())
        i += 1
    return req_part, hashes


def _is_path_or_url(text: str) -> bool:
    """A bare path or URL (pip accepts them as requirement lines); ``name @ url`` is not."""
    if _NAMED_URL.match(text):
        return False
    target = text.split(";")[0].strip()
    if "://" in target or target.startswith((".", "/", "~")) or _DRIVE.match(target):
        return True
    return target.endswith((".whl", ".zip", ".tar.gz", ".tar.bz2", ".tgz"))


def _pinned_version(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


# -- lock files ---------------------------------------------------------------------------


def _uv_lock(path: Path, data: dict[str, Any]) -> Needs:
    pins: list[Pin] = []
    skipped: list[str] = []
    for pkg in _tables(data.get("package", []), "package"):
        name, version = _text(pkg, "name"), pkg.get("version")
        source = pkg.get("source", {})
        if not isinstance(source, dict):
            raise _Malformed(f"the source of {name} is not a table")
        registry = source.get("registry")
        if not isinstance(registry, str):
            kind = next(iter(source), "unknown source")
            if source.get(kind) != ".":  # the project itself, not something it needs
                skipped.append(f"{name} ({kind})")
            continue
        if not isinstance(version, str):
            raise _Malformed(f"{name} from {registry} has no version")
        files: dict[str, str] = {}
        sdist = pkg.get("sdist")
        entries = [*([sdist] if isinstance(sdist, dict) else []), *pkg.get("wheels", [])]
        for entry in _tables(entries, f"the files of {name}"):
            filename = entry.get("filename") or _last_segment(entry.get("url") or entry.get("path"))
            digest = _sha256_of(entry.get("hash"))
            if filename and digest:
                files[filename] = digest
        pins.append(Pin(canonicalize_name(name), version, files=files, index=registry))
    return Needs(tuple(pins), (), tuple(skipped), (path,))


def _pylock(path: Path, data: dict[str, Any]) -> Needs:
    if "lock-version" not in data:
        raise _Malformed("no lock-version")
    pins: list[Pin] = []
    names: list[str] = []
    skipped: list[str] = []
    for pkg in _tables(data.get("packages", []), "packages"):
        name = _text(pkg, "name")
        other = next((k for k in ("vcs", "directory", "archive") if k in pkg), None)
        if other is not None:
            skipped.append(f"{name} ({other})")
            continue
        files: dict[str, str] = {}
        sdist = pkg.get("sdist")
        entries = [*([sdist] if isinstance(sdist, dict) else []), *pkg.get("wheels", [])]
        for entry in _tables(entries, f"the files of {name}"):
            filename = entry.get("name") or _last_segment(entry.get("url") or entry.get("path"))
            hashes = entry.get("hashes", {})
            digest = hashes.get("sha256") if isinstance(hashes, dict) else None
            if filename and isinstance(digest, str) and _HEX64.fullmatch(digest):
                files[filename] = digest.lower()
        version = pkg.get("version")
        if not isinstance(version, str):
            version = _version_from_files(files)
        if version is None:
            names.append(canonicalize_name(name))
            continue
        index = pkg.get("index") if isinstance(pkg.get("index"), str) else None
        pins.append(Pin(canonicalize_name(name), version, files=files, index=index))
    return Needs(tuple(pins), tuple(names), tuple(skipped), (path,))


def _poetry_lock(path: Path, data: dict[str, Any]) -> Needs:
    # poetry 1.0-1.4 kept the files apart, under [metadata.files], keyed by name.
    meta = data.get("metadata", {})
    old_files = meta.get("files", {}) if isinstance(meta, dict) else {}
    pins: list[Pin] = []
    skipped: list[str] = []
    for pkg in _tables(data.get("package", []), "package"):
        name, version = _text(pkg, "name"), _text(pkg, "version")
        source = pkg.get("source")
        index = None
        if isinstance(source, dict):
            kind = source.get("type")
            if kind != "legacy":
                skipped.append(f"{name} ({kind})")
                continue
            index = source.get("url") if isinstance(source.get("url"), str) else None
        listed = pkg.get("files") or (
            old_files.get(name, []) if isinstance(old_files, dict) else []
        )
        pins.append(
            Pin(canonicalize_name(name), version, files=_file_hashes(listed, name), index=index)
        )
    return Needs(tuple(pins), (), tuple(skipped), (path,))


def _pdm_lock(path: Path, data: dict[str, Any]) -> Needs:
    pins: list[Pin] = []
    skipped: list[str] = []
    for pkg in _tables(data.get("package", []), "package"):
        name = _text(pkg, "name")
        other = next((k for k in ("url", *_NOT_FROM_AN_INDEX) if k in pkg), None)
        if other is not None or pkg.get("editable"):
            skipped.append(f"{name} ({other or 'editable'})")
            continue
        version = _text(pkg, "version")
        pins.append(
            Pin(canonicalize_name(name), version, files=_file_hashes(pkg.get("files", []), name))
        )
    return Needs(tuple(pins), (), tuple(skipped), (path,))


def _pipfile_lock(path: Path, data: dict[str, Any]) -> Needs:
    meta = data.get("_meta")
    if not isinstance(meta, dict):
        raise _Malformed("no _meta")
    indexes = {
        s.get("name"): s.get("url")
        for s in meta.get("sources", [])
        if isinstance(s, dict) and isinstance(s.get("url"), str)
    }
    pins: list[Pin] = []
    names: list[str] = []
    skipped: list[str] = []
    # "default" and "develop", and since pipenv 2023 any other category, side by side.
    for category, packages in data.items():
        if category == "_meta" or not isinstance(packages, dict):
            continue
        for name, entry in packages.items():
            if not isinstance(entry, dict):
                raise _Malformed(f"the entry of {name} in {category} is not a table")
            other = next(
                (k for k in ("path", "file", "git", "hg", "svn", "bzr") if k in entry), None
            )
            if other is not None or entry.get("editable"):
                skipped.append(f"{name} ({other or 'editable'})")
                continue
            spec = entry.get("version", "")
            version = spec.lstrip("=").strip() if isinstance(spec, str) else None
            if not version or not spec.startswith("=="):
                names.append(canonicalize_name(name))
                continue
            hashes = frozenset(
                d for d in (_sha256_of(h) for h in entry.get("hashes", [])) if d is not None
            )
            index = indexes.get(entry.get("index"))
            pins.append(Pin(canonicalize_name(name), version, hashes=hashes, index=index))
    return Needs(tuple(pins), tuple(names), tuple(skipped), (path,))


_READERS = {
    "uv.lock": _uv_lock,
    "pylock.toml": _pylock,
    "poetry.lock": _poetry_lock,
    "pdm.lock": _pdm_lock,
    "Pipfile.lock": _pipfile_lock,
}


def _tables(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Malformed(f"{what} is not a list of tables")
    return value


def _text(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        shown = table.get("name", "an entry")
        raise _Malformed(f"{shown} has no {key}")
    return value.strip()


def _file_hashes(listed: Any, name: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for entry in _tables(listed, f"the files of {name}"):
        filename = entry.get("file") or _last_segment(entry.get("url"))
        digest = _sha256_of(entry.get("hash"))
        if filename and digest:
            files[filename] = digest
    return files


def _sha256_of(value: Any) -> str | None:
    """``sha256:<hex>`` -> ``<hex>`` (lowercase); other algorithms say nothing here."""
    if not isinstance(value, str):
        return None
    algorithm, _, digest = value.partition(":")
    if algorithm.lower() == "sha256" and _HEX64.fullmatch(digest):
        return digest.lower()
    return None


def _last_segment(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    segment = unquote(urlsplit(url).path.replace("\\", "/").rsplit("/", 1)[-1])
    return segment or None


def _version_from_files(files: Mapping[str, str]) -> str | None:
    for filename in files:
        try:
            if filename.endswith(".whl"):
                return str(parse_wheel_filename(filename)[1])
            return str(parse_sdist_filename(filename)[1])
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue
    return None


def _version_key(version: str) -> Version | str:
    try:
        return Version(version)
    except InvalidVersion:
        return version


# -- merging ------------------------------------------------------------------------------


def _merge(parts: Iterable[Needs]) -> Needs:
    """One :class:`Needs`; the same pin from two places keeps every recorded digest."""
    pins: dict[tuple[str, Version | str], Pin] = {}
    names: dict[str, None] = {}
    skipped: dict[str, None] = {}
    sources: dict[Path, None] = {}
    for part in parts:
        for pin in part.pins:
            old = pins.get(pin.key)
            pins[pin.key] = (
                pin
                if old is None
                else Pin(
                    old.name,
                    old.version,
                    files={**pin.files, **old.files},
                    hashes=old.hashes | pin.hashes,
                    index=old.index or pin.index,
                )
            )
        names.update(dict.fromkeys(part.names))
        skipped.update(dict.fromkeys(part.skipped))
        sources.update(dict.fromkeys(part.sources))
    pinned = {p.name for p in pins.values()}
    return Needs(
        pins=tuple(sorted(pins.values(), key=lambda p: (p.name, str(p.key[1])))),
        names=tuple(sorted(n for n in names if n not in pinned)),
        skipped=tuple(skipped),
        sources=tuple(sources),
    )
