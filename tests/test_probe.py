"""Probing real local mirrors and hostile servers: every rejection has its reason, and the
whole probe ends inside its deadline whatever the servers do."""

from __future__ import annotations

import gzip
import json
import re
import socket
import ssl
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import trustme

from pypi_switch.config import MirrorEntry
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.health import upstream_health
from pypi_switch.net.probe import probe_mirrors
from pypi_switch.net.report import ProbeReport
from pypi_switch.net.transport import ACCEPT
from pypi_switch.rank import rank
from tests.conftest import CANARY
from tests.support import hostile
from tests.support.hostile import BlackHole, Server
from tests.support.pypiserver import PypiServer, free_port
from tests.support.sandbox import Sandbox
from tests.support.wheels import sha256_of

DEADLINE = 2.0
# A correctness bound, not a performance figure: the probe must not run past its
# deadline by more than scheduling noise.
BOUND = DEADLINE + 1.5

WHEEL = "canary_pkg-1.1-py3-none-any.whl"
FAKE_SHA = "0" * 64
UNTRUSTED = "TLS certificate of 127.0.0.1 not trusted (unable to get local issuer certificate)"
ROW_KEYS = {
    "name",
    "url",
    "ok",
    "reason",
    "latency_ms",
    "ttfb_ms",
    "serial",
    "lag",
    "newest_version",
    "reachable",
    "valid",
    "timed_out",
    "not_waited_for",
    # what the vetting found: the chosen one, its pins (--require), its bytes
    "chosen",
    "require",
    "file_check",
}


def exactly(expected: str, got: str | None) -> bool:
    """``got`` is ``expected``, where PORT stands for any number and PAD for column padding."""
    pattern = re.escape(expected).replace("PORT", r"\d+").replace("PAD", " *")
    return got is not None and re.fullmatch(pattern, got) is not None


@pytest.fixture
def trust_ca(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make requests trust the test CA, as a user's REQUESTS_CA_BUNDLE would."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pem))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return pem


def files_of(wheelhouse: Path) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in sorted(wheelhouse.glob("*.whl"))}


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/simple/"


def run_probe(
    *urls: str, upstream: str | None = None, timeout: float = DEADLINE, **kwargs: Any
) -> ProbeReport:
    mirrors = [MirrorEntry(name=f"m{i}", url=u) for i, u in enumerate(urls)]
    return probe_mirrors(
        mirrors,
        canary=CANARY,
        upstream=upstream or closed_url(),
        deadline=Deadline.after(timeout),
        max_lag=5000,
        **kwargs,
    )


# -- good mirrors -----------------------------------------------------------------------


def test_real_mirrors_are_valid(mirror: PypiServer, mirror2: PypiServer, wheelhouse: Path) -> None:
    # A roomy deadline: pypi-server on a busy machine may take seconds; the probe ends as
    # soon as both have answered anyway.
    report = run_probe(mirror.index_url, mirror2.index_url, timeout=30)
    for r in report.results:
        assert r.valid, r.error
        assert r.reachable and not r.timed_out
        assert r.page_format == "html"
        assert r.digests == files_of(wheelhouse)
        assert r.newest_version == "1.1"
        assert r.latency_ms is not None and r.ttfb_ms is not None
        assert r.ttfb_ms <= r.latency_ms
    assert report.upstream is not None and not report.upstream.reachable
    assert report.upstream.error == "connection refused by 127.0.0.1"
    ranked = rank(report, max_lag=10)
    assert [x.ok for x in ranked] == [True, True]
    assert re.fullmatch(
        r"fastest valid mirror \(\d+ ms\), freshness unknown \(no serial\)", ranked[0].reason
    )


