"""Format-keeping edits of small TOML files (uv.toml, pdm's config.toml).

tomlkit keeps comments, order and spacing, but only for documents it can render back
unchanged: it reorders an array of tables whose entries are split by other tables, even
without an edit. So every edit here is checked twice: tomlkit is used only when it
round-trips the text, otherwise a line-level splice of the one assignment does the job;
and the new text must parse (tomllib, as strict as uv) to exactly the data expected.
A table pypi-switch adds is appended as a text block, so that removing it gives back the
original bytes. Edits work on ``\\n`` endings; ``text`` gives the file's own endings back.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pypi_switch.edit import line_ending, newline_of, split_lines
from pypi_switch.programs import find_program
from pypi_switch.targets.base import Context, FileSpec, ParseError

if TYPE_CHECKING:
    from pathlib import Path

    from tomlkit.items import Item
    from tomlkit.toml_document import TOMLDocument

    from pypi_switch.paths import Paths

# tomlkit is imported where it is used: loading the targets (every command does) must not
# cost its ~10 ms unless a TOML file is really parsed or written.

__all__ = [
    "Scalar",
    "TomlText",
    "is_explicit_table",
    "is_inline_array",
    "render",
    "render_key",
]

Scalar = str | bool | tuple[str, ...]
KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def render(value: Scalar) -> str:
    """``value`` as TOML source: a basic string, ``true``/``false``, or an array of strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    import tomlkit

    return tomlkit.string(value).as_string()


def render_key(key: str) -> str:
    """A key as TOML source: bare when it can be, else a basic string."""
    return key if _BARE_KEY.fullmatch(key) else render(key)


def _data(value: Scalar) -> Any:
    """``value`` as tomllib gives it back (arrays are lists)."""
    return list(value) if isinstance(value, tuple) else value


def _load(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"invalid TOML: {str(exc).splitlines()[0]}") from None


