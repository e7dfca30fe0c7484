"""The real uv and pdm read what the switch wrote, and what the restore gave back.

Everything runs in the sandbox (throw-away HOME, no outer UV_*/PDM_*/XDG_*), against the
local pypi-server that serves ``canary-pkg`` 1.0 and 1.1. The first tests drive the whole
CLI; the ``direct`` ones apply the targets' plan/revert themselves, so the files the targets
write are checked against the real clients independently of the engine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pypi_switch.targets.base import FileSpec, Target
from pypi_switch.targets.pdm import PDM
from pypi_switch.targets.uv import UV
from tests.support.fake_pypi import FakePyPIWithEnv
from tests.support.pypiserver import PypiServer, free_port
from tests.support.sandbox import VENV_BIN, Sandbox
from tests.support.switching import local_mirror_config, ok

UV_EXE = str(Path(VENV_BIN) / "uv")
PDM_EXE = str(Path(VENV_BIN) / "pdm")
PDM_DEFAULT = "https://pypi.org/simple"
MIRROR = "https://mirror.example.org/pypi/simple/"

USER_UV_TOML = """\
# uv settings kept by hand
native-tls = false

[[index]]
name = "old-proxy"   # decommissioned
url = "{dead}"
default = true

[pip]
compile-bytecode = false
"""

USER_PDM_CONFIG = """\
check_update = false

[pypi]
# the company proxy
url = "https://proxy.example.com/simple"  # set by IT
"""


def _uv_toml(sandbox: Sandbox) -> Path:
    return sandbox.home / ".config" / "uv" / "uv.toml"


def _pdm_config(sandbox: Sandbox) -> Path:
    return sandbox.home / ".config" / "pdm" / "config.toml"


def _dead_index() -> str:
    return f"http://127.0.0.1:{free_port()}/simple/"


def _uv_compile(sandbox: Sandbox) -> tuple[int, str]:
    requirements = sandbox.project / "requirements.in"
    requirements.write_text("canary-pkg\n")
    result = sandbox.command(
        [
            UV_EXE,
            "pip",
            "compile",
            str(requirements),
            "--python",
            sys.executable,
            "--emit-index-url",
            "--no-header",
            "--no-progress",
        ],
        env={
            "UV_CACHE_DIR": str(sandbox.root / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
        },
    )
    return result.returncode, result.stdout + result.stderr


def _assert_resolved_from(output: str, mirror: PypiServer) -> None:
    assert "canary-pkg==1.1" in output, output
    assert f"--index-url {mirror.index_url}" in output, output


def _pdm_url(sandbox: Sandbox) -> str:
    result = sandbox.command([PDM_EXE, "config", "pypi.url"], env={"PDM_CHECK_UPDATE": "false"})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _switch(sandbox: Sandbox, mirror: PypiServer, target: str) -> None:
    local_mirror_config(sandbox, mirror.index_url)  # canary-pkg, upstream on loopback
    ok(sandbox, "use-mirror", mirror.index_url, "--target", target)


def _restore(sandbox: Sandbox) -> None:
    ok(sandbox, "restore")


# -- through the CLI ---------------------------------------------------------------------
def test_uv_without_a_config_file(sandbox: Sandbox, mirror: PypiServer) -> None:
    _switch(sandbox, mirror, "uv")
    assert _uv_toml(sandbox).is_file()
    rc, output = _uv_compile(sandbox)
    assert rc == 0, output
    _assert_resolved_from(output, mirror)
    _restore(sandbox)
    assert not _uv_toml(sandbox).exists()


def test_uv_with_its_own_config_file(sandbox: Sandbox, mirror: PypiServer) -> None:
    uv_toml = _uv_toml(sandbox)
    uv_toml.parent.mkdir(parents=True)
    uv_toml.write_text(USER_UV_TOML.format(dead=_dead_index()))
    original = uv_toml.read_bytes()
    rc, output = _uv_compile(sandbox)
    assert rc != 0, output  # the old default index is gone: uv is stuck before the switch

    _switch(sandbox, mirror, "uv")
    rc, output = _uv_compile(sandbox)
    assert rc == 0, output
    _assert_resolved_from(output, mirror)

    _restore(sandbox)
    assert uv_toml.read_bytes() == original


def test_pdm_without_a_config_file(sandbox: Sandbox, mirror: PypiServer) -> None:
    assert _pdm_url(sandbox) == PDM_DEFAULT
    _switch(sandbox, mirror, "pdm")
    assert _pdm_url(sandbox) == mirror.index_url
    _restore(sandbox)
    assert not _pdm_config(sandbox).exists()
    assert _pdm_url(sandbox) == PDM_DEFAULT


def test_pdm_with_its_own_config_file(sandbox: Sandbox, mirror: PypiServer) -> None:
    config = _pdm_config(sandbox)
    config.parent.mkdir(parents=True)
    config.write_text(USER_PDM_CONFIG)
    original = config.read_bytes()
    assert _pdm_url(sandbox) == "https://proxy.example.com/simple"

    _switch(sandbox, mirror, "pdm")
    assert _pdm_url(sandbox) == mirror.index_url

    _restore(sandbox)
    assert config.read_bytes() == original
    assert _pdm_url(sandbox) == "https://proxy.example.com/simple"


PDM_PROJECT = """\
[project]
name = "demo"
version = "0"
requires-python = ">=3.11"
dependencies = []