@pytest.mark.parametrize(
    ("page", "content_type", "headers"),
    [
        (
            hostile.simple_json({WHEEL: FAKE_SHA}, serial=4321),
            "application/vnd.pypi.simple.v1+json",
            {},
        ),
        (
            hostile.simple_json({WHEEL: FAKE_SHA}),
            "application/vnd.pypi.simple.v1+json",
            {"X-PyPI-Last-Serial": "4321"},
        ),
        (hostile.simple_html({WHEEL: FAKE_SHA}, serial=4321), "text/html; charset=utf-8", {}),
        (
            hostile.simple_html({WHEEL: FAKE_SHA}),
            "application/vnd.pypi.simple.v1+html",
            {"X-PyPI-Last-Serial": "4321"},
        ),
    ],
    ids=["json-meta", "json-header", "html-comment", "html-header"],
)
def test_serial_is_read_from_json_html_or_header(
    page: bytes, content_type: str, headers: dict[str, str]
) -> None:
    seen: list[str] = []

    def answer(h: Any, server: Server) -> None:
        seen.append(h.headers.get("Accept", ""))
        hostile.static(200, page, content_type=content_type, headers=headers)(h, server)

    with Server(answer) as srv:
        (r,) = run_probe(srv.index_url).results
    assert r.valid, r.error
    assert r.serial == 4321
    assert r.digests == {WHEEL: FAKE_SHA}
    assert r.page_format == ("json" if "json" in content_type else "html")
    assert seen == [ACCEPT]


def test_gzip_compressed_pages_are_read() -> None:
    """nginx gzips text/html and JSON on most mirrors; the page must still parse."""
    html = hostile.simple_html({WHEEL: FAKE_SHA}, serial=99)
    packed = gzip.compress(html)
    assert packed != html
    reply = hostile.static(200, packed, headers={"Content-Encoding": "gzip"})
    with Server(reply) as srv:
        (r,) = run_probe(srv.index_url).results
    assert r.valid, r.error
    assert r.serial == 99
    assert r.digests == {WHEEL: FAKE_SHA}


def test_gzip_bomb_is_cut_at_the_size_cap() -> None:
    bomb = gzip.compress(b" " * (3 * 1024 * 1024))
    assert len(bomb) < 20_000
    reply = hostile.static(200, bomb, headers={"Content-Encoding": "gzip"})
    with Server(reply) as srv:
        (r,) = run_probe(srv.index_url, max_bytes=1024 * 1024).results
    assert (r.valid, r.error) == (False, "response larger than 1 MiB")


def test_only_the_canary_page_is_fetched() -> None:
    """No /last-modified or other side requests: one socket per mirror."""
    paths: list[str] = []

    def answer(h: Any, server: Server) -> None:
        paths.append(h.path)
        hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}))(h, server)

    with Server(answer) as srv:
        (r,) = run_probe(f"{srv.root_url}/pypi/web/simple").results
    assert r.valid, r.error
    assert paths == [f"/pypi/web/simple/{CANARY}/"]


def test_trusted_https_mirror_is_valid(server_ssl: ssl.SSLContext, trust_ca: Path) -> None:
    page = hostile.simple_json({WHEEL: FAKE_SHA}, serial=7)
    reply = hostile.static(200, page, content_type="application/vnd.pypi.simple.v1+json")
    with Server(reply, ssl_context=server_ssl) as srv:
        (r,) = run_probe(srv.index_url).results
    assert r.valid, r.error
    assert r.serial == 7


# -- hostile servers, one at a time -------------------------------------------------------


def _https_to_http(stack: ExitStack, ssl_ctx: ssl.SSLContext) -> str:
    plain = stack.enter_context(Server(hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}))))
    target = plain.root_url
    srv = stack.enter_context(
        Server(hostile.redirect(lambda s, path: f"{target}{path}"), ssl_context=ssl_ctx)
    )
    return srv.index_url


