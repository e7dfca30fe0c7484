"""Minimal, line-exact edits of INI files (pip.conf, .pydistutils.cfg, buildout files).

configupdater parses the file and tells where each section and option stands; the edit
itself splices only the option's own lines, so the key's spelling, indentation, separator
and spacing, every comment and every other line stay exactly as the user wrote them
(configupdater would re-space a changed option line).
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from configupdater import ConfigUpdater
from configupdater.block import Block
from configupdater.option import Option
from configupdater.section import Section

from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError

__all__ = ["IniDoc", "IniTarget", "KeyMatch"]

KeyMatch = Callable[[str], bool]
_PREFIX = re.compile(r"^(?P<prefix>.*?[=:][ \t]*)(?P<value>.*)$")


@dataclass(frozen=True)
class _Opt:
    section: str
    key: str
    value: str
    start: int  # first line index
    end: int  # one past its last non-blank line


@dataclass(frozen=True)
class _Sec:
    name: str
    header: int
    end: int  # one past its last line
    options: tuple[_Opt, ...]


def _parse(text: str) -> ConfigUpdater:
    updater = ConfigUpdater()
    try:
        updater.read_string(text)
    except configparser.MissingSectionHeaderError:
        raise ParseError("no section header before the first option") from None
    except configparser.DuplicateOptionError as exc:
        raise ParseError(
            f"option {exc.option!r} appears twice in section [{exc.section}] (line {exc.lineno})"
        ) from None
    except configparser.DuplicateSectionError as exc:
        raise ParseError(f"section [{exc.section}] appears twice (line {exc.lineno})") from None
    except configparser.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParseError(f"not a valid INI file: {first}") from None
    return updater


class IniDoc:
    """An INI text with line-level edits; re-parsed after every edit (the files are tiny)."""

    def __init__(self, text: str) -> None:
        self.lines: list[str] = re.findall(r"[^\n]*\n|[^\n]+", text)
        self._scan()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def _scan(self) -> None:
        updater = _parse(self.text)
        sections: list[_Sec] = []
        line = 0
        for block in updater.iter_blocks():
            if isinstance(block, Section):
                header = line
                line += len(block.lines)
                options: list[_Opt] = []
                for child in block.iter_blocks():
                    n = len(_lines(child))
                    if isinstance(child, Option):
                        end = line + n
                        while end > line + 1 and not self.lines[end - 1].strip():
                            end -= 1
                        value = (child.value or "").strip()
                        options.append(_Opt(block.name, child.raw_key, value, line, end))
                    line += n
                sections.append(_Sec(block.name, header, line, tuple(options)))
            else:
                line += len(_lines(block))
        if line != len(self.lines):  # pragma: no cover - would be a configupdater change
            raise ParseError("could not map the file's lines")
        self._sections = sections

    # -- queries ---------------------------------------------------------------------------
    def section_names(self) -> list[str]:
        return [s.name for s in self._sections]

    def _section(self, name: str) -> _Sec | None:
        return next((s for s in self._sections if s.name == name), None)

    def options(self, section: str, match: KeyMatch) -> list[_Opt]:
        sec = self._section(section)
        return [o for o in sec.options if match(o.key)] if sec else []

    def get(self, section: str, match: KeyMatch) -> str | None:
        found = self.options(section, match)
        return found[-1].value if found else None

    # -- edits -----------------------------------------------------------------------------
    def update(self, section: str, match: KeyMatch, value: str) -> list[Change]:
        """Set every existing matching option of ``section`` to ``value``."""
        changes = []
        for opt in self.options(section, match):
            if opt.value == value:
                continue
            self._replace_value(opt, value)
            changes.append(Change(section, opt.key, opt.value, value))
        return changes

    def ensure(self, section: str, match: KeyMatch, key: str, value: str) -> list[Change]:
        """Set the matching options of ``section``, adding ``key`` (and the section) if none."""
        if self.options(section, match):
            return self.update(section, match, value)
        sec = self._section(section)
        if sec is None:
            self._append_section(section, [f"{key} = {value}\n"])
            return [Change(section, key, None, value, section_added=True)]
        at = sec.options[-1].end if sec.options else sec.header + 1
        self._insert(at, [f"{key} = {value}\n"])
        return [Change(section, key, None, value)]

    def revert(self, changes: Iterable[Change], match_for: Callable[[str], KeyMatch]) -> None:
        """Undo ``changes`` where the value is still the one pypi-switch wrote."""
        for change in reversed(list(changes)):
            match = match_for(change.key)
            for opt in self.options(change.section, match):
                if opt.key != change.key or opt.value != change.new:
                    continue  # the user changed it since: theirs stays
                if change.old is None:
                    del self.lines[opt.start : opt.end]
                    self._scan()
                else:
                    self._replace_value(opt, change.old)
                break
            if change.section_added:
                self._drop_if_empty(change.section)

    def _replace_value(self, opt: _Opt, value: str) -> None:
        first = self.lines[opt.start]
        ending = "\n" if first.endswith("\n") else ""
        m = _PREFIX.match(first.rstrip("\n"))
        assert m is not None  # an option line always has its separator
        prefix = m.group("prefix")
        if not m.group("value").strip() and not prefix[-1].isspace():
            prefix += " "  # the old value stood on continuation lines
        tail = "\n" if ending or opt.end < len(self.lines) else ""
        self.lines[opt.start : opt.end] = [f"{prefix}{value}{tail}"]
        self._scan()

    def _insert(self, at: int, new: list[str]) -> None:
        if at > 0 and not self.lines[at - 1].endswith("\n"):
            self.lines[at - 1] += "\n"
        self.lines[at:at] = new
        self._scan()

    def _append_section(self, name: str, body: list[str]) -> None:
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        if self.lines and self.lines[-1].strip():
            self.lines.append("\n")
        self.lines.extend([f"[{name}]\n", *body])
        self._scan()

    def _drop_if_empty(self, name: str) -> None:
        sec = self._section(name)
        if sec is None or sec.options:
            return
        if any(ln.strip() for ln in self.lines[sec.header + 1 : sec.end]):
            return  # the user wrote comments there: keep the section
        start, end = sec.header, sec.end
        at_end = end >= len(self.lines)
        if (
            at_end
            and start >= 2
            and not self.lines[start - 1].strip()
            and self.lines[start - 2].strip()
        ):
            start -= 1  # the blank line that was added before the section
        del self.lines[start:end]
        self._scan()


def _lines(block: Block) -> list[str]:
    lines: list[str] = getattr(block, "lines", [])
    return lines


class IniTarget:
    """Shared behaviour of the INI targets: parse, current value, revert."""

    name = ""
    section = ""

    def default_enabled(self, ctx: Context) -> bool:
        return True  # the classic files: every Python has pip, setuptools reads its file

    def key_match(self, key: str) -> KeyMatch:
        """Which option keys belong to the same family as ``key`` (the index option)."""
        raise NotImplementedError

    def index_match(self) -> KeyMatch:
        raise NotImplementedError

    def parse(self, text: str) -> None:
        IniDoc(text)

    def current(self, spec: FileSpec, text: str) -> str | None:
        return IniDoc(text).get(self.section, self.index_match())

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        doc = IniDoc(text)
        doc.revert(changes, self.key_match)
        return doc.text

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        raise NotImplementedError
