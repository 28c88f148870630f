"""What the projection models return: plain value objects of numpy arrays.

Money is int64 cents everywhere a caller could show it, converted once from the models' internal
floats by rounding half up to the cent (:func:`risk.projection.model.cents`; every amount is >= 0).
Percentiles are numpy's linear-interpolation percentiles of the path values, then rounded the same
way. Each figure is rounded on its own, so a rounded monthly column may differ by a cent from the
rounded total. Counts and probabilities stay floats. ``risk.money.from_cents`` turns a cent figure
into a ``Decimal`` for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from risk.projection.model import cents
from risk.rollrate import FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]

#: Percentiles reported for the distribution of total claims.
TOTAL_CLAIMS_PERCENTILES = (1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0)
HISTOGRAM_BINS = 40


class Band(NamedTuple):
    """P5 / P50 / P95 of an amount by month, int64 cents, shape ``(horizon,)`` each."""

    p5: IntArray
    p50: IntArray
    p95: IntArray


class ClaimsDistribution(NamedTuple):
    """Distribution over paths of the total claims paid within the horizon.

    Attributes
    ----------
    mean_cents, std_cents
        Mean and standard deviation over paths.
    standard_error_cents
        Monte Carlo standard error of the mean (``std / sqrt(paths)``).
    percentiles
        The percentile levels (``TOTAL_CLAIMS_PERCENTILES``).
    values_cents
        Total claims at those levels.
    histogram_edges_cents, histogram_counts
        ``HISTOGRAM_BINS`` equal bins from the smallest to the largest total (edges has one more
        entry than counts); counts sum to the number of paths.
    """

    mean_cents: int
    std_cents: int
    standard_error_cents: int
    percentiles: FloatArray
    values_cents: IntArray
    histogram_edges_cents: IntArray
    histogram_counts: IntArray


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """The Monte Carlo draw-down of the reserve (``simulate`` or ``reference_simulation``).

    Attributes
    ----------
    months
        1..horizon.
    paths, seed, parameter_draws
        How it was run: the same three (and inputs) give the same figures.
    available
        P5/P50/P95 of the reserve available (uncommitted) at each month end.
    cumulative_claims
        P5/P50/P95 of claims paid (from commitments and from available) up to each month end.
    exhaustion_probability
        Share of paths where, by that month, the reserve could not pay a claim in full or could
        not commit to a new loan of the pipeline. Non-decreasing.
    total_claims
        Distribution of the claims paid within the horizon.
    mean_available, mean_committed, mean_cumulative_claims
        The mean path, cents.
    std_available_cents
        Standard deviation of available over paths, by month (its Monte Carlo standard error is
        this over the square root of ``paths``).
    mean_charge_offs, mean_loss_cents
        Mean number of charge-offs and mean loss (balance less recovery) by month.
    mean_new_loans
        Mean number of pipeline loans booked by month.
    """

    months: IntArray
    paths: int
    seed: int
    parameter_draws: int
    available: Band
    cumulative_claims: Band
    exhaustion_probability: FloatArray
    total_claims: ClaimsDistribution
    mean_available: IntArray
    mean_committed: IntArray
    mean_cumulative_claims: IntArray
    std_available_cents: IntArray
    mean_charge_offs: FloatArray
    mean_loss_cents: IntArray
    mean_new_loans: FloatArray


@dataclass(frozen=True, eq=False)
class ExpectedProjection:
    """The analytic month-by-month projection (``expected_projection``).

    Flows are expectations over loans' outcomes and layoffs, run through the reserve's rules month
    by month (commitment first, pooled, caps, available never below zero). While the reserve covers
    every demand this is the exact expectation; once it cannot, the expectation of the reserve's
    path differs from this expected-flows path, and the Monte Carlo is the measure to read.

    Attributes
    ----------
    months
        1..horizon.
    charge_offs, payoffs
        Expected number of loans charged off / paid off (prepaid or matured) each month.
    charged_off_balance_cents, loss_cents
        Expected balance charged off and loss (balance less the car's recovery) each month.
    claims_cents
        Expected claims paid each month: ``claims_from_commitments_cents +
        claims_from_available_cents``.
    unpaid_claims_cents
        The part of claims the reserve could not pay (non-pooled policy, or available ran short).
    releases_cents
        Commitments returned to available: whole commitments of paid-off loans, and what is left
        of a charged-off loan's commitment after its claim.
    new_loans, new_commitments_cents
        Pipeline loans booked and the reserve committed to them.
    deposits_cents
        Grant money deposited.
    available_cents, committed_cents
        The reserve at each month end: uncommitted, and committed to live loans.
    exhaustion_month
        First month (1-based) the reserve could not meet a demand in full, or None.
    total_claims_cents, total_loss_cents
        Totals over the horizon (rounded from the unrounded sums).
    loss_by_employer_cents
        Expected loss over the horizon of each employer's current loans.
    """

    months: IntArray
    charge_offs: FloatArray
    payoffs: FloatArray
    charged_off_balance_cents: IntArray
    loss_cents: IntArray
    claims_cents: IntArray
    claims_from_commitments_cents: IntArray
    claims_from_available_cents: IntArray
    unpaid_claims_cents: IntArray
    releases_cents: IntArray
    new_loans: FloatArray
    new_commitments_cents: IntArray
    deposits_cents: IntArray
    available_cents: IntArray
    committed_cents: IntArray
    exhaustion_month: int | None
    total_claims_cents: int
    total_loss_cents: int
    loss_by_employer_cents: IntArray


@dataclass
class PathRecord:
    """Per-path figures collected by a simulation (internal; floats in cents)."""

    available: FloatArray  # (P, H)
    committed: FloatArray  # (P, H)
    cumulative_claims: FloatArray  # (P, H)
    exhausted: BoolArray  # (P, H), cumulative
    charge_offs: FloatArray  # (H,) sum over paths
    loss: FloatArray  # (H,) sum over paths
    new_loans: FloatArray  # (H,) sum over paths


def band(values: FloatArray) -> Band:
    p5, p50, p95 = np.percentile(values, [5.0, 50.0, 95.0], axis=0, method="linear")
    return Band(cents(p5), cents(p50), cents(p95))


def summarise(record: PathRecord, *, seed: int, parameter_draws: int) -> SimulationResult:
    paths, horizon = record.available.shape
    total = record.cumulative_claims[:, -1]
    std = float(total.std(ddof=1)) if paths > 1 else 0.0
    levels = np.array(TOTAL_CLAIMS_PERCENTILES)
    counts, edges = np.histogram(total, bins=HISTOGRAM_BINS)
    exhausted = np.maximum.accumulate(record.exhausted, axis=1)
    return SimulationResult(
        months=np.arange(1, horizon + 1, dtype=np.int64),
        paths=paths,
        seed=seed,
        parameter_draws=parameter_draws,
        available=band(record.available),
        cumulative_claims=band(record.cumulative_claims),
        exhaustion_probability=exhausted.mean(axis=0),
        total_claims=ClaimsDistribution(
            mean_cents=int(cents(total.mean())),
            std_cents=int(cents(std)),
            standard_error_cents=int(cents(std / np.sqrt(paths))),
            percentiles=levels,
            values_cents=cents(np.percentile(total, levels, method="linear")),
            histogram_edges_cents=cents(edges),
            histogram_counts=counts.astype(np.int64),
        ),
        mean_available=cents(record.available.mean(axis=0)),
        mean_committed=cents(record.committed.mean(axis=0)),
        mean_cumulative_claims=cents(record.cumulative_claims.mean(axis=0)),
        std_available_cents=cents(record.available.std(axis=0, ddof=1) if paths > 1 else np.zeros(horizon)),
        mean_charge_offs=record.charge_offs / paths,
        mean_loss_cents=cents(record.loss / paths),
        mean_new_loans=record.new_loans / paths,
    )
