"""``pypi-switch restore``: originals back byte for byte, later user edits kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.sandbox import Sandbox
from tests.support.switching import (
    DEAD_URL,
    DEAD_URL2,
    assert_same_tree,
    ok,
    ok_json,
    snapshot,
    write,
)

URL = DEAD_URL


def _by_path(items: list[dict[str, Any]]) -> dict[Path, dict[str, Any]]:
    return {Path(item["path"]).resolve(): item for item in items}


def _switch(box: Sandbox, *args: str, url: str = URL) -> None:
    ok(box, "use-mirror", url, "--force", *args)


def _status(box: Sandbox) -> Any:
    return ok_json(box, "status")


def test_restore_json_actions(sandbox: Sandbox) -> None:
    original = b"[global]\nindex-url = https://orig.example/simple\n"
    write(sandbox.pip_conf, original)
    _switch(sandbox, "--target", "pip", "--target", "pydistutils")
    assert sandbox.pydistutils.exists()

    report = ok_json(sandbox, "restore")
    assert report["nothing_to_restore"] is False
    assert report["kept_edits"] == []
    restored = _by_path(report["restored"])
    assert restored[sandbox.pip_conf.resolve()]["action"] == "restored"
    assert restored[sandbox.pip_conf.resolve()]["target"] == "pip"
    assert restored[sandbox.pydistutils.resolve()]["action"] == "removed"
    assert restored[sandbox.pydistutils.resolve()]["target"] == "pydistutils"
    assert sandbox.pip_conf.read_bytes() == original
    assert not sandbox.pydistutils.exists()

    status = _status(sandbox)
    assert status["switched"] is False
    assert status["mirror"] is None


def test_restore_removes_created_files_and_directories(sandbox: Sandbox) -> None:
    before = snapshot(sandbox.home, skip=(sandbox.home / ".local",))
    _switch(sandbox)
    assert sandbox.pip_conf.is_file()
    assert sandbox.pydistutils.is_file()
    assert sandbox.buildout_default.is_file()
    assert not sandbox.pip_user_conf.exists()  # the XDG file is never created

    ok(sandbox, "restore")
    assert_same_tree(before, snapshot(sandbox.home, skip=(sandbox.home / ".local",)))


def test_restore_keeps_a_directory_that_is_no_longer_empty(sandbox: Sandbox) -> None:
    _switch(sandbox, "--target", "buildout")
    mine = write(sandbox.buildout_default.parent / "cache" / "note.txt", "mine\n")
    ok(sandbox, "restore")
    assert not sandbox.buildout_default.exists()
    assert mine.read_text() == "mine\n"


def test_user_edit_after_switch_is_kept(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://orig.example/simple\ntimeout = 60\n")
    _switch(sandbox, "--target", "pip")
    assert sandbox.pip_conf.read_text() == f"[global]\nindex-url = {URL}\ntimeout = 60\n"
    write(sandbox.pip_conf, f"[global]\nindex-url = {URL}\ntimeout = 30\n# mine\n")

    report = ok_json(sandbox, "restore")
    assert [Path(p).resolve() for p in report["kept_edits"]] == [sandbox.pip_conf.resolve()]
    entry = _by_path(report["restored"])[sandbox.pip_conf.resolve()]
    assert entry["action"] == "reverted-options"
    assert sandbox.pip_conf.read_text() == (
        "[global]\nindex-url = https://orig.example/simple\ntimeout = 30\n# mine\n"
    )
    assert _status(sandbox)["switched"] is False


def test_user_edit_is_reported_in_text_output(sandbox: Sandbox) -> None:
    write(sandbox.pydistutils, "[easy_install]\nfind_links = /a\n")
    _switch(sandbox, "--target", "pydistutils")
    assert (
        sandbox.pydistutils.read_text() == f"[easy_install]\nfind_links = /a\nindex_url = {URL}\n"
    )
    write(sandbox.pydistutils, f"[easy_install]\nfind_links = /b\nindex_url = {URL}\n")

    out = ok(sandbox, "restore")
    assert str(sandbox.pydistutils) in out or ".pydistutils.cfg" in out, out
    # the added option goes, the user's own edit stays
    assert sandbox.pydistutils.read_text() == "[easy_install]\nfind_links = /b\n"


def test_added_section_is_removed_when_left_empty(sandbox: Sandbox) -> None:
    write(sandbox.buildout_default, "[versions]\nfoo = 1\n")
    _switch(sandbox, "--target", "buildout")
    assert sandbox.buildout_default.read_text() == (
        f"[versions]\nfoo = 1\n\n[buildout]\nindex = {URL}\n"
    )
    write(sandbox.buildout_default, f"[versions]\nfoo = 2\n\n[buildout]\nindex = {URL}\n")

    ok(sandbox, "restore")
    text = sandbox.buildout_default.read_text()
    assert "[buildout]" not in text
    # whether the blank separator line goes too is not specified; the content is
    assert text.rstrip() == "[versions]\nfoo = 2"


def test_added_section_with_user_options_is_kept(sandbox: Sandbox) -> None:
    write(sandbox.buildout_default, "[versions]\nfoo = 1\n")
    _switch(sandbox, "--target", "buildout")
    with sandbox.buildout_default.open("a") as f:
        f.write("newest = false\n")
    ok(sandbox, "restore")
    assert sandbox.buildout_default.read_text() == (
        "[versions]\nfoo = 1\n\n[buildout]\nnewest = false\n"
    )


def test_created_file_edited_by_the_user_is_kept_without_our_option(sandbox: Sandbox) -> None:
    _switch(sandbox, "--target", "pip")
    assert sandbox.pip_conf.read_text() == f"[global]\nindex-url = {URL}\n"
    write(sandbox.pip_conf, f"[global]\nindex-url = {URL}\ntimeout = 5\n")

    report = ok_json(sandbox, "restore")
    assert [Path(p).resolve() for p in report["kept_edits"]] == [sandbox.pip_conf.resolve()]
    assert sandbox.pip_conf.read_text() == "[global]\ntimeout = 5\n"


def test_option_the_user_changed_since_is_kept(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://orig.example/simple\n")
    _switch(sandbox, "--target", "pip")
    mine = "[global]\nindex-url = https://mine.example/simple\n"
    write(sandbox.pip_conf, mine)
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == mine


def test_force_restores_pristine_bytes_despite_edits(sandbox: Sandbox) -> None:
    original = b"# mine\r\n[global]\r\nindex-url = https://orig.example/simple\r\n"
    write(sandbox.pip_conf, original)
    _switch(sandbox, "--target", "pip", "--target", "pydistutils")
    write(sandbox.pip_conf, b"[global]\nindex-url = https://edited.example/simple\n")
    with sandbox.pydistutils.open("a") as f:
        f.write("zip_ok = 0\n")

    ok(sandbox, "restore", "--force")
    assert sandbox.pip_conf.read_bytes() == original
    assert not sandbox.pydistutils.exists()


def test_nothing_to_restore(sandbox: Sandbox) -> None:
    before = snapshot(sandbox.root, skip=(sandbox.home / ".local",))
    out = sandbox.run("restore")
    assert out.returncode == 0, out.stderr
    assert "nothing" in (out.stdout + out.stderr).lower(), out.stdout + out.stderr
    report = ok_json(sandbox, "restore")
    assert report["nothing_to_restore"] is True
    assert report["restored"] == []
    assert report["kept_edits"] == []
    assert_same_tree(before, snapshot(sandbox.root, skip=(sandbox.home / ".local",)), mtime=True)


def test_restore_twice_second_has_nothing_to_do(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://orig.example/simple\n")
    _switch(sandbox, "--target", "pip")
    assert ok_json(sandbox, "restore")["nothing_to_restore"] is False
    assert ok_json(sandbox, "restore")["nothing_to_restore"] is True


def test_switching_twice_keeps_the_true_original(sandbox: Sandbox) -> None:
    originals = {
        sandbox.pip_conf: b"[global]\nindex-url = https://orig.example/simple\n",
        sandbox.pydistutils: b"[easy_install]\nindex_url = https://orig.example/simple\n",
    }
    for path, data in originals.items():
        write(path, data)

    _switch(sandbox, url=URL)
    _switch(sandbox, url=DEAD_URL2)
    assert _status(sandbox)["mirror"] == DEAD_URL2
    assert sandbox.pip_conf.read_text() == f"[global]\nindex-url = {DEAD_URL2}\n"

    ok(sandbox, "restore")
    for path, data in originals.items():
        assert path.read_bytes() == data
    assert not sandbox.buildout_default.exists()
    assert not sandbox.buildout_default.parent.exists()


def test_user_edit_between_two_switches_is_kept(sandbox: Sandbox) -> None:
    """The edit was made after the first switch: the second switch must not make restore
    forget it (restoring the pristine bytes would silently drop the user's line)."""
    write(sandbox.pip_conf, "[global]\nindex-url = https://orig.example/simple\n")
    _switch(sandbox, "--target", "pip", url=URL)
    with sandbox.pip_conf.open("a") as f:
        f.write("timeout = 5\n")
    _switch(sandbox, "--target", "pip", url=DEAD_URL2)
    assert sandbox.pip_conf.read_text() == f"[global]\nindex-url = {DEAD_URL2}\ntimeout = 5\n"

    report = ok_json(sandbox, "restore")
    assert [Path(p).resolve() for p in report["kept_edits"]] == [sandbox.pip_conf.resolve()]
    assert sandbox.pip_conf.read_text() == (
        "[global]\nindex-url = https://orig.example/simple\ntimeout = 5\n"
    )


def test_insecure_then_secure_switch_then_restore(sandbox: Sandbox) -> None:
    original = b"[global]\ntrusted-host = a.example\nindex-url = https://orig.example/simple\n"
    write(sandbox.pip_conf, original)
    _switch(sandbox, "--target", "pip", "--allow-insecure", url="http://mirror.invalid/simple/")
    assert "mirror.invalid" in sandbox.pip_conf.read_text()
    _switch(sandbox, "--target", "pip", url=URL)
    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == original


def test_restore_a_subset_of_targets(sandbox: Sandbox) -> None:
    originals = {
        sandbox.pip_conf: b"[global]\nindex-url = https://orig.example/simple\n",
        sandbox.pydistutils: b"[easy_install]\nindex_url = https://orig.example/simple\n",
        sandbox.buildout_default: b"[buildout]\nindex = https://orig.example/simple\n",
    }
    for path, data in originals.items():
        write(path, data)
    _switch(sandbox)

    ok(sandbox, "restore", "--target", "pip")
    assert sandbox.pip_conf.read_bytes() == originals[sandbox.pip_conf]
    assert URL in sandbox.pydistutils.read_text()
    assert URL in sandbox.buildout_default.read_text()
    status = _status(sandbox)
    assert status["switched"] is True
    assert status["mirror"] == URL

    ok(sandbox, "restore")
    for path, data in originals.items():
        assert path.read_bytes() == data
    assert _status(sandbox)["switched"] is False
    assert ok_json(sandbox, "restore")["nothing_to_restore"] is True


def test_restore_dry_run_changes_nothing(sandbox: Sandbox) -> None:
    original = b"[global]\nindex-url = https://orig.example/simple\n"
    write(sandbox.pip_conf, original)
    _switch(sandbox)
    logs = sandbox.home / ".local"  # the state may log the attempt; it must not lose anything
    before = snapshot(sandbox.root, skip=(logs,))

    out = ok(sandbox, "restore", "--dry-run")
    assert "https://orig.example/simple" in out or str(sandbox.pip_conf) in out, out
    report = ok_json(sandbox, "restore", "--dry-run")
    assert report["nothing_to_restore"] is False
    assert sandbox.pip_conf.resolve() in _by_path(report["restored"])
    assert_same_tree(before, snapshot(sandbox.root, skip=(logs,)), mtime=True)

    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_bytes() == original
