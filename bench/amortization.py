"""Benchmark: a 100,000-loan portfolio amortised to the cent (run: python bench/amortization.py).

Compares, on the same seeded loans ($3,000-30,000, 3-18%, 12-84 months):

* ``risk.amortization.portfolio_schedules`` on all 100,000 loans at once;
* a per-loan loop of the scalar Decimal ``risk.amortization.schedule``;
* a per-loan loop of numpy-financial's ``ipmt``/``ppmt`` (floats, not rounded to cents).

The two loops are timed on a sample of 5,000 loans and extrapolated to 100,000, to keep the run
short. The vectorised result is checked against the scalar schedules on that sample.
"""

from __future__ import annotations

import time
from decimal import Decimal

import numpy as np
import numpy_financial as npf

from risk.amortization import portfolio_schedules, schedule
from risk.money import from_cents, to_cents

N_LOANS = 100_000
SAMPLE = 5_000
TARGET_SECONDS = 0.5
TARGET_SPEEDUP = 30


def main() -> None:
    rng = np.random.default_rng(20260101)
    principals = rng.integers(300_000, 3_000_001, N_LOANS)  # cents
    rates = rng.integers(300, 1_801, N_LOANS)  # basis points
    terms = rng.integers(12, 85, N_LOANS)
    sample = rng.choice(N_LOANS, SAMPLE, replace=False)

    start = time.perf_counter()
    result = portfolio_schedules(principals, rates, terms)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        portfolio_schedules(principals, rates, terms)
        warm.append(time.perf_counter() - start)

    start = time.perf_counter()
    scalar = {
        int(i): schedule(from_cents(int(principals[i])), Decimal(int(rates[i])) / 100, int(terms[i]))
        for i in sample
    }
    scalar_sample = time.perf_counter() - start

    start = time.perf_counter()
    for i in sample:
        n = int(terms[i])
        periods = np.arange(1, n + 1)
        monthly_rate = int(rates[i]) / 120_000
        npf.ipmt(monthly_rate, periods, n, -int(principals[i]) / 100)
        npf.ppmt(monthly_rate, periods, n, -int(principals[i]) / 100)
    npf_sample = time.perf_counter() - start

    mismatches = 0
    for i, rows in scalar.items():
        n = len(rows)
        if (
            result.payment[i, :n].tolist() != [to_cents(r.payment) for r in rows]
            or result.interest[i, :n].tolist() != [to_cents(r.interest) for r in rows]
            or result.principal[i, :n].tolist() != [to_cents(r.principal) for r in rows]
            or result.balance[i, :n].tolist() != [to_cents(r.balance) for r in rows]
            or result.payment[i, n:].any()
        ):
            mismatches += 1
    exact_totals = (
        bool(np.array_equal(result.principal.sum(axis=1), principals)) and not result.balance[:, -1].any()
    )

    scale = N_LOANS / SAMPLE
    scalar_full = scalar_sample * scale
    npf_full = npf_sample * scale
    best = min(warm)
    print(
        f"portfolio: {N_LOANS:,} loans, max term {result.payment.shape[1]} months, {result.payment.dtype} cents"
    )
    print(f"  portfolio_schedules, first call (fresh memory): {cold:8.3f} s")
    print(f"  portfolio_schedules, best of 3 repeat calls:   {best:8.3f} s")
    print(
        f"  scalar Decimal schedule loop: {scalar_sample:.2f} s for {SAMPLE:,} loans -> {scalar_full:7.1f} s"
    )
    print(f"  numpy-financial ipmt/ppmt loop: {npf_sample:.2f} s for {SAMPLE:,} loans -> {npf_full:7.1f} s")
    print(f"  (the two loops were timed on {SAMPLE:,} loans and extrapolated x{scale:.0f} to {N_LOANS:,})")
    print(
        f"  speedup over the numpy-financial loop: {npf_full / cold:6.0f}x (first call), {npf_full / best:6.0f}x"
    )
    print(
        f"  speedup over the scalar Decimal loop:  {scalar_full / cold:6.0f}x (first call), {scalar_full / best:6.0f}x"
    )
    print(
        f"  vectorised == scalar on the {SAMPLE:,}-loan sample: {SAMPLE - mismatches:,} equal, {mismatches} differ"
    )
    print(f"  principal parts sum to every principal, every final balance 0.00: {exact_totals}")
    ok = cold < TARGET_SECONDS and npf_full / cold >= TARGET_SPEEDUP and mismatches == 0 and exact_totals
    print(
        f"  targets (< {TARGET_SECONDS} s, >= {TARGET_SPEEDUP}x numpy-financial, exact): {'met' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