class TomlText:
    """A TOML text and its data; every edit keeps the text's layout or raises ParseError."""

    def __init__(self, text: str) -> None:
        self._original = text
        self._text = text.replace("\r\n", "\n")
        self.data = _load(self._text)

    @property
    def text(self) -> str:
        """The text as it now stands, with the file's own line endings."""
        return _with_endings(self._text, self._original)

    def get(self, path: KeyPath) -> Any:
        node: Any = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    # -- edits -------------------------------------------------------------------------
    def set(self, path: KeyPath, value: Scalar) -> None:
        """Set an existing key, or add one to an existing table, in place."""

        def expect(data: dict[str, Any]) -> None:
            _parent(data, path)[path[-1]] = _data(value)

        def with_tomlkit(doc: TOMLDocument) -> None:
            parent = _tk_get(doc, path[:-1])
            key = path[-1]
            old = parent.get(key) if hasattr(parent, "get") else None
            parent[key] = _like(value, old)

        self._apply(expect, with_tomlkit, lambda: _LineDoc(self._text).set(path, value))

    def delete(self, path: KeyPath) -> None:
        """Remove a key, or one entry of an array (of tables)."""

        def expect(data: dict[str, Any]) -> None:
            del _parent(data, path)[path[-1]]

        def with_tomlkit(doc: TOMLDocument) -> None:
            del _tk_get(doc, path[:-1])[path[-1]]

        self._apply(expect, with_tomlkit, lambda: _LineDoc(self._text).delete(path))

    def append_inline(self, path: KeyPath, items: list[tuple[str, Scalar]]) -> None:
        """Append an inline table to the inline array at ``path``."""

        def expect(data: dict[str, Any]) -> None:
            _parent(data, path)[path[-1]].append({k: _data(v) for k, v in items})

        def with_tomlkit(doc: TOMLDocument) -> None:
            import tomlkit

            entry = tomlkit.inline_table()
            for key, value in items:
                entry[key] = value
            _tk_get(doc, path).append(entry)

        self._apply(expect, with_tomlkit, None)

    def append_table(self, header: str, items: list[tuple[str, Scalar]]) -> None:
        """Append ``[header]`` (or ``[[header]]``) with ``items`` at the end of the text.

        A blank line separates it from what precedes; the file's trailing newlines (or
        their absence) stay after the block, so :meth:`remove_table` can cut it out exactly.
        """
        m = re.search(r"\n*\Z", self._text)
        assert m is not None
        head, tail = self._text[: m.start()], self._text[m.start() :]
        block = _block(header, items)
        new = f"{head}\n\n{block}{tail}" if head else f"{block}\n"
        *parents, name = header.strip("[]").split(".")

        def expect(data: dict[str, Any]) -> None:
            for part in parents:
                data = data.setdefault(part, {})
            entry = {k: _data(v) for k, v in items}
            if header.startswith("[["):
                data.setdefault(name, []).append(entry)
            else:
                data.setdefault(name, {}).update(entry)

        self._check(new, expect)

    def remove_table(
        self, header: str, items: list[tuple[str, Scalar]], *, whole: bool = False
    ) -> bool:
        """Cut out a block :meth:`append_table` wrote, if it is still there unchanged.

        ``whole``: the lines the user added to that table since go with it.
        """
        block = _block(header, items)
        entry = {k: _data(v) for k, v in items}
        for start, end in reversed(list(_spans(self._text, block, whole=whole))):
            new = self._text[:start] + self._text[end:]
            # A parent table only the block implied ([plugins] for [plugins.x]) goes with it;
            # one the user wrote stays, even empty.
            if any(
                self._matches(
                    new, functools.partial(_drop_block, header=header, entry=entry, prune=p)
                )
                for p in (True, False)
            ):
                self._text, self.data = new, _load(new)
                return True
        return False

    # -- machinery ---------------------------------------------------------------------
    def _apply(
        self,
        expect: Callable[[dict[str, Any]], None],
        with_tomlkit: Callable[[TOMLDocument], None],
        by_lines: Callable[[], str] | None,
    ) -> None:
        doc = _tk_parse(self._text)
        if doc.as_string() == self._text:
            with_tomlkit(doc)
            if by_lines is None or self._matches(doc.as_string(), expect):
                self._check(doc.as_string(), expect)
                return
        if by_lines is None:
            raise ParseError("tomlkit cannot edit this file without reformatting it")
        self._check(by_lines(), expect)

    def _check(self, new: str, expect: Callable[[dict[str, Any]], None]) -> None:
        if not self._matches(new, expect):
            raise ParseError("could not edit this file without changing other settings")
        self._text, self.data = new, _load(new)

    def _matches(self, new: str, expect: Callable[[dict[str, Any]], None]) -> bool:
        wanted = copy.deepcopy(self.data)
        expect(wanted)
        try:
            return tomllib.loads(new) == wanted
        except tomllib.TOMLDecodeError:
            return False


def _with_endings(new: str, original: str) -> str:
    """``new`` (``\\n`` endings) written the way ``original`` is: lines equal to a line of
    the original keep that line's own ending, new or changed lines take the most common
    one, and a missing final newline stays missing.

    tomlkit renders whole documents, so the lines cannot carry their endings through an
    edit; difflib pairs them up again (its cost grows faster than the size, harmless for
    files of a few lines like these).
    """
    old_lines = split_lines(original)
    if not old_lines or new == original:
        return new
    bare = [ln.rstrip("\r\n") + "\n" if line_ending(ln) else ln for ln in old_lines]
    newline = newline_of(original)
    new_lines = split_lines(new)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, bare, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(old_lines[i1:i2])
        else:
            out.extend(ln[:-1] + newline if ln.endswith("\n") else ln for ln in new_lines[j1:j2])
    text = "".join(out)
    if not line_ending(old_lines[-1]):
        text = text[: len(text) - len(line_ending(text))]
    return text


def _tk_parse(text: str) -> TOMLDocument:
    import tomlkit
    import tomlkit.exceptions

    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ParseError(f"tomlkit cannot read this file: {str(exc).splitlines()[0]}") from None


def _block(header: str, items: list[tuple[str, Scalar]]) -> str:
    return "\n".join([header, *(f"{render_key(key)} = {render(value)}" for key, value in items)])


