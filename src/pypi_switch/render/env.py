"""`env`: the assignments, already quoted for the chosen shell by ``shell_env``."""

from __future__ import annotations

from pypi_switch.shell_env import EnvOutput

__all__ = ["to_json", "to_text"]


def to_json(out: EnvOutput) -> None:
    raise TypeError("`env` prints for a shell, not JSON (see --shell)")


def to_text(out: EnvOutput) -> str:
    return out.text