HOSTILES: dict[str, tuple[Callable[[ExitStack, ssl.SSLContext], str], str]] = {
    "black-hole": (
        lambda st, _: st.enter_context(BlackHole()).index_url,
        f"timed out after {DEADLINE:.1f} s",
    ),
    "slow-drip": (
        lambda st, _: st.enter_context(Server(hostile.drip(interval=0.2))).index_url,
        f"timed out after {DEADLINE:.1f} s",
    ),
    "refused": (lambda st, _: closed_url(), "connection refused by 127.0.0.1"),
    "404": (
        lambda st, _: st.enter_context(Server(hostile.static(404, b"nope"))).index_url,
        f"404 for /simple/{CANARY}/",
    ),
    "500": (
        lambda st, _: st.enter_context(Server(hostile.static(500, b"oops"))).index_url,
        f"500 for /simple/{CANARY}/",
    ),
    "html-not-simple": (
        lambda st, _: (
            st.enter_context(
                Server(
                    hostile.static(200, b"<html><body><a href='/'>home</a> welcome</body></html>")
                )
            ).index_url
        ),
        f"not a simple page: no file of {CANARY} with a sha256 digest",
    ),
    "html-no-links": (
        lambda st, _: (
            st.enter_context(
                Server(hostile.static(200, b"<html><body>Under maintenance</body></html>"))
            ).index_url
        ),
        f"not a simple page: the HTML lists no files of {CANARY}",
    ),
    "json-wrong-schema": (
        lambda st, _: (
            st.enter_context(
                Server(
                    hostile.static(
                        200,
                        json.dumps({"projects": [], "meta": {"api-version": "1.0"}}).encode(),
                        content_type="application/vnd.pypi.simple.v1+json",
                    )
                )
            ).index_url
        ),
        "the JSON page does not follow PEP 691 (no project name)",
    ),
    "json-other-project": (
        lambda st, _: (
            st.enter_context(
                Server(
                    hostile.static(
                        200,
                        hostile.simple_json({WHEEL: FAKE_SHA}, name="other"),
                        content_type="application/vnd.pypi.simple.v1+json",
                    )
                )
            ).index_url
        ),
        f"the JSON page is for 'other', not '{CANARY}'",
    ),
    "redirect-loop": (
        lambda st, _: (
            st.enter_context(
                Server(hostile.redirect(lambda s, path: f"{s.root_url}{path}"))
            ).index_url
        ),
        "more than 3 redirects",
    ),
    "https-to-http": (
        _https_to_http,
        f"redirected from https to plain http (http://127.0.0.1:PORT/simple/{CANARY}/)",
    ),
    "huge-undeclared": (
        lambda st, _: st.enter_context(Server(hostile.huge(64 << 20, declare=False))).index_url,
        "response larger than 10 MiB",
    ),
    "huge-declared": (
        lambda st, _: st.enter_context(Server(hostile.huge(64 << 20, declare=True))).index_url,
        "response larger than 10 MiB (64 MiB)",
    ),
}


@pytest.mark.parametrize("kind", sorted(HOSTILES))
def test_hostile_server_is_rejected_in_time(
    kind: str, server_ssl: ssl.SSLContext, trust_ca: Path
) -> None:
    make, reason = HOSTILES[kind]
    with ExitStack() as stack:
        url = make(stack, server_ssl)
        start = time.monotonic()
        report = run_probe(url)
        elapsed = time.monotonic() - start
    (r,) = report.results
    assert not r.valid
    assert exactly(reason, r.error), r.error
    assert elapsed < BOUND
    (ranked,) = rank(report, max_lag=10)
    assert not ranked.ok and exactly(reason, ranked.reason)


def test_black_hole_is_unreachable_but_drip_reached() -> None:
    with BlackHole() as hole, Server(hostile.drip(interval=0.2)) as dripper:
        start = time.monotonic()
        report = run_probe(hole.index_url, dripper.index_url, timeout=1.0)
        assert time.monotonic() - start < 1.0 + 1.5
    black, drip = report.results
    assert black.timed_out and not black.reachable
    assert drip.timed_out and drip.reachable


def test_untrusted_certificate_is_rejected(server_ssl: ssl.SSLContext) -> None:
    page = hostile.simple_html({WHEEL: FAKE_SHA})
    with Server(hostile.static(200, page), ssl_context=server_ssl) as srv:
        (r,) = run_probe(srv.index_url).results
    assert not r.valid and not r.reachable
    assert r.error == UNTRUSTED