def _spans(text: str, block: str, *, whole: bool) -> Iterator[tuple[int, int]]:
    """Where ``block`` stands as a table of its own, and the text to cut with it.

    Normally that is the blank line :meth:`TomlText.append_table` put before it; at the
    very start of the text (the file was empty) or right after the user's own line, the
    newline that ends it instead.
    """
    for m in re.finditer(re.escape(block), text):
        start, end = m.start(), m.end()
        if end < len(text) and text[end] != "\n":
            continue
        if whole:  # the table's further lines, up to a blank line or the next header
            while end < len(text):
                nxt = text.find("\n", end + 1)
                line = text[end + 1 : nxt if nxt >= 0 else len(text)]
                if not line.strip() or line.lstrip().startswith("["):
                    break
                end = nxt if nxt >= 0 else len(text)
        if text[:start].endswith("\n\n"):
            yield start - 2, end
        elif start == 0 or text[:start].endswith("\n"):
            yield start, min(end + 1, len(text))


def _drop_block(data: dict[str, Any], header: str, entry: dict[str, Any], prune: bool) -> None:
    """What removing the table holding ``entry`` does to the data."""
    *parents, name = header.strip("[]").split(".")
    chain = [data]
    for part in parents:
        chain.append(chain[-1].get(part, {}))
    data = chain[-1]
    if header.startswith("[["):
        entries = data.get(name, [])
        ours = [i for i, e in enumerate(entries) if entry.items() <= e.items()]
        if ours:
            del entries[ours[-1]]
        if not entries:
            data.pop(name, None)
    else:
        table = data.get(name, {})
        for key in entry:
            table.pop(key, None)
        if not table:
            data.pop(name, None)
    for holder, part in reversed(list(zip(chain[:-1], parents, strict=True))):
        if prune and holder.get(part) == {}:
            del holder[part]


def _parent(data: Any, path: KeyPath) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _tk_get(doc: TOMLDocument, path: KeyPath) -> Any:
    node: Any = doc
    for part in path:
        node = node[part]
    return node


def _like(value: Scalar, old: Item | None) -> Any:
    """A new string quoted like the one it replaces: literal, multi-line or basic."""
    import tomlkit
    from tomlkit.items import String, StringType

    if isinstance(value, tuple):
        return list(value)
    if not isinstance(value, str) or not isinstance(old, String):
        return value
    literal = old.type in (StringType.SLL, StringType.MLL) and _literal_ok(value)
    multiline = old.type in (StringType.MLB, StringType.MLL) and "\n" not in value
    return tomlkit.string(value, literal=literal, multiline=multiline)


def _literal_ok(value: str) -> bool:
    return "'" not in value and not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


# -- line-level fallback ---------------------------------------------------------------
_HEADER = re.compile(r"^[ \t]*(?P<open>\[\[?)(?P<name>[^\[\]]+)\]\]?[ \t]*(#.*)?$")
_ASSIGN = re.compile(
    r"^(?P<lead>[ \t]*(?P<key>[A-Za-z0-9_-]+|\"[^\"\\]*\"|'[^']*')[ \t]*=[ \t]*)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|true|false)(?P<tail>[ \t]*(#.*)?)$"
)


@dataclass(frozen=True)
class _Line:
    table: KeyPath  # e.g. ("pip",) or ("index", 2); () for the root table
    key: str | None  # a simple ``key = string|bool`` assignment on this line, else None
    value: str = ""  # the value as written


def _name_parts(raw: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in raw.split("."))


