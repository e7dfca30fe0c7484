"""The real clients (pip, setuptools, zc.buildout) see the switch, and the restore.

Every client runs in the sandbox (fresh HOME, scrubbed environment), from the dev venv.
"""

from __future__ import annotations

import os
import shutil

from tests.conftest import CANARY
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import VENV_BIN, Sandbox
from tests.support.switching import DEAD_URL, local_mirror_config, ok, ok_json, write

# pip must give up at once on the dead index instead of retrying for seconds.
PIP_FAST = {"PIP_RETRIES": "0", "PIP_TIMEOUT": "5"}


def _pip(box: Sandbox, *args: str) -> tuple[int, str]:
    out = box.command(["python", "-m", "pip", *args], env=PIP_FAST)
    return out.returncode, out.stdout + out.stderr


def test_pip_download_uses_the_mirror_then_the_original_again(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    original = f"# my index is down\n[global]\nindex-url = {DEAD_URL}\ntimeout = 5\n"
    write(sandbox.pip_conf, original)
    dest = sandbox.root / "dl"
    local_mirror_config(sandbox, mirror.index_url)

    ok(sandbox, "use-mirror", mirror.index_url)
    code, output = _pip(sandbox, "download", "--no-deps", "-d", str(dest), CANARY)
    assert code == 0, output
    assert (dest / "canary_pkg-1.1-py3-none-any.whl").is_file(), output

    ok(sandbox, "restore")
    assert sandbox.pip_conf.read_text() == original
    code, output = _pip(sandbox, "download", "--no-deps", "-d", str(sandbox.root / "dl2"), CANARY)
    assert code != 0, "pip still reaches the mirror after restore:\n" + output
    assert "127.0.0.1:9" in output, output


def test_pip_install_section_in_the_user_file_is_switched_too(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    """An ``[install] index-url`` in the XDG file beats any ``[global]`` for ``pip install``."""
    user = f"[install]\nindex-url = {DEAD_URL}\n"
    write(sandbox.pip_user_conf, user)
    local_mirror_config(sandbox, mirror.index_url)

    ok(sandbox, "use-mirror", mirror.index_url)
    code, output = _pip(sandbox, "install", "--dry-run", "--no-deps", f"{CANARY}==1.0")
    assert code == 0, output
    assert "Would install canary-pkg-1.0" in output, output

    ok(sandbox, "restore")
    assert sandbox.pip_user_conf.read_text() == user
    assert not sandbox.pip_conf.exists()
    code, output = _pip(sandbox, "config", "list")
    assert code == 0, output
    assert f"install.index-url='{DEAD_URL}'" in output, output
    assert mirror.index_url not in output, output


def test_pip_install_section_in_a_global_file_is_countered(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    """A global file's ``[install] index-url`` beats every ``[global]``; a user file's
    ``[install]`` beats it, so the switch sets that section in ~/.pip/pip.conf too."""
    global_conf = sandbox.root / "xdg-config-dirs" / "pip" / "pip.conf"  # like /etc/pip.conf
    global_text = f"[install]\nindex-url = {DEAD_URL}\n"
    write(global_conf, global_text)
    local_mirror_config(sandbox, mirror.index_url)

    ok(sandbox, "use-mirror", mirror.index_url, "--target", "pip")
    url = mirror.index_url
    assert sandbox.pip_conf.read_text() == (
        f"[global]\nindex-url = {url}\n\n[install]\nindex-url = {url}\n"
    )
    code, output = _pip(sandbox, "install", "--dry-run", "--no-deps", f"{CANARY}==1.0")
    assert code == 0, output
    assert "Would install canary-pkg-1.0" in output, output
    status = ok_json(sandbox, "status", "--json")
    assert status["effective_pip_index"] == url
    assert not [w for w in status["warnings"] if str(global_conf) in w], status["warnings"]

    ok(sandbox, "restore")
    assert not sandbox.pip_conf.exists()
    assert global_conf.read_text() == global_text
    code, output = _pip(sandbox, "install", "--dry-run", "--no-deps", f"{CANARY}==1.0")
    assert code != 0, output  # the dead index decides again


SETUPTOOLS_PROBE = (
    "from setuptools.dist import Distribution\n"
    "d = Distribution(); d.parse_config_files()\n"
    "print(d.get_option_dict('easy_install').get('index_url', (None, None))[1])\n"
)


def _setuptools_index(box: Sandbox) -> str:
    empty = box.root / "empty-cwd"
    empty.mkdir(exist_ok=True)
    out = box.command(["python", "-c", SETUPTOOLS_PROBE], cwd=empty)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_setuptools_reads_the_switched_index(sandbox: Sandbox) -> None:
    original = "[easy_install]\nindex_url = https://old.example/simple\nzip_ok = 0\n"
    write(sandbox.pydistutils, original)
    assert _setuptools_index(sandbox) == "https://old.example/simple"

    ok(sandbox, "use-mirror", DEAD_URL, "--target", "pydistutils", "--force")
    assert _setuptools_index(sandbox) == DEAD_URL

    ok(sandbox, "restore")
    assert _setuptools_index(sandbox) == "https://old.example/simple"
    assert sandbox.pydistutils.read_text() == original


def test_setuptools_reads_a_created_file(sandbox: Sandbox) -> None:
    assert _setuptools_index(sandbox) == "None"
    ok(sandbox, "use-mirror", DEAD_URL, "--target", "pydistutils", "--force")
    assert _setuptools_index(sandbox) == DEAD_URL
    ok(sandbox, "restore")
    assert not sandbox.pydistutils.exists()
    assert _setuptools_index(sandbox) == "None"


def _buildout_index(box: Sandbox) -> str:
    out = box.command(["buildout", "query", "index"])
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_buildout_console_script_is_the_venvs() -> None:
    found = shutil.which("buildout", path=VENV_BIN)
    assert found is not None and os.path.dirname(found) == VENV_BIN


def test_buildout_user_default_cfg(sandbox: Sandbox) -> None:
    write(sandbox.project / "buildout.cfg", "[buildout]\nparts =\n")
    default = "[buildout]\nindex = https://old.example/simple\nnewest = false\n"
    write(sandbox.buildout_default, default)
    assert _buildout_index(sandbox) == "https://old.example/simple"

    ok(sandbox, "use-mirror", DEAD_URL, "--target", "buildout", "--force")
    assert _buildout_index(sandbox) == DEAD_URL

    ok(sandbox, "restore")
    assert sandbox.buildout_default.read_text() == default
    assert _buildout_index(sandbox) == "https://old.example/simple"


def test_buildout_project_cfg_found_in_the_current_directory(sandbox: Sandbox) -> None:
    project = "[buildout]\nparts =\nindex = https://project.example/simple\n"
    write(sandbox.project / "buildout.cfg", project)
    write(sandbox.buildout_default, "[buildout]\nindex = https://user.example/simple\n")
    assert _buildout_index(sandbox) == "https://project.example/simple"

    ok(sandbox, "use-mirror", DEAD_URL, "--force")  # no --target: all four, project included
    assert _buildout_index(sandbox) == DEAD_URL
    assert DEAD_URL in (sandbox.project / "buildout.cfg").read_text()
    assert DEAD_URL in sandbox.buildout_default.read_text()

    ok(sandbox, "restore")
    assert (sandbox.project / "buildout.cfg").read_text() == project
    assert _buildout_index(sandbox) == "https://project.example/simple"


def test_buildout_project_extends_chain(sandbox: Sandbox) -> None:
    """The index comes from an extended file: the project file gets its own, which wins."""
    base = "[buildout]\nindex = https://base.example/simple\n"
    project = "[buildout]\nextends = base.cfg\nparts =\n"
    write(sandbox.project / "base.cfg", base)
    write(sandbox.project / "buildout.cfg", project)
    assert _buildout_index(sandbox) == "https://base.example/simple"

    run = sandbox.run("use-mirror", DEAD_URL, "--target", "project", "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "base.cfg" in run.stdout + run.stderr, "the extends chain is not reported"
    assert _buildout_index(sandbox) == DEAD_URL
    assert (sandbox.project / "base.cfg").read_text() == base

    ok(sandbox, "restore")
    assert (sandbox.project / "buildout.cfg").read_text() == project
    assert _buildout_index(sandbox) == "https://base.example/simple"


def test_buildout_project_given_by_path(sandbox: Sandbox) -> None:
    elsewhere = sandbox.root / "elsewhere"
    project = "[buildout]\nparts =\n"
    write(elsewhere / "buildout.cfg", project)
    ok(
        sandbox,
        "use-mirror",
        DEAD_URL,
        "--target",
        "project",
        "--project",
        str(elsewhere),
        "--force",
    )
    out = sandbox.command(["buildout", "query", "index"], cwd=elsewhere)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == DEAD_URL
    ok(sandbox, "restore")
    assert (elsewhere / "buildout.cfg").read_text() == project
