"""What `--require uv.lock` costs: a 200-pin lock checked against a loopback mirror.

Whole processes, in a throw-away HOME: `use-mirror --mirror URL --dry-run` with and
without `--require uv.lock`, interleaved so that machine noise hits both alike; medians.
The lock is written by the real `uv lock` for a project depending on 200 projects the bench
builds. Servers run in their own processes, of two kinds:

- static: the layout bandersnatch writes, served like nginx serves it (``static_mirror.py``):
  what real mirrors are, and what the client's own cost shows against;
- pypi-server: the tests' mirror, which renders each page from a directory listing, one
  page at a time (about 6 ms each here): the figure is then the server's.

Also reported, from the `--json` of the same runs: how long the file check took next to
one round trip (the probe's time to first byte for the same mirror), and the file's size.

    .venv/bin/python bench/require_bench.py [--runs 11] [--pins 200]

Targets (issue 12): `--require` adds at most 1.0 s; the file check at most one round
trip plus the transfer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pypiserver import PypiServer, free_port  # noqa: E402
from tests.support.sandbox import scrub_environ  # noqa: E402
from tests.support.wheels import build_wheel  # noqa: E402

BIN = Path(sys.executable).parent
EXE = str(BIN / "pypi-switch")


def run(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}):\n{out.stderr}")
    return elapsed, out.stdout


def lock(project: Path, names: list[str], index_url: str, env: dict[str, str]) -> Path:
    deps = ", ".join(f'"{n}==1.0"' for n in names)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "bench"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        f"dependencies = [{deps}]\n"
    )
    uv_env = {**env, "UV_NO_CONFIG": "1", "UV_CACHE_DIR": str(project / ".uv-cache")}
    subprocess.run(
        [str(BIN / "uv"), "lock", "-q", "--default-index", index_url],
        cwd=project,
        env=uv_env,
        check=True,
    )
    return project / "uv.lock"


def static_mirror(wheels: Path, web: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Lay ``wheels`` out as bandersnatch does and serve the folder from another process."""
    for wheel in wheels.iterdir():
        (web / "packages").mkdir(parents=True, exist_ok=True)
        (web / "packages" / wheel.name).write_bytes(wheel.read_bytes())
        project = wheel.name.split("-")[0].replace("_", "-")
        page = web / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
        href = f"../../packages/{wheel.name}#sha256={sha}"
        page.write_text(f'<html><body>\n<a href="{href}">{wheel.name}</a><br>\n</body></html>\n')
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "static_mirror.py"), str(web), str(port)]
    )
    url = f"http://127.0.0.1:{port}/simple/"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "six/", timeout=1):
                return server, url
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the static mirror did not come up")


def measure(
    name: str, mirror: str, upstream: str, uv_lock: Path, runs: int, env: dict[str, str]
) -> None:
    cwd = uv_lock.parent
    base = [EXE, "use-mirror", "--mirror", mirror, "--dry-run", "--target", "pip"]
    base += ["--canary", "canary-pkg", "--upstream", upstream, "--timeout", "20"]
    commands = {
        "without --require": base,
        "with --require uv.lock": [*base, "--require", str(uv_lock)],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for argv in commands.values():  # warm the page cache once
        run(argv, env, cwd)
    for _ in range(runs):
        for label, argv in commands.items():
            times[label].append(run(argv, env, cwd)[0])
    files, trips, pages = [], [], []
    size = 0
    for _ in range(runs):
        doc = json.loads(run([*base, "--require", str(uv_lock), "--json"], env, cwd)[1])
        (check,) = doc["vetting"]["file_check"]
        (coverage,) = doc["vetting"]["require"]["mirrors"]
        row = next(r for r in doc["ranking"] if r["url"] == mirror)
        files.append(check["elapsed_ms"])
        trips.append(row["ttfb_ms"])
        pages.append(coverage["elapsed_ms"])
        size = check["size"]
    without, with_require = (statistics.median(v) for v in times.values())
    print(f"{name} mirror: median (min) wall time of the whole process, {runs} runs each")
    for label, values in times.items():
        med = statistics.median(values)
        print(
            f"  use-mirror --dry-run {label:<24} {med * 1000:6.0f} ms ({min(values) * 1000:4.0f})"
        )
    print(f"  --require adds {(with_require - without) * 1000:.0f} ms (target: at most 1000 ms);")
    print(f"  the pages alone: median {statistics.median(pages):.0f} ms")
    print(
        f"  file check: median {statistics.median(files):.1f} ms for {size} bytes; one round "
        f"trip (the probe's time to first byte): median {statistics.median(trips):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--pins", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="require-bench-") as tmp:
        root = Path(tmp)
        wheels, home, project = root / "wheels", root / "home", root / "project"
        for d in (home, project):
            d.mkdir()
        names = [f"proj{i:03d}" for i in range(args.pins)]
        for name in [*names, "canary-pkg", "six"]:
            build_wheel(wheels, name, "1.0")
        env = scrub_environ(os.environ)
        for key in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            env.pop(key, None)
            env.pop(key.upper(), None)
        env.update({"HOME": str(home), "XDG_CONFIG_DIRS": str(root / "xdg")})
        servers = []
        try:
            mirror_proc, mirror = static_mirror(wheels, root / "web-mirror")
            servers.append(mirror_proc)
            upstream_proc, upstream = static_mirror(wheels, root / "web-upstream")
            servers.append(upstream_proc)
            uv_lock = lock(project, names, mirror, env)
            pins = uv_lock.read_text().count("source = { registry")
            print(f"{pins} pins in a uv.lock written by uv {uv_version()}")
            measure("static", mirror, upstream, uv_lock, args.runs, env)
            with PypiServer(wheels) as pypi_mirror, PypiServer(wheels) as pypi_upstream:
                measure(
                    "pypi-server",
                    pypi_mirror.index_url,
                    pypi_upstream.index_url,
                    uv_lock,
                    args.runs,
                    env,
                )
        finally:
            for server in servers:
                server.terminate()
                server.wait()


def uv_version() -> str:
    out = subprocess.run([str(BIN / "uv"), "--version"], capture_output=True, text=True)
    return out.stdout.split()[1] if out.returncode == 0 else "?"


if __name__ == "__main__":
    main()
