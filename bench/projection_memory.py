"""Benchmark: estimated against measured peak memory of projection runs (run: python bench/projection_memory.py).

Issue #17: four projection requests killed the web process (21.7 GB); ``parameter_draws`` drove the
memory and the inline-or-queue decision ignored it. ``risk.projection.model.estimate_cost`` now
estimates memory and time from every input that scales them, and ``check_work`` refuses what exceeds
the ceilings (default 1.5 GiB, ``PROJECTION_MAX_MEMORY_BYTES``). Each case below is checked against
the default ceiling; the accepted ones run once in a fresh subprocess so that their peak memory
(``ru_maxrss`` above the process's own before the run) is their own. The estimate must lie above
every measured peak, and every accepted run must stay under the ceiling.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from projection import estimate, setting  # noqa: E402

from risk.projection import simulate  # noqa: E402
from risk.projection.model import check_work, estimate_cost, group_loans  # noqa: E402
from risk.rollrate import ProjectionError  # noqa: E402

#: (loans, paths, months, roll-rate draws): the program's size and the attack's shapes.
CASES = (
    (300, 10_000, 36, 0),
    (300, 10_000, 36, 20),
    (300, 10_000, 36, 200),
    (300, 100_000, 36, 20),
    (300, 10_000, 120, 20),
    (300, 10_000, 120, 200),
    (3_000, 10_000, 36, 20),
    (3_000, 10_000, 60, 200),
)


def assumptions_for(n: int, paths: int, months: int, draws: int):  # type: ignore[no-untyped-def]
    book, reserve, a = setting(n, paths)
    a = dataclasses.replace(a, horizon_months=months, parameter_draws=draws, max_work=10**13)
    return book, reserve, a


def child(n: int, paths: int, months: int, draws: int) -> None:
    book, reserve, a = assumptions_for(n, paths, months, draws)
    transitions = estimate()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    wall = time.perf_counter()
    simulate(book, reserve, transitions, a)
    wall = time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"bytes": peak - before, "wall": wall}))


def main() -> None:
    print("Projection memory: estimate (risk.projection.model.estimate_cost) against measured peak")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'loans':>6} {'paths':>8} {'months':>6} {'draws':>5} {'est MB':>8} {'est s':>6}  verdict")
    worst = 0
    for n, paths, months, draws in CASES:
        book, _, a = assumptions_for(n, paths, months, draws)
        grouped = group_loans(book, a)
        cost = estimate_cost(a, grouped.n_groups, grouped.class_state.shape[0])
        limits = dataclasses.replace(a, max_bytes=1536 * 2**20, max_seconds=15 * 60)
        try:
            check_work(limits, grouped.n_groups, grouped.class_state.shape[0])
        except ProjectionError as refused:
            verdict = f"refused (422): {refused.message[:60]}"
        else:
            out = subprocess.run(
                [sys.executable, __file__, "--case", str(n), str(paths), str(months), str(draws)],
                check=True,
                capture_output=True,
                text=True,
            )
            measured = json.loads(out.stdout.strip().splitlines()[-1])
            worst = max(worst, measured["bytes"])
            ok = "estimate above" if cost.bytes >= measured["bytes"] else "ESTIMATE BELOW"
            verdict = f"measured {measured['bytes'] / 2**20:,.0f} MB in {measured['wall']:.1f} s ({ok})"
        print(
            f"{n:>6,} {paths:>8,} {months:>6} {draws:>5} {cost.bytes / 2**20:>8,.0f} {cost.seconds:>6.0f}  {verdict}"
        )
    print(f"largest measured peak of an accepted run: {worst / 2**20:,.0f} MB (ceiling 1,536 MB)")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--case":
        child(*(int(x) for x in sys.argv[2:]))
    else:
        main()
