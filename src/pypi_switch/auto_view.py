"""Text and JSON for `auto` (a cron tick: silent unless something happened) and `schedule`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from pypi_switch.auto import TickResult
from pypi_switch.schedule import Schedule
from pypi_switch.urls import redact

__all__ = ["schedule_text", "tick_json", "tick_text"]

PREFIX = "pypi-switch auto: "


def tick_json(result: TickResult) -> dict[str, Any]:
    return result.to_json()


def tick_text(result: TickResult, *, verbose: bool) -> str:
    """The lines for stdout: none for a quiet tick (cron mails nothing), one otherwise.

    A failure is not rendered here: cli.py prints it on stderr as every error is.
    """
    mirror = redact(result.mirror) if result.mirror else None
    if result.failed:
        lines = []
    elif result.action == "switched":
        lines = [f"{PREFIX}switched to {mirror}: {result.reason}"]
    elif result.action == "moved":
        lines = [f"{PREFIX}moved to {mirror}: {result.reason}"]
    elif result.action == "restored":
        kept = len(result.kept_edits)
        tail = f"; kept your later edits in {kept} file{'s' if kept > 1 else ''}" if kept else ""
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


def schedule_text(plan: Schedule, *, log: Path) -> str:
    unit_dir = shlex.quote(str(plan.unit_dir))
    service_path = shlex.quote(str(plan.unit_dir / plan.service_name))
    timer_path = shlex.quote(str(plan.unit_dir / plan.timer_name))
    return "\n".join(
        [
            "# With cron, every 5 minutes: add this line with `crontab -e`",
            plan.crontab,
            "",
            "# Or with a systemd user timer, every 5 minutes: paste this into a shell",
            f"mkdir -p {unit_dir}",
            f"cat > {service_path} <<'EOF'",
            plan.service + "EOF",
            f"cat > {timer_path} <<'EOF'",
            plan.timer + "EOF",
            "systemctl --user daemon-reload",
            f"systemctl --user enable --now {plan.timer_name}",
            "# (to keep it running while you are logged out: loginctl enable-linger)",
            "",
            "# To stop: delete the line with `crontab -e`, or",
            f"#   systemctl --user disable --now {plan.timer_name}",
            "# then `pypi-switch status`; `pypi-switch restore` if a switch is still in place.",
            f"# Each tick is logged in {log}",
            "",
        ]
    )
