"""Benchmark: Appendix J APRs of 10,000 loans (run: python bench/apr.py).

The loans ($3,000-30,000, 3-18%, 12-84 months, seeded) are scheduled with
``risk.amortization.portfolio_schedules``; their APRs come from one call of
``risk.apr.annual_percentage_rates``. A loop of the one-loan ``annual_percentage_rate`` is timed
on a sample and extrapolated, and must give the same figures. A third of the loans have a first
period of 45 days, the rest a regular month.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from risk.amortization import portfolio_schedules
from risk.apr import annual_percentage_rate, annual_percentage_rates
from risk.dates import add_months, monthly_due_dates
from risk.money import from_cents

N_LOANS = 10_000
SAMPLE = 500
TARGET_SECONDS = 2.0


def main() -> None:
    rng = np.random.default_rng(20260202)
    principals = rng.integers(300_000, 3_000_001, N_LOANS)
    rates = rng.integers(300, 1_801, N_LOANS)
    terms = rng.integers(12, 85, N_LOANS)
    contracts = [dt.date(2027, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, N_LOANS)]
    odd = rng.random(N_LOANS) < 1 / 3
    firsts = [
        c + dt.timedelta(days=45) if o else add_months(c, 1) for c, o in zip(contracts, odd, strict=True)
    ]

    schedules = portfolio_schedules(principals, rates, terms)
    financed = [from_cents(int(p)) for p in principals]
    payments = []
    for i in range(N_LOANS):
        n = int(terms[i])
        amounts = [from_cents(c) for c in schedules.payment[i, :n].tolist()]
        payments.append(list(zip(monthly_due_dates(firsts[i], n), amounts, strict=True)))
    payment_count = sum(len(p) for p in payments)

    start = time.perf_counter()
    aprs = annual_percentage_rates(financed, contracts, payments)
    batch_seconds = time.perf_counter() - start

    sample = rng.choice(N_LOANS, SAMPLE, replace=False)
    start = time.perf_counter()
    one_by_one = {int(i): annual_percentage_rate(financed[i], contracts[i], payments[i]) for i in sample}
    loop_seconds = time.perf_counter() - start
    differ = sum(one_by_one[i] != aprs[i] for i in one_by_one)

    note = np.array(rates) / 100
    deviation = np.array([float(a) for a in aprs]) - note
    regular = ~odd & np.array([c.day <= 28 for c in contracts])

    print(f"APR: {N_LOANS:,} loans, {payment_count:,} payments")
    print(f"  annual_percentage_rates (one vectorised solve): {batch_seconds:.3f} s")
    print(
        f"  annual_percentage_rate loop: {loop_seconds:.2f} s for {SAMPLE} loans -> "
        f"{loop_seconds * N_LOANS / SAMPLE:.1f} s for {N_LOANS:,} (timed on a sample, extrapolated)"
    )
    print(f"  batch == one-by-one on the sample: {SAMPLE - differ} equal, {differ} differ")
    print(f"  regular first period: max |APR - note rate| = {np.abs(deviation[regular]).max():.5f} points")
    print(
        f"  45-day first period: APR - note rate from {deviation[odd].min():.4f} to {deviation[odd].max():.4f} points"
    )
    ok = batch_seconds < TARGET_SECONDS and differ == 0
    print(f"  target (< {TARGET_SECONDS} s, batch equals scalar): {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
