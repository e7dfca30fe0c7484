"""`schedule`: what to paste, per OS, to run `auto` every 5 minutes, and how to stop it."""

from __future__ import annotations

import shlex

from pypi_switch.schedule import Schedule

__all__ = ["to_text"]  # no --json for this command


def to_text(plan: Schedule) -> str:
    """What to paste, per OS, and how to stop it."""
    log = plan.log
    if plan.task is not None:
        return _task_text(plan, log)
    lines = _launchd_lines(plan) if plan.launchd is not None else []
    if plan.crontab is not None:
        if plan.launchd is not None:
            lines += ["# Or with cron (macOS runs it too): add this line with `crontab -e`"]
        else:
            lines += ["# With cron, every 5 minutes: add this line with `crontab -e`"]
        lines += [plan.crontab, ""]
    if plan.systemd is not None:
        lines += _systemd_lines(plan)
    lines += ["# To stop: delete the line with `crontab -e`"]
    if plan.systemd is not None:
        lines += [f"#   or: systemctl --user disable --now {plan.systemd.timer_name}"]
    if plan.launchd is not None:
        lines += [
            f"#   or: launchctl bootout {_gui(plan)}/{plan.launchd.label}"
            f" && rm {shlex.quote(str(plan.launchd.path))}"
        ]
    lines += [
        "# then `pypi-switch status`; `pypi-switch restore` if a switch is still in place.",
        f"# Each tick is logged in {log}",
        "",
    ]
    return "\n".join(lines)


def _gui(plan: Schedule) -> str:
    return f"gui/{plan.uid}" if plan.uid is not None else "gui/$(id -u)"


def _launchd_lines(plan: Schedule) -> list[str]:
    agent = plan.launchd
    assert agent is not None
    path = shlex.quote(str(agent.path))
    return [
        "# With a LaunchAgent (launchd), every 5 minutes: paste this into Terminal",
        f"mkdir -p {shlex.quote(str(agent.path.parent))}",
        f"cat > {path} <<'EOF'",
        agent.plist + "EOF",
        f"launchctl bootstrap {_gui(plan)} {path}",
        "",
    ]


def _systemd_lines(plan: Schedule) -> list[str]:
    timer = plan.systemd
    assert timer is not None
    return [
        "# Or with a systemd user timer, every 5 minutes: paste this into a shell",
        f"mkdir -p {shlex.quote(str(timer.unit_dir))}",
        f"cat > {shlex.quote(str(timer.unit_dir / timer.service_name))} <<'EOF'",
        timer.service + "EOF",
        f"cat > {shlex.quote(str(timer.unit_dir / timer.timer_name))} <<'EOF'",
        timer.timer + "EOF",
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {timer.timer_name}",
        "# (to keep it running while you are logged out: loginctl enable-linger)",
        "",
    ]


def _task_text(plan: Schedule, log: str) -> str:
    task = plan.task
    assert task is not None
    lines = ["REM With Task Scheduler, every 5 minutes: run this in Command Prompt"]
    if plan.environment:
        lines += [
            "REM The task starts with your saved user environment, not this shell's:",
            "REM save these first (setx keeps them for new programs)",
            *(f'setx {k} "{v}"' for k, v in plan.environment),
        ]
    if task.too_long:
        lines += [
            "REM The command is longer than schtasks accepts (261 characters):",
            "REM install pypi-switch in a shorter folder first.",
        ]
    lines += [
        task.create,
        "",
        f"REM To stop: {task.delete}",
        "REM then `pypi-switch status`; `pypi-switch restore` if a switch is still in place.",
        f"REM Each tick is logged in {log}",
        "",
    ]
    return "\n".join(lines)
