"""Unified diffs of a config file before and after an edit, in time linear in its size.

difflib alone takes minutes on a file of 10,000 sections where most lines repeat
(``timeout = 60``, blank lines). The lines found once in each text (section headers,
most comments) are paired first, in order; difflib then only compares the short runs
between two such anchors.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from pypi_switch.edit import split_lines

__all__ = ["unified_diff"]

Opcode = tuple[str, int, int, int, int]
CONTEXT = 3
# Runs between anchors larger than this (lines on one side times the other), once their
# common start and end are set aside, are shown as replaced whole.
_DIFFLIB_LIMIT = 250_000


def unified_diff(path: Path, old: str, new: str) -> str:
    a = split_lines(old, keepends=False)
    b = split_lines(new, keepends=False)
    out = []
    for group in _grouped(_opcodes(a, b)):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [f" {line}" for line in a[i1:i2]]
                continue
            out += [f"-{line}" for line in a[i1:i2]]
            out += [f"+{line}" for line in b[j1:j2]]
    if not out:
        return ""
    return "".join(f"{line}\n" for line in [f"--- {path}", f"+++ {path}", *out])


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    # The common start and end first: most edits touch a few lines of a long file.
    head = _shared(a, b, min(len(a), len(b)))
    tail = _shared(a[::-1], b[::-1], min(len(a), len(b)) - head)
    i0, j0 = head, head
    ops: list[Opcode] = [("equal", 0, head, 0, head)]
    for i, j in [*_anchors(a[head : len(a) - tail], b[head : len(b) - tail]), (-1, -1)]:
        i, j = (len(a) - tail, len(b) - tail) if i < 0 else (head + i, head + j)
        ops += _between(a, b, i0, i, j0, j)
        ops.append(("equal", i, i + 1, j, j + 1))
        i0, j0 = i + 1, j + 1
    ops[-1] = ("equal", len(a) - tail, len(a), len(b) - tail, len(b))
    merged: list[Opcode] = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged and op[0] == "equal" == merged[-1][0]:
            merged[-1] = ("equal", merged[-1][1], op[2], merged[-1][3], op[4])
        else:
            merged.append(op)
    return merged


def _shared(x: Sequence[str], y: Sequence[str], most: int) -> int:
    """How many lines ``x`` and ``y`` have in common from their start, up to ``most``."""
    n = 0
    while n < most and x[n] == y[n]:
        n += 1
    return n


def _anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines found exactly once in each text, the longest run in order."""
    in_a, in_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if in_b[line] == 1}
    pairs = [(i, where_b[ln]) for i, ln in enumerate(a) if in_a[ln] == 1 and ln in where_b]
    # longest increasing subsequence of the j's (patience sorting)
    tails: list[int] = []  # tails[k]: the smallest j ending a run of length k + 1
    tail_at: list[int] = []  # index in pairs of that j
    before: list[int] = []  # for each pair, the previous pair of its best run
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k], tail_at[k] = j, n
        before.append(tail_at[k - 1] if k else -1)
    run: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


def _between(
    a: Sequence[str], b: Sequence[str], i0: int, i1: int, j0: int, j1: int
) -> list[Opcode]:
    """The opcodes of ``a[i0:i1]`` against ``b[j0:j1]``: their common start and end, then
    what differs between (difflib only where both sides hold several lines)."""
    head = _shared(a[i0:i1], b[j0:j1], min(i1 - i0, j1 - j0))
    most = min(i1 - i0, j1 - j0) - head
    tail = _shared(a[i0 + head : i1][::-1], b[j0 + head : j1][::-1], most)
    x0, x1, y0, y1 = i0 + head, i1 - tail, j0 + head, j1 - tail
    ops: list[Opcode] = [("equal", i0, x0, j0, y0)]
    if x0 == x1 or y0 == y1:
        ops.append(("insert" if x0 == x1 else "delete", x0, x1, y0, y1))
    elif (x1 - x0 == 1 == y1 - y0) or (x1 - x0) * (y1 - y0) > _DIFFLIB_LIMIT:
        ops.append(("replace", x0, x1, y0, y1))
    else:
        found = difflib.SequenceMatcher(None, a[x0:x1], b[y0:y1], autojunk=False).get_opcodes()
        ops += [(t, p1 + x0, p2 + x0, q1 + y0, q2 + y0) for t, p1, p2, q1, q2 in found]
    ops.append(("equal", x1, i1, y1, j1))
    return ops


def _grouped(ops: list[Opcode]) -> Iterator[list[Opcode]]:
    """Hunks: the changes with up to ``CONTEXT`` equal lines around them (as difflib's)."""
    if not any(op[0] != "equal" for op in ops):
        return
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - CONTEXT), i2, max(j1, j2 - CONTEXT), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + CONTEXT), j1, min(j2, j1 + CONTEXT))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * CONTEXT:
            group.append((tag, i1, min(i2, i1 + CONTEXT), j1, min(j2, j1 + CONTEXT)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - CONTEXT), max(j1, j2 - CONTEXT)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's rule)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if not length else start + 1},{length}"
