"""The one transport, against real servers on 127.0.0.1: trust like pip, proxies,
redirects and credentials per origin, local failures said as such, and the fan-out that
never reports an answer that came in time as late."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import shlex
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import trustme

from pypi_switch.config import MirrorEntry
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.fanout import Fanout
from pypi_switch.net.health import upstream_health
from pypi_switch.net.probe import probe_mirrors
from pypi_switch.net.transport import NetError, Transport
from tests.conftest import CANARY
from tests.support import hostile
from tests.support.hostile import Server
from tests.support.pypiserver import PypiServer, free_port
from tests.support.sandbox import Sandbox

WHEEL = "canary_pkg-1.1-py3-none-any.whl"
FAKE_SHA = "0" * 64
PAGE = hostile.simple_html({WHEEL: FAKE_SHA}, serial=42)
CA_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(autouse=True)
def _clean_network_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine names its own CA bundles: each test sets its own (proxies: conftest)."""
    for key in CA_VARIABLES:
        monkeypatch.delenv(key, raising=False)


def page_and_file(h: Any, server: Server) -> None:
    """A simple page for the canary whose file answers too (the health check asks it)."""
    hostile.static(200, PAGE, paths={f"/files/{WHEEL}": (200, b"wheel")})(h, server)


def recording(seen: list[dict[str, str]], then: hostile.Behaviour) -> hostile.Behaviour:
    def answer(h: Any, server: Server) -> None:
        seen.append({"path": h.path, **{k.lower(): v for k, v in h.headers.items()}})
        then(h, server)

    return answer


def deadline(seconds: float = 3.0) -> Deadline:
    return Deadline.after(seconds)


# -- certificates: what pip trusts ---------------------------------------------------------


@pytest.fixture
def private_https(server_ssl: ssl.SSLContext) -> Iterator[Server]:
    with Server(page_and_file, ssl_context=server_ssl) as srv:
        yield srv


