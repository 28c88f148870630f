"""Named stress scenarios, run side by side against the base case, and the book's concentration.

Every scenario is a change to the :class:`~risk.projection.Assumptions` (nothing else: same book,
same reserve, same estimate), so staff can read each result as "the base case, except ...".
:func:`run_scenarios` runs them all with the same seed: common random numbers, so the differences
between columns come from the scenarios and not from Monte Carlo noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from risk.projection import (
    Assumptions,
    Closure,
    Portfolio,
    ProjectionError,
    Reserve,
    SimulationResult,
    expected_projection,
    simulate,
)
from risk.projection.montecarlo import Progress
from risk.rollrate import FloatArray, IntArray, TransitionEstimate


@dataclass(frozen=True)
class Scenario:
    """A named change to the assumptions.

    Attributes
    ----------
    name
        Identifier (used in URLs and as the key of :func:`run_scenarios`' result).
    title
        Short label for staff.
    description
        What the scenario assumes, in words.
    apply
        The change: ``apply(portfolio, assumptions) -> assumptions``.
    """

    name: str
    title: str
    description: str
    apply: Callable[[Portfolio, Assumptions], Assumptions]


def largest_employer(portfolio: Portfolio) -> int:
    """Index of the employer whose borrowers owe the most (ties: the lower index)."""
    if portfolio.n_loans == 0:
        raise ProjectionError("portfolio", "has no loans, so no largest employer")
    owed = np.bincount(
        portfolio.employer,
        weights=portfolio.balance_cents.astype(np.float64),
        minlength=portfolio.n_employers,
    )
    return int(np.argmax(owed))


def _base(portfolio: Portfolio, assumptions: Assumptions) -> Assumptions:
    return assumptions


def _largest_employer_closes(portfolio: Portfolio, assumptions: Assumptions) -> Assumptions:
    employer = largest_employer(portfolio)
    others = tuple(c for c in assumptions.closures if c.employer != employer)
    return dataclasses.replace(assumptions, closures=(*others, Closure(employer, start_month=1, months=None)))


def _roll_rates_x2(portfolio: Portfolio, assumptions: Assumptions) -> Assumptions:
    return dataclasses.replace(assumptions, roll_rate_multiplier=assumptions.roll_rate_multiplier * 2.0)


def _no_new_grant_money(portfolio: Portfolio, assumptions: Assumptions) -> Assumptions:
    return dataclasses.replace(assumptions, grant_deposits_cents=0)


def _recovery_rate_halves(portfolio: Portfolio, assumptions: Assumptions) -> Assumptions:
    return dataclasses.replace(assumptions, recovery_rate=assumptions.recovery_rate / 2.0)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("base", "Base case", "The assumptions as given.", _base),
        Scenario(
            "largest_employer_closes",
            "Largest employer closes",
            "The employer whose borrowers owe the most closes in month 1 for good: its borrowers follow "
            "the stressed (layoff) transition matrix for the whole horizon. Their cure rates in that "
            "matrix stand for finding other work.",
            _largest_employer_closes,
        ),
        Scenario(
            "roll_rates_x2",
            "Roll rates double",
            "Every delinquency-worsening probability (to a later bucket, or to charge-off) is doubled, "
            "the rest of each row scaled down to keep it summing to 1; layoff stress applies on top.",
            _roll_rates_x2,
        ),
        Scenario(
            "no_new_grant_money",
            "No new grant money",
            "No grant deposits for the whole horizon.",
            _no_new_grant_money,
        ),
        Scenario(
            "recovery_rate_halves",
            "Recovery rate halves",
            "Selling a charged-off borrower's car brings half of what the base case assumes.",
            _recovery_rate_halves,
        ),
    )
}


def scenario_assumptions(portfolio: Portfolio, assumptions: Assumptions, name: str) -> Assumptions:
    """The assumptions of one named scenario."""
    if name not in SCENARIOS:
        raise ProjectionError("scenarios", f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return SCENARIOS[name].apply(portfolio, assumptions)


def run_scenarios(
    portfolio: Portfolio,
    reserve: Reserve,
    transitions: TransitionEstimate,
    assumptions: Assumptions,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, SimulationResult]:
    """Simulate each named scenario (all of them by default, base first) with common random numbers.

    All runs use the same seed (``assumptions.seed``, or one drawn once for all when it is None),
    so a path of one scenario faces the same layoffs, parameter draws and random numbers as the
    same path of another wherever the scenario does not change them. ``progress`` gets the overall
    fraction done.
    """
    chosen = list(SCENARIOS) if names is None else list(names)
    if not chosen:
        raise ProjectionError("scenarios", "name at least one scenario")
    if len(set(chosen)) != len(chosen):
        raise ProjectionError("scenarios", "names a scenario twice")
    for name in chosen:
        scenario_assumptions(portfolio, assumptions, name)  # refuse unknown names before any work
    seed = assumptions.seed
    if seed is None:
        seed = int(np.random.default_rng().integers(2**63))
    common = dataclasses.replace(assumptions, seed=seed)
    results: dict[str, SimulationResult] = {}
    for index, name in enumerate(chosen):

        def report(done: float, index: int = index) -> None:
            if progress is not None:
                progress((index + done) / len(chosen))

        results[name] = simulate(
            portfolio, reserve, transitions, scenario_assumptions(portfolio, common, name), report
        )
    return results


@dataclass(frozen=True, eq=False)
class Concentration:
    """How much of the book, and of its expected loss, sits with each employer.

    Attributes
    ----------
    employer_names
        As in the portfolio.
    loans
        Number of loans per employer.
    balance_cents
        Outstanding balance per employer.
    balance_share
        Share of the book's outstanding balance (sums to 1 when there is any balance).
    expected_loss_cents
        Expected loss within the horizon on each employer's current loans (from
        :func:`~risk.projection.expected_projection`; the pipeline is not attributed to employers).
    expected_loss_share
        Share of that expected loss.
    """

    employer_names: tuple[str, ...]
    loans: IntArray
    balance_cents: IntArray
    balance_share: FloatArray
    expected_loss_cents: IntArray
    expected_loss_share: FloatArray


def concentration(
    portfolio: Portfolio, reserve: Reserve, transitions: TransitionEstimate, assumptions: Assumptions
) -> Concentration:
    """Share of outstanding balance and of expected loss by employer."""
    e = portfolio.n_employers
    balance = np.zeros(e, dtype=np.int64)
    np.add.at(balance, portfolio.employer, portfolio.balance_cents)
    loss = expected_projection(portfolio, reserve, transitions, assumptions).loss_by_employer_cents
    total_balance = float(balance.sum())
    total_loss = float(loss.sum())
    return Concentration(
        employer_names=portfolio.employer_names,
        loans=np.bincount(portfolio.employer, minlength=e).astype(np.int64),
        balance_cents=balance,
        balance_share=balance / total_balance if total_balance else np.zeros(e),
        expected_loss_cents=loss,
        expected_loss_share=loss / total_loss if total_loss else np.zeros(e),
    )
