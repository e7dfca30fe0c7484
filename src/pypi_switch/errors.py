"""One error type carrying a message meant for the user; cli.py turns it into an exit code."""

from __future__ import annotations

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "SwitchError", "UsageError"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class SwitchError(Exception):
    """Something the user must hear about in one line; nothing was changed."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(SwitchError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE
