"""Text and JSON renderings of the core results. Credentials never reach the output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pypi_switch.paths import Place, shown
from pypi_switch.status import Status
from pypi_switch.switch import RestoreResult, SwitchResult
from pypi_switch.targets.base import Change
from pypi_switch.urls import redact, redact_text

if TYPE_CHECKING:  # the probe stack is heavy: `status` renders without it
    from pypi_switch.choose import Choice

__all__ = [
    "emit",
    "emit_json",
    "restore_json",
    "restore_text",
    "status_json",
    "status_text",
    "use_mirror_json",
    "use_mirror_text",
]


def emit(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(redact_text(text))
    stream.flush()


def emit_json(doc: Any) -> None:
    emit(json.dumps(doc, indent=2) + "\n")


def _r(url: str | None) -> str | None:
    return None if url is None else redact(url)


def _home(path: Path) -> str:
    """A path as this OS's users write it (``~/...``, ``%APPDATA%\\...``)."""
    return shown(path, Place.current())


# -- use-mirror ---------------------------------------------------------------------------


def switch_json(result: SwitchResult) -> dict[str, Any]:
    return {
        "mirror": _r(result.mirror),
        "dry_run": result.dry_run,
        "changes": [
            {
                "target": c.target,
                "path": str(c.path),
                "action": c.action,
                "options": [
                    {"section": x.section, "key": x.key, "old": _r(x.old), "new": _r(x.new)}
                    for x in c.changes
                ],
                **({"diff": redact_text(c.diff)} if result.dry_run else {}),
            }
            for c in result.changed
        ],
        "unchanged": [str(p) for p in result.unchanged],
        "warnings": list(result.warnings),
    }


def switch_text(result: SwitchResult) -> str:
    lines: list[str] = []
    if result.dry_run:
        if not result.changed:
            lines.append(f"Dry run: every file already uses {result.mirror}; nothing would change.")
        else:
            lines.append(f"Dry run: switching to {result.mirror} would change:")
            lines += [c.diff.rstrip("\n") for c in result.changed]
    elif not result.changed:
        lines.append(f"Already using {result.mirror}: no file changed.")
    else:
        lines.append(f"Switched to {result.mirror}")
        width = max(len(c.action) for c in result.changed)
        for c in result.changed:
            keys = ", ".join(_option(x) for x in c.changes) or "back to the original"
            lines.append(f"  {c.action:<{width}}  {_home(c.path)} ({c.target}): {keys}")
        lines.append("Undo with: pypi-switch restore")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def use_mirror_json(result: SwitchResult, choice: Choice | None) -> dict[str, Any]:
    doc = switch_json(result)
    if choice is None:
        doc["choice"] = {"checked": False, "reason": "--force: switched without probing"}
        doc["ranking"] = []
        return doc
    from pypi_switch.probe_view import ranked_json

    best = choice.chosen
    doc["choice"] = {
        "checked": True,
        "name": best.result.name if best else None,
        "url": _r(best.result.url) if best else None,
        "reason": redact_text(best.reason) if best else None,
    }
    doc["ranking"] = ranked_json(list(choice.ranking))
    if choice.vetting is not None:
        from pypi_switch.vet_view import vetting_json

        doc["vetting"] = vetting_json(choice.vetting)
    return doc


def use_mirror_text(result: SwitchResult, choice: Choice | None) -> str:
    lines: list[str] = []
    if choice is not None and choice.chosen is not None:
        best = choice.chosen
        lines.append(f"Chose {best.result.name} ({best.result.url}): {best.reason}")
        rejected = choice.rejections
        others = [r for r in choice.ranking if r.ok and r is not best]
        if others:
            lines.append(f"  also usable: {', '.join(r.result.name for r in others[:6])}")
        for r in rejected[:8]:
            lines.append(f"  not {r.result.name}: {r.reason}")
        if len(rejected) > 8:
            lines.append(f"  ... and {len(rejected) - 8} more rejected (see `pypi-switch probe`)")
        if choice.vetting is not None:
            from pypi_switch.vet_view import vetting_lines

            lines += vetting_lines(choice.vetting)
    return "\n".join(lines) + ("\n" if lines else "") + switch_text(result)


def _option(change: Change) -> str:
    if not change.section:
        return change.key
    if change.section.startswith("["):
        return f"{change.section} {change.key}"
    return f"[{change.section}] {change.key}"


# -- restore -----------------------------------------------------------------------------

_ACTION_WORDS = {
    "restored": "restored",
    "removed": "removed (it did not exist before)",
    "reverted-options": "kept your later edits; undid only pypi-switch's options",
    "unchanged": "already as it was",
    "missing": "deleted since the switch; left as it is (--force brings back the original)",
}


def restore_json(result: RestoreResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "nothing_to_restore": result.nothing_to_restore,
        "mirror": _r(result.mirror),
        "restored": [
            {
                "target": f.target,
                "path": str(f.path),
                "action": f.action,
                **({"diff": redact_text(f.diff)} if result.dry_run else {}),
            }
            for f in result.files
        ],
        "kept_edits": [str(p) for p in result.kept_edits],
    }


def restore_text(result: RestoreResult) -> str:
    if result.nothing_to_restore:
        return "Nothing to restore: pypi-switch has not changed any file.\n"
    if result.dry_run:
        lines = ["Dry run: restore would change:"]
        lines += [f.diff.rstrip("\n") for f in result.files if f.diff]
        return "\n".join(lines) + "\n"
    lines = [f"Restored your configuration (it pointed at {result.mirror}):"]
    lines += [f"  {_home(f.path)} ({f.target}): {_ACTION_WORDS[f.action]}" for f in result.files]
    return "\n".join(lines) + "\n"


# -- status ------------------------------------------------------------------------------


def status_json(st: Status) -> dict[str, Any]:
    return {
        "switched": st.switched,
        "mirror": _r(st.mirror),
        "since": st.since,
        "mode": st.mode,
        "interrupted": st.interrupted,
        "targets": [
            {
                "name": t.name,
                "path": str(t.path),
                "exists": t.exists,
                "index": _r(t.index),
                "set_by_pypi_switch": t.set_by_pypi_switch,
                **({"problem": t.problem} if t.problem else {}),
            }
            for t in st.targets
        ],
        "effective_pip_index": _r(st.effective_pip_index),
        "effective_pip_source": st.effective_pip_source,
        "warnings": list(st.warnings),
    }


def status_text(st: Status) -> str:
    if st.switched:
        head = f"Switched to {st.mirror} ({st.mode}, since {st.since})."
    else:
        head = "Not switched: every file is as you left it."
    lines = [head]
    if st.interrupted:
        lines.append("A switch was interrupted: run `pypi-switch restore` or switch again.")
    width = max((len(t.name) for t in st.targets), default=0)
    pwidth = max((len(_home(t.path)) for t in st.targets), default=0)
    for t in st.targets:
        if t.problem:
            value = f"unreadable: {t.problem}"
        elif not t.exists:
            value = "(no file)"
        else:
            value = t.index or "(no index set)"
        mark = "  [set by pypi-switch]" if t.set_by_pypi_switch else ""
        lines.append(f"  {t.name:<{width}}  {_home(t.path):<{pwidth}}  {value}{mark}")
    lines.append(f"pip install uses {st.effective_pip_index} (from {st.effective_pip_source})")
    lines += [f"warning: {w}" for w in st.warnings]
    return "\n".join(lines) + "\n"
