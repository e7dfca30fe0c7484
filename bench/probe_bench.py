"""Benchmark: whole `pypi-switch probe` processes against mirrors served by another process.

Scenarios (mirrors from bench/mirror_farm.py, each on its own port):

- outage-27: 20 honest mirrors answering after 20..400 ms, 5 black holes (accept, never
  answer), 2 drippers (one byte a second); upstream down (a closed port); deadline 4 s.
- healthy-27: the same mirrors; upstream answers in 10 ms with the same files; deadline 4 s.
- honest-1000: 1,000 honest mirrors answering after 20..400 ms; upstream down; deadline 3 s.

The scenarios are interleaved, ``--runs`` times each. Per scenario it prints the median
wall time of the whole process (start-up and exit included) and its ratio to the deadline,
the median time at which the probe says its choice became final, the exit status, the
mirror chosen (by its configured delay) and how many mirrors were valid.

Targets (issue 9): outage-27 and healthy-27 wall / deadline <= 0.25 (aim 0.10);
honest-1000 a valid choice with wall <= 1.15x the deadline.

    .venv/bin/python bench/probe_bench.py [--runs 5] [--exe PATH]... [--only NAME]

``--exe`` times that pypi-switch instead; given twice (say, the commit before a change and
after it), the two are interleaved run by run, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANARY = "canary-pkg"


@dataclass
class Scenario:
    name: str
    deadline: float
    specs: list[dict[str, object]]  # mirrors; upstream is the last spec when healthy
    healthy_upstream: bool


@dataclass
class Figures:
    walls: list[float] = field(default_factory=list)
    finals: list[float] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    valid: list[int] = field(default_factory=list)


def honest(n: int) -> list[dict[str, object]]:
    delays = [0.020 + i * (0.400 - 0.020) / max(n - 1, 1) for i in range(n)]
    # Slowest first: list order must not favour the fastest.
    return [{"kind": "honest", "delay": d, "serial": 1000} for d in reversed(delays)]


def scenarios() -> list[Scenario]:
    fire = honest(20) + [{"kind": "hole"}] * 5 + [{"kind": "drip"}] * 2
    up = {"kind": "honest", "delay": 0.010, "serial": 1000}
    return [
        Scenario("outage-27", 4.0, list(fire), healthy_upstream=False),
        Scenario("healthy-27", 4.0, [*fire, up], healthy_upstream=True),
        Scenario("honest-1000", 3.0, honest(1000), healthy_upstream=False),
    ]


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--exe", action="append", help="pypi-switch to time (repeat to interleave several)"
    )
    parser.add_argument("--only", help="run only the scenarios whose name contains this")
    args = parser.parse_args()
    exes: list[str] = args.exe or [str(Path(sys.executable).parent / "pypi-switch")]

    plan = [s for s in scenarios() if args.only is None or args.only in s.name]
    specs = [spec for s in plan for spec in s.specs]
    farm = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "mirror_farm.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert farm.stdin is not None and farm.stdout is not None
    farm.stdin.write(json.dumps(specs) + "\n")
    farm.stdin.flush()
    ports = iter(json.loads(farm.stdout.readline()))
    argvs: dict[str, list[str]] = {}  # the arguments after the command
    delay_of: dict[str, float] = {}
    for s in plan:
        urls = []
        for spec in s.specs:
            port = next(ports)
            urls.append(f"http://127.0.0.1:{port}/simple/")
            if spec["kind"] == "honest":
                delay_of[f"127.0.0.1:{port}"] = float(spec["delay"])  # type: ignore[arg-type]
        upstream = urls.pop() if s.healthy_upstream else f"http://127.0.0.1:{closed_port()}/simple/"
        argv = ["probe", "--canary", CANARY, "--timeout", f"{s.deadline:g}"]
        argv += ["--upstream", upstream] + [a for u in urls for a in ("--mirror", u)]
        argvs[s.name] = argv

    figures = {(exe, s.name): Figures() for exe in exes for s in plan}
    try:
        with tempfile.TemporaryDirectory(prefix="probe-bench-") as home:
            env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
            for exe in exes:  # once each, unmeasured: page cache, first-run effects
                for s in plan:
                    run([exe, *argvs[s.name]], env)
            for _ in range(args.runs):
                for s in plan:
                    for exe in exes:
                        record(figures[exe, s.name], *run([exe, *argvs[s.name]], env))
    finally:
        farm.stdin.close()
        farm.wait(10)

    print(f"{args.runs} runs each, interleaved; medians of whole processes")
    for exe in exes:
        print(f"\n{exe}")
        head = f"  {'scenario':<12} {'deadline':>8} {'wall':>7} {'wall/deadline':>13} "
        print(head + f"{'final after':>11} {'exit':>5}  {'chosen (its delay)':<22} valid")
        for s in plan:
            f = figures[exe, s.name]
            wall = statistics.median(f.walls)
            final_after = f"{statistics.median(f.finals):.3f} s" if f.finals else "-"
            codes = ",".join(sorted({str(c) for c in f.codes}))
            delays = sorted(
                {f"{delay_of[c] * 1000:.0f} ms" if c in delay_of else c for c in f.chosen}
            )
            mirrors = len(s.specs) - (1 if s.healthy_upstream else 0)
            print(
                f"  {s.name:<12} {s.deadline:>6g} s {wall:>5.2f} s {wall / s.deadline:>13.3f} "
                f"{final_after:>11} {codes:>5}  {', '.join(delays)[:22]:<22} "
                f"{statistics.median(f.valid):.0f}/{mirrors}"
            )
    print("\ntargets: *-27 wall/deadline <= 0.25 (aim 0.10); honest-1000 valid choice, <= 1.15")


def record(f: Figures, wall: float, out: subprocess.CompletedProcess[str]) -> None:
    f.walls.append(wall)
    f.codes.append(out.returncode)
    final = re.search(r"the choice was final after (\d+) ms", out.stdout)
    if final:
        f.finals.append(int(final.group(1)) / 1000)
    best = re.search(r"^best: (\S+)", out.stdout, re.MULTILINE)
    f.chosen.append(best.group(1) if best else "-")
    f.valid.append(len(re.findall(r"^ok ", out.stdout, re.MULTILINE)))


def run(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=120)
    return time.perf_counter() - start, out


if __name__ == "__main__":
    main()
