"""Vectorised portfolio schedules: identical to the scalar Decimal schedule, loan by loan."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.amortization import level_payment, level_payments_cents, portfolio_schedules, schedule
from risk.errors import InvalidTerms
from risk.money import from_cents, to_cents


def assert_matches_scalar(principals: np.ndarray, rates: np.ndarray, terms: np.ndarray) -> None:
    result = portfolio_schedules(principals, rates, terms)
    width = int(terms.max())
    for i in range(principals.shape[0]):
        rows = schedule(from_cents(int(principals[i])), Decimal(int(rates[i])) / 100, int(terms[i]))
        pad = [0] * (width - len(rows))
        assert result.payment[i].tolist() == [to_cents(r.payment) for r in rows] + pad
        assert result.interest[i].tolist() == [to_cents(r.interest) for r in rows] + pad
        assert result.principal[i].tolist() == [to_cents(r.principal) for r in rows] + pad
        assert result.balance[i].tolist() == [to_cents(r.balance) for r in rows] + pad


def test_thousands_of_random_loans_match_the_scalar_schedule() -> None:
    rng = np.random.default_rng(20260415)
    n = 2500
    principals = rng.integers(50_000, 5_000_001, n)
    rates = rng.integers(0, 1801, n)
    terms = rng.integers(1, 121, n)
    assert_matches_scalar(principals, rates, terms)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=50_000, max_value=100_000_000),
            st.integers(min_value=0, max_value=1800),
            st.integers(min_value=1, max_value=120),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_schedule_identical_between_scalar_and_vectorised(loans: list[tuple[int, int, int]]) -> None:
    principals, rates, terms = (np.array(column, dtype=np.int64) for column in zip(*loans, strict=True))
    assert_matches_scalar(principals, rates, terms)


def test_level_payments_match_scalar_on_many_loans() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    principals = rng.integers(50_000, 100_000_001, n)
    rates = rng.integers(0, 1801, n)
    terms = rng.integers(1, 121, n)
    payments = level_payments_cents(principals, rates, terms)
    sample = rng.choice(n, 3000, replace=False)
    for i in sample:
        expected = level_payment(from_cents(int(principals[i])), Decimal(int(rates[i])) / 100, int(terms[i]))
        assert payments[i] == to_cents(expected)


def test_exact_half_cent_payment_is_rounded_up_in_the_vectorised_code() -> None:
    # $500.50 at 12% for one month is 505.505 exactly; float arithmetic alone could go either way.
    assert level_payments_cents(np.array([50_050]), np.array([1200]), np.array([1])).tolist() == [50_551]
    # 0%: $500.01 over 2 months is 250.005 each.
    assert level_payments_cents(np.array([50_001]), np.array([0]), np.array([2])).tolist() == [25_001]


def _two_month_ties() -> list[tuple[int, int]]:
    """Every (principal cents, rate bp) in the program's range whose 2-month payment is exactly a
    half cent: the payment is ``P * q`` with ``q = (1 + r)^2 / (2 + r)``, an exact tie when ``2 P q``
    is an odd whole number of cents."""
    from fractions import Fraction

    ties = []
    for rate_bp in range(1, 1801):
        q = Fraction((120_000 + rate_bp) ** 2, 120_000 * (240_000 + rate_bp))
        if q.denominator % 2 == 0 and q.numerator % 2 == 1:
            for odd in (1, 3, 5):
                cents = q.denominator * odd // 2
                if 50_000 <= cents <= 100_000_000:
                    ties.append((cents, rate_bp))
    return ties


def test_exact_half_cent_ties_give_the_scalar_payment_in_the_vectorised_code() -> None:
    ties = _two_month_ties()
    assert len(ties) > 500  # 2-month terms have many exact ties in the program's range
    principals = np.array([c for c, _ in ties])
    rates = np.array([r for _, r in ties])
    terms = np.full(len(ties), 2)
    vectorised = level_payments_cents(principals, rates, terms)
    scalar = [to_cents(level_payment(from_cents(c), Decimal(r) / 100, 2)) for c, r in ties]
    assert vectorised.tolist() == scalar
    # Each is a tie rounded up: e.g. $640,040.00 at 0.15% for 2 months is $320,080.005.
    assert (64_004_000, 15) in ties and scalar[ties.index((64_004_000, 15))] == 32_008_001
    schedules = portfolio_schedules(principals, rates, terms)
    assert schedules.payment[:, 0].tolist() == scalar


def test_entries_past_a_loans_term_are_zero() -> None:
    result = portfolio_schedules(np.array([100_000, 200_000]), np.array([600, 600]), np.array([2, 5]))
    for array in result:
        assert array.shape == (2, 5)
        assert array[0, 2:].tolist() == [0, 0, 0]
    assert result.balance[:, -1].tolist() == [0, 0]


def test_portfolio_principal_parts_sum_to_principals() -> None:
    rng = np.random.default_rng(3)
    principals = rng.integers(300_000, 3_000_001, 5000)
    result = portfolio_schedules(principals, rng.integers(300, 1801, 5000), rng.integers(12, 85, 5000))
    assert np.array_equal(result.principal.sum(axis=1), principals)
    assert (result.balance >= 0).all()


def test_float_rates_are_refused() -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        portfolio_schedules(np.array([100_000]), np.array([9.0]), np.array([12]))
    assert excinfo.value.field == "annual_rates"


@pytest.mark.parametrize(
    ("principals", "rates", "terms", "field"),
    [
        ([0], [900], [12], "principals"),
        ([100_000], [1801], [12], "annual_rates"),
        ([100_000], [-1], [12], "annual_rates"),
        ([100_000], [900], [0], "term_months"),
        ([100_000], [900], [10_000], "term_months"),
        ([100_000, 100_000], [900], [12], "principals"),
    ],
)
def test_out_of_range_portfolio_inputs_name_the_field(
    principals: list[int], rates: list[int], terms: list[int], field: str
) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        portfolio_schedules(np.array(principals), np.array(rates), np.array(terms))
    assert excinfo.value.field == field
