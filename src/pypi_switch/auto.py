"""The cron tick: a pure ``decide`` from counters and observations, then a thin ``tick``.

One tick per call. ``decide`` sees the persisted counters (consecutive failed and healthy
ticks), what the journal says is switched, and what was observed this tick. When it needs
more than it was given it asks for it (``check-current``: probe the mirror in use;
``survey``: probe every mirror and rank them), and ``tick`` calls it again with the
answer, so every rule lives in ``decide`` and is tested without a network.

Files in the state dir (next to the journal): ``auto.json`` (the counters, 0600) and
``auto.log`` (one JSON line per tick, 0600, rotated to ``auto.log.1`` past 256 KiB).
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pypi_switch.config import Settings
from pypi_switch.edit import atomic_write, read_regular
from pypi_switch.errors import SwitchError
from pypi_switch.journal import Busy, Journal, StateStore, now_iso
from pypi_switch.targets.base import Context
from pypi_switch.urls import needs_trusted_host, same_index
from pypi_switch.words import plural

if TYPE_CHECKING:
    from pypi_switch.net.transport import Transport

__all__ = [
    "Action",
    "AutoState",
    "Candidate",
    "CurrentMirror",
    "Decision",
    "Observation",
    "Step",
    "Survey",
    "SwitchedBy",
    "TickResult",
    "decide",
    "load_state",
    "tick",
]

# What ``decide`` asks for: act (none, switch, move, restore, network-down, fail), or
# observe more first (check-current: the mirror in use; survey: every mirror, ranked).
Step = Literal[
    "none", "switch", "move", "restore", "network-down", "fail", "check-current", "survey"
]
# What a tick did, as reported and logged.
Action = Literal["none", "switched", "restored", "moved", "network-down", "busy"]
# Who made the switch the journal holds.
SwitchedBy = Literal["no", "manual", "auto"]

LOG_LIMIT = 256 * 1024
_COUNT_CAP = 1_000_000  # a counter only needs to outgrow fail_after / recover_after


# -- the pure part -------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoState:
    """What one tick leaves for the next (``auto.json``)."""

    failures: int = 0  # consecutive ticks with upstream unhealthy
    successes: int = 0  # consecutive ticks with upstream healthy
    last_action: str | None = None
    last_tick: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> AutoState:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        failures, successes = data.get("failures", 0), data.get("successes", 0)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (failures, successes)):
            raise ValueError("counters must be whole numbers")
        last_action, last_tick = data.get("last_action"), data.get("last_tick")
        return cls(
            failures=max(0, failures),
            successes=max(0, successes),
            last_action=last_action if isinstance(last_action, str) else None,
            last_tick=last_tick if isinstance(last_tick, str) else None,
        )


@dataclass(frozen=True)
class CurrentMirror:
    """The cheap check of the mirror in use: its canary page alone."""

    valid: bool
    reason: str


@dataclass(frozen=True)
class Candidate:
    url: str
    name: str
    reason: str


@dataclass(frozen=True)
class Survey:
    """Every mirror probed and ranked: the usable ones best first."""

    candidates: tuple[Candidate, ...]
    network_down: bool  # nothing answered at all, upstream included
    rejections: str = ""  # why the others may not be used, in a few words


@dataclass(frozen=True)
class Observation:
    upstream_ok: bool
    upstream_reason: str
    switched: SwitchedBy
    mirror: str | None = None  # the mirror in use when switched
    interrupted: bool = False  # an automatic switch was cut short (the journal's intent)
    current: CurrentMirror | None = None  # filled on request (check-current)
    survey: Survey | None = None  # filled on request (survey)


@dataclass(frozen=True)
class Decision:
    """``mirror``: where to switch or move to, else the mirror in use (None when nothing
    is switched)."""

    action: Step
    reason: str
    state: AutoState
    mirror: str | None = None
    name: str | None = None


def _counted(state: AutoState, obs: Observation) -> AutoState:
    if obs.upstream_ok:
        return dataclasses.replace(
            state, failures=0, successes=min(state.successes + 1, _COUNT_CAP)
        )
    return dataclasses.replace(state, failures=min(state.failures + 1, _COUNT_CAP), successes=0)


def decide(state: AutoState, obs: Observation, settings: Settings) -> Decision:
    """What this tick should do. Pure: no clock, no disk, no network."""
    new = _counted(state, obs)
    fail_after, recover_after = settings.auto.fail_after, settings.auto.recover_after
    upstream = f"upstream {'healthy' if obs.upstream_ok else 'failing'} ({obs.upstream_reason})"

    def result(action: Step, reason: str, **kw: Any) -> Decision:
        kw.setdefault("mirror", obs.mirror)
        return Decision(action, reason, new, **kw)

    if obs.switched == "manual":
        shown = obs.mirror or "a mirror"
        return result("none", f"switched by hand to {shown}: left alone; {upstream}")

    if obs.switched == "no":
        if obs.upstream_ok:
            return result("none", upstream)
        if new.failures < fail_after:
            return result(
                "none", f"{upstream}: {new.failures} of {fail_after} failed ticks before switching"
            )
        why = (
            f"upstream failing for {plural(new.failures, 'tick')} in a row ({obs.upstream_reason})"
        )
        return _switch_to_best(obs, new, why)

    # Switched automatically.
    if obs.interrupted:
        if obs.upstream_ok:
            return result("restore", f"an automatic switch was interrupted and {upstream}")
        return _switch_to_best(obs, new, f"an automatic switch was interrupted and {upstream}")
    shown = obs.mirror or "a mirror"
    if obs.upstream_ok:
        if new.successes < recover_after:
            return result(
                "none",
                f"on {shown}; {upstream}: {new.successes} of {recover_after} healthy ticks "
                "before switching back",
            )
        ticks = plural(new.successes, "tick")
        return result("restore", f"upstream healthy for {ticks} in a row ({obs.upstream_reason})")
    if obs.current is None:
        return result("check-current", f"{upstream}: checking {shown}")
    if obs.current.valid:
        return result("none", f"staying on {shown} ({obs.current.reason}); {upstream}")
    if obs.survey is None:
        return result("survey", f"{shown} fails ({obs.current.reason}); {upstream}")
    if obs.survey.network_down:
        return _network_down(obs, new)
    cands = obs.survey.candidates
    if cands and same_index(cands[0].url, obs.mirror):
        return result("none", f"staying on {shown}: it answers again; {upstream}")
    if not cands:
        return result(
            "fail",
            f"{shown} fails ({obs.current.reason}), {upstream}, and no other mirror is "
            f"usable: {obs.survey.rejections}",
        )
    best = cands[0]
    return result(
        "move",
        f"{shown} fails ({obs.current.reason}) and {upstream}; {best.name}: {best.reason}",
        mirror=best.url,
        name=best.name,
    )


def _switch_to_best(obs: Observation, new: AutoState, why: str) -> Decision:
    if obs.survey is None:
        return Decision("survey", f"{why}: probing the mirrors", new, obs.mirror)
    if obs.survey.network_down:
        return _network_down(obs, new)
    if not obs.survey.candidates:
        return Decision(
            "fail", f"{why}, and no mirror is usable: {obs.survey.rejections}", new, obs.mirror
        )
    best = obs.survey.candidates[0]
    return Decision("switch", f"{why}; {best.name}: {best.reason}", new, best.url, best.name)


def _network_down(obs: Observation, new: AutoState) -> Decision:
    # Not evidence against upstream: the count of failed ticks starts again, so a machine
    # that boots before its network is up, or a laptop offline, switches nothing.
    return Decision(
        "network-down",
        "upstream and every mirror unreachable: the local network looks down; nothing changed",
        dataclasses.replace(new, failures=0),
        obs.mirror,
    )


# -- the tick ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickResult:
    """What a tick did. ``mirror``: the one switched or moved to, the one left when
    restoring, else the one in use (None when nothing is switched). ``error``: the decision
    could not be carried out (nothing changed: switches are all-or-nothing)."""

    action: Action
    mirror: str | None
    reason: str
    error: str | None = None
    upstream_ok: bool | None = None
    upstream_reason: str | None = None
    failures: int = 0
    successes: int = 0
    changed: tuple[Path, ...] = ()  # config files written by this tick
    kept_edits: tuple[Path, ...] = ()  # restored files where the user's later edits stayed
    elapsed_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def quiet(self) -> bool:
        """Nothing for cron to mail."""
        return self.action == "none" and not self.failed


def state_path(state_dir: Path) -> Path:
    return state_dir / "auto.json"


def log_path(state_dir: Path) -> Path:
    return state_dir / "auto.log"


def load_state(state_dir: Path) -> AutoState:
    """The counters; a missing or damaged file starts them again (cron must not stall)."""
    try:
        return AutoState.from_json(json.loads(read_regular(state_path(state_dir))))
    except (OSError, ValueError, RecursionError):
        return AutoState()


def _save_state(state_dir: Path, state: AutoState) -> None:
    data = json.dumps(state.to_json(), indent=2, sort_keys=True).encode() + b"\n"
    atomic_write(state_path(state_dir), data, mode=0o600)


def tick(ctx: Context) -> TickResult:
    """One cron tick: at most one switch, move or restore; never waits for another run."""
    start = time.monotonic()
    store = StateStore(ctx.paths.state_dir)
    try:
        with store.lock(timeout=0):
            try:
                result = _tick_locked(ctx, store, start)
            except Exception as exc:
                # Unexpected: leave a trace for whoever reads the log, then let cli.py say it.
                _append_log(ctx.paths.state_dir, _failure(exc, start), rotate=True)
                raise
            _append_log(ctx.paths.state_dir, result, rotate=True)
            return result
    except Busy as exc:
        result = TickResult(
            "busy", None, f"{exc.message}: this tick did nothing", elapsed_s=_since(start)
        )
        # No lock held: append only (one write of one line), never rotate.
        _append_log(ctx.paths.state_dir, result, rotate=False)
        return result


def _since(start: float) -> float:
    return time.monotonic() - start


def _failure(exc: Exception, start: float) -> TickResult:
    message = exc.message if isinstance(exc, SwitchError) else f"{type(exc).__name__}: {exc}"
    return TickResult("none", None, "the tick failed", error=message, elapsed_s=_since(start))


def _observe_journal(journal: Journal) -> tuple[SwitchedBy, str | None, bool]:
    """Who switched (no/manual/auto), to what, and whether an automatic switch was cut short."""
    if journal.pending is not None:
        # The intent of a run that was killed: whoever started it owns the files now.
        mode = journal.pending.get("mode")
        mirror = journal.pending.get("mirror") or journal.mirror
        return ("auto" if mode == "auto" else "manual"), mirror, mode == "auto"
    if not journal.active:
        return "no", None, False
    return ("auto" if journal.mode == "auto" else "manual"), journal.mirror, False


def _tick_locked(ctx: Context, store: StateStore, start: float) -> TickResult:
    # Not through choose.py: the healthy tick needs no probing, ranking or vetting code.
    from pypi_switch.net.deadline import Deadline
    from pypi_switch.net.health import upstream_health
    from pypi_switch.net.transport import Transport
    from pypi_switch.targets.pip import pip_trust

    settings = ctx.settings
    state = load_state(store.dir)
    switched, mirror, interrupted = _observe_journal(store.load())
    transport = Transport(pip_trust(ctx))
    # Each step its own deadline: an upstream that hangs must not leave the survey no time.
    health = upstream_health(
        settings.upstream,
        settings.canary,
        deadline=Deadline.after(settings.timeout),
        transport=transport,
    )
    obs = Observation(
        upstream_ok=health.ok,
        upstream_reason=health.reason,
        switched=switched,
        mirror=mirror,
        interrupted=interrupted,
    )
    decision = decide(state, obs, settings)
    base = TickResult(
        action="none",
        mirror=mirror,
        reason=decision.reason,
        upstream_ok=health.ok,
        upstream_reason=health.reason,
        failures=decision.state.failures,
        successes=decision.state.successes,
    )
    try:
        for _ in range(2):  # at most: check the mirror in use, then survey them all
            if decision.action == "check-current":
                assert mirror is not None
                current = _check_current(settings, mirror, transport)
                obs = dataclasses.replace(obs, current=current)
            elif decision.action == "survey":
                survey = _survey(settings, transport, upstream_answered=health.reachable)
                obs = dataclasses.replace(obs, survey=survey)
            else:
                break
            decision = decide(state, obs, settings)
        base = dataclasses.replace(
            base,
            mirror=decision.mirror,
            reason=decision.reason,
            failures=decision.state.failures,
            successes=decision.state.successes,
        )
        result = _apply(ctx, decision, base)
    except SwitchError as exc:
        result = dataclasses.replace(base, error=exc.message)
    new_state = dataclasses.replace(
        decision.state,
        last_action=result.action if not result.failed else "failed",
        last_tick=now_iso(),
    )
    _save_state(store.dir, new_state)
    return dataclasses.replace(result, elapsed_s=_since(start))


def _apply(ctx: Context, decision: Decision, base: TickResult) -> TickResult:
    if decision.action in ("switch", "move"):
        from pypi_switch.switch import use_mirror

        assert decision.mirror is not None
        done = use_mirror(ctx, decision.mirror, mode="auto", lock_timeout=0)
        action: Action = "switched" if decision.action == "switch" else "moved"
        return dataclasses.replace(base, action=action, changed=tuple(c.path for c in done.changed))
    if decision.action == "restore":
        from pypi_switch.restore import restore

        restored = restore(ctx, lock_timeout=0)
        return dataclasses.replace(
            base,
            action="restored",
            changed=tuple(f.path for f in restored.files if f.action != "unchanged"),
            kept_edits=restored.kept_edits,
        )
    if decision.action == "fail":
        return dataclasses.replace(base, error=decision.reason)
    if decision.action == "network-down":
        return dataclasses.replace(base, action="network-down")
    assert decision.action == "none", decision.action
    return base


def _check_current(settings: Settings, mirror: str, transport: Transport) -> CurrentMirror:
    """The mirror in use, alone: one page, no upstream, the probe's rules."""
    from pypi_switch import catalogue
    from pypi_switch.net.deadline import Deadline
    from pypi_switch.net.probe import probe_mirrors

    entries = catalogue.mirrors_to_probe(settings, [mirror])
    report = probe_mirrors(
        entries,
        canary=settings.canary,
        upstream=None,
        deadline=Deadline.after(settings.timeout),
        max_lag=settings.max_lag,
        transport=transport,
    )
    got = report.results[0]
    if got.valid:
        ms = f"{got.latency_ms:.0f} ms" if got.latency_ms is not None else "valid"
        return CurrentMirror(True, f"valid, {ms}")
    return CurrentMirror(False, got.error or "not a valid simple page")


