"""Benchmark: the reserve's Monte Carlo projection at 1,000 / 10,000 / 100,000 / 1,000,000 loans (run: python bench/projection.py).

Each case runs ``risk.projection.simulate`` once, 10,000 paths x 36 months with the default
assumptions (20 posterior draws of the transition matrix, layoffs at 5% per employer per year, a
pipeline, grant deposits), in a fresh subprocess so that its peak memory (``ru_maxrss``) is its
own. Wall time includes everything the call does (grouping, outcome tables, the paths). The book is
a seeded synthetic one: twelve employers of the programme, skewed in size; 36-72 month loans of
$4,000-25,000 at 5-15%, seasoned; 6% of loans delinquent.

The per-loan reference (``reference_simulation``) is timed on the 1,000-loan book with fewer
paths and extrapolated linearly in paths (its cost is exactly proportional to them).

Targets (issues #7 and #16): 10,000 loans under 5 s and 2 GB; 100,000 loans under 4 s and 1 GB;
1,000,000 loans (a statewide, many-lender reserve) under 20 s and 4 GB; cost growing less than
linearly in loans; at least 50x faster than the reference on the 1,000-loan book. CPU seconds are
printed beside wall seconds: on a machine shared with other work the wall time says more about the
neighbours than about the code. ``BENCH_CASES=1000,100000`` runs only some of the books.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from risk.projection import Assumptions, Portfolio, Reserve, reference_simulation, simulate
from risk.projection.model import group_loans
from risk.rollrate import DEFAULT_PRIOR, TransitionEstimate, estimate_transitions

CASES = tuple(int(n) for n in os.environ.get("BENCH_CASES", "1000,10000,100000,1000000").split(","))
PATHS = 10_000
HORIZON = 36
REFERENCE_PATHS = 20
#: Loans: (seconds, bytes of peak memory).
TARGETS = {10_000: (5.0, 2 * 1024**3), 100_000: (4.0, 1024**3), 1_000_000: (20.0, 4 * 1024**3)}
TARGET_SPEEDUP = 50
EMPLOYERS = (
    "Darco Manufacturing",
    "Falk Precision",
    "PPC",
    "Midstate Spring",
    "Associated Spring",
    "Cryomech",
    "Berry Plastics",
    "Advanced Central Services",
    "Dannon Tool",
    "Precision Systems",
    "Byrne Dairy",
    "Tessy Plastics",
)


def synthetic_book(n: int, seed: int = 20261123) -> Portfolio:
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(len(EMPLOYERS), 1.5))
    term = rng.choice([36, 48, 60, 72], n, p=[0.15, 0.3, 0.4, 0.15])
    age = np.floor(rng.random(n) * term * 0.85).astype(np.int64)
    principal = rng.integers(400_000, 2_500_001, n)
    rate = rng.integers(500, 1_501, n)
    r = rate / 120_000
    # ``level_payment_cents`` for every loan at once (the same float formula; rates here are never 0).
    payment = np.floor(principal * r / -np.expm1(-term * np.log1p(r)) + 0.5).astype(np.int64)
    balance = principal * (1 + r) ** age - payment * ((1 + r) ** age - 1) / r
    return Portfolio(
        loan_id=np.arange(n, dtype=np.int64),
        state=rng.choice(5, n, p=[0.94, 0.03, 0.015, 0.01, 0.005]),
        balance_cents=np.maximum(np.floor(balance), 5_000).astype(np.int64),
        rate_bp=rate,
        remaining_term=term - age,
        payment_cents=payment,
        employer=rng.choice(len(EMPLOYERS), n, p=shares),
        commitment_cents=np.floor(principal * 0.15 + 0.5).astype(np.int64),
        employer_names=EMPLOYERS,
    )


def estimate() -> TransitionEstimate:
    """The prior plus a year of a 300-loan book's bucket history (simulated from the prior itself)."""
    rng = np.random.default_rng(7)
    counts = np.zeros((5, 7), dtype=np.int64)
    months = np.array([3300, 110, 40, 25, 15])
    for row in range(5):
        counts[row] = rng.multinomial(months[row], DEFAULT_PRIOR.mean[row])
    return estimate_transitions(counts)


