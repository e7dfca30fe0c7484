"""Whole-process wall time of `use-mirror URL --force` on a ~/.pip/pip.conf of growing size.

Each size gets its own throw-away HOME holding a pip.conf of N sections and a clean
environment. ``--shape plain``: sections of other options (one line changes);
``--shape indexed``: every section sets its own index-url (every section is edited and
journaled). Prints seconds per run, MB, and seconds per MB: a cost linear in the size
keeps the last column flat.

    .venv/bin/python bench/switch_size_bench.py [N ...] [--shape plain|indexed] [--timeout S]

Target (issue 13): 10 MB / 115k sections in under 3 s, seconds per MB flat.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = str(Path(sys.executable).parent / "pypi-switch")
URL = "http://127.0.0.1:9/simple/"  # a closed loopback port: --force skips the check


def pip_conf(sections: int, *, indexed: bool) -> str:
    """A pip.conf of ``sections`` sections (~87 bytes each: 115k make 10 MB)."""
    head = "[global]\nindex-url = https://old.example/simple/\ntimeout = 60\n\n"
    option = (
        "index-url = https://old.example/simple/" if indexed else "cert = /etc/ssl/certs/team.pem"
    )
    return head + "".join(
        f"# team {i:06d}\n[team-{i:06d}]\n{option}\ntimeout = 60\n\n" for i in range(sections)
    )


def switch_once(sections: int, timeout: float, *, indexed: bool) -> tuple[float | None, float, int]:
    """Wall seconds for one use-mirror run (None: it exceeded ``timeout``), its CPU seconds
    (the machine's load stretches the first, hardly the second), and the file size."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        conf = home / ".pip" / "pip.conf"
        conf.parent.mkdir(parents=True)
        conf.write_text(pip_conf(sections, indexed=indexed))
        (Path(tmp) / "xdg").mkdir()
        env = {
            "HOME": str(home),
            "PATH": f"{Path(EXE).parent}{os.pathsep}/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "XDG_CONFIG_DIRS": str(Path(tmp) / "xdg"),
        }
        size = conf.stat().st_size
        cpu_before = _children_cpu()
        start = time.perf_counter()
        try:
            out = subprocess.run(
                [EXE, "use-mirror", URL, "--force", "--target", "pip"],
                env=env,
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None, 0.0, size
        elapsed = time.perf_counter() - start
        cpu = _children_cpu() - cpu_before
        if out.returncode != 0:
            raise SystemExit(f"use-mirror failed ({out.returncode}):\n{out.stderr}")
        if conf.read_text().count(URL) != (sections + 1 if indexed else 1):
            raise SystemExit("use-mirror did not switch every section")
        return elapsed, cpu, size


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 8_000, 35_000, 115_000])
    parser.add_argument("--shape", choices=("plain", "indexed"), default="plain")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    print(f"shape: {args.shape}")
    print(f"{'sections':>9} {'MB':>6} {'seconds':>9} {'cpu s':>7} {'s per MB':>9}")
    for sections in args.sizes:
        elapsed, cpu, size = switch_once(sections, args.timeout, indexed=args.shape == "indexed")
        mb = size / 1e6
        if elapsed is None:
            print(f"{sections:>9} {mb:>6.2f} {'> ' + str(int(args.timeout)):>9} {'-':>7} {'-':>9}")
            continue
        print(f"{sections:>9} {mb:>6.2f} {elapsed:>9.2f} {cpu:>7.2f} {elapsed / mb:>9.2f}")
    print("target: 10 MB (115k sections) under 3 s; s per MB flat")


if __name__ == "__main__":
    main()
