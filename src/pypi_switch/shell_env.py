"""``pypi-switch env``: environment variables that send every client to a mirror.

CI jobs and containers start fresh: the files a switch edits on a laptop never reach them,
environment variables do. Each client's own variable beats its config files:
``PIP_INDEX_URL`` (+ ``PIP_TRUSTED_HOST`` for plain http to a remote host), uv's
``UV_DEFAULT_INDEX``, pdm's ``PDM_PYPI_URL`` (+ ``PDM_PYPI_VERIFY_SSL=false`` where pip
needs the trusted host), pipenv's ``PIPENV_PYPI_MIRROR`` and the poetry plugin's
``POETRY_PYPI_MIRROR_URL``.

The values are printed into something a shell evaluates, so each format quotes them for
that reader alone, and whatever cannot be written safely is refused rather than mangled.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pypi_switch.errors import SwitchError, UsageError
from pypi_switch.journal import StateStore
from pypi_switch.targets.base import Context
from pypi_switch.urls import host_of, needs_trusted_host

if TYPE_CHECKING:
    from pypi_switch.choose import ProbeProgress

__all__ = [
    "FORMATS",
    "NAMES",
    "Assignment",
    "EnvOutput",
    "EnvPlan",
    "assignments",
    "env_command",
    "format_plan",
    "plan_for",
]

FORMATS = ("sh", "fish", "powershell", "github", "dotenv")

# Every variable `env` may set; `--unset` removes them all, whatever was set before.
NAMES = (
    "PIP_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "UV_DEFAULT_INDEX",
    "PDM_PYPI_URL",
    "PDM_PYPI_VERIFY_SSL",
    "PIPENV_PYPI_MIRROR",
    "POETRY_PYPI_MIRROR_URL",
)


@dataclass(frozen=True)
class Assignment:
    name: str
    value: str | None  # None: unset it


@dataclass(frozen=True)
class EnvPlan:
    """What ``env`` prints: the mirror (None for ``--unset``) and the assignments."""

    mirror: str | None
    source: str  # where the URL came from: "argument", "switch", "probe", or "unset"
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True)
class EnvOutput:
    """`pypi-switch env`'s result: the plan and its lines for one shell (credentials kept:
    the user asked for them, to eval)."""

    plan: EnvPlan
    shell: str
    text: str


def env_command(
    url: str | None,
    *,
    shell: str = "sh",
    unset: bool = False,
    probe: bool = False,
    allow_insecure: bool = False,
    progress: ProbeProgress | None = None,
) -> EnvOutput:
    """`pypi-switch env`: the lines for ``url``, the best mirror (``probe``), the active
    switch, or the unsets."""
    from pypi_switch.targets import build_context

    if shell not in FORMATS:
        raise UsageError(f"unknown --shell {shell!r} (known: {', '.join(FORMATS)})")
    if probe and unset:
        raise UsageError("--unset runs no probe: it removes every variable env sets")
    ctx = build_context()
    if probe:
        from pypi_switch import choose

        _, url = choose.probe_and_pick(
            ctx,
            ctx.settings,
            url,
            allow_insecure=allow_insecure,
            progress=progress,
            forceable=False,
        )
    plan = plan_for(ctx, url, unset=unset, allow_insecure=allow_insecure)
    return EnvOutput(plan, shell, format_plan(plan, shell))


def assignments(url: str | None) -> tuple[Assignment, ...]:
    """The assignments for ``url``; for None, the unsets of every variable."""
    if url is None:
        return tuple(Assignment(name, None) for name in NAMES)
    found = [Assignment("PIP_INDEX_URL", url)]
    if needs_trusted_host(url):
        found.append(Assignment("PIP_TRUSTED_HOST", host_of(url)))
    found.append(Assignment("UV_DEFAULT_INDEX", url))
    found.append(Assignment("PDM_PYPI_URL", url))
    if needs_trusted_host(url):
        found.append(Assignment("PDM_PYPI_VERIFY_SSL", "false"))
    found.append(Assignment("PIPENV_PYPI_MIRROR", url))
    found.append(Assignment("POETRY_PYPI_MIRROR_URL", url))
    return tuple(found)


def plan_for(
    ctx: Context, url: str | None, *, unset: bool = False, allow_insecure: bool = False
) -> EnvPlan:
    """The assignments for ``url``, else for the active switch's mirror; never a probe
    (the caller probes first and passes the choice as ``url``)."""
    from pypi_switch.switch import check_url

    if unset:
        if url is not None:
            raise UsageError("--unset takes no URL: it removes every variable env sets")
        return EnvPlan(None, "unset", assignments(None))
    if url is not None:
        url = check_url(url, allow_insecure=allow_insecure)
        return EnvPlan(url, "argument", assignments(url))
    journal = StateStore(ctx.paths.state_dir).load()
    if not journal.active or journal.mirror is None:
        raise SwitchError(
            "nothing is switched: give a mirror URL, or --probe to pick the best mirror"
        )
    return EnvPlan(journal.mirror, "switch", assignments(journal.mirror))


def format_plan(plan: EnvPlan, shell: str) -> str:
    """The lines for ``shell``, each ending in a newline."""
    if shell not in FORMATS:
        raise UsageError(f"unknown --shell {shell!r} (known: {', '.join(FORMATS)})")
    lines = []
    for a in plan.assignments:
        if "\0" in (a.value or ""):
            raise SwitchError(f"{a.name}: a NUL character cannot be passed in the environment")
        lines.append(_FORMATTERS[shell](a))
    return "".join(line + "\n" for line in lines)


# -- one quoting per reader --------------------------------------------------------------


def sh_quote(value: str) -> str:
    """POSIX single quotes: nothing inside is special; a quote closes, escapes, reopens."""
    return "'" + value.replace("'", "'\\''") + "'"


def fish_quote(value: str) -> str:
    """fish single quotes: only ``\\`` and ``'`` are special inside them."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# PowerShell takes the typographic single quotes for quote characters too.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_quote(value: str) -> str:
    """PowerShell verbatim string: no expansion inside; every quote character is doubled."""
    return "'" + "".join(ch * 2 if ch in _PS_QUOTES else ch for ch in value) + "'"


