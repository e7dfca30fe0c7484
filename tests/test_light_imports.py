"""What must stay light to import, run as a real process.

`mirrors` only lists the catalogue: no network stack at all. A healthy `auto` tick (cron,
every few minutes) talks to upstream through the one transport, so it may load requests
(its cost is measured in bench/startup_bench.py against `status`), but never a page-parsing
stack nor the probing code. `status` has its own check in test_switch_status.py.
"""

from __future__ import annotations

import sys

from tests.conftest import CANARY
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import Sandbox

PARSING = ("pypi_simple", "pydantic", "bs4", "soupsieve")
NETWORK = (
    "requests",
    "urllib3",
    "truststore",
    "pypi_switch.net.transport",
    "pypi_switch.net.probe",
)

SNIPPET = """
import sys
from pypi_switch.cli import app
try:
    app({argv!r}, standalone_mode=False)
finally:
    print("LOADED:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded(sandbox: Sandbox, argv: list[str], heavy: tuple[str, ...]) -> tuple[str, str]:
    out = sandbox.command([sys.executable, "-c", SNIPPET.format(argv=argv, heavy=heavy)])
    assert out.returncode == 0, out.stderr
    return out.stdout, out.stderr.rsplit("LOADED:", 1)[-1].strip()


def test_healthy_auto_tick_imports_no_page_parsing_stack(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    sandbox.write_config(f'canary = "{CANARY}"\nupstream = "{mirror.index_url}"\n')
    probing = ("pypi_switch.choose", "pypi_switch.net.probe", "pypi_switch.vet")
    stdout, heavy = loaded(sandbox, ["auto", "--json"], PARSING + probing)
    assert '"action": "none"' in stdout, stdout
    assert '"upstream_ok": true' in stdout, stdout
    assert heavy == ""


def test_mirrors_imports_no_network_stack(sandbox: Sandbox) -> None:
    stdout, heavy = loaded(sandbox, ["mirrors", "--json"], NETWORK + PARSING)
    assert '"name": "tuna"' in stdout, stdout
    assert heavy == ""


def test_a_piped_probe_and_status_load_neither_rich_nor_tomlkit(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    # Rich draws only on a terminal, tomlkit edits only TOML files that exist: a piped
    # `use-mirror URL --dry-run` (scripts, CI) and `status` pay for neither.
    sandbox.write_config(
        f'canary = "{CANARY}"\nupstream = "{mirror.index_url}"\nbuiltin_mirrors = false\n'
    )
    stdout, heavy = loaded(
        sandbox,
        ["use-mirror", mirror.index_url, "--dry-run", "--target", "pip"],
        ("rich", "tomlkit", "plistlib", "packaging.requirements"),
    )
    assert "Dry run: switching to" in stdout, stdout
    assert heavy == ""
    _, heavy = loaded(sandbox, ["status"], ("rich", "tomlkit", "plistlib", "requests"))
    assert heavy == ""
