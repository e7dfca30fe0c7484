"""`auto`: a cron tick, silent unless something happened; its JSON is also its log line."""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from pypi_switch.auto import TickResult
from pypi_switch.words import plural

__all__ = ["PREFIX", "tick_json", "to_json", "to_text"]

PREFIX = "pypi-switch auto: "


def tick_json(result: TickResult) -> dict[str, Any]:
    """The tick as ``--json`` prints it and ``auto.log`` records it (keys are a contract)."""
    return {
        "action": result.action,
        "mirror": result.mirror,
        "reason": result.reason,
        "error": result.error,
        "upstream_ok": result.upstream_ok,
        "upstream_reason": result.upstream_reason,
        "failures": result.failures,
        "successes": result.successes,
        "changed": [str(p) for p in result.changed],
        "kept_edits": [str(p) for p in result.kept_edits],
        "elapsed_s": round(result.elapsed_s, 3),
    }


@singledispatch
def to_json(result: object) -> Any:
    raise TypeError(f"no JSON view for {type(result).__name__}")


@singledispatch
def to_text(result: object, **options: Any) -> str:
    raise TypeError(f"no text view for {type(result).__name__}")


@to_json.register
def _(result: TickResult) -> dict[str, Any]:
    return tick_json(result)


@to_text.register
def _(result: TickResult, *, verbose: bool = False) -> str:
    """The lines for stdout: none for a quiet tick (cron mails nothing), one otherwise.

    A failure is not rendered here: cli.py prints it on stderr as every error is.
    """
    mirror = result.mirror
    if result.failed:
        lines = []
    elif result.action == "switched":
        lines = [f"{PREFIX}switched to {mirror}: {result.reason}"]
    elif result.action == "moved":
        lines = [f"{PREFIX}moved to {mirror}: {result.reason}"]
    elif result.action == "restored":
        kept = len(result.kept_edits)
        tail = f"; kept your later edits in {plural(kept, 'file')}" if kept else ""
        lines = [f"{PREFIX}switched back from {mirror}: {result.reason}{tail}"]
    elif result.action in ("network-down", "busy"):
        lines = [f"{PREFIX}{result.reason}"]
    elif verbose:
        lines = [f"{PREFIX}no change: {result.reason}"]
    else:
        lines = []
    if verbose:
        if result.upstream_ok is not None:
            lines.append(
                f"  consecutive ticks: {result.failures} failed, {result.successes} healthy; "
                f"took {result.elapsed_s:.2f} s"
            )
        lines += [f"  wrote {p}" for p in result.changed]
    return "".join(line + "\n" for line in lines)