def _survey(settings: Settings, transport: Transport, *, upstream_answered: bool) -> Survey:
    from pypi_switch import catalogue
    from pypi_switch.choose import probe

    needs = None
    if settings.require:
        from pypi_switch import lockfiles

        try:
            needs = lockfiles.read_needs(settings.require)
        except SwitchError as exc:
            # Without the pins there is no knowing which mirror has them: switch to none.
            raise SwitchError(f"require in {settings.source}: {exc.message}") from None
    choice = probe(
        settings,
        catalogue.mirrors_to_probe(settings),
        transport=transport,
        needs=needs,
        check_bytes=True,
        # Plain http to a remote host: a person may accept it (--allow-insecure), cron not.
        eligible=lambda url: not needs_trusted_host(url),
    )
    candidates: list[Candidate] = []
    skipped: list[str] = []
    vetting = choice.vetting
    for ranked in choice.ranking:
        r = ranked.result
        if not ranked.ok:
            skipped.append(f"{r.name}: {ranked.reason}")
        elif needs_trusted_host(r.url):
            skipped.append(f"{r.name}: plain http to a remote host (not chosen automatically)")
        elif vetting is None or vetting.chosen is ranked:
            # Vetted: only the mirror that has the pins and the right bytes may be used.
            candidates.append(Candidate(r.url, r.name, ranked.reason))
    if vetting is not None and vetting.chosen is None:
        skipped.insert(0, vetting.failure(hints=False))
    shown = skipped[:5] + ([f"and {len(skipped) - 5} more"] if len(skipped) > 5 else [])
    return Survey(
        candidates=tuple(candidates),
        network_down=choice.network_down and not upstream_answered,
        rejections="; ".join(shown) or "no mirror configured",
    )


# -- the log -------------------------------------------------------------------------------


def _append_log(state_dir: Path, result: TickResult, *, rotate: bool) -> None:
    """One JSON line per tick. A log that cannot be written must not fail the tick."""
    from pypi_switch.render import scrub
    from pypi_switch.render.auto import tick_json

    path = log_path(state_dir)
    line = json.dumps(scrub({"time": now_iso(), **tick_json(result)}), sort_keys=True) + "\n"
    try:
        if rotate and path.stat().st_size > LOG_LIMIT:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:
        pass  # no log yet, or it cannot be moved: appending below still works or fails alone
    try:
        # Non-blocking: a named pipe there must not hold the tick (and the lock) forever.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags, 0o600)
    except OSError:
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        os.write(fd, line.encode())  # one write: lines of concurrent busy ticks never interleave
    except OSError:
        pass
    finally:
        os.close(fd)
