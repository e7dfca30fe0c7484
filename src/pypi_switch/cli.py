"""Command line: parse options, call one core function, hand its result to ``render.show``.

This is the only module that exits; errors become one-line messages and exit codes here.
Modules are imported inside the commands: requests and the page parser are slow to
import and commands such as `status` must not pay for them.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from pypi_switch import __version__
from pypi_switch.errors import (
    EXIT_CLIENT_IGNORES,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    SwitchError,
    Terminated,
)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    from pypi_switch.render import emit

    emit(f"pypi-switch: error: {' '.join(message.split())}\n", err=True)
    return typer.Exit(code)


class _Stopped(BaseException):
    """Ctrl-C or SIGTERM, already told in one line (typer would end a KeyboardInterrupt
    silently, and a BaseException passes its handlers)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _stopped(exc: KeyboardInterrupt | Terminated) -> _Stopped:
    """Say in one line that the run was stopped, and how it left things."""
    from pypi_switch.render import emit

    word, code = (
        ("terminated", EXIT_TERMINATED)
        if isinstance(exc, Terminated)
        else ("interrupted", EXIT_INTERRUPTED)
    )
    outcome = " ".join(str(exc).split())
    emit(f"pypi-switch: {word}{'; ' + outcome if outcome else ''}\n", err=True)
    return _Stopped(code)


class _Group(TyperGroup):
    """Usage errors in one line on stderr, like every other error (click prints four)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # typer vendors click: its exception classes are reached through the instance's
        # module rather than a public name.
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
            if code == EXIT_INTERRUPTED:
                # typer's own answer to a Ctrl-C outside a command (while parsing): silent.
                code = _stopped(KeyboardInterrupt()).code
        except _Stopped as exc:
            code = exc.code
        except (KeyboardInterrupt, Terminated) as exc:
            code = _stopped(exc).code
        except NoArgsIsHelpError as exc:
            sys.stdout.write(exc.format_message() + "\n")
            code = EXIT_USAGE
        except ClickException as exc:
            code = fail(exc.format_message(), exc.exit_code).exit_code
        except typer.Exit as exc:
            code = exc.exit_code
        if standalone:
            sys.exit(code or 0)
        return code


app = typer.Typer(
    name="pypi-switch",
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _stop_inside(exc: BaseException) -> KeyboardInterrupt | Terminated | None:
    """A Ctrl-C or SIGTERM that Python wrapped in another error: one raised while a class
    was being built (a lazy import) comes out as "RuntimeError: Error calling __set_name__"."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, KeyboardInterrupt | Terminated):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


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
        except (KeyboardInterrupt, Terminated) as exc:
            raise _stopped(exc) from None
        except Exception as exc:
            stop = _stop_inside(exc)
            if stop is not None:
                raise _stopped(stop) from None
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


TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        help="Only this target (pip, pydistutils, buildout, project, uv, pdm, poetry, pixi); "
        "repeatable.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the diff; change nothing.")]
MirrorOpt = Annotated[
    list[str] | None,
    typer.Option("--mirror", help="Probe this index URL instead of the catalogue; repeatable."),
]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds for the whole probe.")]
CanaryOpt = Annotated[
    str | None, typer.Option("--canary", help="Project whose page is fetched everywhere.")
]
UpstreamOpt = Annotated[
    str | None, typer.Option("--upstream", help="The index mirrors are compared with.")
]
AllowInsecureOpt = Annotated[
    bool, typer.Option("--allow-insecure", help="Allow a plain-http mirror on a remote host.")
]
RequireOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--require",
        help="A requirements or lock file (or a directory holding them) whose pins the mirror "
        "must have; repeatable.",
    ),
]
FileCanaryOpt = Annotated[
    str | None,
    typer.Option(
        "--file-canary",
        help="Project whose smallest file is downloaded to check the mirror's bytes.",
    ),
]


def _probe_view(*, stderr: bool, quiet: bool) -> Any:
    """The live view of a probe: on stderr when stdout must carry only the result."""
    from pypi_switch.render.probe import ProbeView

    return ProbeView(sys.stderr if stderr else sys.stdout, quiet=quiet)


