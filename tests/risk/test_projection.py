"""Projection models: exact cases by hand, Monte Carlo against the analytic expectation and against the
slow per-loan reference, reproducibility, and refusal of bad or absurd input."""

from __future__ import annotations

import dataclasses
import doctest
import time
from collections.abc import Iterator

import numpy as np
import pytest

import risk.projection.expected
import risk.projection.montecarlo
from risk.projection import (
    Assumptions,
    ClaimPolicy,
    Closure,
    Portfolio,
    ProjectionError,
    Reserve,
    SimulationResult,
    expected_projection,
    portfolio_from_loans,
    reference_simulation,
    simulate,
)
from risk.projection.model import level_payment_cents
from risk.rollrate import N_STATES, State, TransitionEstimate, estimate_transitions

PRIOR_ONLY = estimate_transitions(np.zeros((5, 7), dtype=np.int64))


def book(n: int = 30, employers: int = 3, seed: int = 7) -> Portfolio:
    """A small seeded book: mixed buckets, terms (some maturing within the horizon), employers."""
    rng = np.random.default_rng(seed)
    term = rng.choice([36, 48, 60], n)
    age = (rng.random(n) * term * 0.9).astype(np.int64)
    principal = rng.integers(600_000, 2_000_000, n)
    rate = rng.integers(600, 1500, n)
    payment = np.array(
        [level_payment_cents(int(p), int(r), int(t)) for p, r, t in zip(principal, rate, term, strict=True)]
    )
    r = rate / 120_000
    balance = principal * (1 + r) ** age - payment * ((1 + r) ** age - 1) / r
    return portfolio_from_loans(
        balance_cents=np.maximum(balance, 20_000).astype(np.int64),
        rate_bp=rate,
        remaining_term=term - age,
        payment_cents=payment,
        employer=rng.integers(0, employers, n),
        commitment_cents=(principal * 0.15).astype(np.int64),
        employer_names=[f"Employer {i}" for i in range(employers)],
        state=rng.choice(5, n, p=[0.8, 0.08, 0.05, 0.04, 0.03]),
    )


def chain(**moves: float) -> np.ndarray:
    """A matrix from moves like ``CURRENT_DPD30=1.0``; unspecified probability stays put."""
    m = np.eye(N_STATES)
    for name, p in moves.items():
        a, b = (State[s] for s in name.split("_", 1)) if name.count("_") == 1 else _split(name)
        m[a, b] += p
        m[a, a] -= p
    return m


def _split(name: str) -> tuple[State, State]:
    for state in State:
        if name.startswith(state.name + "_"):
            return state, State[name[len(state.name) + 1 :]]
    raise KeyError(name)


ROLL_TO_CHARGE_OFF = TransitionEstimate.fixed(
    chain(CURRENT_DPD30=1.0, DPD30_DPD60=1.0, DPD60_DPD90=1.0, DPD90_DPD120=1.0, DPD120_CHARGED_OFF=1.0)
)
NOTHING_HAPPENS = TransitionEstimate.fixed(np.eye(N_STATES))


def one_loan(
    state: int = 0, term: int = 48, balance: int = 1_000_000, commitment: int = 150_000
) -> Portfolio:
    return portfolio_from_loans(
        balance_cents=[balance],
        rate_bp=[900],
        remaining_term=[term],
        payment_cents=[24_885],
        employer=[0],
        commitment_cents=[commitment],
        employer_names=["PPC"],
        state=[state],
    )


QUIET = Assumptions(horizon_months=12, paths=64, seed=1, layoff_probability=0.0, parameter_draws=0)


