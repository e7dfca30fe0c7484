"""Start-up cost of the light commands against `status`: whole processes, as people and
cron run them, in a throw-away HOME, with a local pypi-server (its own process) as
upstream and another as the mirror.

- `mirrors` lists the catalogue: no network stack (target <= 1.1x status);
- a healthy `auto` tick checks upstream through the one transport (target <= 2.0x);
- `use-mirror URL --dry-run` probes that mirror and shows the diff (target <= 2.0x).

The commands are interleaved so that machine noise hits them alike; medians are reported.

    .venv/bin/python bench/startup_bench.py [--runs 15] [--exe PATH]...

``--exe`` times that pypi-switch instead; given twice (say, the commit before a change and
after it), the two are interleaved run by run, so machine noise hits both alike. Each is
compared with its own `status`.
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

# Only helpers that do not import pypi_switch: ``--exe`` may run another checkout.
from tests.support.pypiserver import PypiServer  # noqa: E402
from tests.support.wheels import build_wheel  # noqa: E402

# The variables that move the files a command reads (as tests/support/sandbox.py scrubs).
SCRUBBED = ("PIP_", "UV_", "PDM_", "XDG_", "BUILDOUT_", "PYPI_SWITCH_", "PIPENV_", "POETRY_")

TARGETS = {
    "mirrors": 1.1,
    "auto (healthy, nothing switched)": 2.0,
    "use-mirror URL --dry-run": 2.0,
}


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
    parser.add_argument(
        "--exe", action="append", help="pypi-switch to time (repeat to interleave several)"
    )
    args = parser.parse_args()
    exes: list[str] = args.exe or [str(Path(sys.executable).parent / "pypi-switch")]

    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        root = Path(tmp)
        wheels, home, cwd = root / "wheels", root / "home", root / "cwd"
        for d in (home, cwd):
            d.mkdir()
        build_wheel(wheels, "canary-pkg", "1.0")
        build_wheel(wheels, "canary-pkg", "1.1")
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
        for proxy in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            env.pop(proxy, None)
            env.pop(proxy.upper(), None)
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

            commands: dict[tuple[str, str], list[str]] = {}
            for exe in exes:
                python = str(Path(exe).parent / "python")
                commands |= {
                    (exe, "status"): [exe, "status"],
                    (exe, "mirrors"): [exe, "mirrors"],
                    (exe, "auto (healthy, nothing switched)"): [exe, "auto"],
                    (exe, "use-mirror URL --dry-run"): [
                        exe,
                        "use-mirror",
                        mirror.index_url,
                        "--dry-run",
                    ],
                    (exe, "python -c 'import requests'"): [python, "-c", "import requests"],
                }
            times: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
            for argv in commands.values():  # warm the page cache once
                run(argv, env, cwd)
            for _ in range(args.runs):
                for key, argv in commands.items():
                    times[key].append(run(argv, env, cwd))

    print(f"{args.runs} runs each, interleaved; median (min) wall time of the whole process")
    width = max(len(name) for _, name in times)
    for exe in exes:
        print(f"\n{exe}")
        base = statistics.median(times[exe, "status"])
        for (owner, name), values in times.items():
            if owner != exe:
                continue
            med = statistics.median(values)
            target = f"  (target <= {TARGETS[name]:.1f}x)" if name in TARGETS else ""
            print(
                f"  {name:<{width}}  {med * 1000:6.0f} ms ({min(values) * 1000:4.0f})  "
                f"{med / base:4.2f}x status{target}"
            )


if __name__ == "__main__":
    main()
