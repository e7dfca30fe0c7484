"""Helpers for the black-box tests of ``use-mirror`` / ``restore`` / ``status``.

They only run the command line and look at files: the tests are an oracle for the
specification, not for the engine's internals.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.sandbox import Sandbox

__all__ = [
    "DEAD_URL",
    "DEAD_URL2",
    "ERROR_PREFIX",
    "FIXTURES",
    "Entry",
    "assert_one_line_error",
    "assert_same_tree",
    "diff_trees",
    "local_mirror_config",
    "ok",
    "ok_json",
    "render",
    "snapshot",
    "target_files",
    "write",
]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# A closed loopback port: any probe of it fails at once, so these need ``--force``.
DEAD_URL = "http://127.0.0.1:9/simple/"
DEAD_URL2 = "http://127.0.0.1:7/pypi/simple/"

ERROR_PREFIX = "pypi-switch: error: "


def render(template: bytes, url: str) -> bytes:
    """A fixture's bytes with the ``{URL}`` placeholder replaced."""
    return template.replace(b"{URL}", url.encode())


def write(path: Path, data: bytes | str, *, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    return path


def local_mirror_config(box: Sandbox, index_url: str) -> None:
    """Let ``use-mirror URL`` (without ``--force``) accept a local pypi-server: its check
    looks for the canary project and compares with upstream, so both must be local."""
    box.write_config(f'canary = "canary-pkg"\nupstream = "{index_url}"\nbuiltin_mirrors = false\n')


def _explain(out: subprocess.CompletedProcess[str]) -> str:
    return f"exit {out.returncode}\n--- stdout\n{out.stdout}\n--- stderr\n{out.stderr}"


def ok(box: Sandbox, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the tool; it must succeed without a traceback. Returns stdout."""
    out = box.run(*args, env=env)
    assert out.returncode == 0, _explain(out)
    assert "Traceback" not in out.stderr, _explain(out)
    return out.stdout


def ok_json(box: Sandbox, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run the tool with ``--json``; stdout must be exactly one JSON document."""
    stdout = ok(box, *args, "--json", env=env)
    try:
        return json.loads(stdout)
    except ValueError as exc:
        raise AssertionError(f"stdout is not one JSON document ({exc}):\n{stdout}") from None


def assert_one_line_error(out: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """Exit ``code``; stderr is one line ``pypi-switch: error: ...``; returns the message."""
    assert out.returncode == code, _explain(out)
    assert "Traceback" not in out.stderr + out.stdout, _explain(out)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, _explain(out)
    assert lines[0].startswith(ERROR_PREFIX), _explain(out)
    return lines[0][len(ERROR_PREFIX) :]


def target_files(box: Sandbox) -> list[Path]:
    """Every file a four-target switch may write, where the sandbox keeps it."""
    return [
        box.pip_conf,
        box.pip_user_conf,
        box.pydistutils,
        box.buildout_default,
        box.project / "buildout.cfg",
    ]


@dataclass(frozen=True)
class Entry:
    """What a test compares about one path: kind, bytes, mode, mtime, link target."""

    kind: str
    data: bytes | None
    mode: int
    mtime_ns: int
    link: str | None


def snapshot(*roots: Path, skip: tuple[Path, ...] = ()) -> dict[Path, Entry]:
    """Every path under ``roots`` (symlinks not followed), except those under ``skip``."""
    found: dict[Path, Entry] = {}
    for root in roots:
        if not os.path.lexists(root):
            continue
        paths = [root]
        if root.is_dir() and not root.is_symlink():
            paths += sorted(root.rglob("*"))
        for path in paths:
            if any(path == s or s in path.parents for s in skip):
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[path] = Entry("link", None, 0, 0, os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                found[path] = Entry("dir", None, stat.S_IMODE(st.st_mode), 0, None)
            else:
                found[path] = Entry(
                    "file", path.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns, None
                )
    return found


def diff_trees(
    before: dict[Path, Entry], after: dict[Path, Entry], *, mtime: bool = False
) -> list[str]:
    """Human-readable differences between two snapshots (empty: identical)."""
    problems = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        if a is None:
            problems.append(f"created: {path}")
        elif b is None:
            problems.append(f"removed: {path}")
        elif (a.kind, a.data, a.mode, a.link) != (b.kind, b.data, b.mode, b.link):
            problems.append(f"changed: {path}: {a.data!r} -> {b.data!r}")
        elif mtime and a.mtime_ns != b.mtime_ns:
            problems.append(f"touched (mtime): {path}")
    return problems


def assert_same_tree(
    before: dict[Path, Entry], after: dict[Path, Entry], *, mtime: bool = False
) -> None:
    problems = diff_trees(before, after, mtime=mtime)
    assert not problems, "\n".join(problems)
