"""One error type carrying a message meant for the user; cli.py turns it into an exit code."""

from __future__ import annotations

__all__ = [
    "EXIT_CLIENT_IGNORES",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "SwitchError",
    "Terminated",
    "UsageError",
]

EXIT_OK = 0
EXIT_FAILED = 1  # could not do it; nothing was changed
EXIT_USAGE = 2  # the command line itself is wrong
EXIT_CLIENT_IGNORES = 3  # switched, but a client will not use the mirror
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
EXIT_TERMINATED = 143  # SIGTERM (128 + 15)


class SwitchError(Exception):
    """Something the user must hear about in one line; nothing was changed."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(SwitchError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE


class Terminated(BaseException):
    """SIGTERM, let through where the books agree: like Ctrl-C, not an error to catch."""