# --- exact cases, by hand -------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.CURRENT, State.DPD60])
def test_a_certain_charge_off_is_claimed_commitment_first_then_from_available(state: State) -> None:
    loan = one_loan(state=int(state))
    reserve = Reserve(available_cents=2_000_000)
    month = 5 - int(state)  # four installments behind, then charged off
    loss = 1_000_000 * 0.65  # balance at charge-off: nothing paid since the start
    expected = expected_projection(loan, reserve, ROLL_TO_CHARGE_OFF, QUIET)
    assert expected.charge_offs[month - 1] == pytest.approx(1.0)
    assert expected.loss_cents[month - 1] == 650_000
    assert expected.claims_cents.tolist() == [0] * (month - 1) + [650_000] + [0] * (12 - month)
    assert expected.claims_from_commitments_cents[month - 1] == 150_000
    assert expected.claims_from_available_cents[month - 1] == 500_000
    assert expected.available_cents[-1] == 2_000_000 - 500_000
    assert expected.committed_cents[-1] == 0
    assert expected.exhaustion_month is None
    for run in (simulate, reference_simulation):
        result = run(loan, reserve, ROLL_TO_CHARGE_OFF, QUIET)
        assert result.total_claims.mean_cents == int(loss)
        assert result.available.p5[-1] == result.available.p95[-1] == 1_500_000
        assert result.cumulative_claims.p50[month - 1] == 650_000
        assert result.mean_charge_offs.sum() == pytest.approx(1.0)


def test_charged_off_balance_is_the_schedule_when_the_loan_fell_behind() -> None:
    # Current and paying for two months, then (a closure from month 3) it rolls and is charged off
    # in month 7 owing the balance after two installments: 1,000,000 + 7,500 - 24,885 = 982,615,
    # then 982,615 + 7,370 (7,369.61 half-up) - 24,885 = 965,100.
    roll = chain(
        CURRENT_DPD30=1.0, DPD30_DPD60=1.0, DPD60_DPD90=1.0, DPD90_DPD120=1.0, DPD120_CHARGED_OFF=1.0
    )
    closure = dataclasses.replace(QUIET, stressed_matrix=roll, closures=(Closure(employer=0, start_month=3),))
    loan = one_loan()
    expected = expected_projection(loan, Reserve(available_cents=5_000_000), NOTHING_HAPPENS, closure)
    assert expected.charge_offs.tolist() == [0.0] * 6 + [1.0] + [0.0] * 5
    assert expected.charged_off_balance_cents[6] == 965_100
    for run in (simulate, reference_simulation):
        result = run(loan, Reserve(available_cents=5_000_000), NOTHING_HAPPENS, closure)
        assert result.total_claims.mean_cents == round(965_100 * 0.65)


def test_a_loan_pays_off_at_maturity_and_its_commitment_returns_to_available() -> None:
    loan = one_loan(term=3, balance=74_000, commitment=150_000)
    reserve = Reserve(available_cents=10_000)
    expected = expected_projection(loan, reserve, NOTHING_HAPPENS, QUIET)
    assert expected.payoffs.tolist() == [0.0, 0.0, 1.0] + [0.0] * 9
    assert expected.available_cents.tolist() == [10_000, 10_000] + [160_000] * 10
    for run in (simulate, reference_simulation):
        result = run(loan, reserve, NOTHING_HAPPENS, QUIET)
        assert result.mean_available.tolist() == [10_000, 10_000] + [160_000] * 10
        assert result.mean_committed[-1] == 0


def test_a_delinquent_loan_matures_only_once_it_has_paid_every_installment() -> None:
    # Two behind with three installments left: it keeps paying one a month, never catching up.
    loan = one_loan(state=int(State.DPD60), term=3, balance=74_000)
    expected = expected_projection(loan, Reserve(available_cents=0), NOTHING_HAPPENS, QUIET)
    assert expected.payoffs.tolist() == [0.0, 0.0, 1.0] + [0.0] * 9


def test_a_non_pooled_policy_never_draws_on_available() -> None:
    loan = one_loan()
    reserve = Reserve(available_cents=2_000_000, policy=ClaimPolicy(pooled=False))
    expected = expected_projection(loan, reserve, ROLL_TO_CHARGE_OFF, QUIET)
    assert expected.claims_cents.sum() == 150_000
    assert expected.unpaid_claims_cents.sum() == 500_000
    assert expected.available_cents[-1] == 2_000_000
    result = simulate(loan, reserve, ROLL_TO_CHARGE_OFF, QUIET)
    assert result.available.p5[-1] == 2_000_000 and result.total_claims.mean_cents == 150_000


