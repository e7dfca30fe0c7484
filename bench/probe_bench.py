"""Benchmark: one concurrent probe under a deadline versus the same probe done sequentially.

20 honest loopback mirrors answering after 20..400 ms, 5 black holes (accept, never
answer) and 2 drippers (one byte a second), deadline 2 s. Prints the probe's wall time
over the deadline (target <= 1.15), whether the truly fastest valid mirror was chosen, and
the sequential figure. Run from the repository root: ``.venv/bin/python bench/probe_bench.py``.
Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypi_switch.config import MirrorEntry
from pypi_switch.net.deadline import Deadline
from pypi_switch.net.probe import probe_mirrors
from pypi_switch.rank import rank
from tests.support import hostile
from tests.support.pypiserver import free_port

CANARY = "canary-pkg"
DEADLINE = 2.0
HONEST = 20
BLACK_HOLES = 5
DRIPPERS = 2
FILES = {
    "canary_pkg-1.0-py3-none-any.whl": "1" * 64,
    "canary_pkg-1.1-py3-none-any.whl": "2" * 64,
}


def main() -> int:
    page = hostile.simple_html(FILES, serial=1000)
    not_served = {"/last-modified": (404, b"")}
    latencies = [0.020 + i * (0.400 - 0.020) / (HONEST - 1) for i in range(HONEST)]
    with ExitStack() as stack:
        mirrors: list[MirrorEntry] = []
        # Start the slow ones first so list order does not favour the fastest.
        for delay in reversed(latencies):
            srv = stack.enter_context(
                hostile.Server(hostile.static(200, page, delay=delay, paths=not_served))
            )
            mirrors.append(MirrorEntry(name=f"honest-{int(delay * 1000)}ms", url=srv.index_url))
        for i in range(BLACK_HOLES):
            hole = stack.enter_context(hostile.BlackHole())
            mirrors.append(MirrorEntry(name=f"black-hole-{i}", url=hole.index_url))
        for i in range(DRIPPERS):
            dripper = stack.enter_context(hostile.Server(hostile.drip(interval=1.0)))
            mirrors.append(MirrorEntry(name=f"dripper-{i}", url=dripper.index_url))
        upstream = f"http://127.0.0.1:{free_port()}/simple/"  # down, as during an outage
        fastest = f"honest-{int(latencies[0] * 1000)}ms"

        start = time.monotonic()
        report = probe_mirrors(
            mirrors,
            canary=CANARY,
            upstream=upstream,
            deadline=Deadline.after(DEADLINE),
            max_lag=5000,
        )
        wall = time.monotonic() - start
        ranked = rank(report, max_lag=5000)
        chosen = ranked[0].result.name if ranked and ranked[0].ok else None
        valid = sum(r.valid for r in report.results)
        timed_out = sum(r.timed_out for r in report.results)

        seq_start = time.monotonic()
        for m in mirrors:  # what peer tools do: one mirror after another
            probe_mirrors(
                [m], canary=CANARY, upstream=None, deadline=Deadline.after(DEADLINE), max_lag=5000
            )
        seq_wall = time.monotonic() - seq_start

    print(f"mirrors: {HONEST} honest (20..400 ms), {BLACK_HOLES} black holes, {DRIPPERS} drippers")
    print(f"concurrent probe: {wall:.2f} s for a {DEADLINE:g} s deadline = {wall / DEADLINE:.3f}x")
    print(f"  valid {valid}, timed out {timed_out}; chosen {chosen} (truly fastest {fastest}):")
    print(f"  fastest chosen: {'yes' if chosen == fastest else 'NO'}")
    print(f"sequential probe: {seq_wall:.2f} s ({seq_wall / wall:.1f}x the concurrent one)")
    ok = wall / DEADLINE <= 1.15 and chosen == fastest
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
