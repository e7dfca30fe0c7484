"""`pypi-switch auto` as cron runs it: real subprocesses, a fake upstream on loopback that
goes down and comes back, real pypi-server mirrors, real pip reading what was written."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pypi_switch import auto
from pypi_switch.render.auto import tick_json
from pypi_switch.render.status import to_json as status_json
from pypi_switch.restore import restore
from pypi_switch.status import status as status_of
from pypi_switch.targets import build_context
from tests.conftest import CANARY
from tests.support.faults import KILL_AT_REPLACE
from tests.support.hostile import BlackHole
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    DEAD_URL2,
    assert_one_line_error,
    assert_same_tree,
    ok,
    snapshot,
    write,
)

PIP_USER = "# my company index\n[global]\nindex-url = {upstream}\ntimeout = 5\n"
BUILDOUT = "[buildout]\n# defaults\nnewest = false\n"
PROJECT = "[buildout]\nparts =\nindex = https://proj.example/simple\n"
WHEEL = "canary_pkg-1.1-py3-none-any.whl"


@pytest.fixture
def upstream(wheelhouse: Path) -> Iterator[PypiServer]:
    """A fake upstream of this test's own: ``stop()`` is an outage, ``start()`` the fix."""
    with PypiServer(wheelhouse) as server:
        yield server


def configure(
    box: Sandbox,
    upstream: str,
    mirrors: list[str],
    *,
    fail_after: int = 2,
    recover_after: int = 3,
    timeout: float = 5.0,
) -> None:
    entries = "".join(
        f'[[mirror]]\nname = "m{i}"\nurl = "{url}"\n\n' for i, url in enumerate(mirrors, 1)
    )
    box.write_config(
        textwrap.dedent(
            f"""\
            builtin_mirrors = false
            canary = "{CANARY}"
            upstream = "{upstream}"
            timeout = {timeout}

            {entries}
            [auto]
            fail_after = {fail_after}
            recover_after = {recover_after}
            """
        )
    )


def user_files(box: Sandbox, upstream: str) -> None:
    write(box.pip_user_conf, PIP_USER.format(upstream=upstream))
    write(box.buildout_default, BUILDOUT)
    write(box.project / "buildout.cfg", PROJECT)  # in cron's cwd: not the tick's business


def files(box: Sandbox) -> dict[Path, Any]:
    """Every file of the user's: the tool's own state (~/.local/state), config and caches aside."""
    return snapshot(
        box.home,
        box.project,
        skip=(box.home / ".local", box.tool_config, box.home / ".cache"),
    )


def tick(box: Sandbox) -> dict[str, Any]:
    """One tick in this process (the sandbox fixture set HOME and cwd): what ``--json`` prints.

    The command line itself is run where its output matters (``box.run("auto")``).
    """
    return tick_json(auto.tick(build_context(include_cwd=False)))


def status(box: Sandbox) -> dict[str, Any]:
    return status_json(status_of(build_context()))


def log_lines(box: Sandbox) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (box.state_dir / "auto.log").read_text().splitlines()]


def pip_download(box: Sandbox, dest: Path) -> subprocess.CompletedProcess[str]:
    # No --index-url: the index must come from the configuration the tick wrote.
    return box.command(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d", str(dest),
         CANARY],
        env={"PIP_RETRIES": "0", "PIP_TIMEOUT": "5"},
    )  # fmt: skip