@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_a_private_ca_named_like_pip_makes_probe_and_health_agree(
    variable: str,
    ca: trustme.CA,
    private_https: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv(variable, str(pem))
    entry = MirrorEntry("private", private_https.index_url)
    report = probe_mirrors(
        [entry], canary=CANARY, upstream=private_https.index_url, deadline=deadline(), max_lag=10
    )
    health = upstream_health(private_https.index_url, CANARY, deadline=deadline())
    assert report.upstream is not None
    assert (report.results[0].error, report.upstream.error) == (None, None)
    assert report.results[0].valid and report.upstream.valid
    assert health.ok, health.reason


def test_without_the_private_ca_probe_and_health_both_refuse(private_https: Server) -> None:
    (r,) = probe_mirrors(
        [MirrorEntry("private", private_https.index_url)],
        canary=CANARY,
        upstream=None,
        deadline=deadline(),
        max_lag=10,
    ).results
    health = upstream_health(private_https.index_url, CANARY, deadline=deadline())
    reason = "TLS certificate of 127.0.0.1 not trusted (unable to get local issuer certificate)"
    assert (r.valid, r.error) == (False, reason)
    assert (health.ok, health.reason) == (False, reason)


def test_pip_conf_cert_is_trusted_by_probe_and_auto(
    sandbox: Sandbox, ca: trustme.CA, private_https: Server
) -> None:
    pem = sandbox.root / "corp-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    sandbox.pip_user_conf.parent.mkdir(parents=True)
    sandbox.pip_user_conf.write_text(f"[global]\ncert = {pem}\n")
    url = private_https.index_url
    sandbox.write_config(f'canary = "{CANARY}"\nupstream = "{url}"\nbuiltin_mirrors = false\n')
    probe = sandbox.run("probe", "--json", "--mirror", url)
    tick = sandbox.run("auto", "--json")
    assert probe.returncode == 0, probe.stderr
    (row,) = json.loads(probe.stdout)
    assert (row["ok"], row["valid"]) == (True, True)
    assert json.loads(tick.stdout)["upstream_ok"] is True, tick.stdout


def test_a_ca_bundle_that_cannot_be_read_is_named(
    private_https: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    with pytest.raises(NetError) as caught:
        Transport().get(private_https.index_url, deadline=deadline())
    assert caught.value.reason == (
        f"cannot load the CA bundle {missing} named by REQUESTS_CA_BUNDLE "
        "(No such file or directory)"
    )


def test_one_tls_black_hole_does_not_stall_the_other_https_probes(
    ca: trustme.CA, private_https: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts TCP and never answers the TLS hello holds no lock others need."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pem))
    transport = Transport()
    with hostile.BlackHole() as hole:
        hung = f"https://127.0.0.1:{hole.port}/simple/"

        def stalled() -> None:
            with contextlib.suppress(NetError):
                transport.get(hung, deadline=deadline(3.0))

        late = threading.Thread(target=stalled, daemon=True)
        late.start()
        time.sleep(0.3)  # the black hole's handshake is under way
        got = transport.get(private_https.index_url + f"{CANARY}/", deadline=deadline(3.0))
        answered_while_stalled = late.is_alive()
        late.join(5)
    assert got.status == 200
    assert answered_while_stalled


# -- proxies -----------------------------------------------------------------------------------


def test_http_proxy_is_used_and_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    with Server(hostile.static(200, PAGE)) as mirror, Server(hostile.forward_proxy(seen)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.root_url)
        got = Transport().get(mirror.index_url, deadline=deadline())
        assert (got.status, seen) == (200, [mirror.index_url])
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        got = Transport().get(mirror.index_url, deadline=deadline())
    assert (got.status, seen) == (200, [mirror.index_url])


def test_https_goes_through_the_proxy_tunnel_with_the_same_trust(
    ca: trustme.CA,
    private_https: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pem))
    seen: list[str] = []
    with Server(hostile.forward_proxy(seen)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.root_url)
        health = upstream_health(private_https.index_url, CANARY, deadline=deadline())
    assert health.ok, health.reason
    assert seen == [f"127.0.0.1:{private_https.port}"] * 2  # the page, then the file's HEAD


def test_a_proxy_that_is_down_is_named_as_the_proxy() -> None:
    with Server(hostile.static(200, PAGE)) as mirror:
        port = free_port()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
            with pytest.raises(NetError) as caught:
                Transport().get(mirror.index_url, deadline=deadline())
    assert caught.value.reason == "connection refused by proxy 127.0.0.1"


# -- redirects and credentials ---------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_follow_same_origin_redirects_and_never_another_origin() -> None:
    at_a: list[dict[str, str]] = []
    at_b: list[dict[str, str]] = []
    with ExitStack() as stack:
        b = stack.enter_context(Server(recording(at_b, hostile.static(200, PAGE))))

        def route(h: Any, server: Server) -> None:
            target = "/moved/" if h.path.startswith("/simple/") else f"{b.root_url}/elsewhere/"
            hostile.redirect(lambda s, p: target)(h, server)

        a = stack.enter_context(Server(recording(at_a, route)))
        secret = a.index_url.replace("http://", "http://bob:s3cret@")
        got = Transport().get(secret, deadline=deadline())
    assert got.status == 200
    assert got.url == f"{b.root_url}/elsewhere/"
    assert [(h["path"], h.get("authorization")) for h in at_a] == [
        ("/simple/", basic("bob", "s3cret")),
        ("/moved/", basic("bob", "s3cret")),
    ]
    assert [(h["path"], h.get("authorization")) for h in at_b] == [("/elsewhere/", None)]


def test_auto_health_check_sends_no_credentials_to_another_origin(sandbox: Sandbox) -> None:
    """issue 8 item 9: the health check copied Authorization onto the redirected request."""
    at_a: list[dict[str, str]] = []
    at_b: list[dict[str, str]] = []
    with ExitStack() as stack:
        b = stack.enter_context(Server(recording(at_b, page_and_file)))
        a = stack.enter_context(
            Server(recording(at_a, hostile.redirect(lambda s, path: f"{b.root_url}{path}")))
        )
        upstream = a.index_url.replace("http://", "http://bob:s3cret@")
        sandbox.write_config(f'canary = "{CANARY}"\nupstream = "{upstream}"\n')
        out = sandbox.run("auto", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["upstream_ok"] is True, out.stdout
    assert [h.get("authorization") for h in at_a] == [basic("bob", "s3cret")]
    assert [(h["path"], h.get("authorization")) for h in at_b] == [
        (f"/simple/{CANARY}/", None),
        (f"/files/{WHEEL}", None),
    ]


def test_auto_health_check_refuses_a_redirect_to_ftp(sandbox: Sandbox) -> None:
    """issue 8 item 17: the health check followed a redirect to ftp://."""
    ftp = f"ftp://127.0.0.1:{free_port()}/pub/canary/"
    with Server(hostile.redirect(lambda s, path: ftp)) as srv:
        sandbox.write_config(f'canary = "{CANARY}"\nupstream = "{srv.index_url}"\n')
        out = sandbox.run("auto", "--json")
    assert out.returncode == 0, out.stderr
    tick = json.loads(out.stdout)
    assert tick["upstream_ok"] is False
    assert tick["upstream_reason"] == (
        f"redirected to a non-http URL ({ftp}): only http and https are followed"
    )


def test_a_redirect_may_not_carry_its_own_credentials() -> None:
    seen: list[dict[str, str]] = []
    with Server(recording(seen, hostile.static(200, PAGE))) as b:
        sneaky = b.index_url.replace("http://", "http://eve:planted@")
        with Server(hostile.redirect(lambda s, path: sneaky)) as a:
            Transport().get(a.index_url, deadline=deadline())
    assert [h.get("authorization") for h in seen] == [None]


# -- failures that are local -------------------------------------------------------------------


def test_running_out_of_file_descriptors_is_said_to_be_local(sandbox: Sandbox) -> None:
    """Connections to a black hole stay open, so the few descriptors allowed run out."""
    with hostile.BlackHole() as hole:
        mirrors = [arg for _ in range(30) for arg in ("--mirror", hole.index_url)]
        argv = [sys.executable, "-m", "pypi_switch", "probe", "--json", "--timeout", "1.5"]
        argv += ["--canary", CANARY, "--upstream", f"http://127.0.0.1:{free_port()}/", *mirrors]
        out = sandbox.command(["sh", "-c", f"ulimit -n 12 && exec {shlex.join(argv)}"])
    assert out.returncode == 1, out.stderr  # a clean exit: nothing could be chosen
    reasons = [row["reason"] for row in json.loads(out.stdout)]
    assert len(reasons) == 30
    assert reasons.count("too many open files on this machine") >= 15, reasons
    assert set(reasons) == {"too many open files on this machine", "timed out after 1.5 s"}


# -- the fan-out -------------------------------------------------------------------------------


def test_answers_waiting_at_the_deadline_are_collected_not_called_late() -> None:
    finished = threading.Semaphore(0)

    def task(n: int) -> int:
        finished.release()
        return n

    with Fanout[int, int](limit=4) as fan:
        for n in range(50):
            fan.submit(n, functools.partial(task, n))
        for _ in range(50):
            assert finished.acquire(timeout=10)
        time.sleep(0.1)  # every result is queued by now
        past = Deadline(time.monotonic() - 10, 1.0)
        got = sorted(d.value for d in fan.results(past) if d.value is not None)
        assert (got, fan.pending()) == (list(range(50)), [])


def test_a_slow_consumer_still_counts_answers_that_came_in_time(mirror: PypiServer) -> None:
    """The live view may be slow to draw: answers queued meanwhile are not timed out."""

    def slow_view(_: object) -> None:
        time.sleep(0.6)

    mirrors = [MirrorEntry(f"m{i}", mirror.index_url) for i in range(3)]
    report = probe_mirrors(
        mirrors,
        canary=CANARY,
        upstream=None,
        deadline=Deadline.after(1.0),
        max_lag=10,
        on_result=slow_view,
        wait_for_all=True,
    )
    assert [(r.valid, r.timed_out, r.error) for r in report.results] == [(True, False, None)] * 3


def test_a_bug_in_one_task_costs_that_task_only() -> None:
    def boom() -> int:
        raise RuntimeError("bug")

    with Fanout[str, int](limit=2) as fan:
        fan.submit("bad", boom)
        fan.submit("good", lambda: 7)
        done = {d.key: d for d in fan.results(deadline())}
    assert done["good"].value == 7
    assert isinstance(done["bad"].error, RuntimeError)


def test_a_canary_spelled_otherwise_is_the_same_project_for_probe_and_health(
    mirror: PypiServer,
) -> None:
    spelled = "Canary_Pkg"
    (r,) = probe_mirrors(
        [MirrorEntry("m", mirror.index_url)],
        canary=spelled,
        upstream=None,
        deadline=deadline(),
        max_lag=10,
    ).results
    health = upstream_health(mirror.index_url, spelled, deadline=deadline())
    assert (r.valid, r.error) == (True, None)
    assert health.ok, health.reason


def test_pending_keys_can_be_asked_without_copying() -> None:
    release = threading.Event()
    with Fanout[str, bool](limit=2) as fan:
        fan.submit("a", lambda: release.wait(5))
        assert ("a" in fan, "b" in fan) == (True, False)
        release.set()
        done = list(fan.results(deadline()))
    assert [d.key for d in done] == ["a"]
    assert "a" not in fan