def _sh(a: Assignment) -> str:
    return f"unset {a.name}" if a.value is None else f"export {a.name}={sh_quote(a.value)}"


def _fish(a: Assignment) -> str:
    return f"set -e {a.name}" if a.value is None else f"set -gx {a.name} {fish_quote(a.value)}"


def _powershell(a: Assignment) -> str:
    if a.value is None:
        return f"Remove-Item Env:{a.name} -ErrorAction SilentlyContinue"
    return f"$env:{a.name} = {powershell_quote(a.value)}"


def _github(a: Assignment) -> str:
    """A line for ``>> "$GITHUB_ENV"``: ``NAME=value``, or the heredoc form for newlines."""
    if a.value is None:
        raise UsageError("--unset has no github form: $GITHUB_ENV can only set variables")
    if "\n" not in a.value and "\r" not in a.value:
        return f"{a.name}={a.value}"
    delimiter = _delimiter(a.value)
    return f"{a.name}<<{delimiter}\n{a.value}\n{delimiter}"


def _delimiter(value: str) -> str:
    while True:  # a random word that cannot be a line of the value: ends on the first try
        word = "PYPI_SWITCH_" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(16))
        if word not in value:
            return word


_DOTENV_PLAIN = set(string.ascii_letters + string.digits + "-._~:/?[]@!&()*+,;=%")


def _dotenv(a: Assignment) -> str:
    """``NAME=value`` as docker ``--env-file``, compose and python-dotenv all read it.

    A plain value goes bare (docker takes quotes literally); anything else in single
    quotes, which compose and python-dotenv read verbatim. What neither form can carry is
    refused.
    """
    if a.value is None:
        raise UsageError("--unset has no dotenv form: a .env file can only set variables")
    if a.value and set(a.value) <= _DOTENV_PLAIN:
        return f"{a.name}={a.value}"
    if "'" in a.value or "\n" in a.value or "\r" in a.value:
        raise SwitchError(f"{a.name}: this value cannot be written safely in a .env file")
    return f"{a.name}='{a.value}'"


_FORMATTERS = {
    "sh": _sh,
    "fish": _fish,
    "powershell": _powershell,
    "github": _github,
    "dotenv": _dotenv,
}
