"""`status`: each file, its index, what pip really uses, and the warnings."""

from __future__ import annotations

from typing import Any

from pypi_switch.paths import Paths
from pypi_switch.render.locks import traces_json, traces_text
from pypi_switch.status import Status

__all__ = ["to_json", "to_text"]


def to_json(st: Status) -> dict[str, Any]:
    return {
        "switched": st.switched,
        "mirror": st.mirror,
        "since": st.since,
        "mode": st.mode,
        "interrupted": st.interrupted,
        "targets": [
            {
                "name": t.name,
                "path": str(t.path),
                "exists": t.exists,
                "index": t.index,
                "set_by_pypi_switch": t.set_by_pypi_switch,
                **({"problem": t.problem} if t.problem else {}),
            }
            for t in st.targets
        ],
        "effective_pip_index": st.effective_pip_index,
        "effective_pip_source": st.effective_pip_source,
        "warnings": list(st.warnings),
        "lock_files_naming_the_mirror": traces_json(st.traces),
    }


def to_text(st: Status) -> str:
    if st.switched:
        head = f"Switched to {st.mirror} ({st.mode}, since {st.since})."
    else:
        head = "Not switched: every file is as you left it."
    lines = [head]
    if st.interrupted:
        lines.append("A switch was interrupted: run `pypi-switch restore` or switch again.")
    paths = Paths.from_environ()
    width = max((len(t.name) for t in st.targets), default=0)
    pwidth = max((len(paths.show(t.path)) for t in st.targets), default=0)
    for t in st.targets:
        if t.problem:
            value = f"unreadable: {t.problem}"
        elif not t.exists:
            value = "(no file)"
        else:
            value = t.index or "(no index set)"
        mark = "  [set by pypi-switch]" if t.set_by_pypi_switch else ""
        lines.append(f"  {t.name:<{width}}  {paths.show(t.path):<{pwidth}}  {value}{mark}")
    lines.append(f"pip install uses {st.effective_pip_index} (from {st.effective_pip_source})")
    lines += traces_text(
        st.traces, "Lock files naming the mirror (after restore, re-lock them against your index):"
    )
    lines += [f"warning: {w}" for w in st.warnings]
    return "\n".join(lines) + "\n"
