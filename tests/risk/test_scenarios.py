"""Named stress scenarios side by side with the base case, and the book's concentration by employer."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from risk.projection import Assumptions, Closure, ProjectionError, Reserve, simulate
from risk.scenarios import SCENARIOS, concentration, largest_employer, run_scenarios, scenario_assumptions
from tests.risk.test_projection import PRIOR_ONLY, book

ASSUMPTIONS = Assumptions(
    horizon_months=24,
    paths=2000,
    seed=5,
    layoff_probability=0.1,
    parameter_draws=10,
    originations_per_month=1,
    origination_amount_cents=900_000,
    grant_deposits_cents=30_000,
)


def test_the_four_stresses_and_the_base_case_are_named() -> None:
    assert list(SCENARIOS) == [
        "base",
        "largest_employer_closes",
        "roll_rates_x2",
        "no_new_grant_money",
        "recovery_rate_halves",
    ]
    for scenario in SCENARIOS.values():
        assert scenario.title and scenario.description


def test_each_scenario_changes_only_its_assumption() -> None:
    loans = book(30)
    base = scenario_assumptions(loans, ASSUMPTIONS, "base")
    assert base == ASSUMPTIONS
    closes = scenario_assumptions(loans, ASSUMPTIONS, "largest_employer_closes")
    assert closes.closures == (Closure(largest_employer(loans), start_month=1, months=None),)
    assert dataclasses.replace(closes, closures=()) == ASSUMPTIONS
    assert scenario_assumptions(loans, ASSUMPTIONS, "roll_rates_x2").roll_rate_multiplier == 2.0
    assert scenario_assumptions(loans, ASSUMPTIONS, "no_new_grant_money").grant_deposits_cents == 0
    assert scenario_assumptions(loans, ASSUMPTIONS, "recovery_rate_halves").recovery_rate == pytest.approx(
        0.175
    )


def test_the_largest_employer_is_the_one_whose_borrowers_owe_the_most() -> None:
    loans = book(30)
    owed = [int(loans.balance_cents[loans.employer == e].sum()) for e in range(loans.n_employers)]
    assert largest_employer(loans) == int(np.argmax(owed))


def test_scenarios_run_with_common_random_numbers() -> None:
    loans = book(30)
    reserve = Reserve(available_cents=800_000)
    results = run_scenarios(loans, reserve, PRIOR_ONLY, ASSUMPTIONS, ["base", "no_new_grant_money"])
    alone = simulate(loans, reserve, PRIOR_ONLY, ASSUMPTIONS)
    assert np.array_equal(results["base"].available.p50, alone.available.p50)
    assert results["base"].total_claims.mean_cents == alone.total_claims.mean_cents
    # Without grant money nothing but the deposits changes until the reserve runs short.
    gap = results["base"].mean_available - results["no_new_grant_money"].mean_available
    assert gap[0] == 30_000 and (gap >= 0).all()
    fresh = run_scenarios(
        loans, reserve, PRIOR_ONLY, dataclasses.replace(ASSUMPTIONS, seed=None), ["base", "roll_rates_x2"]
    )
    assert fresh["base"].seed == fresh["roll_rates_x2"].seed


def test_stress_scenarios_are_never_better_than_the_base_case() -> None:
    loans = book(40)
    reserve = Reserve(available_cents=1_500_000)
    results = run_scenarios(loans, reserve, PRIOR_ONLY, ASSUMPTIONS)
    base = results["base"]
    for name, result in results.items():
        assert (result.mean_available <= base.mean_available + 1).all(), name
        assert (result.available.p50 <= base.available.p50 + 1).all(), name
        assert (result.exhaustion_probability >= base.exhaustion_probability).all(), name
    for name in ("largest_employer_closes", "roll_rates_x2", "recovery_rate_halves"):
        stressed = results[name].total_claims
        assert stressed.mean_cents > base.total_claims.mean_cents, name
        assert stressed.values_cents[-2] >= base.total_claims.values_cents[-2], name  # P95


def test_unknown_or_repeated_scenarios_are_refused_before_any_work() -> None:
    loans = book(10)
    reserve = Reserve(available_cents=0)
    with pytest.raises(ProjectionError, match="unknown scenario") as info:
        run_scenarios(loans, reserve, PRIOR_ONLY, ASSUMPTIONS, ["base", "meteor"])
    assert info.value.field == "scenarios"
    with pytest.raises(ProjectionError, match="twice"):
        run_scenarios(loans, reserve, PRIOR_ONLY, ASSUMPTIONS, ["base", "base"])
    with pytest.raises(ProjectionError):
        run_scenarios(loans, reserve, PRIOR_ONLY, ASSUMPTIONS, [])


def test_progress_covers_all_scenarios() -> None:
    seen: list[float] = []
    few = dataclasses.replace(ASSUMPTIONS, paths=300)
    run_scenarios(
        book(10), Reserve(available_cents=0), PRIOR_ONLY, few, ["base", "roll_rates_x2"], seen.append
    )
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and min(seen) > 0


def test_concentration_shows_each_employers_share_of_balance_and_expected_loss() -> None:
    loans = book(40, employers=4)
    result = concentration(loans, Reserve(available_cents=10**8), PRIOR_ONLY, ASSUMPTIONS)
    assert result.employer_names == loans.employer_names
    assert result.loans.sum() == 40
    assert result.balance_cents.sum() == loans.balance_cents.sum()
    assert result.balance_share.sum() == pytest.approx(1.0)
    assert result.expected_loss_share.sum() == pytest.approx(1.0)
    assert result.balance_cents.dtype == np.int64 and result.expected_loss_cents.dtype == np.int64
    biggest = largest_employer(loans)
    assert result.balance_share[biggest] == result.balance_share.max()
