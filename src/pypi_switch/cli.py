"""Command line: parse options, call one core function, render its result.

This is the only module that prints or exits; errors become messages and exit codes here.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer

from pypi_switch import __version__
from pypi_switch.errors import EXIT_FAILED, SwitchError
from pypi_switch.urls import redact_text

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="pypi-switch",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    sys.stderr.write(f"pypi-switch: error: {redact_text(message)}\n")
    return typer.Exit(code)


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """Turn every exception into a one-line message and an exit code: never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except SwitchError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("pypi-switch: interrupted\n")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("PYPI_SWITCH_DEBUG"):
                raise
            detail = f"{type(exc).__name__}: {exc}"
            raise fail(
                f"unexpected failure ({detail}); rerun with PYPI_SWITCH_DEBUG=1 for details"
            ) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pypi-switch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Switch pip, setuptools and buildout to a healthy PyPI mirror when PyPI is down, and back."""


def main() -> None:
    app()