@pytest.mark.linux_only("POSIX file modes")
def test_outage_switch_pip_and_back(
    sandbox: Sandbox, upstream: PypiServer, mirror: PypiServer, mirror2: PypiServer
) -> None:
    configure(sandbox, upstream.index_url, [mirror.index_url, mirror2.index_url])
    user_files(sandbox, upstream.index_url)
    before = files(sandbox)

    # Healthy: cron gets nothing to mail.
    out = sandbox.run("auto")
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")

    upstream.stop()
    doc = tick(sandbox)
    assert (doc["action"], doc["failures"], doc["upstream_ok"]) == ("none", 1, False)
    assert "1 of 2 failed ticks" in doc["reason"]
    assert_same_tree(before, files(sandbox))

    out = sandbox.run("auto")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pypi-switch auto: switched to "), out.stdout
    st = status(sandbox)
    assert st["switched"] and st["mode"] == "auto"
    assert st["mirror"] in (mirror.index_url, mirror2.index_url)
    chosen = st["mirror"]
    assert st["effective_pip_index"] == chosen
    assert (sandbox.project / "buildout.cfg").read_text() == PROJECT  # cron's cwd: not ours

    # Real pip, upstream still down: the wheel can only come from the mirror.
    dest = sandbox.root / "dl"
    got = pip_download(sandbox, dest)
    assert got.returncode == 0, got.stdout + got.stderr
    assert (dest / WHEEL).is_file()
    assert chosen in got.stdout + got.stderr

    doc = tick(sandbox)  # still down: the mirror in use is checked and kept
    assert (doc["action"], doc["mirror"]) == ("none", chosen)
    assert "staying on" in doc["reason"]

    upstream.start()
    for n in (1, 2):
        doc = tick(sandbox)
        assert (doc["action"], doc["successes"]) == ("none", n), doc
        assert status(sandbox)["switched"]
    out = sandbox.run("auto")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"pypi-switch auto: switched back from {chosen}: "), out.stdout
    assert out.stdout.count("\n") == 1

    assert_same_tree(before, files(sandbox))
    assert not status(sandbox)["switched"]
    out = sandbox.run("auto")  # healthy again, nothing switched: silent
    assert (out.returncode, out.stdout) == (0, "")

    actions = [line["action"] for line in log_lines(sandbox)]
    assert actions == ["none", "none", "switched", "none", "none", "none", "restored", "none"]
    for name in ("auto.log", "auto.json"):
        assert stat.S_IMODE((sandbox.state_dir / name).stat().st_mode) == 0o600


def test_a_manual_switch_is_left_alone(
    sandbox: Sandbox, upstream: PypiServer, mirror: PypiServer
) -> None:
    configure(sandbox, upstream.index_url, [mirror.index_url], fail_after=1, recover_after=1)
    user_files(sandbox, upstream.index_url)
    ok(sandbox, "use-mirror", mirror.index_url, "--force")
    switched = files(sandbox)
    for _ in range(2):
        doc = tick(sandbox)
        assert (doc["action"], doc["upstream_ok"]) == ("none", True), doc
        assert "by hand" in doc["reason"]
    upstream.stop()
    doc = tick(sandbox)
    assert (doc["action"], doc["upstream_ok"]) == ("none", False), doc
    assert_same_tree(switched, files(sandbox))
    assert status(sandbox)["mode"] == "manual"


def test_switching_back_keeps_the_users_later_edits(
    sandbox: Sandbox, upstream: PypiServer, mirror: PypiServer
) -> None:
    configure(sandbox, upstream.index_url, [mirror.index_url], fail_after=1, recover_after=1)
    user_files(sandbox, upstream.index_url)
    upstream.stop()
    assert tick(sandbox)["action"] == "switched"
    edited = sandbox.pip_user_conf.read_text() + "[install]\nno-compile = true\n"
    sandbox.pip_user_conf.write_text(edited)
    upstream.start()
    doc = tick(sandbox)
    assert doc["action"] == "restored"
    assert doc["kept_edits"] == [str(sandbox.pip_user_conf)]
    assert sandbox.pip_user_conf.read_text() == (
        PIP_USER.format(upstream=upstream.index_url) + "[install]\nno-compile = true\n"
    )
    assert sandbox.buildout_default.read_text() == BUILDOUT


