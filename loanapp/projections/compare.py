"""Reading stored projections against each other and against what happened.

* :func:`month_over_month`: this month's snapshot beside last month's, figure by figure.
* :func:`forecast_vs_actual`: an earlier snapshot's bands for each month since, beside the reserve's
  actual available and claims paid at those month ends (from the ledger).

Money stays in whole cents here; the page formats it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loanapp.projections.book import actual_reserve
from loanapp.projections.results import month_end_after, scenario_result


@dataclass(frozen=True)
class Change:
    """One figure of this month's snapshot beside last month's. ``kind`` says how to show it:
    ``money`` (cents), ``probability`` (0..1; its change is in percentage points) or ``count``."""

    label: str
    kind: str
    current: float | int | None
    previous: float | int | None
    #: For a probability: the sampling error (95%) of each figure, for the page's ± note.
    current_margin: float | None = None
    previous_margin: float | None = None

    @property
    def change(self) -> float | int | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


def margin(probability: float | None, paths: int) -> float | None:
    """The 95% sampling error of a probability estimated from ``paths`` simulated futures:
    ``1.96 * sqrt(p (1 - p) / paths)`` (normal approximation; zero when no path or every path ran out,
    where the page says so in words instead).

    >>> round(margin(0.1, 10_000), 4)
    0.0059
    """
    if probability is None or paths <= 0:
        return None
    return 1.96 * math.sqrt(max(probability * (1 - probability), 0.0) / paths)


def _at(values: Sequence[Any], month: int) -> Any:
    """The value at a 1-based month, or the last one if the horizon is shorter."""
    if not values:
        return None
    return values[min(month, len(values)) - 1]


def headline(document: Mapping[str, Any], scenario: str = "base") -> dict[str, Any]:
    """The figures staff read first from a projection's scenario."""
    entry = scenario_result(document, scenario)
    if entry is None:
        return {}
    exhaustion = entry["exhaustion_probability"]
    horizon = len(exhaustion)
    first_likely = next((i + 1 for i, p in enumerate(exhaustion) if p >= 0.5), None)
    paths = int(document["paths"])
    last = exhaustion[-1] if exhaustion else 0.0
    return {
        "horizon": horizon,
        "paths": paths,
        "exhaustion_probability": last,
        "exhaustion_margin": margin(last, paths),
        "exhaustion_probability_12": _at(exhaustion, 12),
        "exhaustion_margin_12": margin(_at(exhaustion, 12), paths),
        "median_exhaustion_month": first_likely,
        "available_p50_12": _at(entry["available_cents"]["p50"], 12),
        "available_p50_end": _at(entry["available_cents"]["p50"], horizon),
        "available_p5_end": _at(entry["available_cents"]["p5"], horizon),
        "claims_mean": entry["total_claims"]["mean_cents"],
        "claims_standard_error": entry["total_claims"]["standard_error_cents"],
        "same_as_base": bool(entry.get("same_as_base")),
        "same_as_base_reason": entry.get("same_as_base_reason", ""),
        "claims_p95": claims_percentile(entry["total_claims"], 95.0),
        "expected_exhaustion_month": document["expected"]["exhaustion_month"],
    }


def claims_percentile(totals: Mapping[str, Any], level: float) -> int | None:
    """Total claims (cents) at one of the reported percentile levels, or None if not reported."""
    for p, value in zip(totals["percentiles"], totals["values_cents"], strict=True):
        if abs(p - level) < 1e-9:
            return int(value)
    return None


def month_over_month(current: Mapping[str, Any], previous: Mapping[str, Any]) -> list[Change]:
    """The base case of two snapshots, figure by figure."""
    now, then = headline(current), headline(previous)
    book_now, book_then = current["book"], previous["book"]
    rows = [
        Change("Loans in the book", "count", book_now["loans"], book_then["loans"]),
        Change(
            "Outstanding principal", "money", book_now["outstanding_cents"], book_then["outstanding_cents"]
        ),
        Change(
            "Available at the snapshot", "money", book_now["available_cents"], book_then["available_cents"]
        ),
        Change(
            "Probability the reserve runs out within the horizon",
            "probability",
            now.get("exhaustion_probability"),
            then.get("exhaustion_probability"),
            now.get("exhaustion_margin"),
            then.get("exhaustion_margin"),
        ),
        Change(
            "Probability it runs out within 12 months",
            "probability",
            now.get("exhaustion_probability_12"),
            then.get("exhaustion_probability_12"),
            now.get("exhaustion_margin_12"),
            then.get("exhaustion_margin_12"),
        ),
        Change(
            "Median available in 12 months",
            "money",
            now.get("available_p50_12"),
            then.get("available_p50_12"),
        ),
        Change(
            "Median available at the horizon",
            "money",
            now.get("available_p50_end"),
            then.get("available_p50_end"),
        ),
        Change("Expected claims over the horizon", "money", now.get("claims_mean"), then.get("claims_mean")),
        Change("95th percentile of claims", "money", now.get("claims_p95"), then.get("claims_p95")),
    ]
    return rows


@dataclass(frozen=True)
class ForecastMonth:
    """One month since a snapshot: its forecast (base case) and what happened."""

    month: int
    month_end: dt.date
    available_p5: int
    available_p50: int
    available_p95: int
    actual_available: int
    claims_p50: int
    claims_p95: int
    actual_claims: int
    expected_claims: int

    @property
    def available_within_band(self) -> bool:
        return self.available_p5 <= self.actual_available <= self.available_p95

    @property
    def claims_within_band(self) -> bool:
        return self.actual_claims <= self.claims_p95


def forecast_vs_actual(document: Mapping[str, Any], today: dt.date) -> list[ForecastMonth]:
    """Each whole month between a snapshot and ``today``: forecast bands against the ledger.

    Claims are counted from the snapshot date (claims paid at a month end less at the snapshot);
    expected claims are the mean over the snapshot's simulated paths of the claims paid by that month.
    """
    entry = scenario_result(document, "base")
    if entry is None:
        return []
    as_of = dt.date.fromisoformat(document["as_of"])
    horizon = len(entry["exhaustion_probability"])
    ends = [month_end_after(as_of, k) for k in range(1, horizon + 1)]
    ends = [d for d in ends if d <= today]
    if not ends:
        return []
    actual = actual_reserve([as_of, *ends])
    claims_before = actual[0].claims_paid_cents
    # Expected claims are the mean over the simulated paths, as everywhere else on the page.
    expected = entry["mean_cumulative_claims_cents"]
    rows = []
    for k, (day, month) in enumerate(zip(ends, actual[1:], strict=True), start=1):
        running = expected[k - 1]
        rows.append(
            ForecastMonth(
                month=k,
                month_end=day,
                available_p5=entry["available_cents"]["p5"][k - 1],
                available_p50=entry["available_cents"]["p50"][k - 1],
                available_p95=entry["available_cents"]["p95"][k - 1],
                actual_available=month.available_cents,
                claims_p50=entry["cumulative_claims_cents"]["p50"][k - 1],
                claims_p95=entry["cumulative_claims_cents"]["p95"][k - 1],
                actual_claims=month.claims_paid_cents - claims_before,
                expected_claims=running,
            )
        )
    return rows
