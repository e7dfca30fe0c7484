"""`status` is run by people in a hurry and by scripts: it must stay light."""

from __future__ import annotations

import sys

from tests.support.sandbox import Sandbox

HEAVY = ("requests", "pypi_simple", "pydantic", "bs4", "filelock", "urllib3", "rich")

SNIPPET = """
import sys
from pypi_switch.cli import app
try:
    app(["status"], standalone_mode=False)
finally:
    print("LOADED:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def test_status_imports_no_network_or_parsing_stack(sandbox: Sandbox) -> None:
    sandbox.pip_conf.parent.mkdir(parents=True)
    sandbox.pip_conf.write_text("[global]\nindex-url = https://a.example/simple\n")
    out = sandbox.command([sys.executable, "-c", SNIPPET.format(heavy=HEAVY)])
    assert out.returncode == 0, out.stderr
    assert "LOADED:\n" in out.stderr, out.stderr
    assert "https://a.example/simple" in out.stdout
