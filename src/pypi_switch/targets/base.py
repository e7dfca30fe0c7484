"""What every config-file target provides to the engine (``switch.py``, ``restore.py``).

A target knows its files and how to edit *one* option family in them; the engine does
the reading, backups, journal, atomic writes and restore. ``plan`` and ``revert`` are pure
text in, text out; only ``files``, ``warnings`` and ``default_enabled`` look around (at
the environment, at other files that would shadow this one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pypi_switch.config import Settings
from pypi_switch.paths import Paths

__all__ = ["Change", "ChangeKind", "Context", "Edit", "FileSpec", "ParseError", "Target"]

# Where a changed option stands: an INI section or TOML table (``section``), the TOML
# root (``section`` is ""), or an entry of an array of tables (``section`` names the
# array, e.g. uv's ``[[index]]``).
ChangeKind = Literal["section", "root", "entry"]


class ParseError(Exception):
    """The file is not valid for its format; the message says why (one line, no path)."""


@dataclass(frozen=True)
class Change:
    """One option pypi-switch set in one file: enough to undo exactly that option.

    ``section`` and ``key`` locate the option (INI section and option key as written;
    TOML table and key), ``kind`` says what ``section`` is. ``old`` is None when the
    option was absent. ``section_added`` says the section/table itself did not exist before.
    """

    section: str
    key: str
    old: str | None
    new: str
    section_added: bool = False
    kind: ChangeKind = "section"

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "section_added": self.section_added,
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        section = str(data["section"])
        kind: ChangeKind
        match data.get("kind"):
            case "section" | "root" | "entry" as known:
                kind = known
            case _:  # journals written before ``kind`` encoded it in the section itself
                kind = "root" if not section else "entry" if section[:2] == "[[" else "section"
        if kind == "entry":
            section = section.strip("[]")
        return cls(
            section=section,
            key=str(data["key"]),
            old=data["old"] if data["old"] is None else str(data["old"]),
            new=str(data["new"]),
            section_added=bool(data.get("section_added", False)),
            kind=kind,
        )


@dataclass(frozen=True)
class Edit:
    """The new text of a file and the options changed to get there (empty: no change)."""

    text: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class FileSpec:
    """A file a target may edit. ``create``: write it when absent (else only edit it).

    ``sections``: further sections the target must set in this file (pip: a command
    section that a global file sets, which would beat ``[global]`` otherwise).
    """

    path: Path
    create: bool = True
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """What a target may consult: locations, settings and the command-line choices."""

    paths: Paths
    settings: Settings
    projects: tuple[Path, ...] = ()
    environ: dict[str, str] = field(default_factory=dict)


class Target(Protocol):
    name: str

    def default_enabled(self, ctx: Context) -> bool:
        """Whether this target is switched when neither config.toml nor --target choose."""
        ...

    def files(self, ctx: Context) -> list[FileSpec]:
        """The files this target edits, in the order they are written."""
        ...

    def parse(self, text: str) -> None:
        """Raise ParseError when ``text`` is not a valid file of this kind."""
        ...

    def current(self, spec: FileSpec, text: str) -> str | None:
        """The index this file sets (for status), or None."""
        ...

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        """Set the index to ``url`` in ``text`` ("" for an absent file).

        Only the lines of the options being set may change. An option already equal to
        ``url`` is left alone and not reported as a change.
        """
        ...

    def revert(self, spec: FileSpec, text: str, changes: tuple[Change, ...]) -> str:
        """Undo ``changes`` in ``text``, keeping everything else (the user's later edits).

        An option whose value the user changed since (not equal to ``change.new``) is kept.
        Added options are removed; a section added by pypi-switch is removed when empty.
        """
        ...

    def warnings(self, ctx: Context) -> list[str]:
        """What would shadow this target's files (env vars, higher-precedence files)."""
        ...