[tool.pdm]
distribution = false
"""


def _installed_canary(sandbox: Sandbox) -> str:
    python = sandbox.project / ".venv" / "bin" / "python"
    out = sandbox.command([str(python), "-c", "import canary_pkg; print(canary_pkg.VERSION)"])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_pdm_add_follows_the_switch_while_pypi_is_down(
    sandbox: Sandbox, mirror: PypiServer, fake_pypi: FakePyPIWithEnv
) -> None:
    (sandbox.project / "pyproject.toml").write_text(PDM_PROJECT)
    env = {"PDM_CHECK_UPDATE": "false", **fake_pypi.env}
    stuck = sandbox.command([PDM_EXE, "add", "canary-pkg"], env=env)
    assert stuck.returncode != 0, stuck.stdout  # pypi.org answers 503
    assert fake_pypi.server.asked

    _switch(sandbox, mirror, "pdm")
    asked = fake_pypi.server.asked
    added = sandbox.command([PDM_EXE, "add", "canary-pkg"], env=env)
    assert added.returncode == 0, added.stdout + added.stderr
    assert _installed_canary(sandbox) == "1.1"
    assert fake_pypi.server.asked == asked  # all from the mirror
    assert "127.0.0.1" not in (sandbox.project / "pdm.lock").read_text()

    _restore(sandbox)
    again = sandbox.command([PDM_EXE, "add", "canary-pkg==1.0"], env=env)
    assert again.returncode != 0, again.stdout  # back on pypi.org, which is still down
    assert fake_pypi.server.asked > asked


# -- the targets alone, as the engine would apply them -------------------------------------
def _apply(target: Target, path: Path, url: str) -> tuple[str, str]:
    """Write plan(url) to ``path``; return (original text, what was written)."""
    original = path.read_text() if path.exists() else ""
    edit = target.plan(FileSpec(path), original, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(edit.text)
    reverted = target.revert(FileSpec(path), edit.text, edit.changes)
    assert reverted == original
    return original, edit.text


def test_direct_uv_reads_the_planned_file(sandbox: Sandbox, mirror: PypiServer) -> None:
    uv_toml = _uv_toml(sandbox)
    for existing in ("", USER_UV_TOML.format(dead=_dead_index())):
        if existing:
            uv_toml.parent.mkdir(parents=True, exist_ok=True)
            uv_toml.write_text(existing)
        _apply(UV, uv_toml, mirror.index_url)
        rc, output = _uv_compile(sandbox)
        assert rc == 0, output
        _assert_resolved_from(output, mirror)
        uv_toml.unlink()


def test_direct_uv_top_level_index_url(sandbox: Sandbox, mirror: PypiServer) -> None:
    uv_toml = _uv_toml(sandbox)
    uv_toml.parent.mkdir(parents=True)
    uv_toml.write_text(f"index-url = '{_dead_index()}'  # old style\n")
    _apply(UV, uv_toml, mirror.index_url)
    assert "[[index]]" not in uv_toml.read_text()
    rc, output = _uv_compile(sandbox)
    assert rc == 0, output
    _assert_resolved_from(output, mirror)


def test_direct_pdm_reads_the_planned_file(sandbox: Sandbox, mirror: PypiServer) -> None:
    config = _pdm_config(sandbox)
    for existing in ("", USER_PDM_CONFIG):
        if existing:
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(existing)
        _apply(PDM, config, mirror.index_url)
        assert _pdm_url(sandbox) == mirror.index_url
        config.unlink()


def test_direct_pdm_sees_verify_ssl_for_a_plain_http_mirror(sandbox: Sandbox) -> None:
    config = _pdm_config(sandbox)
    config.parent.mkdir(parents=True)
    config.write_text(USER_PDM_CONFIG)
    _apply(PDM, config, "http://10.11.12.13:8080/simple/")
    result = sandbox.command(
        [PDM_EXE, "config", "pypi.verify_ssl"], env={"PDM_CHECK_UPDATE": "false"}
    )
    assert result.stdout.strip() == "False", result.stdout + result.stderr


# -- every fixture is a file the real client accepts, before and after the switch -----------
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(
    "fixture",
    sorted(p.name for p in (FIXTURES / "uv").iterdir()),
)
def test_uv_accepts_the_fixture(sandbox: Sandbox, fixture: str) -> None:
    uv_toml = _uv_toml(sandbox)
    uv_toml.parent.mkdir(parents=True)
    uv_toml.write_text((FIXTURES / "uv" / fixture).read_text().replace("{URL}", MIRROR))
    result = sandbox.command(
        [UV_EXE, "pip", "compile", "-", "--show-settings"],
        input="canary-pkg\n",
        env={"UV_CACHE_DIR": str(sandbox.root / "uv-cache")},
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("fixture", sorted(p.name for p in (FIXTURES / "pdm").glob("*.expected")))
def test_pdm_reads_the_switched_fixture(sandbox: Sandbox, fixture: str) -> None:
    config = _pdm_config(sandbox)
    config.parent.mkdir(parents=True)
    config.write_text((FIXTURES / "pdm" / fixture).read_text().replace("{URL}", MIRROR))
    assert _pdm_url(sandbox) == MIRROR
