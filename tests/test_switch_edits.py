"""``use-mirror``: file properties kept, no-op runs, dry runs, JSON, http and credentials,
target selection and the locations taken from the environment."""

from __future__ import annotations

import configparser
import json
import os
import stat
from pathlib import Path

import pytest

from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    Entry,
    assert_one_line_error,
    assert_same_tree,
    ok,
    ok_json,
    snapshot,
    target_files,
    write,
)

URL = DEAD_URL
CLASSIC = {"pip", "pydistutils", "buildout", "project"}  # the four targets of the contract


def _config_snapshot(box: Sandbox) -> dict[Path, Entry]:
    return snapshot(box.home, box.project, skip=(box.home / ".local",))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _resolved(paths: list[str]) -> set[Path]:
    return {Path(p).resolve() for p in paths}


# -- file properties ------------------------------------------------------------------------


@pytest.mark.linux_only("POSIX file modes")
def test_file_modes_are_kept(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n", mode=0o600)
    write(sandbox.pydistutils, "[easy_install]\nzip_ok = 0\n", mode=0o640)
    write(sandbox.buildout_default, "[buildout]\nnewest = false\n", mode=0o604)
    ok(sandbox, "use-mirror", URL, "--force")
    assert URL in sandbox.pip_conf.read_text()
    assert (_mode(sandbox.pip_conf), _mode(sandbox.pydistutils)) == (0o600, 0o640)
    assert _mode(sandbox.buildout_default) == 0o604
    ok(sandbox, "restore")
    assert (_mode(sandbox.pip_conf), _mode(sandbox.pydistutils)) == (0o600, 0o640)
    assert _mode(sandbox.buildout_default) == 0o604


@pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() != 0, reason="changing a file's owner needs root"
)
@pytest.mark.linux_only("file owners (os.chown)")
def test_file_owner_is_kept(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n", mode=0o640)
    os.chown(sandbox.pip_conf, 4321, 4322)
    ok(sandbox, "use-mirror", URL, "--force", "--target", "pip")
    st = sandbox.pip_conf.stat()
    assert (st.st_uid, st.st_gid, _mode(sandbox.pip_conf)) == (4321, 4322, 0o640)
    ok(sandbox, "restore")
    st = sandbox.pip_conf.stat()
    assert (st.st_uid, st.st_gid, _mode(sandbox.pip_conf)) == (4321, 4322, 0o640)


@pytest.mark.linux_only("symlinks need a privilege on Windows")
def test_symlinked_configs_are_edited_at_their_target(sandbox: Sandbox) -> None:
    dotfiles = sandbox.root / "dotfiles"
    pip_real = write(dotfiles / "pip.conf", "[global]\nindex-url = https://old.example/simple\n")
    bo_real = write(dotfiles / "buildout" / "default.cfg", "[buildout]\nnewest = false\n")
    sandbox.pip_conf.parent.mkdir(parents=True)
    sandbox.pip_conf.symlink_to(Path("..") / ".." / "dotfiles" / "pip.conf")  # relative link
    sandbox.buildout_default.parent.mkdir(parents=True)
    sandbox.buildout_default.symlink_to(bo_real)  # absolute link
    pip_link, bo_link = os.readlink(sandbox.pip_conf), os.readlink(sandbox.buildout_default)
    originals = {pip_real: pip_real.read_bytes(), bo_real: bo_real.read_bytes()}

    ok(sandbox, "use-mirror", URL, "--force", "--target", "pip", "--target", "buildout")
    assert os.readlink(sandbox.pip_conf) == pip_link
    assert os.readlink(sandbox.buildout_default) == bo_link
    assert pip_real.read_text() == f"[global]\nindex-url = {URL}\n"
    assert bo_real.read_text() == f"[buildout]\nnewest = false\nindex = {URL}\n"
    assert sorted(p.name for p in dotfiles.iterdir()) == ["buildout", "pip.conf"]  # no leftovers

    ok(sandbox, "restore")
    assert os.readlink(sandbox.pip_conf) == pip_link
    assert os.readlink(sandbox.buildout_default) == bo_link
    for path, data in originals.items():
        assert path.read_bytes() == data


def test_a_second_identical_run_touches_nothing(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n")
    write(sandbox.pip_user_conf, "[install]\nindex-url = https://corp.example/simple\n")
    write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")
    ok(sandbox, "use-mirror", URL, "--force")
    before = _config_snapshot(sandbox)

    report = ok_json(sandbox, "use-mirror", URL, "--force")
    assert report["changes"] == []
    assert _resolved(report["unchanged"]) >= {p.resolve() for p in target_files(sandbox)}
    assert_same_tree(before, _config_snapshot(sandbox), mtime=True)
    # and the pristine originals survive the second run
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == "[global]\nindex-url = https://old.example/simple\n"


@pytest.mark.linux_only("POSIX file modes")
def test_state_dir_is_private(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://token:s3cret@corp.example/simple\n")
    ok(sandbox, "use-mirror", URL, "--force")
    state = sandbox.state_dir
    assert state.is_dir()
    assert _mode(state) == 0o700
    inside = list(state.rglob("*"))
    assert any(p.is_file() for p in inside), "no backup was kept"
    for path in inside:
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, f"{path}: {oct(_mode(path))}"


@pytest.mark.linux_only("POSIX file modes")
def test_state_dir_is_private_even_with_a_permissive_umask(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://token:s3cret@corp.example/simple\n")
    script = f'umask 000 && exec python -m pypi_switch use-mirror "{URL}" --force'
    out = sandbox.command(["sh", "-c", script])
    assert out.returncode == 0, out.stderr
    assert _mode(sandbox.state_dir) == 0o700
    for path in sandbox.state_dir.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, f"{path}: {oct(_mode(path))}"
    assert _mode(sandbox.pip_conf) == 0o644  # an existing file keeps its own mode


# -- dry run and JSON -----------------------------------------------------------------------


def test_dry_run_prints_a_diff_and_changes_nothing(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\ntimeout = 60\nindex-url = https://old.example/simple\n")
    before = snapshot(sandbox.root)

    out = ok(sandbox, "use-mirror", URL, "--force", "--dry-run")
    lines = out.splitlines()
    assert f"--- {sandbox.pip_conf}" in lines, out
    assert f"+++ {sandbox.pip_conf}" in lines, out
    assert "-index-url = https://old.example/simple" in lines, out
    assert f"+index-url = {URL}" in lines, out
    assert " timeout = 60" in lines, out  # unified diff context
    assert "+[easy_install]" in lines, out  # the file it would create is shown too
    assert_same_tree(before, snapshot(sandbox.root), mtime=True)
    assert not sandbox.state_dir.exists()


def test_dry_run_json(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n")
    before = snapshot(sandbox.root)
    report = ok_json(sandbox, "use-mirror", URL, "--force", "--dry-run")
    assert report["dry_run"] is True
    actions = {Path(c["path"]).resolve(): c["action"] for c in report["changes"]}
    assert actions[sandbox.pip_conf.resolve()] == "modified"
    assert actions[sandbox.pydistutils.resolve()] == "created"
    assert_same_tree(before, snapshot(sandbox.root), mtime=True)
    assert not sandbox.state_dir.exists()


def test_use_mirror_json_shape(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n")
    write(sandbox.pydistutils, f"[easy_install]\nindex_url = {URL}\n")  # already there
    write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")

    report = ok_json(sandbox, "use-mirror", URL, "--force")
    assert set(report) >= {"mirror", "dry_run", "changes", "unchanged", "warnings"}
    assert report["mirror"] == URL
    assert report["dry_run"] is False
    assert report["warnings"] == []
    for change in report["changes"]:
        assert set(change) >= {"target", "path", "action"}
    got = {
        (c["target"], Path(c["path"]).resolve(), c["action"])
        for c in report["changes"]
        if c["target"] in CLASSIC  # uv and pdm are later targets, tested elsewhere
    }
    assert got == {
        ("pip", sandbox.pip_conf.resolve(), "modified"),
        ("buildout", sandbox.buildout_default.resolve(), "created"),
        ("project", (sandbox.project / "buildout.cfg").resolve(), "modified"),
    }
    assert sandbox.pydistutils.resolve() in _resolved(report["unchanged"])
    assert sandbox.pip_user_conf.resolve() not in {p for _, p, _ in got}


# -- http, trusted-host, credentials --------------------------------------------------------

INSECURE = "http://mirror.invalid:8080/simple/"


def test_plain_http_on_a_remote_host_is_refused(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n")
    before = _config_snapshot(sandbox)
    out = sandbox.run("use-mirror", INSECURE, "--force")
    assert_one_line_error(out)
    assert_same_tree(before, _config_snapshot(sandbox), mtime=True)


def test_allow_insecure_adds_trusted_host_and_restore_removes_it(sandbox: Sandbox) -> None:
    original = b"[global]\nindex-url = https://old.example/simple\n"
    write(sandbox.pip_conf, original)
    ok(sandbox, "use-mirror", INSECURE, "--allow-insecure", "--force", "--target", "pip")
    parser = configparser.RawConfigParser()
    parser.read_string(sandbox.pip_conf.read_text())
    assert parser.get("global", "index-url") == INSECURE
    assert parser.get("global", "trusted-host") == "mirror.invalid"  # host, no port
    assert sandbox.pip_conf.read_text() == (
        f"[global]\nindex-url = {INSECURE}\ntrusted-host = mirror.invalid\n"
    )
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == original


def test_allow_insecure_appends_to_an_existing_trusted_host(sandbox: Sandbox) -> None:
    original = (
        "[global]\ntrusted-host = a.example\nindex-url = https://old.example/simple\n"
        "[install]\nindex-url = https://i.example/simple\n"
    )
    write(sandbox.pip_conf, original)
    ok(sandbox, "use-mirror", INSECURE, "--allow-insecure", "--force", "--target", "pip")
    assert sandbox.pip_conf.read_text() == (
        f"[global]\ntrusted-host = a.example mirror.invalid\nindex-url = {INSECURE}\n"
        f"[install]\nindex-url = {INSECURE}\n"
    )
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == original


def test_loopback_http_needs_no_trusted_host(sandbox: Sandbox) -> None:
    ok(sandbox, "use-mirror", URL, "--force", "--target", "pip")
    assert sandbox.pip_conf.read_text() == f"[global]\nindex-url = {URL}\n"


def test_credentials_are_never_printed(sandbox: Sandbox) -> None:
    secret_url = "https://bob:s3cret-token@127.0.0.1:9/simple/"
    shown = "https://***@127.0.0.1:9/simple/"
    write(sandbox.pip_conf, "[global]\nindex-url = https://alice:old-secret@corp.example/simple\n")
    outputs = []
    for args in (
        ("use-mirror", secret_url, "--force", "--dry-run"),
        ("use-mirror", secret_url, "--force", "--dry-run", "--json"),
        ("use-mirror", secret_url, "--force"),
        ("status",),
        ("status", "--json"),
        ("use-mirror", secret_url, "--force", "--json"),
        ("restore", "--dry-run"),
    ):
        out = sandbox.run(*args)
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout + out.stderr)
        if args == ("status", "--json"):
            assert json.loads(out.stdout)["mirror"] == shown
    joined = "\n".join(outputs)
    assert "s3cret-token" not in joined
    assert "old-secret" not in joined
    assert shown in joined
    # the file itself must hold the real URL, or pip could not log in
    assert f"index-url = {secret_url}" in sandbox.pip_conf.read_text()
    for path in sandbox.state_dir.rglob("*log*"):
        if path.is_file():
            assert b"s3cret-token" not in path.read_bytes(), path
    out = sandbox.run("restore")
    assert out.returncode == 0 and "s3cret" not in out.stdout + out.stderr


# -- which targets, which files -------------------------------------------------------------


def test_target_subset_touches_only_those(sandbox: Sandbox) -> None:
    write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")
    before = _config_snapshot(sandbox)
    ok(sandbox, "use-mirror", URL, "--force", "--target", "pydistutils")
    after = _config_snapshot(sandbox)
    assert set(after) - set(before) == {sandbox.pydistutils}
    assert (sandbox.project / "buildout.cfg").read_text() == "[buildout]\nparts =\n"
    assert not sandbox.pip_conf.exists() and not sandbox.buildout_default.exists()


def test_no_project_known_means_no_project_target(sandbox: Sandbox) -> None:
    report = ok_json(sandbox, "use-mirror", URL, "--force")
    targets = {c["target"] for c in report["changes"]} & CLASSIC
    assert targets == {"pip", "pydistutils", "buildout"}
    assert not (sandbox.project / "buildout.cfg").exists()


def test_locations_follow_the_environment(sandbox: Sandbox) -> None:
    cfg, bo, st = sandbox.root / "cfg", sandbox.root / "bo", sandbox.root / "st"
    env = {"XDG_CONFIG_HOME": str(cfg), "BUILDOUT_HOME": str(bo), "XDG_STATE_HOME": str(st)}
    user = "[global]\nindex-url = https://corp.example/simple\n"
    write(cfg / "pip" / "pip.conf", user)
    write(sandbox.pip_user_conf, user)  # not the user file under this environment
    ok(sandbox, "use-mirror", URL, "--force", env=env)
    assert (cfg / "pip" / "pip.conf").read_text() == f"[global]\nindex-url = {URL}\n"
    assert sandbox.pip_user_conf.read_text() == user
    assert (bo / "default.cfg").read_text() == f"[buildout]\nindex = {URL}\n"
    assert not sandbox.buildout_default.exists()
    assert (st / "pypi-switch").is_dir()
    assert not sandbox.state_dir.exists()

    ok(sandbox, "restore", env=env)
    assert (cfg / "pip" / "pip.conf").read_text() == user
    assert not (bo / "default.cfg").exists()


def test_project_paths_given_on_the_command_line(sandbox: Sandbox) -> None:
    cwd_file = write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")
    as_dir = write(sandbox.root / "p1" / "buildout.cfg", "[buildout]\nparts =\n")
    as_file = write(sandbox.root / "p2" / "other.cfg", "[buildout]\nindex = https://o.example/\n")
    ok(
        sandbox,
        "use-mirror",
        URL,
        "--force",
        "--target",
        "project",
        "--project",
        str(as_dir.parent),
        "--project",
        str(as_file),
    )
    assert as_dir.read_text() == f"[buildout]\nparts =\nindex = {URL}\n"
    assert as_file.read_text() == f"[buildout]\nindex = {URL}\n"
    # --project given: the current directory's buildout.cfg is not a target
    assert cwd_file.read_text() == "[buildout]\nparts =\n"
    ok(sandbox, "restore")
    assert as_dir.read_text() == "[buildout]\nparts =\n"
    assert as_file.read_text() == "[buildout]\nindex = https://o.example/\n"


def test_projects_from_config_toml(sandbox: Sandbox) -> None:
    p1 = write(sandbox.root / "p1" / "buildout.cfg", "[buildout]\nparts =\n")
    p2 = write(sandbox.root / "p2" / "buildout.cfg", "[buildout]\nparts =\n")
    sandbox.write_config(f'projects = ["{p1.parent}", "{p2}"]\n')
    empty = sandbox.root / "empty"
    empty.mkdir()
    out = sandbox.run("use-mirror", URL, "--force", "--target", "project", cwd=empty)
    assert out.returncode == 0, out.stderr
    assert p1.read_text() == f"[buildout]\nparts =\nindex = {URL}\n"
    assert p2.read_text() == f"[buildout]\nparts =\nindex = {URL}\n"


# -- usage errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("use-mirror", URL, "--force", "--target", "nosuchtarget"),
        ("use-mirror", URL, "--target", "nosuchtarget"),
        ("use-mirror", URL, "--force", "--no-such-option"),
        ("restore", "--target", "nosuchtarget"),
        ("status", "extra-argument"),
    ],
    ids=["bad-target", "bad-target-unprobed", "bad-option", "restore-bad-target", "status-extra"],
)
def test_usage_errors_exit_2(sandbox: Sandbox, args: tuple[str, ...]) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://old.example/simple\n")
    sandbox.write_config(f'upstream = "{DEAD_URL}"\n')  # should a probe run, it stays local
    before = snapshot(sandbox.root)
    out = sandbox.run(*args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert_same_tree(before, snapshot(sandbox.root), mtime=True)


@pytest.mark.linux_only("symlinks need a privilege on Windows")
def test_user_pip_conf_linked_to_the_legacy_one_is_edited_once(sandbox: Sandbox) -> None:
    """Dotfile managers link one pip.conf to the other: the fuller rules of the legacy
    file apply (here: trusted-host for a plain-http remote mirror), not the XDG file's."""
    original = "[global]\nindex-url = https://old.example/simple\n"
    write(sandbox.pip_conf, original)
    sandbox.pip_user_conf.parent.mkdir(parents=True)
    sandbox.pip_user_conf.symlink_to(sandbox.pip_conf)
    url = "http://mirror.example.org/simple/"
    ok(sandbox, "use-mirror", url, "--force", "--allow-insecure", "--target", "pip")
    assert sandbox.pip_conf.read_text() == (
        f"[global]\nindex-url = {url}\ntrusted-host = mirror.example.org\n"
    )
    assert sandbox.pip_user_conf.is_symlink()
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == original
    assert sandbox.pip_user_conf.is_symlink()
