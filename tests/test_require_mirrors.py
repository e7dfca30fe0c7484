"""Trust what you switch to: real mirrors on loopback, real lock files, every reason exact.

The mirrors: real ``pypi-server`` instances over wheel sets that differ (one lacks a pinned
version, one serves tampered files under the listed names), and ``FileIndex`` servers for
what pypi-server cannot do wrong on demand (file links that 404, a redirect from https to
plain http, bytes other than the ones listed). The lock files are written by the real
``uv lock`` and ``pip-compile`` against the honest mirror.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from pypi_switch.render.auto import tick_json
from pypi_switch.targets import build_context
from tests.support.hostile import Server
from tests.support.indexes import FileIndex, sha256, wheel_set
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import Sandbox
from tests.support.wheels import build_wheel

CANARY = "canary-pkg"
PROJECTS = {
    CANARY: ["1.0"],
    "six": ["1.17.0"],
    "alpha": ["1.0", "1.1"],
    "beta": ["1.0", "2.0"],
    "gamma": ["0.5"],
}
SIX = "six-1.17.0-py3-none-any.whl"
ALPHA = "alpha-1.0-py3-none-any.whl"
DEAD = "http://127.0.0.1:9/simple/"  # nothing listens on the discard port
ANYWAY = "nothing changed (--allow-missing switches to the best anyway)"


@dataclass
class Mirrors:
    house: Path  # the honest wheels
    good: PypiServer  # all of them; also "upstream" where a test needs one
    lacking: PypiServer  # no beta 2.0
    tampered: PypiServer  # alpha 1.0 and six: other bytes under the same names
    files_404: Server  # honest pages, every file link 404s
    slow_good: Server  # honest, 0.3 s a page: ranked after the others
    slow_good2: Server
    other_bytes: Server  # lists the honest sha256 of six, serves other bytes
    to_http: Server  # https; its file links redirect to plain http
    ca: trustme.CA
    uv_lock: Path  # written by `uv lock` against `good`
    compiled: Path  # written by `pip-compile --generate-hashes` against `good`


def _tool_env(home: Path) -> dict[str, str]:
    """A bare environment for uv and pip-compile: no config of this machine is read."""
    return {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(home / "uv-cache"),
    }


def _lock_with_real_tools(work: Path, index_url: str) -> tuple[Path, Path]:
    work.mkdir()
    (work / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "demo"
            version = "0.1"
            requires-python = ">=3.11"
            dependencies = ["alpha==1.0", "beta==2.0", "gamma", "six"]
            """
        )
    )
    env = _tool_env(work)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "lock", "--default-index", index_url],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (work / "requirements.in").write_text("alpha==1.0\nbeta==2.0\ngamma\nsix\n")
    subprocess.run(
        [sys.executable, "-m", "piptools", "compile", "--quiet", "--generate-hashes",
         "--index-url", index_url, "-o", "requirements.txt", "requirements.in"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    return work / "uv.lock", work / "requirements.txt"


@pytest.fixture(scope="module")
def mirrors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirrors]:
    root = tmp_path_factory.mktemp("mirrors")
    house = wheel_set(root / "house", PROJECTS)
    lacking = wheel_set(root / "lacking", {**PROJECTS, "beta": ["1.0"]}, source=house)
    tampered = wheel_set(root / "tampered", PROJECTS, source=house, tampered=[ALPHA, SIX])
    honest = {p.name: p.read_bytes() for p in house.iterdir()}
    other = dict(honest, **{SIX: (tampered / SIX).read_bytes()})
    ca = trustme.CA()
    server_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_ssl)
    with ExitStack() as stack:
        good = stack.enter_context(PypiServer(house))
        plain = stack.enter_context(Server(FileIndex(honest), lifetime=900))
        got = Mirrors(
            house=house,
            good=good,
            lacking=stack.enter_context(PypiServer(lacking)),
            tampered=stack.enter_context(PypiServer(tampered)),
            files_404=stack.enter_context(
                Server(FileIndex(honest, files_mode="404"), lifetime=900)
            ),
            slow_good=stack.enter_context(Server(FileIndex(honest, delay=0.3), lifetime=900)),
            slow_good2=stack.enter_context(Server(FileIndex(honest, delay=0.3), lifetime=900)),
            other_bytes=stack.enter_context(
                Server(FileIndex(other, listed={SIX: sha256(honest[SIX])}), lifetime=900)
            ),
            to_http=stack.enter_context(
                Server(
                    FileIndex(honest, files_mode="to-http", http_port=lambda: plain.port),
                    ssl_context=server_ssl,
                    lifetime=900,
                )
            ),
            ca=ca,
            uv_lock=Path(),
            compiled=Path(),
        )
        got.uv_lock, got.compiled = _lock_with_real_tools(root / "project", good.index_url)
        yield got


