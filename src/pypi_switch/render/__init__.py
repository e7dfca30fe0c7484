"""Every view of the tool, and the one sink all output goes through.

``show(result)`` finds the view of a core result and writes it: its ``to_json`` with
``as_json``, else its ``to_text``, which gives a string or, for a terminal, a Rich table.
Whatever reaches the terminal passes ``safe``: credentials are hidden and control
characters escaped, so a hostile server, config value or file name can neither
leak a token nor drive the terminal. Views never hand outside text to Rich as markup.

The views are imported only when needed: ``status`` must not pay for Rich or the probe.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from typing import Any

from pypi_switch.urls import redact

__all__ = ["emit", "emit_json", "safe", "scrub", "show"]

# Result type -> the module holding its view (``to_text`` / ``to_json``).
_VIEWS = {
    "UseMirrorOutcome": "pypi_switch.render.switching",
    "RestoreResult": "pypi_switch.render.switching",
    "Status": "pypi_switch.render.status",
    "Choice": "pypi_switch.render.probe",
    "Listing": "pypi_switch.render.catalogue",
    "TickResult": "pypi_switch.render.auto",
    "Schedule": "pypi_switch.render.schedule",
    "EnvOutput": "pypi_switch.render.env",
}

# C0/C1 controls (but newline and tab), DEL, and the invisible format characters
# (zero-width spaces and joiners, bidi overrides, BOM).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str, *, reveal: bool = False) -> str:
    """``text`` fit for a terminal: control characters escaped, credentials hidden
    (``reveal``: kept, for the one command whose job is to print them)."""
    text = _UNSAFE.sub(_escape, text)
    return text if reveal else redact(text)


def scrub(doc: Any) -> Any:
    """A JSON document with every credential hidden (json.dumps escapes the rest)."""
    if isinstance(doc, str):
        return redact(doc)
    if isinstance(doc, dict):
        return {k: scrub(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [scrub(v) for v in doc]
    return doc


def emit(text: str, *, err: bool = False, reveal: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(safe(text, reveal=reveal))
    stream.flush()


def emit_json(doc: Any) -> None:
    emit(json.dumps(scrub(doc), indent=2) + "\n")


def show(result: Any, *, as_json: bool = False, reveal: bool = False, **options: Any) -> None:
    """Write ``result`` (a core result object) as text or as one JSON document.

    ``reveal``: credentials are printed (`env`, whose job is to print them); control
    characters are escaped all the same.
    """
    view = importlib.import_module(_VIEWS[type(result).__name__])
    if as_json:
        emit_json(view.to_json(result))
        return
    shown = view.to_text(result, **options)
    if isinstance(shown, str):
        emit(shown, reveal=reveal)
    else:  # a Rich table, for a terminal; its cells were made ``safe`` by the view
        from rich.console import Console

        Console(highlight=False).print(shown)
