"""Benchmark: the grant-needed search (``risk.projection.grant``) beside the simulation it reuses
(run: python bench/grant.py).

On the synthetic books of ``bench/projection.py`` (1,000 and 10,000 loans, 10,000 paths x 36 months)
with a reserve made tight on purpose (a fiftieth of the book's commitments available, no grant money,
the pipeline of ``bench/projection.py``), it prints the simulation's time, the search's time and number of tries, the grant found
for a 5% target arriving in month 3, and checks it on the same paths: the amount meets the target and
the amount one step below does not.
"""

from __future__ import annotations

import dataclasses
import time

from projection import estimate, setting

from risk.projection import Reserve, simulate
from risk.projection.grant import GrantReplay, grant_needed

TARGET = 0.05
MONTH = 1


def main() -> None:
    print(f"Grant needed: target {TARGET:.0%}, grant arriving in month {MONTH}; 10,000 paths x 36 months")
    transitions = estimate()
    for n in (1_000, 10_000):
        book, reserve, assumptions = setting(n)
        assumptions = dataclasses.replace(assumptions, grant_deposits_cents=0)
        reserve = Reserve(available_cents=int(book.commitment_cents.sum() // 50))
        start = time.process_time()
        base = simulate(book, reserve, transitions, assumptions)
        simulated = time.process_time() - start
        start = time.process_time()
        found = grant_needed(book, reserve, transitions, assumptions, target=TARGET, month=MONTH)
        searched = time.process_time() - start
        print(
            f"{n:>7,} loans: simulate {simulated:5.1f} s CPU, P(run out) {base.exhaustion_probability[-1]:.3f}; "
            f"search {searched:5.1f} s CPU, {found.evaluations} tries; grant "
            + ("none can" if found.amount_cents is None else f"${found.amount_cents / 100:,.0f}")
            + (
                f" (P with it {found.probability:.3f}, step ${found.step_cents / 100:,.0f})"
                if found.probability
                else ""
            )
        )
        if found.amount_cents:
            replay = GrantReplay(book, reserve, transitions, assumptions, MONTH)
            below = replay.chance(found.amount_cents - found.step_cents)
            print(
                f"          check: P at the amount {replay.chance(found.amount_cents):.4f}, one step below {below:.4f}"
            )


if __name__ == "__main__":
    main()
