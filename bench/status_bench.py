"""Whole-process wall time of `pypi-switch status` against `pip config list`, same run.

Both run in one throw-away HOME holding a switched configuration, alternating, N times;
prints the medians and their ratio (target: status no slower than pip config list).

    .venv/bin/python bench/status_bench.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / ".pip").mkdir(parents=True)
        (home / ".pip" / "pip.conf").write_text("[global]\nindex-url = https://a.example/simple\n")
        (home / ".buildout").mkdir()
        (home / ".buildout" / "default.cfg").write_text("[buildout]\nnewest = false\n")
        env = {"HOME": str(home), "PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "LANG": "C.UTF-8"}
        subprocess.run(
            [str(BIN / "pypi-switch"), "use-mirror", "http://127.0.0.1:9/simple/", "--force"],
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        status, pip = [], []
        for _ in range(n):
            status.append(timed([str(BIN / "pypi-switch"), "status"], env))
            pip.append(timed([str(BIN / "pip"), "config", "list"], env))
    s, p = statistics.median(status), statistics.median(pip)
    print(f"runs each:                {n}")
    print(f"pypi-switch status:       median {s * 1000:.0f} ms (min {min(status) * 1000:.0f})")
    print(f"pip config list:          median {p * 1000:.0f} ms (min {min(pip) * 1000:.0f})")
    print(f"ratio status / pip:       {s / p:.2f} (target <= 1.00)")


if __name__ == "__main__":
    main()