def test_claims_respect_the_cap_share_and_the_cap_per_claim() -> None:
    loan = one_loan()
    capped = Reserve(available_cents=2_000_000, policy=ClaimPolicy(cap_share=0.8, cap_cents=400_000))
    expected = expected_projection(loan, capped, ROLL_TO_CHARGE_OFF, QUIET)
    assert expected.claims_cents.sum() == 400_000  # min(650,000 x 0.8, 400,000)
    shared = Reserve(available_cents=2_000_000, policy=ClaimPolicy(cap_share=0.5))
    assert expected_projection(loan, shared, ROLL_TO_CHARGE_OFF, QUIET).claims_cents.sum() == 325_000


def test_available_never_goes_below_zero_and_the_shortfall_is_exhaustion() -> None:
    loan = one_loan()
    reserve = Reserve(available_cents=100_000)
    expected = expected_projection(loan, reserve, ROLL_TO_CHARGE_OFF, QUIET)
    assert expected.claims_from_available_cents.sum() == 100_000
    assert expected.unpaid_claims_cents.sum() == 400_000
    assert expected.available_cents.min() == 0
    assert expected.exhaustion_month == 5
    result = simulate(loan, reserve, ROLL_TO_CHARGE_OFF, QUIET)
    assert result.exhaustion_probability.tolist() == [0.0] * 4 + [1.0] * 8
    assert result.available.p5.min() == 0


def test_the_pipeline_books_loans_while_available_covers_their_commitment() -> None:
    loan = one_loan()
    pipeline = dataclasses.replace(
        QUIET, originations_per_month=2, origination_amount_cents=1_000_000, commitment_share=0.15
    )
    reserve = Reserve(available_cents=500_000)
    expected = expected_projection(loan, reserve, NOTHING_HAPPENS, pipeline)
    assert expected.new_loans[0] == 2.0 and expected.new_commitments_cents[0] == 300_000
    assert expected.new_loans[1] == pytest.approx(200_000 / 150_000)
    assert expected.exhaustion_month == 2
    result = simulate(loan, reserve, NOTHING_HAPPENS, pipeline)
    assert result.mean_new_loans[:3].tolist() == [2.0, 1.0, 0.0]
    assert result.exhaustion_probability[0] == 0.0 and result.exhaustion_probability[1] == 1.0
    assert result.mean_available[1] == 50_000


def test_grant_deposits_arrive_every_month() -> None:
    funded = dataclasses.replace(QUIET, grant_deposits_cents=25_000)
    expected = expected_projection(one_loan(), Reserve(available_cents=0), NOTHING_HAPPENS, funded)
    assert expected.available_cents.tolist() == [25_000 * m for m in range(1, 13)]


def test_a_closure_stresses_its_employer_for_the_months_given() -> None:
    loans = book(12, employers=2)
    stressed = np.eye(N_STATES)
    stressed[0, 0], stressed[0, 5] = 0.5, 0.5
    closed = dataclasses.replace(
        QUIET, stressed_matrix=stressed, closures=(Closure(employer=1, start_month=3, months=2),)
    )
    expected = expected_projection(loans, Reserve(available_cents=10**9), NOTHING_HAPPENS, closed)
    current_at_1 = int(((loans.employer == 1) & (loans.state == 0)).sum())
    assert expected.charge_offs.tolist()[:5] == pytest.approx(
        [0, 0, 0.5 * current_at_1, 0.25 * current_at_1, 0]
    )


# --- Monte Carlo against the analytic expectation and the reference ---------------------------------

SMALL = Assumptions(
    horizon_months=24,
    paths=3000,
    seed=11,
    layoff_probability=0.25,
    layoff_months=4,
    parameter_draws=0,
    originations_per_month=1,
    origination_amount_cents=900_000,
    grant_deposits_cents=20_000,
)


def test_monte_carlo_mean_converges_to_the_analytic_expected_claims() -> None:
    loans = book(40)
    ample = Reserve(available_cents=50_000_000, policy=ClaimPolicy(cap_cents=700_000))
    expected = expected_projection(loans, ample, PRIOR_ONLY, SMALL)
    result = simulate(loans, ample, PRIOR_ONLY, dataclasses.replace(SMALL, paths=20_000))
    error = abs(result.total_claims.mean_cents - expected.total_claims_cents)
    assert error <= 4 * result.total_claims.standard_error_cents
    assert expected.exhaustion_month is None and result.exhaustion_probability[-1] == 0.0
    np.testing.assert_allclose(result.mean_charge_offs.sum(), expected.charge_offs.sum(), rtol=0.03)
    se = result.std_available_cents[-1] / np.sqrt(result.paths)
    assert abs(result.mean_available[-1] - expected.available_cents[-1]) <= 4 * se + 1


