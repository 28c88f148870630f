"""Benchmark: the reserve's Monte Carlo projection at 1,000 / 10,000 / 100,000 loans (run: python bench/projection.py).

Each case runs ``risk.projection.simulate`` once, 10,000 paths x 36 months with the default
assumptions (20 posterior draws of the transition matrix, layoffs at 5% per employer per year, a
pipeline, grant deposits), in a fresh subprocess so that its peak memory (``ru_maxrss``) is its
own. Wall time includes everything the call does (grouping, outcome tables, the paths). The book is
a seeded synthetic one: twelve employers of the programme, skewed in size; 36-72 month loans of
$4,000-25,000 at 5-15%, seasoned; 6% of loans delinquent.

The per-loan reference (``reference_simulation``) is timed on the 1,000-loan book with fewer
paths and extrapolated linearly in paths (its cost is exactly proportional to them).

Targets (from the issue): 10,000 loans under 5 s and 2 GB; cost growing less than linearly in
loans; at least 50x faster than the reference on the 1,000-loan book.
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
from risk.projection.model import group_loans, level_payment_cents
from risk.rollrate import DEFAULT_PRIOR, TransitionEstimate, estimate_transitions

CASES = (1_000, 10_000, 100_000)
PATHS = 10_000
HORIZON = 36
REFERENCE_PATHS = 20
TARGET_SECONDS = 5.0
TARGET_BYTES = 2 * 1024**3
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
    payment = np.array(
        [level_payment_cents(int(p), int(r), int(t)) for p, r, t in zip(principal, rate, term, strict=True)]
    )
    r = rate / 120_000
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
    growth_1 = by[10_000]["wall"] / by[1_000]["wall"]
    growth_2 = by[100_000]["wall"] / by[10_000]["wall"]
    print(
        f"growth of wall time: x{growth_1:.1f} from 1,000 to 10,000 loans, x{growth_2:.1f} from 10,000 to 100,000"
    )

    ref = reference_seconds()
    ref_full = ref * PATHS / REFERENCE_PATHS
    speedup = ref_full / by[1_000]["wall"]
    print(
        f"per-loan reference, 1,000 loans: {ref:.1f} s for {REFERENCE_PATHS} paths "
        f"-> {ref_full:,.0f} s for {PATHS:,} (extrapolated x{PATHS // REFERENCE_PATHS}, linear in paths)"
    )
    print(f"speed-up of simulate over the reference on 1,000 loans: {speedup:,.0f}x")
    ten = by[10_000]
    met = {
        f"10,000 loans under {TARGET_SECONDS:.0f} s": ten["wall"] < TARGET_SECONDS,
        "10,000 loans under 2 GB": ten["peak"] < TARGET_BYTES,
        "less than linear in loans": growth_1 < 10 and growth_2 < 10,
        f"at least {TARGET_SPEEDUP}x the reference": speedup >= TARGET_SPEEDUP,
    }
    for name, ok in met.items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        child(int(sys.argv[2]))
    else:
        main()