def test_dns_that_never_answers_is_cut_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = socket.getaddrinfo

    def hanging(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hang.invalid":
            release.wait(30)  # bounded; released at the end of the test
            raise socket.gaierror(socket.EAI_NONAME, "released")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        start = time.monotonic()
        (r,) = run_probe("http://hang.invalid/simple/", timeout=1.0).results
        assert time.monotonic() - start < 1.0 + 1.5
    finally:
        release.set()
    assert r.timed_out and not r.reachable
    assert r.error == "timed out after 1.0 s"


def test_process_exit_does_not_wait_for_hung_probes(sandbox: Sandbox) -> None:
    script = textwrap.dedent(
        """
        import socket, time
        from pypi_switch.config import MirrorEntry
        from pypi_switch.net.deadline import Deadline
        from pypi_switch.net.probe import probe_mirrors

        def hanging(*args, **kwargs):
            time.sleep(120)  # a resolver that never answers
            raise socket.gaierror("unreachable")

        socket.getaddrinfo = hanging
        report = probe_mirrors(
            [MirrorEntry("m", "http://hang.invalid/simple/")],
            canary="canary-pkg", upstream="http://hang.invalid/up/",
            deadline=Deadline.after(1.0), max_lag=10,
        )
        print(report.results[0].error)
        """
    )
    start = time.monotonic()
    out = sandbox.command([sys.executable, "-c", script], timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "timed out after 1.0 s"
    assert time.monotonic() - start < 15


# -- freshness and integrity across mirrors ------------------------------------------------


def test_stale_serial_is_rejected() -> None:
    fresh = hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}, serial=5000))
    stale = hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}, serial=3760))
    with Server(fresh) as a, Server(stale) as b:
        report = run_probe(a.index_url, b.index_url)
    ranked = {x.result.name: x for x in rank(report, max_lag=1000)}
    assert ranked["m0"].ok and ranked["m0"].lag == 0
    assert not ranked["m1"].ok
    assert ranked["m1"].reason == "stale: 1 240 serials behind (limit 1 000)"
    assert ranked["m1"].lag == 1240


def test_lag_is_measured_against_upstream_when_it_answers() -> None:
    page = hostile.simple_json({WHEEL: FAKE_SHA}, serial=9000)
    up = hostile.static(200, page, content_type="application/vnd.pypi.simple.v1+json")
    mine = hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}, serial=8990))
    with Server(up) as upstream, Server(mine) as m:
        report = run_probe(m.index_url, upstream=upstream.index_url)
    assert report.upstream is not None and report.upstream.serial == 9000
    (ranked,) = rank(report, max_lag=100)
    assert ranked.ok and ranked.lag == 10
    assert re.fullmatch(r"fastest valid mirror \(\d+ ms\), 10 serials behind", ranked.reason)


def test_disagreeing_sha256_is_unsafe(
    mirror: PypiServer, mirror2: PypiServer, wheelhouse: Path
) -> None:
    files = files_of(wheelhouse)
    evil_files = {**files, WHEEL: FAKE_SHA}
    with Server(hostile.static(200, hostile.simple_html(evil_files))) as evil:
        report = run_probe(evil.index_url, mirror.index_url, mirror2.index_url)
        with_upstream = run_probe(evil.index_url, upstream=mirror.index_url)
    ranked = {x.result.name: x for x in rank(report, max_lag=10)}
    assert not ranked["m0"].ok
    assert ranked["m0"].reason == f"unsafe: sha256 of {WHEEL} differs from 2 other mirrors"
    assert ranked["m1"].ok and ranked["m2"].ok
    (alone,) = rank(with_upstream, max_lag=10)
    assert not alone.ok
    assert alone.reason == f"unsafe: sha256 of {WHEEL} differs from upstream"


# -- everything at once, through the command line ------------------------------------------