@app.command("use-mirror")
@handled
def use_mirror_cmd(
    url: Annotated[
        str | None,
        typer.Argument(help="The mirror's simple index URL (default: probe and pick the best)."),
    ] = None,
    target: TargetOpt = None,
    project: Annotated[
        list[Path] | None,
        typer.Option("--project", help="A project buildout.cfg, or a directory holding one."),
    ] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    allow_insecure: AllowInsecureOpt = False,
    force: Annotated[
        bool, typer.Option("--force", help="With URL: switch without probing the mirror first.")
    ] = False,
    mirror: MirrorOpt = None,
    timeout: TimeoutOpt = None,
    canary: CanaryOpt = None,
    upstream: UpstreamOpt = None,
    require: RequireOpt = None,
    allow_missing: Annotated[
        bool,
        typer.Option(
            "--allow-missing",
            help="With --require: switch to the best mirror even if none has every pin.",
        ),
    ] = False,
    file_canary: FileCanaryOpt = None,
) -> None:
    """Probe the mirrors, pick the best (or check URL), and point every config file at it."""
    from pypi_switch import choose, render
    from pypi_switch.targets import build_context

    ctx = build_context(project or ())
    with _probe_view(stderr=True, quiet=as_json) as view:
        outcome = choose.use_mirror(
            ctx,
            url,
            targets=target,
            mirror_urls=mirror or (),
            timeout=timeout,
            canary=canary,
            upstream=upstream,
            require=require,
            allow_missing=allow_missing,
            file_canary=file_canary,
            dry_run=dry_run,
            allow_insecure=allow_insecure,
            force=force,
            progress=view,
        )
    render.show(outcome, as_json=as_json)
    if outcome.switch.verdict:
        raise typer.Exit(EXIT_CLIENT_IGNORES)


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
    from pypi_switch import render
    from pypi_switch.restore import restore
    from pypi_switch.targets import build_context

    result = restore(build_context(), targets=target, dry_run=dry_run, force=force)
    render.show(result, as_json=as_json)


@app.command("status")
@handled
def status_cmd(as_json: JsonOpt = False) -> None:
    """Show what is switched, each file's index, what pip really uses, and warnings."""
    from pypi_switch import render
    from pypi_switch.status import status
    from pypi_switch.targets import build_context

    render.show(status(build_context()), as_json=as_json)


@app.command("env")
@handled
def env_cmd(
    url: Annotated[
        str | None,
        typer.Argument(help="The mirror's simple index URL (default: the active switch)."),
    ] = None,
    shell: Annotated[
        str, typer.Option("--shell", help="sh (default), fish, powershell, github or dotenv.")
    ] = "sh",
    unset: Annotated[
        bool, typer.Option("--unset", help="Print the lines that remove the variables.")
    ] = False,
    probe: Annotated[
        bool, typer.Option("--probe", help="Probe the mirrors and use the best (or check URL).")
    ] = False,
    allow_insecure: AllowInsecureOpt = False,
) -> None:
    """Print the variables that send every client to the mirror (CI jobs, containers).

    eval "$(pypi-switch env)" in a shell; --shell github >> "$GITHUB_ENV" in a workflow.
    """
    from pypi_switch import render, shell_env

    with _probe_view(stderr=True, quiet=not probe) as view:
        out = shell_env.env_command(
            url,
            shell=shell,
            unset=unset,
            probe=probe,
            allow_insecure=allow_insecure,
            progress=view,
        )
    # The one output that carries credentials: the user asked for them, to eval.
    render.show(out, reveal=True)


@app.command("probe")
@handled
def probe_cmd(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON array, best first.")
    ] = False,
    mirror: MirrorOpt = None,
    timeout: TimeoutOpt = None,
    canary: CanaryOpt = None,
    upstream: UpstreamOpt = None,
    require: RequireOpt = None,
    file_canary: FileCanaryOpt = None,
) -> None:
    """Probe mirrors in parallel under one deadline and rank them, with reasons."""
    from pypi_switch import choose, render

    with _probe_view(stderr=False, quiet=as_json) as view:
        choice = choose.probe_command(
            mirror or (),
            timeout=timeout,
            canary=canary,
            upstream=upstream,
            require=require,
            file_canary=file_canary,
            progress=view,
        )
    render.show(choice, as_json=as_json)
    if choice.chosen is None:
        raise typer.Exit(EXIT_FAILED)


@app.command("mirrors")
@handled
def mirrors_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """List the mirror catalogue: built-in and your own entries, and which are turned off."""
    from pypi_switch import catalogue, render

    render.show(catalogue.listing(), as_json=as_json)


@app.command("auto")
@handled
def auto_cmd(
    as_json: JsonOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print even when nothing changed.")
    ] = False,
) -> None:
    """One cron tick: switch to a mirror after an outage, back once upstream is healthy.

    Silent when nothing happened; one line when something changed or failed.
    """
    from pypi_switch import auto, render
    from pypi_switch.targets import build_context

    result = auto.tick(build_context(include_cwd=False))
    render.show(result, as_json=as_json, **({} if as_json else {"verbose": verbose}))
    if result.error is not None:
        raise fail(f"auto: {result.error}")


@app.command("schedule")
@handled
def schedule_cmd() -> None:
    """Print what runs `auto` every 5 minutes here: cron and a systemd timer (Linux), a
    LaunchAgent (macOS), a Task Scheduler task (Windows); and how to stop it."""
    from pypi_switch import render, schedule

    render.show(schedule.for_this_machine(sys.argv[0]))


def main(argv: Sequence[str] | None = None) -> None:
    if not os.environ.get("PYPI_SWITCH_DEBUG"):
        # A mirror's odd page can make the HTML parser warn: the page is judged on its own
        # terms; the user's terminal is no place for parser chatter.
        warnings.simplefilter("ignore")
    try:
        app(args=argv)
    except (KeyboardInterrupt, Terminated) as exc:  # while typer builds the command
        sys.exit(_stopped(exc).code)
