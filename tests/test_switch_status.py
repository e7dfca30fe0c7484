"""``pypi-switch status`` and the shadowing warnings shared with ``use-mirror``."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.support.sandbox import Sandbox
from tests.support.switching import DEAD_URL, ok, ok_json, write

URL = DEAD_URL
TARGET_KEYS = {"name", "path", "exists", "index", "set_by_pypi_switch"}
STATUS_KEYS = {
    "switched",
    "mirror",
    "targets",
    "warnings",
    "since",
    "mode",
    "effective_pip_index",
}


def _status(box: Sandbox, env: dict[str, str] | None = None) -> Any:
    report = ok_json(box, "status", env=env)
    assert set(report) >= STATUS_KEYS, report
    for entry in report["targets"]:
        assert set(entry) >= TARGET_KEYS, entry
    return report


def _entry(report: Any, path: Path) -> dict[str, Any]:
    for entry in report["targets"]:
        if Path(entry["path"]).resolve() == path.resolve():
            return dict(entry)
    raise AssertionError(f"{path} not in status targets: {report['targets']}")


def _warned(warnings: list[str], *needles: str) -> bool:
    return any(all(n in w for n in needles) for w in warnings)


def test_status_before_any_switch(sandbox: Sandbox) -> None:
    report = _status(sandbox)
    assert report["switched"] is False
    assert (report["mirror"], report["since"], report["mode"]) == (None, None, None)
    assert report["warnings"] == []
    names = {e["name"] for e in report["targets"]}
    assert {"pip", "pydistutils", "buildout"} <= names
    for path in (sandbox.pip_conf, sandbox.pydistutils, sandbox.buildout_default):
        entry = _entry(report, path)
        assert entry["exists"] is False
        assert entry["index"] is None
        assert entry["set_by_pypi_switch"] is False


def test_status_reads_current_values_and_the_winning_pip_file(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://legacy.example/simple\n")
    write(sandbox.pip_user_conf, "[global]\nindex_url = https://xdg.example/simple\n")
    write(sandbox.pydistutils, "[easy_install]\nindex-url = https://pyd.example/simple\n")
    write(sandbox.buildout_default, "[buildout]\nindex = https://bo.example/simple\n")
    write(sandbox.project / "buildout.cfg", "[buildout]\nindex = https://proj.example/simple\n")
    report = _status(sandbox)
    assert report["switched"] is False
    assert _entry(report, sandbox.pip_conf)["index"] == "https://legacy.example/simple"
    assert _entry(report, sandbox.pip_user_conf)["index"] == "https://xdg.example/simple"
    assert _entry(report, sandbox.pydistutils)["index"] == "https://pyd.example/simple"
    assert _entry(report, sandbox.buildout_default)["index"] == "https://bo.example/simple"
    project = _entry(report, sandbox.project / "buildout.cfg")
    assert (project["name"], project["index"]) == ("project", "https://proj.example/simple")
    # the XDG file is loaded after the legacy one: it wins
    assert report["effective_pip_index"] == "https://xdg.example/simple"


def test_status_after_switch_and_after_restore(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://legacy.example/simple\n")
    write(sandbox.pip_user_conf, "[global]\nindex-url = https://xdg.example/simple\n")
    ok(sandbox, "use-mirror", URL, "--force")
    report = _status(sandbox)
    assert report["switched"] is True
    assert report["mirror"] == URL
    assert report["mode"] == "manual"
    assert isinstance(report["since"], str)
    datetime.fromisoformat(report["since"].replace("Z", "+00:00"))
    assert report["effective_pip_index"] == URL
    for path in (sandbox.pip_conf, sandbox.pip_user_conf, sandbox.pydistutils):
        entry = _entry(report, path)
        assert (entry["exists"], entry["index"], entry["set_by_pypi_switch"]) == (True, URL, True)

    text = ok(sandbox, "status")
    assert URL in text, text
    assert str(sandbox.pip_conf) in text or "~/.pip/pip.conf" in text, text

    ok(sandbox, "restore")
    report = _status(sandbox)
    assert report["switched"] is False
    assert report["mirror"] is None
    assert _entry(report, sandbox.pip_conf)["set_by_pypi_switch"] is False
    assert _entry(report, sandbox.pydistutils)["exists"] is False
    assert report["effective_pip_index"] == "https://xdg.example/simple"


def _ignored_json(sandbox: Sandbox, env: dict[str, str]) -> Any:
    """``use-mirror --json`` that switches, but pip will not use the mirror: exit 3."""
    out = sandbox.run("use-mirror", URL, "--force", "--json", env=env)
    assert out.returncode == 3, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert doc["verdict"].startswith("pip install does not use the mirror: "), doc
    return doc


def test_pip_index_url_variable_is_reported(sandbox: Sandbox) -> None:
    env = {"PIP_INDEX_URL": "https://env:tok3n@env.example/simple"}
    report = _status(sandbox, env=env)
    assert _warned(report["warnings"], "PIP_INDEX_URL")
    assert report["effective_pip_index"] == "https://***@env.example/simple"
    switched = _ignored_json(sandbox, env)
    assert _warned(switched["warnings"], "PIP_INDEX_URL")
    out = sandbox.run("use-mirror", URL, "--force", env=env)
    assert out.returncode == 3  # switched, but pip will not use it
    assert "PIP_INDEX_URL" in out.stdout + out.stderr  # the text form says it too
    assert "tok3n" not in out.stdout + out.stderr + str(report) + str(switched)


def test_status_says_when_pip_does_not_use_the_mirror(sandbox: Sandbox) -> None:
    ok(sandbox, "use-mirror", URL, "--force")
    assert not _warned(_status(sandbox)["warnings"], "does not use the mirror")
    env = {"PIP_INDEX_URL": "https://env.example/simple"}
    report = _status(sandbox, env=env)
    assert report["effective_pip_index"] == "https://env.example/simple"
    assert _warned(report["warnings"], "pip install does not use the mirror", "PIP_INDEX_URL")


def test_no_pip_warning_when_pip_was_not_switched(sandbox: Sandbox) -> None:
    ok(sandbox, "use-mirror", URL, "--force", "--target", "buildout")
    report = _status(sandbox)
    assert report["switched"] is True
    assert not _warned(report["warnings"], "does not use the mirror"), report["warnings"]


def test_pip_config_file_variable_is_reported(sandbox: Sandbox) -> None:
    other = write(sandbox.root / "other-pip.conf", "[global]\nindex-url = https://cf.example/s\n")
    write(sandbox.pip_conf, "[global]\nindex-url = https://legacy.example/simple\n")
    env = {"PIP_CONFIG_FILE": str(other)}
    report = _status(sandbox, env=env)
    assert _warned(report["warnings"], "PIP_CONFIG_FILE")
    # when PIP_CONFIG_FILE names an existing file, pip does not load the user files at all
    assert report["effective_pip_index"] == "https://cf.example/s"
    switched = _ignored_json(sandbox, env)
    assert _warned(switched["warnings"], "PIP_CONFIG_FILE")
    assert other.read_text() == "[global]\nindex-url = https://cf.example/s\n"  # not edited


def test_virtualenv_pip_conf_is_reported(sandbox: Sandbox) -> None:
    venv = sandbox.root / "venv"
    write(venv / "pyvenv.cfg", "home = /usr/bin\n")
    site_conf = write(venv / "pip.conf", "[global]\nindex-url = https://venv.example/simple\n")
    env = {"VIRTUAL_ENV": str(venv)}
    report = _status(sandbox, env=env)
    assert _warned(report["warnings"], str(site_conf)), report["warnings"]
    switched = _ignored_json(sandbox, env)
    assert _warned(switched["warnings"], str(site_conf)), switched["warnings"]
    assert site_conf.read_text() == "[global]\nindex-url = https://venv.example/simple\n"


def test_virtualenv_without_pip_conf_is_not_reported(sandbox: Sandbox) -> None:
    venv = sandbox.root / "venv"
    write(venv / "pyvenv.cfg", "home = /usr/bin\n")
    report = _status(sandbox, env={"VIRTUAL_ENV": str(venv)})
    assert report["warnings"] == []


def test_leftover_extra_index_url_to_pypi_is_reported(sandbox: Sandbox) -> None:
    write(
        sandbox.pip_user_conf,
        "[global]\nindex-url = https://corp.example/simple\n"
        "extra-index-url =\n    https://extra.example/simple\n    https://pypi.org/simple\n",
    )
    report = ok_json(sandbox, "use-mirror", URL, "--force")
    assert _warned(report["warnings"], "extra-index-url"), report["warnings"]
    assert _warned(_status(sandbox)["warnings"], "extra-index-url")
    # the leftover is reported, never edited
    assert "https://pypi.org/simple" in sandbox.pip_user_conf.read_text()


def test_extra_index_url_elsewhere_is_not_reported(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nextra-index-url = https://extra.example/simple\n")
    assert ok_json(sandbox, "use-mirror", URL, "--force")["warnings"] == []


def test_project_extends_chain_is_reported(sandbox: Sandbox) -> None:
    write(sandbox.project / "base.cfg", "[buildout]\nindex = https://base.example/simple\n")
    write(sandbox.project / "buildout.cfg", "[buildout]\nextends = base.cfg\nparts =\n")
    report = ok_json(sandbox, "use-mirror", URL, "--force", "--target", "project")
    assert _warned(report["warnings"], "base.cfg"), report["warnings"]
    assert _warned(_status(sandbox)["warnings"], "base.cfg")


def test_status_does_not_import_the_network_stack(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "[global]\nindex-url = https://legacy.example/simple\n")
    ok(sandbox, "use-mirror", URL, "--force")
    out = sandbox.command(["python", "-X", "importtime", "-m", "pypi_switch", "status"])
    assert out.returncode == 0, out.stderr
    imported = set(re.findall(r"\|\s+([\w.]+)\s*$", out.stderr, re.MULTILINE))
    assert "pypi_switch.cli" in imported, "could not read the -X importtime report"
    heavy = {"requests", "urllib3", "pypi_simple", "bs4", "pydantic", "httpx", "filelock", "rich"}
    assert not (heavy & {name.split(".")[0] for name in imported}), heavy & imported


def test_status_on_a_broken_file_does_not_crash(sandbox: Sandbox) -> None:
    write(sandbox.pip_conf, "index-url = https://no-section.example/simple\n")
    out = sandbox.run("status")
    assert out.returncode in (0, 1), out.stderr
    assert "Traceback" not in out.stdout + out.stderr