@pytest.mark.linux_only("POSIX file modes")
def test_the_log_is_rotated_past_its_cap(sandbox: Sandbox, upstream: PypiServer) -> None:
    configure(sandbox, upstream.index_url, [])
    log = sandbox.state_dir / "auto.log"
    write(log, '{"old": true}\n' * 20_000, mode=0o600)  # ~280 KiB
    old = log.read_bytes()
    tick(sandbox)
    assert (sandbox.state_dir / "auto.log.1").read_bytes() == old
    assert [line["action"] for line in log_lines(sandbox)] == ["none"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    tick(sandbox)
    assert len(log_lines(sandbox)) == 2


def test_network_down_changes_nothing(sandbox: Sandbox) -> None:
    configure(sandbox, DEAD_URL, [DEAD_URL2, "http://127.0.0.1:1/simple/"], fail_after=1)
    user_files(sandbox, DEAD_URL)
    before = files(sandbox)
    for _ in range(2):
        out = sandbox.run("auto")
        assert out.returncode == 0, out.stderr
        assert out.stdout == (
            "pypi-switch auto: upstream and every mirror unreachable: "
            "the local network looks down; nothing changed\n"
        )
    doc = tick(sandbox)
    assert (doc["action"], doc["mirror"]) == ("network-down", None)
    assert_same_tree(before, files(sandbox))
    assert not status(sandbox)["switched"]


def test_no_usable_mirror_is_a_one_line_failure(sandbox: Sandbox, upstream: PypiServer) -> None:
    # Mirrors that answer, but not with a simple page: the upstream's root, a 404 page.
    configure(sandbox, DEAD_URL, [upstream.root_url + "/nothing/"], fail_after=1)
    user_files(sandbox, DEAD_URL)
    before = files(sandbox)
    message = assert_one_line_error(sandbox.run("auto"))
    assert message.startswith("auto: upstream failing for 1 tick in a row"), message
    assert "no mirror is usable: m1: 404" in message
    assert_same_tree(before, files(sandbox))
    assert log_lines(sandbox)[-1]["error"] == message.removeprefix("auto: ")


def test_current_mirror_dies_while_upstream_is_down(sandbox: Sandbox, wheelhouse: Path) -> None:
    with PypiServer(wheelhouse) as one, PypiServer(wheelhouse) as two:
        configure(sandbox, DEAD_URL, [one.index_url, two.index_url], fail_after=1)
        user_files(sandbox, DEAD_URL)
        doc = tick(sandbox)
        assert doc["action"] == "switched"
        first = doc["mirror"]
        dying, other = (one, two) if first == one.index_url else (two, one)

        dying.stop()
        doc = tick(sandbox)
        assert (doc["action"], doc["mirror"]) == ("moved", other.index_url), doc
        assert "fails (connection refused" in doc["reason"]
        st = status(sandbox)
        assert (st["mirror"], st["mode"]) == (other.index_url, "auto")
        assert other.index_url in sandbox.pip_user_conf.read_text()

        doc = tick(sandbox)  # settled on the new one
        assert (doc["action"], doc["mirror"]) == ("none", other.index_url)


def test_eight_ticks_at_once_one_works_the_others_are_busy(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    # An upstream that never answers holds the working tick for its whole timeout (twice:
    # health, then the survey), long enough for all eight to have started.
    with BlackHole() as hole:
        configure(sandbox, hole.index_url, [mirror.index_url], fail_after=1, timeout=2.0)
        user_files(sandbox, hole.index_url)
        env = {**sandbox.env}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "pypi_switch", "auto", "--json"],
                cwd=sandbox.project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(8)
        ]
        docs = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=60)
            assert p.returncode == 0, stderr
            docs.append(json.loads(stdout))
    actions = sorted(d["action"] for d in docs)
    assert actions == ["busy"] * 7 + ["switched"], docs
    assert all(
        d["reason"].startswith("another pypi-switch run") for d in docs if d["action"] == "busy"
    )
    # Nothing damaged: the state reads back, the files are the switched ones, restore works.
    assert status(sandbox)["mirror"] == mirror.index_url
    assert sorted(line["action"] for line in log_lines(sandbox)) == actions
    ok(sandbox, "restore")
    assert sandbox.pip_user_conf.read_text() == PIP_USER.format(upstream=hole.index_url)


