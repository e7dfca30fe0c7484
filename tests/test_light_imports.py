"""A healthy `auto` tick (cron, every few minutes) must stay light: it may not load the
requests or page-parsing stack (`status` has the same check in test_switch_status.py)."""

from __future__ import annotations

import sys

from tests.conftest import CANARY
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import Sandbox

HEAVY = ("requests", "pypi_simple", "pydantic", "bs4", "filelock", "urllib3", "rich")

SNIPPET = """
import sys
from pypi_switch.cli import app
try:
    app({argv!r}, standalone_mode=False)
finally:
    print("LOADED:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def test_healthy_auto_tick_imports_no_heavy_stack(sandbox: Sandbox, mirror: PypiServer) -> None:
    sandbox.write_config(f'canary = "{CANARY}"\nupstream = "{mirror.index_url}"\n')
    out = sandbox.command(
        [sys.executable, "-c", SNIPPET.format(argv=["auto", "--json"], heavy=HEAVY[:4])]
    )
    assert out.returncode == 0, out.stderr
    assert '"action": "none"' in out.stdout, out.stdout
    assert '"upstream_ok": true' in out.stdout, out.stdout
    assert "LOADED:\n" in out.stderr, out.stderr
