"""`env`: the assignments, already quoted for the chosen shell by ``shell_env``."""

from __future__ import annotations

from pypi_switch.shell_env import EnvOutput

__all__ = ["to_text"]  # no --json for this command


def to_text(out: EnvOutput) -> str:
    return out.text
