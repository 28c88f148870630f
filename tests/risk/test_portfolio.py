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
