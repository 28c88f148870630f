"""Benchmark: the outcome report's arithmetic at program scale (run: python bench/outcomes.py).

Builds 2,000 loan facts (ten times the demo book of about 150 loans) with four check-ins each, drawn
from a seeded generator, and times ``loanapp.outcomes.report.build`` (headline, totals and every
group of five dimensions, with medians per check-in). Pure Python: no database, no app. Prints the
median of five runs; target under 2 s so the staff page stays interactive at any realistic size.
"""

from __future__ import annotations

import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loanapp.outcomes import report as rpt  # noqa: E402

LOANS = 2_000
MONTHS = (3, 6, 12, 24)


def facts(rng: np.random.Generator) -> list[rpt.LoanFact]:
    out = []
    employers = [f"Employer {i}" for i in range(40)]
    for n in range(LOANS):
        wage = Decimal(int(rng.integers(52, 81)) * 25) / 100
        checks: dict[int, tuple[str, rpt.Answer | None]] = {}
        latest = None
        for months in MONTHS:
            u = rng.random()
            if u < 0.1:
                checks[months] = ("upcoming", None)
            elif u < 0.25:
                checks[months] = ("missed", None)
            else:
                employed = bool(rng.random() < 0.9)
                latest = rpt.Answer(employed, wage + Decimal("0.25") * months // 6 if employed else None,
                                    Decimal(40) if employed else None, bool(rng.random() < 0.9))  # fmt: skip
                checks[months] = ("answered", latest)
        out.append(
            rpt.LoanFact(
                cohort=f"{2024 + n % 3}-Q{1 + n % 4}",
                employer=employers[int(rng.integers(len(employers)))],
                training_program=("(none)", "Machine Operator Program")[n % 2],
                referral_partner=f"Partner {n % 8}",
                employment_status=("Employed", "Job offer", "In training")[n % 3],
                asks_start=n % 3 != 0,
                started=None if n % 3 == 0 else bool(rng.random() < 0.85),
                wage_at_application=wage,
                hours_at_application=Decimal(40),
                performance=rpt.PERFORMANCE[int(rng.integers(4))],
                checks=checks,
                latest=latest,
            )
        )
    return out


def main() -> None:
    data = facts(np.random.default_rng(2026))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        report = rpt.build(data, MONTHS, Decimal("100000.00"))
        times.append(time.perf_counter() - start)
    print(f"outcome report over {LOANS:,} loans x {len(MONTHS)} check-ins: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f} s); groups: {sum(len(g) for g in report.groups.values())}")  # fmt: skip


if __name__ == "__main__":
    main()
