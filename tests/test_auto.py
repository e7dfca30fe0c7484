"""The cron state machine, pure: every rule of ``decide``, and the texts cron mails."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from pypi_switch.auto import (
    Action,
    AutoState,
    Candidate,
    CurrentMirror,
    Decision,
    Observation,
    Survey,
    SwitchedBy,
    TickResult,
    decide,
    load_state,
)
from pypi_switch.config import AutoSettings, Settings
from pypi_switch.paths import LINUX, Paths, Place
from pypi_switch.render import show
from pypi_switch.render.auto import tick_json, to_text
from pypi_switch.schedule import find_command, schedule

SETTINGS = Settings(auto=AutoSettings(fail_after=2, recover_after=3))
A = "https://a.example/simple/"
B = "https://b.example/simple/"
BEST = Survey((Candidate(B, "b", "fastest valid mirror (5 ms)"),), network_down=False)
BEST_IS_A = Survey((Candidate(A, "a", "valid"), Candidate(B, "b", "valid")), network_down=False)
EMPTY = Survey((), network_down=False, rejections="a: 404 for /simple/canary/")
DOWN = Survey((), network_down=True, rejections="a: connection refused")
VALID = CurrentMirror(True, "valid, 4 ms")
BROKEN = CurrentMirror(False, "503 for /simple/canary/")


def obs(
    ok: bool,
    switched: SwitchedBy = "no",
    *,
    current: CurrentMirror | None = None,
    survey: Survey | None = None,
    interrupted: bool = False,
) -> Observation:
    return Observation(
        upstream_ok=ok,
        upstream_reason="fine" if ok else "connection refused by 127.0.0.1",
        switched=switched,
        mirror=A if switched != "no" else None,
        interrupted=interrupted,
        current=current,
        survey=survey,
    )


def state(failures: int = 0, successes: int = 0) -> AutoState:
    return AutoState(failures=failures, successes=successes)


def act(st: AutoState, o: Observation, settings: Settings = SETTINGS) -> Decision:
    return decide(st, o, settings)


# -- nothing switched ------------------------------------------------------------------------


def test_healthy_upstream_changes_nothing_and_counts_successes() -> None:
    d = act(state(failures=1, successes=7), obs(True))
    assert (d.action, d.mirror) == ("none", None)
    assert (d.state.failures, d.state.successes) == (0, 8)


def test_no_switch_before_fail_after() -> None:
    d = act(state(), obs(False))
    assert d.action == "none"
    assert (d.state.failures, d.state.successes) == (1, 0)
    assert "1 of 2 failed ticks" in d.reason


def test_fail_after_reached_asks_for_a_survey_then_switches_to_the_best() -> None:
    assert act(state(failures=1, successes=0), obs(False)).action == "survey"
    d = act(state(failures=1), obs(False, survey=BEST))
    assert (d.action, d.mirror, d.name) == ("switch", B, "b")
    assert d.state.failures == 2
    assert "upstream failing for 2 ticks in a row" in d.reason
    assert "fastest valid mirror" in d.reason


def test_a_failure_resets_the_healthy_count() -> None:
    d = act(state(failures=0, successes=5), obs(False))
    assert (d.state.failures, d.state.successes) == (1, 0)


def test_fail_after_one_surveys_on_the_first_failed_tick() -> None:
    one = Settings(auto=AutoSettings(fail_after=1, recover_after=1))
    assert act(state(), obs(False), one).action == "survey"


def test_everything_unreachable_is_a_network_outage_and_restarts_the_count() -> None:
    d = act(state(failures=5), obs(False, survey=DOWN))
    assert (d.action, d.mirror) == ("network-down", None)
    assert d.state.failures == 0
    assert "network" in d.reason


def test_no_usable_mirror_is_a_failure_with_the_reasons() -> None:
    d = act(state(failures=1), obs(False, survey=EMPTY))
    assert d.action == "fail"
    assert "no mirror is usable: a: 404" in d.reason


# -- switched by hand --------------------------------------------------------------------------


@pytest.mark.parametrize("ok", [True, False])
@pytest.mark.parametrize("interrupted", [True, False])
def test_a_manual_switch_is_never_touched(ok: bool, interrupted: bool) -> None:
    for failures, successes in itertools.product(range(6), range(6)):
        d = act(state(failures, successes), obs(ok, "manual", interrupted=interrupted))
        assert (d.action, d.mirror) == ("none", A)
        assert "by hand" in d.reason


# -- switched automatically -------------------------------------------------------------------


def test_restored_after_recover_after_healthy_ticks() -> None:
    assert act(state(successes=0), obs(True, "auto")).action == "none"
    d = act(state(successes=1), obs(True, "auto"))
    assert d.action == "none"
    assert "2 of 3 healthy ticks" in d.reason
    d = act(state(successes=2), obs(True, "auto"))
    assert (d.action, d.mirror) == ("restore", A)


def test_while_upstream_is_down_the_current_mirror_is_checked() -> None:
    assert act(state(failures=9), obs(False, "auto")).action == "check-current"
    d = act(state(failures=9), obs(False, "auto", current=VALID))
    assert (d.action, d.mirror) == ("none", A)
    assert "staying on" in d.reason


def test_a_failing_current_mirror_moves_to_the_next_best() -> None:
    assert act(state(), obs(False, "auto", current=BROKEN)).action == "survey"
    d = act(state(), obs(False, "auto", current=BROKEN, survey=BEST))
    assert (d.action, d.mirror, d.name) == ("move", B, "b")
    assert "503" in d.reason


def test_no_move_when_the_current_mirror_ranks_first_again() -> None:
    d = act(state(), obs(False, "auto", current=BROKEN, survey=BEST_IS_A))
    assert (d.action, d.mirror) == ("none", A)


def test_a_failing_current_mirror_and_nothing_else_usable_is_a_failure() -> None:
    d = act(state(), obs(False, "auto", current=BROKEN, survey=EMPTY))
    assert (d.action, d.mirror) == ("fail", A)


def test_network_down_while_switched_changes_nothing() -> None:
    d = act(state(failures=3), obs(False, "auto", current=BROKEN, survey=DOWN))
    assert (d.action, d.mirror) == ("network-down", A)


def test_an_interrupted_automatic_switch_is_finished_one_way_or_the_other() -> None:
    d = act(state(), obs(True, "auto", interrupted=True))
    assert d.action == "restore"
    assert act(state(), obs(False, "auto", interrupted=True)).action == "survey"
    d = act(state(), obs(False, "auto", interrupted=True, survey=BEST))
    assert (d.action, d.mirror) == ("switch", B)


# -- every combination --------------------------------------------------------------------------


def _all_observations() -> list[Observation]:
    out = []
    who: tuple[SwitchedBy, ...] = ("no", "manual", "auto")
    for ok, switched, interrupted, current, survey in itertools.product(
        (True, False),
        who,
        (False, True),
        (None, VALID, BROKEN),
        (None, BEST, BEST_IS_A, EMPTY, DOWN),
    ):
        if interrupted and switched == "no":
            continue
        out.append(obs(ok, switched, current=current, survey=survey, interrupted=interrupted))
    return out


@pytest.mark.parametrize("fail_after", [1, 2, 3])
@pytest.mark.parametrize("recover_after", [1, 3])
def test_every_combination_obeys_the_rules(fail_after: int, recover_after: int) -> None:
    settings = Settings(auto=AutoSettings(fail_after=fail_after, recover_after=recover_after))
    for o in _all_observations():
        for failures, successes in itertools.product(range(5), range(5)):
            st = state(failures, successes)
            d = decide(st, o, settings)
            again = decide(st, o, settings)
            assert d == again, "decide must be deterministic"
            _check(d, st, o, settings)


def _check(d: Decision, st: AutoState, o: Observation, settings: Settings) -> None:
    fail_after, recover_after = settings.auto.fail_after, settings.auto.recover_after
    where = f"{d} from {st} and {o}"
    assert d.action in (
        "none",
        "switch",
        "move",
        "restore",
        "network-down",
        "fail",
        "check-current",
        "survey",
    ), where
    assert d.reason and "\n" not in d.reason, where
    # The counters: exactly one of them runs.
    if o.upstream_ok:
        assert (d.state.failures, d.state.successes) == (0, st.successes + 1), where
    elif d.action == "network-down":
        assert (d.state.failures, d.state.successes) == (0, 0), where
    else:
        assert (d.state.failures, d.state.successes) == (st.failures + 1, 0), where
    if o.switched == "manual":
        assert d.action == "none", where
    if d.action == "switch":
        assert not o.upstream_ok, where
        assert o.switched == "no" or o.interrupted, where
        assert o.interrupted or st.failures + 1 >= fail_after, where
        assert o.survey is not None and o.survey.candidates, where
        assert d.mirror == o.survey.candidates[0].url, where
    if d.action == "restore":
        assert o.upstream_ok and o.switched == "auto", where
        assert o.interrupted or st.successes + 1 >= recover_after, where
    if d.action == "move":
        assert not o.upstream_ok and o.switched == "auto" and not o.interrupted, where
        assert o.current is not None and not o.current.valid, where
        assert d.mirror != o.mirror, where
    if d.action == "network-down":
        assert o.survey is not None and o.survey.network_down, where
    if d.action in ("check-current", "survey", "none", "fail", "network-down", "restore"):
        assert d.mirror == o.mirror, where
    if d.action == "check-current":
        assert o.current is None, where
    if d.action == "survey":
        assert o.survey is None, where
    # A healthy upstream never leads to probing mirrors: the fast path stays fast.
    if o.upstream_ok:
        assert d.action in ("none", "restore"), where


def test_counters_are_capped() -> None:
    d = act(state(failures=1_000_000), obs(False, "auto", current=VALID))
    assert d.state.failures == 1_000_000


# -- the state file ---------------------------------------------------------------------------


def test_a_missing_or_damaged_state_file_starts_afresh(tmp_path: Path) -> None:
    assert load_state(tmp_path) == AutoState()
    for junk in (b"", b"{", b"[]", b'{"failures": "x"}', b'{"failures": true}', b"\xff"):
        (tmp_path / "auto.json").write_bytes(junk)
        assert load_state(tmp_path) == AutoState(), junk
    good = AutoState(failures=2, successes=0, last_action="none", last_tick="t")
    (tmp_path / "auto.json").write_text(json.dumps(good.to_json()))
    assert load_state(tmp_path) == good


# -- what cron mails ----------------------------------------------------------------------------

QUIET = TickResult("none", None, "upstream healthy", upstream_ok=True, successes=4)


def test_a_quiet_tick_prints_nothing_unless_verbose() -> None:
    assert to_text(QUIET, verbose=False) == ""
    text = to_text(QUIET, verbose=True)
    assert text.startswith("pypi-switch auto: no change: upstream healthy\n")


@pytest.mark.parametrize("action", ["switched", "moved", "restored", "network-down", "busy"])
def test_anything_else_prints_one_line(action: Action, capsys: pytest.CaptureFixture[str]) -> None:
    result = dataclasses.replace(QUIET, action=action, mirror="https://u:secret@m.example/s/")
    show(result, verbose=False)  # through the sink, as the user sees it
    text = capsys.readouterr().out
    assert text.count("\n") == 1 and text.startswith("pypi-switch auto: "), text
    assert "secret" not in text


def test_a_failure_is_left_to_the_error_line() -> None:
    assert to_text(dataclasses.replace(QUIET, error="boom"), verbose=False) == ""
    assert tick_json(TickResult("none", None, "x", error="y"))["error"] == "y"


# -- schedule -------------------------------------------------------------------------------------


def _linux(tmp_path: Path, env: dict[str, str]) -> Paths:
    env = {"HOME": str(tmp_path), **env}
    return Paths.for_place(Place.of(LINUX, env), tmp_path)


def test_schedule_is_absolute_and_keeps_the_variables_that_move_files(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": "/srv/my state", "PIP_FIND_LINKS": "/x"}
    plan = schedule(("/opt/bin/pypi-switch",), _linux(tmp_path, env))
    assert plan.crontab == "*/5 * * * * XDG_STATE_HOME='/srv/my state' /opt/bin/pypi-switch auto"
    assert plan.systemd is not None and plan.launchd is None and plan.task is None
    assert 'Environment="XDG_STATE_HOME=/srv/my state"\n' in plan.systemd.service
    assert "ExecStart=/opt/bin/pypi-switch auto\n" in plan.systemd.service
    assert "OnCalendar=*:0/5\n" in plan.systemd.timer
    assert plan.systemd.unit_dir == tmp_path / ".config" / "systemd" / "user"
    # cron reads a bare % as a newline; systemd as a specifier
    odd = schedule(("/opt/100%/pypi-switch",), _linux(tmp_path, {}))
    assert odd.crontab is not None and odd.systemd is not None
    assert odd.crontab.endswith("/opt/100\\%/pypi-switch auto")
    assert "ExecStart=/opt/100%%/pypi-switch auto" in odd.systemd.service


def test_find_command_prefers_the_console_script(tmp_path: Path) -> None:
    script = tmp_path / "bin" / "pypi-switch"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    python = tmp_path / "bin" / "python"
    assert find_command(str(script), str(python), None) == (str(script),)
    assert find_command("/x/pypi_switch/__main__.py", str(python), None) == (str(script),)
    script.unlink()
    assert find_command("/x/__main__.py", str(python), "") == (str(python), "-m", "pypi_switch")