def test_probe_command_under_fire(
    sandbox: Sandbox,
    mirror: PypiServer,
    mirror2: PypiServer,
    server_ssl: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    pem = sandbox.root / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    with ExitStack() as stack:
        urls = [make(stack, server_ssl) for make, _ in HOSTILES.values()]
        # Signed by a CA nobody trusts, while the test CA is trusted for the others.
        untrusted = stack.enter_context(
            Server(hostile.static(200, b"<a>x</a>"), ssl_context=_other_ca_context())
        )
        urls += [untrusted.index_url, mirror.index_url, mirror2.index_url]
        args = ["probe", "--json", "--canary", CANARY, "--timeout", str(DEADLINE)]
        args += ["--upstream", closed_url()]
        for u in urls:
            args += ["--mirror", u]
        start = time.monotonic()
        out = sandbox.run_process(*args, env={"REQUESTS_CA_BUNDLE": str(pem)})
        elapsed = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == len(urls)
    assert [r["ok"] for r in rows] == [True, True] + [False] * (len(urls) - 2)
    assert {rows[0]["url"], rows[1]["url"]} == {mirror.index_url, mirror2.index_url}
    by_url = {r["url"]: r for r in rows}
    for url, (_, reason) in zip(urls, HOSTILES.values(), strict=False):
        assert exactly(reason, by_url[url]["reason"]), (url, by_url[url])
    assert by_url[untrusted.index_url]["reason"] == UNTRUSTED
    for row in rows:
        assert set(row) == ROW_KEYS
    # One deadline for the whole run, interpreter start-up included.
    assert elapsed < BOUND + 2.0


def _other_ca_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_probe_command_exits_1_when_nothing_can_be_chosen(sandbox: Sandbox) -> None:
    with Server(hostile.static(404, b"")) as a, Server(hostile.static(404, b"")) as b:
        out = sandbox.run(
            "probe",
            "--canary",
            CANARY,
            "--timeout",
            "2",
            "--upstream",
            closed_url(),
            "--mirror",
            a.index_url,
            "--mirror",
            b.index_url,
        )
    assert (out.returncode, out.stderr) == (1, "")
    lines = out.stdout.splitlines()
    progress, verdict = lines[1:4], lines[4:]
    assert lines[0] == "probing 2 mirrors (deadline 2 s)..."
    assert sorted(progress) == sorted(
        [
            f"  127.0.0.1:{a.port}: 404 for /simple/{CANARY}/",
            f"  127.0.0.1:{b.port}: 404 for /simple/{CANARY}/",
            "  upstream: connection refused by 127.0.0.1",
        ]
    )
    rows = {f"127.0.0.1:{s.port}": s.index_url for s in (a, b)}
    for line in verdict[:2]:
        name = line.split()[1]
        assert exactly(f"no  {name}  PADPORT ms  {rows.pop(name)}  404 for /simple/{CANARY}/", line)
    assert verdict[2].startswith("upstream http://127.0.0.1:")
    assert verdict[2].endswith("/simple/: connection refused by 127.0.0.1")
    assert re.fullmatch(
        r"probe took \d+\.\d s \(deadline 2 s\); the choice was final after \d+ ms", verdict[3]
    )
    assert verdict[4:] == ["no mirror can be chosen"]


def test_probe_command_plain_text_and_hidden_credentials(
    sandbox: Sandbox, mirror: PypiServer
) -> None:
    secret_url = mirror.index_url.replace("http://", "http://bob:s3cret@")
    with Server(hostile.static(500, b"")) as bad:
        out = sandbox.run(
            "probe",
            "--canary",
            CANARY,
            "--timeout",
            "2",
            "--upstream",
            closed_url(),
            "--mirror",
            secret_url,
            "--mirror",
            bad.index_url,
        )
    assert (out.returncode, out.stderr) == (0, "")
    assert "s3cret" not in out.stdout
    assert "\x1b[" not in out.stdout  # not a terminal: no escape sequences
    shown = secret_url.replace("bob:s3cret@", "***@")
    good, bad_row = out.stdout.splitlines()[4:6]
    assert exactly(
        f"ok  127.0.0.1:{mirror.port}  PADPORT ms  {shown}  "
        "fastest valid mirror (PORT ms), freshness unknown (no serial)",
        good,
    ), good
    assert exactly(
        f"no  127.0.0.1:{bad.port}  PADPORT ms  {bad.index_url}  500 for /simple/{CANARY}/", bad_row
    ), bad_row
    assert out.stdout.splitlines()[-1] == f"best: 127.0.0.1:{mirror.port} {shown}"


def test_upstream_health(mirror: PypiServer) -> None:
    health = upstream_health(mirror.index_url, CANARY, deadline=Deadline.after(DEADLINE))
    assert health.ok and health.reachable, health.reason
    assert re.fullmatch(
        rf"valid page for {CANARY} \(\d+ ms\) and 127.0.0.1 serves its files \(\d+ ms\)",
        health.reason,
    )
    with BlackHole() as hole:
        health = upstream_health(hole.index_url, CANARY, deadline=Deadline.after(1.0))
    assert not health.ok and not health.reachable
    assert health.reason == "timed out after 1.0 s"
    assert health.elapsed_s < 1.0 + 1.5
    with Server(hostile.static(503, b"")) as down:
        health = upstream_health(down.index_url, CANARY, deadline=Deadline.after(DEADLINE))
    assert not health.ok and health.reachable
    assert health.reason == f"503 for /simple/{CANARY}/"


def test_upstream_health_checks_the_file_host() -> None:
    page = hostile.simple_html({WHEEL: FAKE_SHA})
    reply = hostile.static(200, page, paths={f"/files/{WHEEL}": (503, b"")})
    with Server(reply) as srv:
        health = upstream_health(srv.index_url, CANARY, deadline=Deadline.after(DEADLINE))
    assert not health.ok and health.reachable
    assert health.reason == f"file host 127.0.0.1 answered 503 for {WHEEL}"


# -- hostile pages get a reason, never "internal error" -------------------------------------


def test_deep_json_and_a_huge_serial_get_a_reason(sandbox: Sandbox) -> None:
    """issue 8 item 17: these came out as "internal error: ..." (RecursionError, int limit)."""
    deep = b"[" * 100_000 + b"]" * 100_000
    huge_serial = hostile.simple_html({WHEEL: FAKE_SHA}).replace(
        b"</html>", b"</html><!--SERIAL " + b"9" * 5000 + b"-->"
    )
    json_type = "application/vnd.pypi.simple.v1+json"
    with ExitStack() as stack:
        nested = stack.enter_context(Server(hostile.static(200, deep, content_type=json_type)))
        serial = stack.enter_context(Server(hostile.static(200, huge_serial)))
        out = sandbox.run(
            "probe",
            "--json",
            "--canary",
            CANARY,
            "--upstream",
            closed_url(),
            "--mirror",
            nested.index_url,
            "--mirror",
            serial.index_url,
        )
    assert out.returncode == 1, out.stderr
    reasons = {row["url"]: row["reason"] for row in json.loads(out.stdout)}
    assert reasons == {
        nested.index_url: "the JSON page is nested too deeply",
        serial.index_url: "the page's serial is implausible (5000 digits)",
    }


# -- the early decision never picks a mirror it would not pick after waiting ------------------

HONEST_DELAY = 0.05


def outage(
    stack: ExitStack, fast: hostile.Reply, *, upstream: str | None = None, honest_serial: int = 5000
) -> list[str]:
    """A fast mirror of some kind, three honest slower ones, two black holes."""
    honest = hostile.static(
        200, hostile.simple_html({WHEEL: FAKE_SHA}, serial=honest_serial), delay=HONEST_DELAY
    )
    urls = [stack.enter_context(Server(fast)).index_url]
    urls += [stack.enter_context(Server(honest)).index_url for _ in range(3)]
    urls += [stack.enter_context(BlackHole()).index_url for _ in range(2)]
    return urls


@pytest.mark.parametrize(
    ("fast", "reason"),
    [
        (hostile.static(404, b""), f"404 for /simple/{CANARY}/"),
        (
            hostile.static(200, hostile.simple_html({WHEEL: "e" * 64}, serial=5000)),
            f"unsafe: sha256 of {WHEEL} differs from 3 other mirrors",
        ),
        (
            hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}, serial=1000)),
            "stale: 4 000 serials behind (limit 1 000)",
        ),
    ],
    ids=["invalid", "tampered", "stale"],
)
def test_a_faster_bad_mirror_is_not_chosen_by_the_early_exit(
    fast: hostile.Reply, reason: str
) -> None:
    with ExitStack() as stack:
        urls = outage(stack, fast)
        report = run_probe(*urls, timeout=10.0)
    ranked = rank(report, max_lag=1000)
    by_name = {x.result.name: x for x in ranked}
    assert by_name["m0"].ok is False
    assert by_name["m0"].reason == reason
    assert ranked[0].ok and ranked[0].result.name in {"m1", "m2", "m3"}
    # Decided without the black holes: the proof that the exit was early.
    holes = [by_name["m4"].result, by_name["m5"].result]
    assert [(r.not_waited_for, r.timed_out) for r in holes] == [(True, False)] * 2
    assert report.final_after_s is not None
    shown = f"not waited for: the choice was final after {report.final_after_s * 1000:.0f} ms"
    assert [r.error for r in holes] == [shown] * 2


