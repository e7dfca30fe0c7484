"""``python -m pypi_switch`` and the ``pypi-switch`` command.

A Ctrl-C before the command line is parsed (imports) or after the command has finished
ends the run with one line: nothing is half-done then (see ``interrupts``). The process
ends with ``os._exit`` once its output is flushed: the interpreter's own shutdown runs no
code of ours, so a Ctrl-C there could only end in a traceback or a silent death.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from pypi_switch import interrupts


def main() -> NoReturn:
    interrupts.at_the_edges()
    try:
        from pypi_switch import cli

        interrupts.in_the_command()
        cli.main()
        status = 0
    except SystemExit as exc:
        status = _status(exc.code)
    except KeyboardInterrupt:  # in the instants before cli.main could answer it itself
        interrupts.at_the_edges()
        sys.stderr.write("pypi-switch: interrupted\n")
        status = interrupts.EXIT_INTERRUPTED
    interrupts.leave(status)


def _status(code: object) -> int:
    """The exit status the interpreter would give for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


if __name__ == "__main__":
    main()