class _LineDoc:
    """Just enough TOML structure to splice one single-line assignment.

    Lines inside multi-line strings and arrays are opaque; anything unusual makes the
    caller's data check fail, which turns into a ParseError rather than a wrong edit.
    """

    def __init__(self, text: str) -> None:
        self.lines = split_lines(text)
        self.info = list(self._scan())

    def _scan(self) -> Iterator[_Line]:
        table: KeyPath = ()
        counts: dict[tuple[str, ...], int] = {}
        opaque_until: str | None = None
        depth = 0
        for raw in self.lines:
            line = raw.rstrip("\n")
            if opaque_until is not None or depth:
                if opaque_until is not None and line.count(opaque_until) % 2:
                    opaque_until = None
                elif opaque_until is None:
                    depth = max(0, depth + _bracket_delta(line))
                yield _Line(table, None)
                continue
            header = _HEADER.match(line)
            if header:
                name = _name_parts(header.group("name"))
                if header.group("open") == "[[":
                    counts[name] = counts.get(name, -1) + 1
                    table = (*name, counts[name])
                else:
                    table = name
                yield _Line(table, None)
                continue
            assign = _ASSIGN.match(line)
            if assign:
                yield _Line(table, assign.group("key").strip("\"'"), assign.group("value"))
                continue
            for quote in ('"""', "'''"):
                if line.count(quote) % 2:
                    opaque_until = quote
            if opaque_until is None:
                depth = max(0, _bracket_delta(line))
            yield _Line(table, None)

    def _find(self, path: KeyPath) -> int | None:
        table, key = path[:-1], path[-1]
        found = [i for i, ln in enumerate(self.info) if ln.table == table and ln.key == key]
        return found[-1] if found else None

    def set(self, path: KeyPath, value: Scalar) -> str:
        at = self._find(path)
        if at is not None:
            m = _ASSIGN.match(self.lines[at].rstrip("\n"))
            assert m is not None
            import tomlkit
            from tomlkit.items import Item

            literal = m.group("value").startswith("'")
            new = _like(value, tomlkit.string("", literal=literal))
            text = new.as_string() if isinstance(new, Item) else render(new)
            ending = "\n" if self.lines[at].endswith("\n") else ""
            self.lines[at] = f"{m.group('lead')}{text}{m.group('tail')}{ending}"
            return "".join(self.lines)
        table = path[:-1]
        rows = [i for i, ln in enumerate(self.info) if ln.table == table and ln.key]
        heads = [i for i, ln in enumerate(self.info) if ln.table == table and ln.key is None]
        if not rows and not heads:
            raise ParseError("could not find where to add the setting")
        at = (rows or heads)[-1]
        if not self.lines[at].endswith("\n"):
            self.lines[at] += "\n"
        self.lines.insert(at + 1, f"{render_key(str(path[-1]))} = {render(value)}\n")
        return "".join(self.lines)

    def delete(self, path: KeyPath) -> str:
        at = self._find(path)
        if at is None:
            raise ParseError("could not find the setting to remove")
        del self.lines[at]
        return "".join(self.lines)


def _bracket_delta(line: str) -> int:
    depth = 0
    quote: str | None = None
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def is_inline_array(text: str, key: str) -> bool:
    """Whether top-level ``key`` is written as ``key = [...]`` rather than ``[[key]]`` tables."""
    from tomlkit.items import Array

    return isinstance(_tk_parse(text).get(key), Array)


def is_explicit_table(text: str, key: str) -> bool:
    """Whether top-level ``key`` is a table the text defines (header, dotted keys or inline),
    rather than absent or only implied by sub-tables such as ``[pypi.extra]``."""
    from tomlkit.items import InlineTable, Table

    item = _tk_parse(text).get(key)
    if isinstance(item, InlineTable):
        return True
    if isinstance(item, Table):
        return not item.is_super_table()
    if item is None:
        return False
    # out-of-order tables come back as a proxy: look at the text itself
    pattern = rf"^[ \t]*(\[[ \t]*{re.escape(key)}[ \t]*\]|{re.escape(key)}[ \t]*[.=])"
    return re.search(pattern, text, re.M) is not None


class TomlTarget:
    """What the TOML-file targets (uv, pdm, poetry, pixi) share: one user file, switched
    by default when the client is installed (or its file exists), refused when the client
    would refuse its data."""

    name = ""
    program = ""  # the client's command

    def config(self, paths: Paths) -> Path:
        """The file this target edits."""
        raise NotImplementedError

    def check(self, data: dict[str, Any]) -> None:
        """Raise ParseError where the client would refuse ``data``."""

    def load(self, text: str) -> TomlText:
        doc = TomlText(text)
        self.check(doc.data)
        return doc

    def default_enabled(self, ctx: Context) -> bool:
        found = find_program(self.program, ctx.environ, ctx.paths.home)
        return found is not None or self.config(ctx.paths).exists()

    def files(self, ctx: Context) -> list[FileSpec]:
        return [FileSpec(self.config(ctx.paths))]

    def parse(self, text: str) -> None:
        self.load(text)