def configs(box: Sandbox) -> dict[Path, bytes | None]:
    """The config files a tick may write, as bytes (None: absent)."""
    paths = (
        box.pip_conf,
        box.pip_user_conf,
        box.pydistutils,
        box.buildout_default,
        box.home / ".config" / "uv" / "uv.toml",
        box.home / ".config" / "pdm" / "config.toml",
        box.home / ".config" / "pypoetry" / "config.toml",
    )
    return {
        p: p.read_bytes() if p.exists() else None for p in (*paths, box.project / "buildout.cfg")
    }


# An automatic switch here: 2 backups (the user's pip.conf and buildout default), the
# intent, 7 files (those two; ~/.pip/pip.conf, ~/.pydistutils.cfg, uv's, pdm's and poetry's
# user files created: they are on the sandbox's PATH), the journal, then auto.json.
STEPS = 12


@pytest.mark.slow
@pytest.mark.parametrize("step", range(1, STEPS + 1))
@pytest.mark.linux_only("SIGKILL at a write step")
def test_sigkill_mid_switch_then_restore_recovers(
    sandbox: Sandbox, mirror: PypiServer, step: int
) -> None:
    configure(sandbox, DEAD_URL, [mirror.index_url], fail_after=1)
    user_files(sandbox, DEAD_URL)
    before, whole = configs(sandbox), files(sandbox)
    run = sandbox.command([sys.executable, "-c", KILL_AT_REPLACE, str(step), "auto"])
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    for path, data in configs(sandbox).items():  # each file whole: as it was, or switched
        assert data == before[path] or mirror.index_url.encode() in (data or b""), path
    restore(build_context())
    assert configs(sandbox) == before
    assert_same_tree(whole, files(sandbox))  # no temp file, no directory left behind
    assert not status(sandbox)["switched"]


@pytest.mark.slow
@pytest.mark.linux_only("SIGKILL at a write step")
def test_an_automatic_switch_has_that_many_write_steps(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    configure(sandbox, DEAD_URL, [mirror.index_url], fail_after=1)
    user_files(sandbox, DEAD_URL)
    run = sandbox.command([sys.executable, "-c", KILL_AT_REPLACE, str(STEPS + 1), "auto"])
    assert run.returncode == 0, run.stdout + run.stderr  # no kill: every step was covered
    assert status(sandbox)["mode"] == "auto"


@pytest.mark.slow
@pytest.mark.linux_only("SIGKILL at a write step")
def test_sigkill_mid_switch_then_the_next_tick_finishes_it(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    configure(sandbox, DEAD_URL, [mirror.index_url], fail_after=1)
    user_files(sandbox, DEAD_URL)
    before = files(sandbox)
    run = sandbox.command(
        [sys.executable, "-c", KILL_AT_REPLACE, "5", "auto"]
    )  # after the first file
    assert run.returncode == -signal.SIGKILL
    assert status(sandbox)["interrupted"]

    doc = tick(sandbox)  # upstream still down: the switch is done again, whole
    assert doc["action"] == "switched", doc
    st = status(sandbox)
    assert (st["mirror"], st["mode"], st["interrupted"]) == (mirror.index_url, "auto", False)
    for path in (sandbox.pip_user_conf, sandbox.pydistutils, sandbox.buildout_default):
        assert mirror.index_url in path.read_text(), path
    ok(sandbox, "restore")
    assert_same_tree(before, files(sandbox))


@pytest.mark.slow
@pytest.mark.linux_only("SIGKILL at a write step")
def test_an_interrupted_switch_is_undone_when_upstream_is_back(
    sandbox: Sandbox, upstream: PypiServer, mirror: PypiServer
) -> None:
    configure(sandbox, upstream.index_url, [mirror.index_url], fail_after=1, recover_after=3)
    user_files(sandbox, upstream.index_url)
    before = files(sandbox)
    upstream.stop()
    run = sandbox.command([sys.executable, "-c", KILL_AT_REPLACE, "5", "auto"])
    assert run.returncode == -signal.SIGKILL
    upstream.start()
    doc = tick(sandbox)
    assert doc["action"] == "restored", doc
    assert_same_tree(before, files(sandbox))
    assert os.listdir(sandbox.state_dir)  # the log and counters stay
