"""Scalar amortisation: payment, schedule rules, dates, and agreement with independent sources."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.amortization import level_payment, schedule
from risk.money import from_cents, to_cents

principals = st.integers(min_value=50_000, max_value=100_000_000).map(from_cents)
rates = st.integers(min_value=0, max_value=1800).map(lambda bp: Decimal(bp) / 100)
terms = st.integers(min_value=1, max_value=120)


def reference_schedule(principal_cents: int, rate_bp: int, term: int) -> list[tuple[int, int, int, int]]:
    """The module's rules, re-derived in exact integers and fractions: (payment, interest, principal, balance)."""
    r = Fraction(rate_bp, 120_000)
    if r:
        payment = math.floor(principal_cents * r / (1 - (1 + r) ** -term) + Fraction(1, 2))
    else:
        payment = math.floor(Fraction(principal_cents, term) + Fraction(1, 2))
    rows = []
    balance = principal_cents
    for k in range(term):
        interest = math.floor(balance * r + Fraction(1, 2))
        due = payment if k < term - 1 else balance + interest
        balance -= due - interest
        rows.append((due, interest, due - interest, balance))
    return rows


def test_level_payment_matches_the_published_federal_reserve_example() -> None:
    """Federal Reserve, "Keys to Vehicle Leasing" early-payoff example (Constant Yield method):
    $18,800.00 financed, 48 months, 9.00% APR: monthly payment $467.84."""
    assert level_payment(Decimal("18800.00"), Decimal("9.00"), 48) == Decimal("467.84")


def test_first_two_installments_match_the_published_federal_reserve_example() -> None:
    """Same example: interest $141.00 then $138.55; principal $326.84 then $329.29;
    balance $18,473.16 then $18,143.87."""
    first, second = schedule(Decimal("18800.00"), Decimal("9.00"), 48)[:2]
    assert (first.interest, first.principal, first.balance) == (
        Decimal("141.00"),
        Decimal("326.84"),
        Decimal("18473.16"),
    )
    assert (second.interest, second.principal, second.balance) == (
        Decimal("138.55"),
        Decimal("329.29"),
        Decimal("18143.87"),
    )


def test_level_payment_is_numpy_financial_pmt_rounded_half_up() -> None:
    for principal, rate, term in [
        ("10000.00", "9.00", 60),
        ("23000.00", "5.74", 60),
        ("3500.00", "17.99", 36),
    ]:
        exact = -npf.pmt(float(rate) / 1200, term, float(principal))
        expected = Decimal(math.floor(exact * 100 + 0.5)) / 100
        assert level_payment(Decimal(principal), Decimal(rate), term) == expected


def test_half_cent_payment_rounds_up() -> None:
    # $500.50 at 12% for one month: 500.50 * 1.01 = 505.505 exactly, so half-up gives 505.51.
    assert level_payment(Decimal("500.50"), Decimal("12.00"), 1) == Decimal("505.51")


def test_half_cent_interest_rounds_up() -> None:
    # $500.50 * 12% / 12 = 5.005 exactly.
    assert schedule(Decimal("500.50"), Decimal("12.00"), 1)[0].interest == Decimal("5.01")


def test_zero_rate_loan_repays_principal_in_equal_parts_with_remainder_last() -> None:
    rows = schedule(Decimal("1000.00"), Decimal("0"), 3)
    assert [r.payment for r in rows] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert all(r.interest == 0 for r in rows)


def test_last_payment_absorbs_the_rounding_remainder() -> None:
    rows = schedule(Decimal("10000.00"), Decimal("9.00"), 60)
    assert {r.payment for r in rows[:-1]} == {Decimal("207.58")}
    assert rows[-1].payment == rows[-2].balance + rows[-1].interest


def test_due_dates_clamp_to_month_end_without_drifting() -> None:
    rows = schedule(Decimal("5000.00"), Decimal("6.00"), 4, dt.date(2028, 1, 31))
    assert [r.due_date for r in rows] == [
        dt.date(2028, 1, 31),
        dt.date(2028, 2, 29),
        dt.date(2028, 3, 31),
        dt.date(2028, 4, 30),
    ]


def test_due_dates_are_none_without_a_first_payment_date() -> None:
    assert all(r.due_date is None for r in schedule(Decimal("5000.00"), Decimal("6.00"), 3))


def test_installments_are_numbered_from_one() -> None:
    assert [r.number for r in schedule(Decimal("5000.00"), Decimal("6.00"), 3)] == [1, 2, 3]


@settings(max_examples=150, deadline=None)
@given(principals, rates, terms)
def test_principal_parts_sum_to_principal(principal: Decimal, rate: Decimal, term: int) -> None:
    rows = schedule(principal, rate, term)
    assert sum(r.principal for r in rows) == principal
    assert all(r.payment == r.interest + r.principal for r in rows)


@settings(max_examples=150, deadline=None)
@given(principals, rates, terms)
def test_balance_never_negative_and_ends_at_zero(principal: Decimal, rate: Decimal, term: int) -> None:
    rows = schedule(principal, rate, term)
    assert len(rows) == term
    assert all(r.balance >= 0 and r.payment > 0 and r.principal > 0 for r in rows)
    assert rows[-1].balance == Decimal("0.00")


@settings(max_examples=150, deadline=None)
@given(principals, rates, terms)
def test_schedule_follows_the_rounding_rules_exactly(principal: Decimal, rate: Decimal, term: int) -> None:
    rows = schedule(principal, rate, term)
    got = [
        (to_cents(r.payment), to_cents(r.interest), to_cents(r.principal), to_cents(r.balance)) for r in rows
    ]
    assert got == reference_schedule(to_cents(principal), int(rate * 100), term)


def test_schedule_amounts_are_cents() -> None:
    for row in schedule(Decimal("12345.67"), Decimal("7.77"), 37):
        for value in (row.payment, row.interest, row.principal, row.balance):
            assert value.as_tuple().exponent == -2