def run(box: Sandbox, *args: str, upstream: str, env: dict[str, str] | None = None) -> Any:
    return box.run(*args, "--canary", CANARY, "--upstream", upstream, "--timeout", "10", env=env)


def use(
    box: Sandbox,
    m: Mirrors,
    *mirror_urls: str,
    upstream: str | None = None,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Any:
    """``use-mirror --mirror URL...`` for pip, against ``upstream`` (the honest mirror)."""
    args = [a for url in mirror_urls for a in ("--mirror", url)]
    return run(
        box,
        "use-mirror",
        *args,
        "--target",
        "pip",
        *extra,
        upstream=upstream or m.good.index_url,
        env=env,
    )


def one_line_error(out: Any) -> str:
    """The error, on the last line of stderr (the probe's progress comes before it)."""
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stdout == ""
    errors = [x for x in out.stderr.splitlines() if x.startswith("pypi-switch: error: ")]
    assert len(errors) == 1 and out.stderr.endswith(errors[0] + "\n"), out.stderr
    return errors[0][len("pypi-switch: error: ") :]


def json_of(out: Any) -> Any:
    assert out.returncode == 0, (out.stdout, out.stderr)
    return json.loads(out.stdout)


# -- the real tools' lock files, read as the tool reads them ----------------------------------


def test_the_real_locks_pin_what_the_honest_mirror_serves(mirrors: Mirrors) -> None:
    from pypi_switch.lockfiles import read_one

    expected = ["alpha==1.0", "beta==2.0", "gamma==0.5", "six==1.17.0"]
    uv = read_one(mirrors.uv_lock)
    assert [p.label for p in uv.pins] == expected
    for pin in uv.pins:
        ((filename, digest),) = pin.files.items()
        assert digest == sha256((mirrors.house / filename).read_bytes())
        assert pin.index == mirrors.good.index_url
    compiled = read_one(mirrors.compiled)
    assert [p.label for p in compiled.pins] == expected
    assert {p.index for p in compiled.pins} == {mirrors.good.index_url}
    assert all(len(p.hashes) == 1 for p in compiled.pins)


# -- what the project needs -----------------------------------------------------------------


@pytest.mark.parametrize("lock", ["uv_lock", "compiled"])
def test_a_mirror_with_every_pin_is_chosen(sandbox: Sandbox, mirrors: Mirrors, lock: str) -> None:
    path = getattr(mirrors, lock)
    doc = json_of(
        use(sandbox, mirrors, mirrors.good.index_url, extra=("--require", str(path), "--json"))
    )
    assert doc["mirror"] == mirrors.good.index_url
    vetting = doc["vetting"]
    (coverage,) = vetting["require"]["mirrors"]
    assert (coverage["status"], coverage["reason"]) == (
        "passed",
        "has every pin (4 projects checked)",
    )
    assert vetting["require"]["pins"] == ["alpha==1.0", "beta==2.0", "gamma==0.5", "six==1.17.0"]
    assert vetting["require"]["files"] == [str(path)]


@pytest.mark.parametrize("lock", ["uv_lock", "compiled"])
def test_a_mirror_lacking_a_pinned_version_is_not_chosen(
    sandbox: Sandbox, mirrors: Mirrors, lock: str
) -> None:
    out = use(
        sandbox,
        mirrors,
        mirrors.lacking.index_url,
        extra=("--require", str(getattr(mirrors, lock))),
    )
    assert one_line_error(out) == f"no mirror has every pin: none has beta==2.0; {ANYWAY}"
    assert not sandbox.pip_conf.exists()


def test_a_mirror_serving_tampered_files_under_the_listed_names_is_not_chosen(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    out = use(
        sandbox, mirrors, mirrors.tampered.index_url, extra=("--require", str(mirrors.uv_lock))
    )
    assert one_line_error(out) == (
        f"no mirror has every pin: 127.0.0.1:{mirrors.tampered.port}: "
        f"sha256 differs from the lock for {ALPHA}, {SIX}; {ANYWAY}"
    )
    # Hashes without file names (pip-compile): no file of the pinned version may match.
    out = use(
        sandbox, mirrors, mirrors.tampered.index_url, extra=("--require", str(mirrors.compiled))
    )
    assert one_line_error(out) == (
        f"no mirror has every pin: 127.0.0.1:{mirrors.tampered.port}: "
        f"no file of alpha==1.0, six==1.17.0 has a sha256 the lock allows; {ANYWAY}"
    )


def test_the_reason_names_two_gaps_and_json_lists_them_all(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    wanted = sandbox.project / "requirements.txt"
    wanted.write_text("".join(f"{name}==9.0\n" for name in sorted(PROJECTS)) + "gamma\n")
    out = run(
        sandbox,
        "probe",
        "--mirror",
        mirrors.good.index_url,
        "--require",
        str(wanted),
        "--json",
        upstream=mirrors.good.index_url,
    )
    assert out.returncode == 1
    (row,) = json.loads(out.stdout)
    lacks = ["alpha==9.0", "beta==9.0", "canary-pkg==9.0", "gamma==9.0", "six==9.0"]
    assert row["require"]["reason"] == "lacks alpha==9.0, beta==9.0 (+3 more)"
    assert row["require"]["lacks"] == lacks
    assert row["require"]["status"] == "rejected"
    assert row["chosen"] is False
    out = use(sandbox, mirrors, mirrors.good.index_url, extra=("--require", str(wanted)))
    assert one_line_error(out) == f"no mirror has every pin: none has {', '.join(lacks)}; {ANYWAY}"


def test_the_first_mirror_with_every_pin_is_chosen_the_others_said_why(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    doc = json_of(
        use(
            sandbox,
            mirrors,
            mirrors.lacking.index_url,
            mirrors.slow_good.index_url,
            extra=("--require", str(mirrors.uv_lock), "--json"),
        )
    )
    assert doc["mirror"] == mirrors.slow_good.index_url
    by_url = {c["url"]: c for c in doc["vetting"]["require"]["mirrors"]}
    assert by_url[mirrors.lacking.index_url]["reason"].startswith("lacks beta==2.0")
    assert by_url[mirrors.slow_good.index_url]["status"] == "passed"
    assert doc["vetting"]["despite_gaps"] is False


def test_when_no_mirror_has_everything_the_missing_pins_are_named(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    out = use(
        sandbox,
        mirrors,
        mirrors.lacking.index_url,
        mirrors.tampered.index_url,
        extra=("--require", str(mirrors.uv_lock)),
    )
    message = one_line_error(out)
    # beta==2.0 is on the tampered mirror: no pin is missing everywhere; each one's reason.
    assert message.startswith("no mirror has every pin: ")
    assert "lacks beta==2.0" in message and f"sha256 differs from the lock for {ALPHA}" in message
    assert not sandbox.pip_conf.exists()


def test_allow_missing_switches_to_the_best_anyway(sandbox: Sandbox, mirrors: Mirrors) -> None:
    doc = json_of(
        use(
            sandbox,
            mirrors,
            mirrors.lacking.index_url,
            extra=("--require", str(mirrors.uv_lock), "--allow-missing", "--json"),
        )
    )
    assert doc["mirror"] == mirrors.lacking.index_url
    assert doc["vetting"]["despite_gaps"] is True
    assert doc["vetting"]["require"]["missing_everywhere"] == ["beta==2.0"]
    assert sandbox.pip_conf.read_text() == f"[global]\nindex-url = {mirrors.lacking.index_url}\n"


def test_pins_from_another_index_are_not_asked_of_a_pypi_mirror(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    lock = sandbox.project / "uv.lock"
    text = mirrors.uv_lock.read_text()
    # As uv writes a package taken from a second, explicit index.
    lock.write_text(
        text.replace(
            'name = "beta"\nversion = "2.0"\nsource = { registry = "' + mirrors.good.index_url,
            'name = "beta"\nversion = "2.0"\nsource = { registry = "https://download.example/whl',
        )
    )
    doc = json_of(
        use(sandbox, mirrors, mirrors.lacking.index_url, extra=("--require", str(lock), "--json"))
    )
    assert doc["mirror"] == mirrors.lacking.index_url
    assert doc["vetting"]["require"]["set_aside"] == ["beta==2.0 (from download.example)"]


# -- the bytes ---------------------------------------------------------------------------------


def test_the_bytes_of_one_small_file_are_checked_and_timed(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    out = use(sandbox, mirrors, mirrors.good.index_url, extra=("--dry-run",))
    assert out.returncode == 0, out.stderr
    size = (mirrors.house / SIX).stat().st_size
    line = next(x for x in out.stdout.splitlines() if x.startswith("bytes from "))
    assert line.startswith(
        f"bytes from 127.0.0.1:{mirrors.good.port}: {SIX} ({size} bytes) matches upstream, "
    )
    assert line.endswith(" ms")


def test_a_mirror_whose_file_links_404_is_rejected_and_the_next_checked(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    doc = json_of(
        use(
            sandbox,
            mirrors,
            mirrors.files_404.index_url,
            mirrors.slow_good.index_url,
            extra=("--json",),
        )
    )
    assert doc["mirror"] == mirrors.slow_good.index_url
    first, second = doc["vetting"]["file_check"]
    assert (first["url"], first["status"], first["reason"]) == (
        mirrors.files_404.index_url,
        "rejected",
        f"{SIX}: 404 for /files/{SIX}",
    )
    assert (second["url"], second["status"]) == (mirrors.slow_good.index_url, "verified")


def test_a_mirror_whose_files_redirect_from_https_to_http_is_rejected(
    sandbox: Sandbox, mirrors: Mirrors, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    mirrors.ca.cert_pem.write_to_path(str(bundle))
    out = use(sandbox, mirrors, mirrors.to_http.index_url, env={"REQUESTS_CA_BUNDLE": str(bundle)})
    message = one_line_error(out)
    assert message.startswith(
        f"no mirror serves the right bytes: 127.0.0.1:{mirrors.to_http.port}: {SIX}: "
        "redirected from https to plain http (http://127.0.0.1:"
    )
    assert message.endswith(f"/files/{SIX}); nothing changed")


def test_a_mirror_serving_other_bytes_than_it_lists_is_rejected(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    out = use(sandbox, mirrors, mirrors.other_bytes.index_url)
    assert one_line_error(out) == (
        f"no mirror serves the right bytes: 127.0.0.1:{mirrors.other_bytes.port}: "
        f"serves other bytes for {SIX} than upstream; nothing changed"
    )


def test_a_mirror_listing_another_sha256_than_upstream_is_rejected(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    out = use(sandbox, mirrors, mirrors.tampered.index_url)
    assert one_line_error(out) == (
        f"no mirror serves the right bytes: 127.0.0.1:{mirrors.tampered.port}: "
        f"lists another sha256 for {SIX} than upstream; nothing changed"
    )


def test_with_upstream_down_the_agreeing_mirrors_decide(sandbox: Sandbox, mirrors: Mirrors) -> None:
    doc = json_of(
        use(
            sandbox,
            mirrors,
            mirrors.tampered.index_url,
            mirrors.slow_good.index_url,
            mirrors.slow_good2.index_url,
            upstream=DEAD,
            extra=("--json",),
        )
    )
    checks = doc["vetting"]["file_check"]
    assert checks[0]["url"] == mirrors.tampered.index_url
    assert checks[0]["reason"] == f"lists another sha256 for {SIX} than 2 mirrors"
    assert doc["mirror"] in (mirrors.slow_good.index_url, mirrors.slow_good2.index_url)
    assert checks[-1]["status"] == "verified"
    assert checks[-1]["reason"].startswith(f"{SIX} (")
    assert " matches 2 mirrors, " in checks[-1]["reason"]


def test_the_file_canary_can_be_named(sandbox: Sandbox, mirrors: Mirrors) -> None:
    doc = json_of(
        use(sandbox, mirrors, mirrors.good.index_url, extra=("--file-canary", "gamma", "--json"))
    )
    (check,) = doc["vetting"]["file_check"]
    assert (check["file"], check["status"]) == ("gamma-0.5-py3-none-any.whl", "verified")


def test_a_file_above_the_cap_is_not_downloaded_whole_and_does_not_reject(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    build_wheel(folder, CANARY, "1.0")
    build_wheel(folder, "bigpkg", "1.0", payload=f"DATA = {os.urandom(1_600_000).hex()!r}\n")
    with PypiServer(folder) as srv:
        doc = json_of(
            run(
                sandbox,
                "use-mirror",
                "--mirror",
                srv.index_url,
                "--file-canary",
                "bigpkg",
                "--json",
                upstream=srv.index_url,
            )
        )
    (check,) = doc["vetting"]["file_check"]
    assert check["status"] == "not checked"
    assert check["reason"] == "bytes not checked: bigpkg-1.0-py3-none-any.whl larger than 1 MiB"
    assert doc["mirror"] == srv.index_url


# -- auto ---------------------------------------------------------------------------------------


def test_auto_never_switches_to_a_mirror_that_fails_require(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    from pypi_switch import auto

    lock = sandbox.home / "work" / "uv.lock"
    lock.parent.mkdir()
    lock.write_bytes(mirrors.uv_lock.read_bytes())

    def configure(*urls: str) -> None:
        entries = "".join(f'[[mirror]]\nname = "m{i}"\nurl = "{u}"\n' for i, u in enumerate(urls))
        sandbox.write_config(
            f'builtin_mirrors = false\ncanary = "{CANARY}"\nupstream = "{DEAD}"\n'
            f'require = ["{lock}"]\ntimeout = 10\n{entries}[auto]\nfail_after = 1\n'
        )

    configure(mirrors.lacking.index_url)
    doc = tick_json(auto.tick(build_context(include_cwd=False)))
    assert doc["action"] == "none" and not sandbox.pip_conf.exists()
    assert "no mirror has every pin: none has beta==2.0" in doc["error"]

    configure(mirrors.lacking.index_url, mirrors.slow_good.index_url)
    doc = tick_json(auto.tick(build_context(include_cwd=False)))
    assert (doc["action"], doc["mirror"]) == ("switched", mirrors.slow_good.index_url)


def test_a_file_name_from_a_mirror_cannot_drive_the_terminal(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    hostile = "six-0.1-\x1b[2J-none-any.whl"
    files = {p.name: p.read_bytes() for p in mirrors.house.iterdir()}
    files[hostile] = b"not a wheel"
    with Server(FileIndex(files)) as srv:
        # Upstream down and no other mirror: its own listing is all there is to go by.
        out = use(sandbox, mirrors, srv.index_url, upstream=DEAD, extra=("--dry-run",))
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout + out.stderr
    assert "bytes from " in out.stdout and "six-0.1-\\x1b[2J-none-any.whl" in out.stdout


def test_a_file_only_the_mirror_lists_is_not_the_one_checked(
    sandbox: Sandbox, mirrors: Mirrors
) -> None:
    files = {p.name: p.read_bytes() for p in mirrors.house.iterdir()}
    files["six-0.1-py3-none-any.whl"] = b"tiny, and nobody else has it"
    with Server(FileIndex(files)) as srv:
        doc = json_of(use(sandbox, mirrors, srv.index_url, extra=("--json",)))
    (check,) = doc["vetting"]["file_check"]
    assert (check["file"], check["status"]) == (SIX, "verified")
