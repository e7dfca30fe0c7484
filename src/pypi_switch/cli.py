"""Command line: parse options, call one core function, render its result.

This is the only module that prints or exits; errors become messages and exit codes here.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from pypi_switch import __version__
from pypi_switch.errors import EXIT_FAILED, SwitchError, UsageError
from pypi_switch.urls import redact_text

if TYPE_CHECKING:
    from pypi_switch.choose import Choice
    from pypi_switch.config import MirrorEntry, Settings
    from pypi_switch.lockfiles import Needs

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
    allow_insecure: Annotated[
        bool, typer.Option("--allow-insecure", help="Allow a plain-http mirror on a remote host.")
    ] = False,
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
    from pypi_switch import render, switch

    if url is not None and mirror:
        raise UsageError("give either a URL or --mirror, not both")
    if force and url is None:
        raise UsageError("--force needs a URL: it switches to that mirror without probing it")
    if force and require:
        raise UsageError("--require cannot be checked with --force, which switches unprobed")
    ctx = switch.build_context(project or ())
    switch.choose_targets(ctx, target)  # a usage error is told before any probing
    choice = None
    if url is None or not force:
        from pypi_switch import catalogue, choose

        if url is not None:
            url = switch.check_url(url, allow_insecure=allow_insecure)
        settings = catalogue.with_overrides(
            ctx.settings,
            timeout=timeout,
            canary=canary,
            upstream=upstream,
            file_canary=file_canary,
            require=require,
        )
        needs = _read_needs(settings, allow_missing=allow_missing, given=bool(require))
        entries = catalogue.mirrors_to_probe(settings, [url] if url else (mirror or ()))
        choice = _probe(
            settings, entries, err=True, quiet=as_json, needs=needs, allow_missing=allow_missing
        )
        url = choose.pick(choice, url=url)
    result = switch.use_mirror(
        ctx, url, targets=target, dry_run=dry_run, allow_insecure=allow_insecure
    )
    if as_json:
        render.emit_json(render.use_mirror_json(result, choice))
    else:
        render.emit(render.use_mirror_text(result, choice))


def _read_needs(settings: Settings, *, allow_missing: bool, given: bool) -> Needs | None:
    """The --require files (``given``), else config.toml's ``require``, read before probing."""
    if allow_missing and not settings.require:
        raise UsageError("--allow-missing needs --require FILE (or require in config.toml)")
    if not settings.require:
        return None
    from pypi_switch import lockfiles

    try:
        return lockfiles.read_needs(settings.require)
    except UsageError as exc:
        if given:
            raise
        # Not the command line's fault: the file named in config.toml is.
        raise SwitchError(f"require in {settings.source}: {exc.message}") from None


def _probe(
    settings: Settings,
    entries: Sequence[MirrorEntry],
    *,
    err: bool,
    quiet: bool,
    needs: Needs | None,
    allow_missing: bool = False,
) -> Choice:
    """Probe with a live view (on stderr when stdout must carry only the result), then vet
    the best candidates: the required pins, and the bytes of one file."""
    import contextlib

    from rich.console import Console

    from pypi_switch import choose, probe_view

    console = Console(stderr=err, highlight=False)
    view = probe_view.ProbeView(
        console, entries, upstream=settings.upstream, timeout=settings.timeout
    )
    with contextlib.nullcontext(view) if quiet else view:
        return choose.choose_mirror(
            settings,
            mirrors=entries,
            on_result=None if quiet else view.on_result,
            needs=needs,
            check_bytes=True,
            allow_missing=allow_missing,
        )


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


# -- probing (issue 3) ----------------------------------------------------------------------
# Modules are imported inside the commands: requests and pypi-simple are slow to import and
# commands such as `status` must not pay for them.


@app.command("probe")
@handled
def probe_cmd(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON array, best first.")
    ] = False,
    mirror: Annotated[
        list[str] | None,
        typer.Option("--mirror", help="Probe this index URL instead of the catalogue; repeatable."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds for the whole probe.")
    ] = None,
    canary: Annotated[
        str | None, typer.Option("--canary", help="Project whose page is fetched everywhere.")
    ] = None,
    upstream: Annotated[
        str | None, typer.Option("--upstream", help="The index mirrors are compared with.")
    ] = None,
    require: RequireOpt = None,
    file_canary: FileCanaryOpt = None,
) -> None:
    """Probe mirrors in parallel under one deadline and rank them, with reasons."""
    import json

    from rich.console import Console

    from pypi_switch import catalogue, probe_view
    from pypi_switch.config import load_settings
    from pypi_switch.paths import Paths

    settings = catalogue.with_overrides(
        load_settings(Paths.from_environ().tool_config),
        timeout=timeout,
        canary=canary,
        upstream=upstream,
        file_canary=file_canary,
        require=require,
    )
    needs = _read_needs(settings, allow_missing=False, given=bool(require))
    entries = catalogue.mirrors_to_probe(settings, mirror or ())
    choice = _probe(settings, entries, err=False, quiet=as_json, needs=needs)
    ranked = list(choice.ranking)
    if as_json:
        typer.echo(json.dumps(probe_view.ranked_json(ranked, choice.vetting), indent=2))
    else:
        console = Console(highlight=False)
        probe_view.show_ranked(console, ranked, choice.report, choice.vetting)
    if choice.chosen is None:
        raise typer.Exit(EXIT_FAILED)


@app.command("mirrors")
@handled
def mirrors_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """List the mirror catalogue: built-in and your own entries, and which are turned off."""
    import json

    from rich.console import Console

    from pypi_switch import catalogue, probe_view
    from pypi_switch.config import load_settings
    from pypi_switch.paths import Paths

    entries = catalogue.catalogue(load_settings(Paths.from_environ().tool_config))
    if as_json:
        typer.echo(json.dumps(probe_view.catalogue_json(entries), indent=2))
    else:
        probe_view.show_catalogue(Console(highlight=False), entries)


# -- auto and schedule (issue 4) ------------------------------------------------------------


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
    from pypi_switch import auto, auto_view, render

    result = auto.tick(auto.build_context())
    if as_json:
        render.emit_json(auto_view.tick_json(result))
    else:
        render.emit(auto_view.tick_text(result, verbose=verbose))
    if result.error is not None:
        raise fail(f"auto: {result.error}")


@app.command("schedule")
@handled
def schedule_cmd() -> None:
    """Print what runs `auto` every 5 minutes here: cron and a systemd timer (Linux), a
    LaunchAgent (macOS), a Task Scheduler task (Windows); and how to stop it."""
    from pypi_switch import auto, auto_view, render, schedule
    from pypi_switch.paths import Paths

    paths = Paths.from_environ()
    command = schedule.find_command(sys.argv[0], sys.executable, os.environ.get("PATH"))
    plan = schedule.schedule(command, paths, uid=os.getuid() if hasattr(os, "getuid") else None)
    render.emit(auto_view.schedule_text(plan, log=paths.show(auto.log_path(paths.state_dir))))


def main() -> None:
    if not os.environ.get("PYPI_SWITCH_DEBUG"):
        # A mirror's odd page can make bs4 (under pypi-simple) warn: the page is judged
        # on its own terms; the user's terminal is no place for parser chatter.
        warnings.simplefilter("ignore")
    app()
