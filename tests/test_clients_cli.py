"""`env`, the exit code 3 verdict, and status listing every file the journal holds.

`env` is checked the way CI uses it: its output evaluated by a real sh, then real pip and
uv install from the loopback mirror with no config file in HOME while pypi.org is down.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import CANARY
from tests.support.fake_pypi import FakePyPIWithEnv
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import VENV_BIN, Sandbox
from tests.support.switching import (
    assert_one_line_error,
    local_mirror_config,
    ok,
    ok_json,
    write,
)

INSTALL_BOTH = """
eval "$1"
"$2" -m pip install --no-cache-dir --target "$3/pip" canary-pkg || exit 10
"$4" pip install --no-cache --target "$3/uv" --python "$2" canary-pkg || exit 11
"""


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_env_eval_in_sh_then_real_pip_and_uv_install_from_the_mirror(
    sandbox: Sandbox, mirror: PypiServer, fake_pypi: FakePyPIWithEnv
) -> None:
    lines = ok(sandbox, "env", mirror.index_url)
    assert lines.splitlines()[0] == f"export PIP_INDEX_URL='{mirror.index_url}'"
    assert _files_under(sandbox.home) == []  # env writes nothing, reads no switch
    out = sandbox.command(
        [
            "sh",
            "-c",
            INSTALL_BOTH,
            "sh",
            lines,
            sys.executable,
            str(sandbox.root),
            f"{VENV_BIN}/uv",
        ],
        env={**fake_pypi.env, "UV_CACHE_DIR": str(sandbox.root / "uv-cache")},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for tool in ("pip", "uv"):
        init = sandbox.root / tool / "canary_pkg" / "__init__.py"
        assert init.read_text().startswith("VERSION = '1.1'")
    assert not fake_pypi.server.asked  # nothing came from pypi.org
    assert not [p for p in _files_under(sandbox.home) if "pip" in p.name or p.suffix == ".toml"]


def test_without_env_pip_is_stuck_on_the_down_pypi(
    sandbox: Sandbox, fake_pypi: FakePyPIWithEnv
) -> None:
    """The counter-test: the same install without the eval fails."""
    out = sandbox.command(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--retries", "0",
         "--target", str(sandbox.root / "t"), CANARY],
        env=fake_pypi.env,
    )  # fmt: skip
    assert out.returncode != 0
    assert fake_pypi.server.asked


def test_env_follows_the_switch_prints_its_credentials_and_unsets(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    assert_one_line_error(sandbox.run("env"))  # nothing switched, no URL: exit 1
    secret = mirror.index_url.replace("http://", "http://ci:s3cr3t@")
    local_mirror_config(sandbox, mirror.index_url)
    ok(sandbox, "use-mirror", secret, "--force", "--target", "pip")
    printed = ok(sandbox, "env")
    assert f"export PIP_INDEX_URL='{secret}'" in printed  # asked for: printed
    assert "s3cr3t" not in ok(sandbox, "status")  # nowhere else
    script = f"export PIPENV_PYPI_MIRROR=x POETRY_PYPI_MIRROR_URL=x\n{printed}\n"
    script += (
        ok(sandbox, "env", "--unset")
        + 'env | grep -E "^(PIP_INDEX|UV_DEF|PDM_PYPI|PIPENV|POETRY_PYPI)" || true'
    )
    out = sandbox.command(["sh", "-c", script])
    assert (out.returncode, out.stdout) == (0, ""), out.stdout + out.stderr
    github = ok(sandbox, "env", "--shell", "github")
    assert github.splitlines()[0] == f"PIP_INDEX_URL={secret}"
    err = assert_one_line_error(sandbox.run("env", "--unset", "--shell", "dotenv"), code=2)
    assert "--unset" in err
    err = assert_one_line_error(sandbox.run("env", "--shell", "tcsh"), code=2)
    assert "tcsh" in err


def test_env_refuses_remote_plain_http_unless_allowed(sandbox: Sandbox) -> None:
    url = "http://10.1.2.3:3141/simple/"
    assert "--allow-insecure" in assert_one_line_error(sandbox.run("env", url))
    out = ok(sandbox, "env", url, "--allow-insecure")
    assert "export PIP_TRUSTED_HOST='10.1.2.3'\n" in out
    assert "export PDM_PYPI_VERIFY_SSL='false'\n" in out


# -- exit 3 ----------------------------------------------------------------------------------
def test_use_mirror_exits_3_with_the_status_verdict_when_pip_ignores_it(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    local_mirror_config(sandbox, mirror.index_url)
    env = {"PIP_INDEX_URL": "https://corp.example/simple/"}
    out = sandbox.run("use-mirror", mirror.index_url, "--target", "pip", env=env)
    assert out.returncode == 3, out.stdout + out.stderr
    verdict = (
        "warning: pip install does not use the mirror: PIP_INDEX_URL decides "
        "(https://corp.example/simple/)"
    )
    assert out.stdout.splitlines()[-1] == verdict
    assert verdict in ok(sandbox, "status", env=env).splitlines()
    assert sandbox.pip_conf.is_file()  # switched all the same
    again = sandbox.run("use-mirror", mirror.index_url, "--target", "pip", "--json", env=env)
    assert again.returncode == 3
    assert json.loads(again.stdout)["verdict"] == verdict.removeprefix("warning: ")
    assert ok(sandbox, "use-mirror", mirror.index_url, "--target", "pip")  # exit 0 without


# -- status lists every file the journal holds -------------------------------------------------
def test_status_outside_a_project_switched_with_project_lists_its_file(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    project = write(sandbox.root / "app" / "buildout.cfg", "[buildout]\nparts =\n")
    local_mirror_config(sandbox, mirror.index_url)
    ok(sandbox, "use-mirror", mirror.index_url, "--target", "project", "--project", str(project))
    doc = ok_json(sandbox, "status")
    rows = [t for t in doc["targets"] if t["path"] == str(project)]
    assert rows == [
        {
            "name": "project",
            "path": str(project),
            "exists": True,
            "index": mirror.index_url,
            "set_by_pypi_switch": True,
        }
    ]
    assert str(project) in ok(sandbox, "status")
    ok(sandbox, "restore")
    assert not [t for t in ok_json(sandbox, "status")["targets"] if t["path"] == str(project)]


def test_env_probe_picks_the_catalogues_best_or_checks_the_url(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    sandbox.write_config(
        f'builtin_mirrors = false\ncanary = "{CANARY}"\nupstream = "{mirror.index_url}"\n'
        f'[[mirror]]\nname = "local"\nurl = "{mirror.index_url}"\n'
    )
    out = ok(sandbox, "env", "--probe", "--shell", "dotenv")
    assert out.splitlines()[0] == f"PIP_INDEX_URL={mirror.index_url}"
    dead = "http://127.0.0.1:9/simple/"
    refused = sandbox.run("env", dead, "--probe")  # checked, and refused with its reason
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.splitlines()[-1].startswith("pypi-switch: error: http://127.0.0.1:9/")
    assert "--force" not in refused.stderr  # env has no --force to offer
    assert ok(sandbox, "env", dead).startswith(f"export PIP_INDEX_URL='{dead}'")  # no probe
    assert not (sandbox.state_dir / "journal.json").exists()  # env never switches


def test_use_mirror_and_status_point_a_pipenv_project_to_env(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    write(sandbox.project / "Pipfile", "[packages]\n")
    local_mirror_config(sandbox, mirror.index_url)
    for out in (
        ok(sandbox, "use-mirror", mirror.index_url, "--target", "pip"),
        ok(sandbox, "status"),
    ):
        told = [ln for ln in out.splitlines() if "Pipfile" in ln]
        assert len(told) == 1 and "pypi-switch env" in told[0], out
    out = ok(sandbox, "status", env={"PIPENV_PYPI_MIRROR": mirror.index_url})
    assert "Pipfile" not in out
