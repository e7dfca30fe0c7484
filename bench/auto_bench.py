"""Wall time of a healthy-upstream `auto` tick and of `use-mirror URL`, against `status`.

Whole processes, as cron and people run them, in a throw-away HOME, with a local
pypi-server as upstream and another as the mirror. The commands are interleaved so that
machine noise hits them alike; the median of each is reported.

    .venv/bin/python bench/auto_bench.py [--runs 15]

Target (issue 4): a healthy tick under 1.5x `status`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pypiserver import PypiServer  # noqa: E402
from tests.support.sandbox import scrub_environ  # noqa: E402
from tests.support.wheels import build_wheel  # noqa: E402

EXE = str(Path(sys.executable).parent / "pypi-switch")


def run(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}):\n{out.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="auto-bench-") as tmp:
        root = Path(tmp)
        wheels, home, cwd = root / "wheels", root / "home", root / "cwd"
        for d in (home, cwd):
            d.mkdir()
        build_wheel(wheels, "canary-pkg", "1.0")
        build_wheel(wheels, "canary-pkg", "1.1")
        env = scrub_environ(os.environ)
        for key in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            env.pop(key, None)
            env.pop(key.upper(), None)
        env.update({"HOME": str(home), "XDG_CONFIG_DIRS": str(root / "xdg")})
        with PypiServer(wheels) as upstream, PypiServer(wheels) as mirror:
            config = home / ".config" / "pypi-switch" / "config.toml"
            config.parent.mkdir(parents=True)
            config.write_text(
                f'builtin_mirrors = false\ncanary = "canary-pkg"\n'
                f'upstream = "{upstream.index_url}"\ntimeout = 5\n'
                f'[[mirror]]\nname = "local"\nurl = "{mirror.index_url}"\n'
            )
            pip_conf = home / ".config" / "pip" / "pip.conf"
            pip_conf.parent.mkdir(parents=True)
            pip_conf.write_text(f"[global]\nindex-url = {upstream.index_url}\n")

            commands: dict[str, list[str]] = {
                "status": [EXE, "status"],
                "auto (healthy, nothing switched)": [EXE, "auto"],
                "use-mirror URL (a real switch)": [EXE, "use-mirror", mirror.index_url],
                "python -c 'import requests'": [sys.executable, "-c", "import requests"],
                "python -c 'import pypi_simple'": [sys.executable, "-c", "import pypi_simple"],
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            for argv in commands.values():  # warm the page cache once
                run(argv, env, cwd)
                if argv[1:2] == ["use-mirror"]:
                    run([EXE, "restore"], env, cwd)
            for _ in range(args.runs):
                for name, argv in commands.items():
                    times[name].append(run(argv, env, cwd))
                    if argv[1:2] == ["use-mirror"]:
                        run([EXE, "restore"], env, cwd)  # untimed: the next switch is real too

    base = statistics.median(times["status"])
    print(f"{args.runs} runs each, interleaved; median (min) wall time of the whole process")
    width = max(len(n) for n in times)
    for name, values in times.items():
        med = statistics.median(values)
        fastest = min(values) * 1000
        print(f"  {name:<{width}}  {med * 1000:6.0f} ms ({fastest:4.0f})  {med / base:4.2f}x")
    print("target: auto under 1.50x status")


if __name__ == "__main__":
    main()