def test_with_upstream_a_faster_tampered_mirror_is_not_chosen_by_the_early_exit() -> None:
    page = hostile.simple_json({WHEEL: FAKE_SHA}, serial=5000)
    up = hostile.static(200, page, content_type="application/vnd.pypi.simple.v1+json")
    tampered = hostile.static(200, hostile.simple_html({WHEEL: "e" * 64}, serial=5000))
    with ExitStack() as stack:
        upstream = stack.enter_context(Server(up)).index_url
        fresh = hostile.static(200, hostile.simple_html({WHEEL: FAKE_SHA}, serial=5000), delay=0.05)
        urls = [
            stack.enter_context(Server(tampered)).index_url,
            stack.enter_context(Server(fresh)).index_url,
            stack.enter_context(BlackHole()).index_url,
        ]
        report = run_probe(*urls, upstream=upstream, timeout=10.0)
    ranked = rank(report, max_lag=1000)
    assert [(x.result.name, x.ok) for x in ranked] == [("m1", True), ("m0", False), ("m2", False)]
    assert ranked[1].reason == f"unsafe: sha256 of {WHEEL} differs from upstream"
    assert ranked[2].result.not_waited_for


def test_probe_json_says_which_mirrors_were_not_waited_for(sandbox: Sandbox) -> None:
    with ExitStack() as stack:
        urls = outage(stack, hostile.static(404, b""))
        args = ["probe", "--json", "--canary", CANARY, "--timeout", "10", "--upstream"]
        args += [closed_url()] + [a for u in urls for a in ("--mirror", u)]
        out = sandbox.run(*args)
        text = sandbox.run(*[a for a in args if a != "--json"])
    assert out.returncode == 0, out.stderr
    rows = {row["url"]: row for row in json.loads(out.stdout)}
    shown = [line for line in text.stdout.splitlines() if line.startswith("--  ")]
    assert len(shown) == 2, text.stdout
    for line, url in zip(sorted(shown), sorted(urls[4:]), strict=True):
        assert re.fullmatch(
            rf"--  127\.0\.0\.1:\d+ +-  {re.escape(url)}  "
            r"not waited for: the choice was final after \d+ ms",
            line,
        ), line
    holes = [rows[u] for u in urls[4:]]
    for row in holes:
        assert (row["ok"], row["timed_out"], row["not_waited_for"]) == (False, False, True)
        assert re.fullmatch(r"not waited for: the choice was final after \d+ ms", row["reason"])
    assert [rows[u]["not_waited_for"] for u in urls[:4]] == [False] * 4
