"""A config file another program holds open (Windows refuses to replace it for a moment).

Windows cannot be run here: the refusal is injected into ``os.replace`` in a subprocess
that runs the real CLI, with the wait that Windows gets switched on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    assert_one_line_error,
    assert_same_tree,
    snapshot,
    write,
)

# argv: log file, basename of the file that is "in use", refusals (-1: always),
# patience in seconds, then the CLI arguments.
REFUSE_REPLACE = r"""
import os, sys
log, name, refusals, patience = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
real = os.replace
def replace(src, dst):
    if os.path.basename(dst) == name:
        with open(log, "a") as fh:
            fh.write("try\n")
        global refusals
        if refusals != 0:
            refusals -= 1
            raise PermissionError(13, "The process cannot access the file because it is "
                                      "being used by another process", dst)
    real(src, dst)
os.replace = replace
import pypi_switch.edit
pypi_switch.edit.IN_USE_PATIENCE = patience
from pypi_switch.cli import main
sys.argv = ["pypi-switch", *sys.argv[5:]]
main()
"""

ORIGINAL = b"[global]\nindex-url = https://old.example/simple\n"


def _run(
    box: Sandbox, refusals: int, patience: float
) -> tuple[subprocess.CompletedProcess[str], int]:
    log = box.root / "tries.log"
    out = box.command(
        [
            sys.executable,
            "-c",
            REFUSE_REPLACE,
            str(log),
            box.pip_conf.name,
            str(refusals),
            str(patience),
            "use-mirror",
            DEAD_URL,
            "--force",
            "--target",
            "pip",
            "--target",
            "pydistutils",
        ]
    )
    tries = len(log.read_text().splitlines()) if log.exists() else 0
    return out, tries


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".pypi-switch-tmp")]


def test_a_file_held_open_for_a_moment_is_replaced_after_a_retry(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, ORIGINAL)
    out, tries = _run(sandbox, refusals=3, patience=2.0)
    assert out.returncode == 0, out.stderr
    assert tries == 4
    assert DEAD_URL in sandbox.pip_conf.read_text()
    assert not _temps(sandbox.pip_conf.parent)


def test_a_file_held_open_too_long_is_one_clear_line_and_nothing_changes(
    sandbox: Sandbox,
) -> None:
    write(sandbox.pip_conf, ORIGINAL)
    write(sandbox.pydistutils, b"[easy_install]\nindex_url = https://old.example/simple\n")
    before = snapshot(
        sandbox.root, skip=(sandbox.root / "tries.log", sandbox.home / ".local", sandbox.state_dir)
    )
    log = sandbox.root / "tries.log"
    out, tries = _run(sandbox, refusals=-1, patience=0.3)
    message = assert_one_line_error(out)
    assert message == (
        f"{sandbox.pip_conf}: in use by another program; close it and try again; "
        "nothing was changed"
    )
    assert tries > 2
    after = snapshot(sandbox.root, skip=(log, sandbox.home / ".local", sandbox.state_dir))
    assert_same_tree(before, after)
    assert not _temps(sandbox.pip_conf.parent)


def test_on_posix_a_refused_replace_fails_at_once(sandbox: Sandbox) -> None:
    # A POSIX rename never waits on readers: a refusal there is final (no retry).
    write(sandbox.pip_conf, ORIGINAL)
    out, tries = _run(sandbox, refusals=-1, patience=0.0)
    assert assert_one_line_error(out).startswith(f"{sandbox.pip_conf}: cannot write")
    assert tries == 1
    assert sandbox.pip_conf.read_bytes() == ORIGINAL


def test_a_read_only_file_is_not_waited_for(sandbox: Sandbox) -> None:
    # Windows also refuses to replace a read-only file: waiting would not help.
    write(sandbox.pip_conf, ORIGINAL, mode=0o444)
    out, tries = _run(sandbox, refusals=-1, patience=2.0)
    assert assert_one_line_error(out).startswith(f"{sandbox.pip_conf}: cannot write")
    assert tries == 1
    assert sandbox.pip_conf.read_bytes() == ORIGINAL
