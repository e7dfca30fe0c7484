"""`use-mirror` and `restore`: what was chosen and why, what changed in which file."""

from __future__ import annotations

from functools import singledispatch
from typing import Any, assert_never

from pypi_switch.choose import UseMirrorOutcome
from pypi_switch.paths import Paths
from pypi_switch.render.locks import traces_json, traces_text
from pypi_switch.restore import RestoreAction, RestoreResult
from pypi_switch.switch import SwitchResult
from pypi_switch.targets.base import Change

__all__ = ["to_json", "to_text"]


@singledispatch
def to_json(result: object) -> Any:
    raise TypeError(f"no JSON view for {type(result).__name__}")


@singledispatch
def to_text(result: object) -> str:
    raise TypeError(f"no text view for {type(result).__name__}")


# -- use-mirror ---------------------------------------------------------------------------


def _switch_json(result: SwitchResult) -> dict[str, Any]:
    return {
        "mirror": result.mirror,
        "dry_run": result.dry_run,
        "changes": [
            {
                "target": c.target,
                "path": str(c.path),
                "action": c.action,
                "options": [
                    {"section": x.section, "key": x.key, "old": x.old, "new": x.new}
                    for x in c.changes
                ],
                **({"diff": c.diff} if result.dry_run else {}),
            }
            for c in result.changed
        ],
        "unchanged": [str(p) for p in result.unchanged],
        "warnings": list(result.warnings),
        "next_lock_rewrites": traces_json(result.locks),
        "verdict": result.verdict,
    }


def _switch_text(result: SwitchResult) -> str:
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
        paths = Paths.from_environ()
        for c in result.changed:
            keys = ", ".join(_option(x) for x in c.changes) or "back to the original"
            lines.append(f"  {c.action:<{width}}  {paths.show(c.path)} ({c.target}): {keys}")
        lines.append("Undo with: pypi-switch restore")
    if result.locks:
        paths = Paths.from_environ()
        lines.append("The next lock writes the mirror's URL into (re-lock them after restore):")
        lines += [f"  {paths.show(t.path)}" for t in result.locks]
    lines += [f"warning: {w}" for w in result.warnings]
    if result.verdict:
        lines.append(f"warning: {result.verdict}")
    return "\n".join(lines) + "\n"


@to_json.register
def _(outcome: UseMirrorOutcome) -> dict[str, Any]:
    from pypi_switch.render.probe import ranked_json

    doc = _switch_json(outcome.switch)
    choice = outcome.choice
    if choice is None:
        doc["choice"] = {"checked": False, "reason": "--force: switched without probing"}
        doc["ranking"] = []
        return doc
    best = choice.chosen
    doc["choice"] = {
        "checked": True,
        "name": best.result.name if best else None,
        "url": best.result.url if best else None,
        "reason": best.reason if best else None,
    }
    doc["ranking"] = ranked_json(choice.ranking)
    if choice.vetting is not None:
        from pypi_switch.render.vet import vetting_json

        doc["vetting"] = vetting_json(choice.vetting)
    return doc


@to_text.register
def _(outcome: UseMirrorOutcome) -> str:
    lines: list[str] = []
    choice = outcome.choice
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
            from pypi_switch.render.vet import vetting_lines

            lines += vetting_lines(choice.vetting)
    return "\n".join(lines) + ("\n" if lines else "") + _switch_text(outcome.switch)


def _option(change: Change) -> str:
    match change.kind:
        case "root":
            return change.key
        case "entry":
            return f"[[{change.section}]] {change.key}"
        case "section":
            return f"[{change.section}] {change.key}"
        case _:
            assert_never(change.kind)


# -- restore -----------------------------------------------------------------------------


def _action_words(action: RestoreAction) -> str:
    match action:
        case "restored":
            return "restored"
        case "removed":
            return "removed (it did not exist before)"
        case "reverted-options":
            return "kept your later edits; undid only pypi-switch's options"
        case "unchanged":
            return "already as it was"
        case "missing":
            return "deleted since the switch; left as it is (--force brings back the original)"
        case _:
            assert_never(action)


@to_json.register
def _(result: RestoreResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "nothing_to_restore": result.nothing_to_restore,
        "mirror": result.mirror,
        "restored": [
            {
                "target": f.target,
                "path": str(f.path),
                "action": f.action,
                **({"diff": f.diff} if result.dry_run else {}),
            }
            for f in result.files
        ],
        "kept_edits": [str(p) for p in result.kept_edits],
        "lock_files_naming_the_mirror": traces_json(result.traces),
    }


@to_text.register
def _(result: RestoreResult) -> str:
    if result.nothing_to_restore:
        return "Nothing to restore: pypi-switch has not changed any file.\n"
    if result.dry_run:
        lines = ["Dry run: restore would change:"]
        lines += [f.diff.rstrip("\n") for f in result.files if f.diff]
        return "\n".join(lines) + "\n"
    paths = Paths.from_environ()
    lines = [f"Restored your configuration (it pointed at {result.mirror}):"]
    lines += [
        f"  {paths.show(f.path)} ({f.target}): {_action_words(f.action)}" for f in result.files
    ]
    lines += traces_text(
        result.traces, "These lock files still send their users to the mirror; re-lock them:"
    )
    return "\n".join(lines) + "\n"