@pytest.fixture(scope="module")
def against_reference() -> Iterator[tuple[Portfolio, Reserve, SimulationResult]]:
    """A book whose reserve is tight (exhaustion is likely but not certain) and its slow reference."""
    loans = book(30)
    tight = Reserve(available_cents=900_000)
    assumptions = dataclasses.replace(SMALL, paths=2500)
    yield loans, tight, reference_simulation(loans, tight, PRIOR_ONLY, assumptions)


def _agree(fast: SimulationResult, slow: SimulationResult, spread: float) -> None:
    se = np.hypot(fast.total_claims.standard_error_cents, slow.total_claims.standard_error_cents)
    assert abs(fast.total_claims.mean_cents - slow.total_claims.mean_cents) <= 4 * se
    se_available = np.hypot(
        fast.std_available_cents[-1] / np.sqrt(fast.paths), slow.std_available_cents[-1] / np.sqrt(slow.paths)
    )
    assert abs(fast.mean_available[-1] - slow.mean_available[-1]) <= 4 * se_available
    p, q = fast.exhaustion_probability[-1], slow.exhaustion_probability[-1]
    assert abs(p - q) <= 4 * np.sqrt(p * (1 - p) / fast.paths + q * (1 - q) / slow.paths) + 1e-9
    np.testing.assert_allclose(fast.mean_charge_offs.sum(), slow.mean_charge_offs.sum(), rtol=0.05)
    assert fast.total_claims.std_cents == pytest.approx(slow.total_claims.std_cents, rel=spread)
    assert fast.std_available_cents[-1] == pytest.approx(slow.std_available_cents[-1], rel=spread)


def test_vectorised_simulation_agrees_with_the_per_loan_reference(
    against_reference: tuple[Portfolio, Reserve, SimulationResult],
) -> None:
    loans, tight, slow = against_reference
    fast = simulate(loans, tight, PRIOR_ONLY, dataclasses.replace(SMALL, paths=20_000))
    assert 0.05 < slow.exhaustion_probability[-1] < 0.95  # the reserve's limit is really exercised
    _agree(fast, slow, spread=0.08)


