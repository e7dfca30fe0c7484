"""A real ``pypi-server`` on 127.0.0.1 serving a folder of wheels, for the mirror tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

__all__ = ["PypiServer", "free_port"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pypi_server_exe() -> str:
    found = shutil.which("pypi-server", path=os.path.dirname(sys.executable))
    return found or "pypi-server"


class PypiServer:
    """``with PypiServer(folder) as srv: srv.index_url`` -> ``http://127.0.0.1:PORT/simple/``.

    ``stop()`` and ``start()`` can be called between steps of a test to simulate an outage;
    the port stays the same.
    """

    def __init__(self, packages: Path, *, port: int | None = None) -> None:
        self.packages = packages
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return f"{self.root_url}/simple/"

    def start(self, timeout: float = 20.0) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.packages)}
        self.proc = subprocess.Popen(
            [
                _pypi_server_exe(),
                "run",
                "--disable-fallback",
                "--hash-algo",
                "sha256",
                "--log-stream",
                "none",
                "--backend",
                "simple-dir",
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                str(self.packages),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pypi-server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.index_url, timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("pypi-server did not come up")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> PypiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
