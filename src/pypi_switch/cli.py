"""Command line: parse options, call one core function, render its result.

This is the only module that prints or exits; errors become messages and exit codes here.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
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


# -- switching (issue 2) ------------------------------------------------------------------

TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        help="Only this target (pip, pydistutils, buildout, project, uv, pdm); repeatable.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the diff; change nothing.")]


@app.command("use-mirror")
@handled
def use_mirror_cmd(
    url: Annotated[str, typer.Argument(help="The mirror's simple index URL.")],
    target: TargetOpt = None,
    project: Annotated[
        list[Path] | None,
        typer.Option("--project", help="A project buildout.cfg, or a directory holding one."),
    ] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    allow_insecure: Annotated[
        bool, typer.Option("--allow-insecure", help="Allow a plain-http mirror on a remote host.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Switch even if the mirror fails its check.")
    ] = False,
) -> None:
    """Point every config file at the mirror URL (only the index lines change)."""
    from pypi_switch import render, switch

    ctx = switch.build_context(project or ())
    result = switch.use_mirror(
        ctx, url, targets=target, dry_run=dry_run, allow_insecure=allow_insecure
    )
    if as_json:
        render.emit_json(render.switch_json(result))
    else:
        render.emit(render.switch_text(result))


@app.command("restore")
@handled
def restore_cmd(
    target: TargetOpt = None,
    dry_run: DryRunOpt = False,
    force: Annotated[
        bool, typer.Option("--force", help="Restore the original bytes even over later edits.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Put back the original files, byte for byte (keeping edits made since the switch)."""
    from pypi_switch import render, switch

    ctx = switch.build_context()
    result = switch.restore(ctx, targets=target, dry_run=dry_run, force=force)
    if as_json:
        render.emit_json(render.restore_json(result))
    else:
        render.emit(render.restore_text(result))


@app.command("status")
@handled
def status_cmd(as_json: JsonOpt = False) -> None:
    """Show what is switched, each file's index, what pip really uses, and warnings."""
    from pypi_switch import render, status, switch

    st = status.status(switch.build_context())
    if as_json:
        render.emit_json(render.status_json(st))
    else:
        render.emit(render.status_text(st))


def main() -> None:
    app()
