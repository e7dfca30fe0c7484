from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.fake_pypi import FakePyPI, FakePyPIWithEnv
from tests.support.pypiserver import PypiServer
from tests.support.sandbox import SANDBOXED_NAMES, SANDBOXED_PREFIXES, RealHomeGuard, Sandbox
from tests.support.wheels import build_wheel


def _account_home() -> Path:
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except ImportError:  # Windows
        return Path.home()


# Taken once, before any test can touch the environment.
_REAL_HOMES = {Path(os.environ.get("HOME", "/nonexistent")), _account_home()}
_GUARDS = [RealHomeGuard(h) for h in _REAL_HOMES]

CANARY = "canary-pkg"


def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("linux_only")
    if mark is not None and not sys.platform.startswith("linux"):
        pytest.skip(f"Linux only: {mark.args[0] if mark.args else 'see the test'}")


@pytest.fixture(autouse=True)
def _real_home_untouched() -> Iterator[None]:
    """Fail any test after which the real user's configuration differs."""
    yield
    for guard in _GUARDS:
        changed = guard.changed()
        assert not changed, f"a test wrote the real home directory: {changed}"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh HOME; the outer PIP_*/XDG_*/UV_*/... are gone, in-process and in subprocesses."""
    box = Sandbox.create(tmp_path / "sandbox")
    for key in list(os.environ):
        if key.startswith(SANDBOXED_PREFIXES) or key in SANDBOXED_NAMES:
            monkeypatch.delenv(key)
    for key, value in box.env.items():
        if key != "PATH":
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(box.project)
    return box


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the canary project's wheels, built once per session."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    build_wheel(folder, CANARY, "1.0")
    build_wheel(folder, CANARY, "1.1")
    return folder


@pytest.fixture(scope="session")
def mirror(wheelhouse: Path) -> Iterator[PypiServer]:
    """One real pypi-server on 127.0.0.1 serving the canary wheels, shared by the session."""
    with PypiServer(wheelhouse) as server:
        yield server


@pytest.fixture(scope="session")
def mirror2(wheelhouse: Path) -> Iterator[PypiServer]:
    """A second real pypi-server serving the same files."""
    with PypiServer(wheelhouse) as server:
        yield server


@pytest.fixture
def fake_pypi(wheelhouse: Path, tmp_path: Path) -> Iterator[FakePyPIWithEnv]:
    """pypi.org, down (503) until the test sets ``up``; ``.env``: what a client needs."""
    import trustme

    with FakePyPI(wheelhouse, trustme.CA()) as pypi:
        yield FakePyPIWithEnv(pypi, pypi.env(tmp_path / "fake-pypi-ca.pem"))


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _no_outer_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool honours proxy variables (users need that); tests talk to loopback servers,
    so the machine's own proxies must not reach them (a test that wants one sets it)."""
    for key in PROXY_VARIABLES:
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(key.upper(), raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A private certificate authority, for TLS servers on loopback."""
    return trustme.CA()


@pytest.fixture(scope="module")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    """A TLS server context for 127.0.0.1, signed by ``ca``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context