def test_unit_means_for_many_charge_offs_keep_the_reference_mean(
    against_reference: tuple[Portfolio, Reserve, SimulationResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every unit through the many-charge-offs path (months by multinomial, unit-mean amounts)."""
    loans, tight, slow = against_reference
    monkeypatch.setattr(risk.projection.montecarlo, "EXACT_EVENTS", 0)
    fast = simulate(loans, tight, PRIOR_ONLY, dataclasses.replace(SMALL, paths=20_000))
    _agree(fast, slow, spread=0.08)


def test_expected_payoffs_keep_the_reference_mean_and_narrow_the_spread(
    against_reference: tuple[Portfolio, Reserve, SimulationResult],
) -> None:
    """Payoff releases at their conditional expectation (the mode of books over 5,000 loans)."""
    loans, tight, slow = against_reference
    fast = simulate(loans, tight, PRIOR_ONLY, dataclasses.replace(SMALL, paths=20_000, draw_payoffs_up_to=0))
    se = np.hypot(fast.total_claims.standard_error_cents, slow.total_claims.standard_error_cents)
    assert abs(fast.total_claims.mean_cents - slow.total_claims.mean_cents) <= 4 * se
    assert fast.std_available_cents[-1] <= slow.std_available_cents[-1] * 1.05
    assert fast.std_available_cents[-1] == pytest.approx(slow.std_available_cents[-1], rel=0.25)


def test_parameter_uncertainty_and_layoffs_widen_the_distribution() -> None:
    loans = book(40)
    reserve = Reserve(available_cents=50_000_000)
    plain = dataclasses.replace(SMALL, layoff_probability=0.0)
    base = simulate(loans, reserve, PRIOR_ONLY, plain)
    with_layoffs = simulate(loans, reserve, PRIOR_ONLY, dataclasses.replace(plain, layoff_probability=0.5))
    with_draws = simulate(loans, reserve, PRIOR_ONLY, dataclasses.replace(plain, parameter_draws=50))
    assert with_layoffs.total_claims.mean_cents > base.total_claims.mean_cents
    assert with_layoffs.total_claims.std_cents > base.total_claims.std_cents
    assert with_draws.total_claims.std_cents > base.total_claims.std_cents
    assert with_draws.parameter_draws == 50 and base.parameter_draws == 0


# --- properties of every result ---------------------------------------------------------------------


def test_same_seed_same_numbers_and_another_seed_other_numbers() -> None:
    loans = book(25)
    reserve = Reserve(available_cents=1_000_000)
    a = dataclasses.replace(SMALL, paths=700, parameter_draws=5)
    first, again = simulate(loans, reserve, PRIOR_ONLY, a), simulate(loans, reserve, PRIOR_ONLY, a)
    other = simulate(loans, reserve, PRIOR_ONLY, dataclasses.replace(a, seed=12))
    for field in ("available", "cumulative_claims"):
        for level in ("p5", "p50", "p95"):
            assert np.array_equal(
                getattr(getattr(first, field), level), getattr(getattr(again, field), level)
            )
    assert np.array_equal(first.exhaustion_probability, again.exhaustion_probability)
    assert same_claims(first, again)
    assert first.total_claims.mean_cents != other.total_claims.mean_cents
    fresh = simulate(loans, reserve, PRIOR_ONLY, dataclasses.replace(a, seed=None))
    repeat = simulate(loans, reserve, PRIOR_ONLY, dataclasses.replace(a, seed=fresh.seed))
    assert same_claims(fresh, repeat)


def same_claims(a: SimulationResult, b: SimulationResult) -> bool:
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(a.total_claims, b.total_claims, strict=True)
    )


def test_results_are_money_in_int64_cents_and_probabilities_in_order() -> None:
    loans = book(25)
    result = simulate(
        loans, Reserve(available_cents=600_000), PRIOR_ONLY, dataclasses.replace(SMALL, paths=500)
    )
    for band in (result.available, result.cumulative_claims):
        for values in band:
            assert values.dtype == np.int64 and values.shape == (24,)
        assert (band.p5 <= band.p50).all() and (band.p50 <= band.p95).all()
    assert (np.diff(result.exhaustion_probability) >= 0).all()
    assert (np.diff(result.cumulative_claims.p50) >= 0).all()
    assert result.available.p5.min() >= 0
    assert result.total_claims.histogram_counts.sum() == 500
    assert result.total_claims.values_cents.dtype == np.int64
    assert (np.diff(result.total_claims.values_cents) >= 0).all()
    expected = expected_projection(loans, Reserve(available_cents=600_000), PRIOR_ONLY, SMALL)
    for name in ("claims_cents", "available_cents", "loss_cents", "releases_cents"):
        assert getattr(expected, name).dtype == np.int64


def test_exhaustion_probability_never_decreases_when_the_reserve_runs_short() -> None:
    loans = book(30)
    result = simulate(
        loans, Reserve(available_cents=300_000), PRIOR_ONLY, dataclasses.replace(SMALL, paths=1000)
    )
    assert result.exhaustion_probability[-1] > 0.5
    assert (np.diff(result.exhaustion_probability) >= 0).all()


def test_progress_is_reported_up_to_one() -> None:
    seen: list[float] = []
    simulate(
        book(10), Reserve(available_cents=0), PRIOR_ONLY, dataclasses.replace(SMALL, paths=600), seen.append
    )
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 2


def test_docstring_examples_run() -> None:
    result = doctest.testmod(risk.projection.expected, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"paths": 10**9}, "paths"),
        ({"paths": 0}, "paths"),
        ({"horizon_months": -1}, "horizon_months"),
        ({"horizon_months": 0}, "horizon_months"),
        ({"horizon_months": 121}, "horizon_months"),
        ({"recovery_rate": 1.5}, "recovery_rate"),
        ({"recovery_rate": -0.1}, "recovery_rate"),
        ({"layoff_probability": 2.0}, "layoff_probability"),
        ({"layoff_probability": (0.1, -0.1)}, "layoff_probability[1]"),
        ({"commitment_share": float("nan")}, "commitment_share"),
        ({"stress_multiplier": -1.0}, "stress_multiplier"),
        ({"parameter_draws": 10_000}, "parameter_draws"),
        ({"seed": -5}, "seed"),
        ({"paths": 2.5}, "paths"),
        ({"stressed_matrix": np.full((7, 7), 1 / 7)}, "stressed_matrix"),
    ],
)
def test_absurd_or_bad_assumptions_are_refused_at_once(change: dict[str, object], field: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ProjectionError) as info:
        Assumptions(**change)  # type: ignore[arg-type]
    assert info.value.field == field
    assert time.perf_counter() - start < 0.1


def test_a_request_over_the_work_limit_is_refused_before_any_work() -> None:
    loans = book(30)
    greedy = Assumptions(paths=100_000, max_work=1_000_000)
    start = time.perf_counter()
    with pytest.raises(ProjectionError, match="limit") as info:
        simulate(loans, Reserve(available_cents=0), PRIOR_ONLY, greedy)
    assert info.value.field == "paths"
    assert time.perf_counter() - start < 0.5
    with pytest.raises(ProjectionError, match="more than the limit"):
        Assumptions(paths=200_000)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"balance_cents": np.array([100.5])}, "balance_cents"),
        ({"balance_cents": np.array([-1])}, "balance_cents"),
        ({"state": np.array([State.CHARGED_OFF])}, "state"),
        ({"employer": np.array([3])}, "employer"),
        ({"remaining_term": np.array([0])}, "remaining_term"),
        ({"rate_bp": np.array([1801])}, "rate_bp"),
        ({"commitment_cents": np.array([1, 2])}, "commitment_cents"),
    ],
)
def test_bad_portfolios_are_refused(change: dict[str, np.ndarray], field: str) -> None:
    fields = {f.name: getattr(one_loan(), f.name) for f in dataclasses.fields(Portfolio)}
    with pytest.raises(ProjectionError) as info:
        Portfolio(**{**fields, **change})
    assert info.value.field == field


def test_assumptions_must_fit_the_portfolio() -> None:
    loan = one_loan()
    with pytest.raises(ProjectionError, match="employer 4"):
        simulate(loan, Reserve(available_cents=0), PRIOR_ONLY, Assumptions(paths=10, closures=(Closure(4),)))
    with pytest.raises(ProjectionError, match="entries"):
        expected_projection(
            loan, Reserve(available_cents=0), PRIOR_ONLY, Assumptions(layoff_probability=(0.1, 0.2))
        )
    with pytest.raises(ProjectionError):
        Reserve(available_cents=-1)
    with pytest.raises(ProjectionError):
        ClaimPolicy(cap_share=0.0)
    with pytest.raises(ProjectionError, match="function"):
        simulate(loan, Reserve(available_cents=0), PRIOR_ONLY, QUIET, progress=3)  # type: ignore[arg-type]


def test_an_empty_book_projects_only_the_reserve() -> None:
    empty = portfolio_from_loans(
        balance_cents=np.zeros(0, dtype=np.int64),
        rate_bp=np.zeros(0, dtype=np.int64),
        remaining_term=np.zeros(0, dtype=np.int64),
        payment_cents=np.zeros(0, dtype=np.int64),
        employer=np.zeros(0, dtype=np.int64),
        commitment_cents=np.zeros(0, dtype=np.int64),
        employer_names=["PPC"],
    )
    funded = dataclasses.replace(QUIET, grant_deposits_cents=1_000)
    expected = expected_projection(empty, Reserve(available_cents=5_000), PRIOR_ONLY, funded)
    assert expected.available_cents[-1] == 17_000 and expected.total_claims_cents == 0
    result = simulate(empty, Reserve(available_cents=5_000), PRIOR_ONLY, funded)
    assert result.available.p50[-1] == 17_000 and result.total_claims.mean_cents == 0
