"""All or nothing: a failure or a SIGKILL at any write step of a four-target switch.

Every file is replaced with ``os.replace`` (backups, journal and configs alike), so
counting its calls reaches every write step of a switch.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pypi_switch.errors import SwitchError
from pypi_switch.restore import restore
from pypi_switch.switch import use_mirror
from pypi_switch.targets import build_context
from tests.support.faults import KILL_AT_REPLACE
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import Sandbox

PIP_CONF = "# mine\n[global]\ntimeout = 60\nindex-url = https://old.example/simple\n"
BUILDOUT_DEFAULT = "[buildout]\n# user defaults\nnewest = false\n"
PROJECT = "[buildout]\nparts =\neggs += foo\nindex = https://proj.example/simple\n"
SECOND_URL = "http://127.0.0.1:9/simple/"

pytestmark = pytest.mark.linux_only("SIGKILL and I/O errors injected at every write step")


def _setup(box: Sandbox) -> dict[Path, bytes | None]:
    # The four classic targets, whatever is on PATH (uv or pdm would add write steps).
    box.write_config('targets = ["pip", "pydistutils", "buildout", "project"]\n')
    box.pip_conf.parent.mkdir(parents=True)
    box.pip_conf.write_text(PIP_CONF)
    box.buildout_default.parent.mkdir(parents=True)
    box.buildout_default.write_text(BUILDOUT_DEFAULT)
    (box.project / "buildout.cfg").write_text(PROJECT)
    return _snapshot(box)


def _files(box: Sandbox) -> list[Path]:
    return [box.pip_conf, box.pydistutils, box.buildout_default, box.project / "buildout.cfg"]


def _snapshot(box: Sandbox) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in _files(box)}


def _count_replaces(monkeypatch: pytest.MonkeyPatch, box: Sandbox, url: str) -> int:
    calls = 0
    real = os.replace

    def counting(src: str | Path, dst: str | Path) -> None:
        nonlocal calls
        calls += 1
        real(src, dst)

    with monkeypatch.context() as m:
        m.setattr(os, "replace", counting)
        use_mirror(build_context(), url)
    return calls


def _failing_replace(n: int) -> Callable[[str | Path, str | Path], None]:
    calls = 0
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        nonlocal calls
        calls += 1
        if calls == n:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    return replace


def test_a_switch_has_several_write_steps(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mirror: PypiServer
) -> None:
    _setup(sandbox)
    # 3 backups, the intent, 4 config files, the commit.
    assert _count_replaces(monkeypatch, sandbox, mirror.index_url) == 9


@pytest.mark.parametrize("step", range(1, 10))
def test_failure_at_any_write_step_changes_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mirror: PypiServer, step: int
) -> None:
    original = _setup(sandbox)
    with monkeypatch.context() as m:
        m.setattr(os, "replace", _failing_replace(step))
        with pytest.raises(SwitchError, match=r"No space left.*; nothing was changed"):
            use_mirror(build_context(), mirror.index_url)
    assert _snapshot(sandbox) == original
    assert not (sandbox.home / ".pydistutils.cfg").exists()
    # Nothing is left to restore, and the next switch works.
    assert restore(build_context()).nothing_to_restore
    use_mirror(build_context(), mirror.index_url)
    restore(build_context())
    assert _snapshot(sandbox) == original


@pytest.mark.parametrize("step", range(1, 10))
def test_failure_while_switching_again_keeps_the_first_switch(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mirror: PypiServer, step: int
) -> None:
    original = _setup(sandbox)
    use_mirror(build_context(), mirror.index_url)
    first = _snapshot(sandbox)
    with monkeypatch.context() as m:
        m.setattr(os, "replace", _failing_replace(step))
        try:
            use_mirror(build_context(), SECOND_URL)
        except SwitchError:
            assert _snapshot(sandbox) == first
        else:
            assert step > 6  # fewer write steps: no backups this time
    restore(build_context())
    assert _snapshot(sandbox) == original


@pytest.mark.slow
@pytest.mark.parametrize("step", range(1, 10))
def test_sigkill_at_any_write_step_leaves_each_file_whole(
    sandbox: Sandbox, mirror: PypiServer, step: int
) -> None:
    original = _setup(sandbox)
    run = sandbox.command(
        [
            sys.executable,
            "-c",
            KILL_AT_REPLACE,
            str(step),
            "use-mirror",
            mirror.index_url,
            "--force",
        ]
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    # Each file is either its original or fully switched, never half-written.
    for path, before in original.items():
        now = path.read_bytes() if path.exists() else None
        if now != before:
            assert now is not None
            assert mirror.index_url in now.decode(), path
    # restore brings back every original byte, and a later switch still works.
    out = sandbox.run("restore")
    assert out.returncode == 0, out.stderr
    assert _snapshot(sandbox) == original
    assert sandbox.run("use-mirror", mirror.index_url, "--force").returncode == 0
    assert sandbox.run("restore").returncode == 0
    assert _snapshot(sandbox) == original


@pytest.mark.slow
def test_sigkill_then_switching_again_completes(sandbox: Sandbox, mirror: PypiServer) -> None:
    original = _setup(sandbox)
    run = sandbox.command(
        [sys.executable, "-c", KILL_AT_REPLACE, "6", "use-mirror", mirror.index_url, "--force"]
    )
    assert run.returncode == -signal.SIGKILL
    out = sandbox.run("status", "--json")
    assert out.returncode == 0, out.stderr
    out = sandbox.run("use-mirror", mirror.index_url, "--force")
    assert out.returncode == 0, out.stderr
    for path in _files(sandbox):
        assert mirror.index_url in path.read_text(), path
    assert sandbox.run("restore").returncode == 0
    assert _snapshot(sandbox) == original
