"""Minimal, line-exact edits of INI files (pip.conf, .pydistutils.cfg, buildout files).

The file is read the way the clients read it: lines split at ``\\r\\n``, ``\\r`` or ``\\n``
(text-mode files), then configparser's own rules and patterns (comment prefixes, a value
continued by deeper indentation, blank lines inside a value, duplicates refused). An edit
splices only the lines of one option and re-reads only that section, so the key's
spelling, separator and spacing, each line's own ending, every comment and every other
line stay exactly as the user wrote them.

The reading is hand-written rather than done by configupdater, which builds a tree of
every block: 5 to 8 s for a 10 MB file, where this takes a fraction of a second
(``bench/switch_size_bench.py``). tests/test_ini.py holds it to configparser's reading of
the same files.
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import gc
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pypi_switch.edit import BOM, line_ending, newline_of, read_state, split_lines
from pypi_switch.errors import SwitchError
from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError

__all__ = [
    "Dialect",
    "IniDoc",
    "IniTarget",
    "Option",
    "bom_warning",
]

_SECTION = configparser.RawConfigParser.SECTCRE
_OPTION = configparser.RawConfigParser.OPTCRE
_COMMENT = "#;"  # configparser's default comment prefixes; no inline comments
_PREFIX = re.compile(r"^(?P<prefix>.*?[=:][ \t]*)(?P<value>.*)$")


@dataclass(frozen=True)
class Dialect:
    """How one client reads its INI files.

    ``name``: the option a key as written stands for (pip: ``--Index_URL`` is
    ``index-url``). ``duplicate``: keys equal under it may not appear twice in a section
    (configparser's ``optionxform``). ``percent``: values go through ``%`` interpolation,
    so a literal ``%`` is written ``%%``.
    """

    name: Callable[[str], str]
    duplicate: Callable[[str], str] = str.lower
    percent: bool = False

    def escape(self, value: str) -> str:
        return value.replace("%", "%%") if self.percent else value

    def unescape(self, raw: str) -> str:
        return raw.replace("%%", "%") if self.percent else raw


class Option(NamedTuple):
    key: str  # as written
    name: str  # as the client names it
    value: str  # as written, continuation lines joined by "\n"
    start: int  # its first line, counted from the section header
    end: int  # one past the last line holding part of its value


class _Section(NamedTuple):
    name: str | None  # None: the lines before the first header (or a section dropped)
    lines: tuple[str, ...]
    options: tuple[Option, ...]


class _Scan(NamedTuple):
    sections: tuple[_Section, ...]  # the first one holds the lines before any header
    positions: dict[str, int]  # section name -> place (never changed: IniDoc copies it)
    newline: str  # the file's most common line ending, for the lines pypi-switch adds
    final_newline: bool  # whether the text ends with a line ending (or is empty)


def _read(lines: Sequence[str], dialect: Dialect, *, strict: bool = True) -> list[_Section]:
    """Cut ``lines`` into sections with their options, as configparser reads them."""
    sections: list[_Section] = []
    seen: set[str] = set()
    name: str | None = None
    begin = 0
    options: list[Option] = []
    keys: set[str] = set()
    key = canon = ""  # the option being read, as written and as named ("" when none)
    parts: list[str] = []
    start = end = indent = 0
    same_rule = dialect.duplicate is dialect.name
    names: dict[str, str] = {}  # key as written -> as named (a file repeats its keys)
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            if key:
                parts.append("")  # part of the value if an indented line follows
            continue
        if text[0] in _COMMENT:
            continue
        lead = 0 if line[0] == text[0] else len(line) - len(line.lstrip())
        if key:
            if lead > indent:
                parts.append(text)
                end = i + 1
                continue
            value = "\n".join(parts).strip() if len(parts) > 1 else parts[0]
            options.append(Option(key, canon, value, start - begin, end - begin))
            key = ""
        indent = lead
        header = _SECTION.match(text) if text[0] == "[" else None
        if header:
            sections.append(_Section(name, tuple(lines[begin:i]), tuple(options)))
            name, begin, options, keys = header.group("header"), i, [], set()
            if strict and name in seen:
                raise ParseError(f"section [{name}] appears twice (line {i + 1})")
            seen.add(name)
            continue
        if name is None:
            raise ParseError(f"no section header before the first option (line {i + 1})")
        found = _OPTION.match(text)
        if not found or not found.group("option"):
            raise ParseError(f"line {i + 1} is not a section header, an option or a comment")
        key, value = found.group("option", "value")
        key = key.rstrip()
        canon = names.get(key) or names.setdefault(key, dialect.name(key))
        if strict:
            same = canon if same_rule else dialect.duplicate(key)
            if same in keys:
                raise ParseError(f"option {key!r} appears twice in section [{name}] (line {i + 1})")
            keys.add(same)
        parts, start, end = [value.strip()], i, i + 1
    if key:
        value = "\n".join(parts).strip()
        options.append(Option(key, canon, value, start - begin, end - begin))
    sections.append(_Section(name, tuple(lines[begin:]), tuple(options)))
    return sections


# The engine reads one file for its target list, its warnings, its plan and the check of
# the planned text: the same text is read once.
@functools.lru_cache(maxsize=4)
def _scan(text: str, dialect: Dialect) -> _Scan:
    lines = split_lines(text)
    with _no_collection():
        sections = tuple(_read(lines, dialect))
    index = {s.name: i for i, s in enumerate(sections) if s.name is not None}
    final_newline = not lines or bool(line_ending(lines[-1]))
    return _Scan(sections, index, newline_of(text), final_newline)


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Reading makes objects per line and none form a cycle; the collector's full passes,
    each over a heap that grows with the file, would make the reading quadratic."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class IniDoc:
    """An INI text, read once; each edit re-reads only the section it changed."""

    def __init__(self, text: str, dialect: Dialect) -> None:
        scan = _scan(text, dialect)
        self.dialect = dialect
        # Shared with the cached reading until the first edit (see _edit).
        self._sections: Sequence[_Section] = scan.sections
        self._index: Mapping[str, int] = scan.positions
        self._own: tuple[list[_Section], dict[str, int]] | None = None
        self._names: dict[str, str] = {}
        self._newline = scan.newline
        self._final_newline = scan.final_newline

    @property
    def text(self) -> str:
        text = "".join(itertools.chain.from_iterable(s.lines for s in self._sections))
        if not self._final_newline:
            text = text[: len(text) - len(line_ending(text))]  # as the user left it
        return text

    # -- queries ---------------------------------------------------------------------------
    def section_names(self) -> list[str]:
        return list(self._index)

    def options(self, section: str, name: str | None = None) -> list[Option]:
        """The options of ``section`` (those the client reads as ``name``, if given)."""
        at = self._index.get(section)
        if at is None:
            return []
        if name is None:
            return list(self._sections[at].options)
        wanted = self._names.get(name) or self._names.setdefault(name, self.dialect.name(name))
        return [o for o in self._sections[at].options if o.name == wanted]

    def get(self, section: str, name: str) -> str | None:
        """The value the client reads for option ``name`` (the last one set wins)."""
        found = self.options(section, name)
        return self.dialect.unescape(found[-1].value) if found else None

    # -- edits -----------------------------------------------------------------------------
    def update(self, section: str, name: str, value: str) -> list[Change]:
        """Set every existing option ``name`` of ``section`` to ``value``."""
        raw = self.dialect.escape(value)
        changes = []
        for n in range(len(self.options(section, name))):
            opt = self.options(section, name)[n]  # where it stands after the previous edit
            if opt.value != raw:
                self._replace_value(section, opt, raw)
                changes.append(Change(section, opt.key, opt.value, raw))
        return changes

    def ensure(self, section: str, name: str, key: str, value: str) -> list[Change]:
        """Set option ``name`` of ``section``, adding it as ``key`` (and the section) if absent."""
        if self.options(section, name):
            return self.update(section, name, value)
        raw = self.dialect.escape(value)
        at = self._index.get(section)
        if at is None:
            self._append_section(section, f"{key} = {raw}{self._newline}")
            return [Change(section, key, None, raw, section_added=True)]
        options = self._sections[at].options
        after = options[-1].end if options else 1
        self._splice(section, after, after, [f"{key} = {raw}{self._newline}"])
        return [Change(section, key, None, raw)]

    def revert(self, changes: Iterable[Change]) -> None:
        """Undo ``changes`` where the value is still the one pypi-switch wrote."""
        for change in reversed(list(changes)):
            for opt in self.options(change.section, change.key):
                if opt.key != change.key or opt.value != change.new:
                    continue  # the user changed it since: theirs stays
                if change.old is None:
                    self._splice(change.section, opt.start, opt.end, [])
                else:
                    self._replace_value(change.section, opt, change.old)
                break
            if change.section_added:
                self._drop_if_empty(change.section)

    def _replace_value(self, section: str, opt: Option, raw: str) -> None:
        at = self._index[section]
        first = self._sections[at].lines[opt.start]
        ending = line_ending(first)
        m = _PREFIX.match(first[: len(first) - len(ending)])
        assert m is not None  # an option line always has its separator
        prefix = m.group("prefix")
        if not m.group("value").strip() and not prefix[-1].isspace():
            prefix += " "  # the old value stood on continuation lines
        head, *more = raw.split("\n")
        ending = ending or self._newline
        new = [f"{prefix}{head}{ending}", *(f"    {part}{ending}" for part in more)]
        if len(new) == 1 and opt.end == opt.start + 1 and raw == raw.strip():
            # One line for one line: reading it again would give just this (fast for the
            # file with thousands of sections, each edited).
            sec = self._sections[at]
            lines = (*sec.lines[: opt.start], new[0], *sec.lines[opt.end :])
            options = tuple(o._replace(value=raw) if o is opt else o for o in sec.options)
            self._edit()[0][at] = _Section(sec.name, lines, options)
            return
        self._splice(section, opt.start, opt.end, new)

    def _splice(self, section: str, start: int, end: int, new: list[str]) -> None:
        """Replace lines ``start:end`` of ``section`` (counted from its header) with ``new``."""
        at = self._index[section]
        lines = list(self._sections[at].lines)
        if new and 0 < start == len(lines) and not line_ending(lines[-1]):
            lines[-1] += self._newline
        lines[start:end] = new
        (read,) = _read(lines, self.dialect, strict=False)[1:]
        self._edit()[0][at] = read

    def _edit(self) -> tuple[list[_Section], dict[str, int]]:
        """The sections and index to change: a copy of the cached reading, made once."""
        if self._own is None:
            self._own = (list(self._sections), dict(self._index))
            self._sections, self._index = self._own
        return self._own

    def _append_section(self, name: str, body: str) -> None:
        sections, index = self._edit()
        last = self._last_lines()
        if last is not None:
            at, lines = last
            if not line_ending(lines[-1]):
                lines[-1] += self._newline
            if lines[-1].strip():
                lines.append(self._newline)
            sections[at] = sections[at]._replace(lines=tuple(lines))
        index[name] = len(sections)
        sections.append(_Section(name, (), ()))
        self._splice(name, 0, 0, [f"[{name}]{self._newline}", body])

    def _drop_if_empty(self, name: str) -> None:
        at = self._index.get(name)
        if at is None or self._sections[at].options:
            return
        if any(ln.strip() for ln in self._sections[at].lines[1:]):
            return  # the user wrote comments there: keep the section
        sections, index = self._edit()
        del index[name]
        sections[at] = _Section(None, (), ())
        last = self._last_lines()
        if last is None or last[0] > at:
            return
        before, lines = last
        if len(lines) >= 2 and not lines[-1].strip() and lines[-2].strip():
            # the blank line that was added before the section
            sections[before] = sections[before]._replace(lines=tuple(lines[:-1]))

    def _last_lines(self) -> tuple[int, list[str]] | None:
        """The last section that holds lines: its position and its lines."""
        for at in range(len(self._sections) - 1, -1, -1):
            if self._sections[at].lines:
                return at, list(self._sections[at].lines)
        return None


class IniTarget:
    """Shared behaviour of the INI targets: parse, current value, revert."""

    name = ""
    section = ""
    option = ""  # the index option, as the client names it
    dialect = Dialect(name=str.strip)

    def default_enabled(self, ctx: Context) -> bool:
        return True  # the classic files: every Python has pip, setuptools reads its file

    def doc(self, text: str) -> IniDoc:
        return IniDoc(text, self.dialect)

    def parse(self, text: str) -> None:
        self.doc(text)

    def current(self, spec: FileSpec, text: str) -> str | None:
        return self.doc(text).get(self.section, self.option)

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        doc = self.doc(text)
        doc.revert(changes)
        return doc.text

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = self.doc(text)
        changes = doc.ensure(self.section, self.option, self.option, url)
        return Edit(doc.text, tuple(changes))


def bom_warning(ctx: Context, path: Path, client: str) -> list[str]:
    """A file that starts with a UTF-8 byte-order mark is no file at all to ``client``:
    pip, setuptools and buildout read it with configparser, which takes the mark for the
    start of a line and stops ("File contains no section headers"). Switching it would be
    a "done" the client ignores, so the user hears it."""
    try:
        data = read_state(path).data
    except SwitchError:
        return []  # unreadable: the switch itself says so
    if data is None or not data.startswith(BOM):
        return []
    return [
        f"{ctx.paths.show(path)} starts with a byte-order mark, so {client} cannot read it "
        "at all; save it as UTF-8 without a BOM"
    ]