def setting(n: int, paths: int = PATHS) -> tuple[Portfolio, Reserve, Assumptions]:
    book = synthetic_book(n)
    reserve = Reserve(available_cents=int(book.commitment_cents.sum() // 4))
    assumptions = Assumptions(
        horizon_months=HORIZON,
        paths=paths,
        seed=1,
        originations_per_month=max(1, n // 150),
        origination_amount_cents=1_200_000,
        grant_deposits_cents=n * 2_000,
    )
    return book, reserve, assumptions


def child(n: int) -> None:
    book, reserve, assumptions = setting(n)
    transitions = estimate()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    wall = time.perf_counter()
    cpu = time.process_time()
    result = simulate(book, reserve, transitions, assumptions)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "loans": n,
                "groups": group_loans(book, assumptions).n_groups,
                "wall": wall,
                "cpu": cpu,
                "peak": peak,
                "before": before,
                "claims": result.total_claims.mean_cents,
                "exhausted": float(result.exhaustion_probability[-1]),
                "payoffs": "drawn" if n <= assumptions.draw_payoffs_up_to else "expected",
            }
        )
    )


def reference_seconds() -> float:
    book, reserve, assumptions = setting(1_000, REFERENCE_PATHS)
    start = time.perf_counter()
    reference_simulation(book, reserve, estimate(), assumptions)
    return time.perf_counter() - start


def main() -> None:
    print(f"Monte Carlo projection: {PATHS:,} paths x {HORIZON} months, default assumptions")
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (other work slows wall time)"
    )
    rows = []
    for n in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--case", str(n)], check=True, capture_output=True, text=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"{'loans':>8} {'groups':>7} {'payoffs':>9} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'(+ MB)':>7}  mean claims"
    )
    for r in rows:
        print(
            f"{r['loans']:>8,} {r['groups']:>7,} {r['payoffs']:>9} {r['wall']:>7.2f} {r['cpu']:>7.2f} "
            f"{r['peak'] / 2**20:>8.0f} {(r['peak'] - r['before']) / 2**20:>7.0f}  ${r['claims'] / 100:,.0f}"
        )
    by = {r["loans"]: r for r in rows}
    for small, big in zip(CASES, CASES[1:], strict=False):
        print(
            f"growth of wall time from {small:,} to {big:,} loans: x{by[big]['wall'] / by[small]['wall']:.1f} "
            f"(cpu x{by[big]['cpu'] / by[small]['cpu']:.1f}, loans x{big / small:.0f})"
        )
    met: dict[str, bool] = {}
    for n, (seconds, size) in TARGETS.items():
        if n in by:
            met[f"{n:,} loans under {seconds:.0f} s (wall {by[n]['wall']:.1f}, cpu {by[n]['cpu']:.1f})"] = (
                by[n]["wall"] < seconds
            )
            met[f"{n:,} loans under {size / 2**30:.0f} GB ({by[n]['peak'] / 2**30:.2f} GB)"] = (
                by[n]["peak"] < size
            )
    met["less than linear in loans"] = all(
        by[big]["wall"] / by[small]["wall"] < big / small
        for small, big in zip(CASES, CASES[1:], strict=False)
    )
    if 1_000 in by:
        ref = reference_seconds()
        ref_full = ref * PATHS / REFERENCE_PATHS
        speedup = ref_full / by[1_000]["wall"]
        print(
            f"per-loan reference, 1,000 loans: {ref:.1f} s for {REFERENCE_PATHS} paths "
            f"-> {ref_full:,.0f} s for {PATHS:,} (extrapolated x{PATHS // REFERENCE_PATHS}, linear in paths)"
        )
        print(f"speed-up of simulate over the reference on 1,000 loans: {speedup:,.0f}x")
        met[f"at least {TARGET_SPEEDUP}x the reference"] = speedup >= TARGET_SPEEDUP
    for name, ok in met.items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        child(int(sys.argv[2]))
    else:
        main()
