"""Truth-in-Lending figures: the identities of 12 CFR 1026.18 and the APR behind them."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest

from risk.disclosure import truth_in_lending
from risk.errors import InvalidTerms


def test_fee_free_loan_discloses_the_note_rate_and_the_identities_hold() -> None:
    tila = truth_in_lending(
        Decimal("12000.00"), Decimal("7.50"), 48, dt.date(2027, 3, 10), dt.date(2027, 4, 10)
    )
    assert tila.amount_financed == Decimal("12000.00")
    assert tila.total_of_payments == sum(row.payment for row in tila.schedule)
    assert tila.finance_charge == tila.total_of_payments - tila.amount_financed
    assert tila.finance_charge == sum(row.interest for row in tila.schedule)
    assert tila.annual_percentage_rate == Decimal("7.50")


def test_prepaid_finance_charge_reduces_amount_financed_and_raises_the_apr() -> None:
    tila = truth_in_lending(
        Decimal("10000.00"),
        Decimal("9.00"),
        60,
        dt.date(2027, 3, 10),
        dt.date(2027, 4, 10),
        prepaid_finance_charge=Decimal("200.00"),
    )
    assert tila.amount_financed == Decimal("9800.00")
    assert tila.finance_charge == tila.total_of_payments - Decimal("9800.00")
    # Independent figure: numpy-financial's rate on $9,800 repaid by 60 level payments of the
    # scheduled amount (the last payment differs by cents, so allow a hair).
    level = tila.schedule[0].payment
    expected = 1200 * npf.rate(60, float(level), -9800.0, 0.0, tol=1e-14, maxiter=200)
    assert abs(float(tila.annual_percentage_rate_exact) - expected) < 0.002
    assert tila.annual_percentage_rate > Decimal("9.00")


def test_disclosed_apr_is_the_exact_apr_rounded_half_up_to_two_decimals() -> None:
    tila = truth_in_lending(
        Decimal("8000.00"), Decimal("11.25"), 36, dt.date(2027, 5, 2), dt.date(2027, 6, 20), Decimal("150.00")
    )
    assert tila.annual_percentage_rate == tila.annual_percentage_rate_exact.quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def test_long_first_period_is_charged_its_odd_days_and_discloses_the_note_rate() -> None:
    # A 45-day first period: a month and 14 days of interest (tests/risk/test_first_period.py).
    tila = truth_in_lending(
        Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2027, 1, 1), dt.date(2027, 2, 15)
    )
    assert tila.schedule[0].interest == Decimal("109.52")
    assert tila.annual_percentage_rate == Decimal("9.00")
    regular = truth_in_lending(
        Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2027, 1, 15), dt.date(2027, 2, 15)
    )
    assert tila.finance_charge > regular.finance_charge


def test_payment_schedule_groups_consecutive_equal_payments() -> None:
    tila = truth_in_lending(
        Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2026, 12, 15), dt.date(2027, 1, 15)
    )
    groups = tila.payment_groups
    assert [g.number_of_payments for g in groups] == [59, 1]
    assert groups[0].amount == Decimal("207.58")  # the level payment, see test_amortization
    assert groups[1].first_due_date == dt.date(2031, 12, 15)
    assert tila.payment_summary == (
        f"59 payments of $207.58 monthly beginning 2027-01-15, 1 payment of ${groups[1].amount} on 2031-12-15"
    )


def test_amounts_over_a_thousand_are_written_with_separators() -> None:
    tila = truth_in_lending(
        Decimal("30000.00"), Decimal("3.00"), 12, dt.date(2027, 1, 5), dt.date(2027, 2, 5)
    )
    assert tila.payment_summary.startswith("11 payments of $2,540.")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first_payment_date": dt.date(2027, 1, 1)}, "first_payment_date"),
        ({"first_payment_date": dt.date(2026, 12, 1)}, "first_payment_date"),
        ({"first_payment_date": dt.date(2027, 6, 1)}, "first_payment_date"),
        ({"prepaid_finance_charge": Decimal("10000.00")}, "prepaid_finance_charge"),
        ({"prepaid_finance_charge": Decimal("-1.00")}, "prepaid_finance_charge"),
        ({"term_months": 0}, "term_months"),
        ({"annual_rate": Decimal("18.01")}, "annual_rate"),
        ({"principal": Decimal("10000.001")}, "principal"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    terms: dict[str, object] = {
        "principal": Decimal("10000.00"),
        "annual_rate": Decimal("9.00"),
        "term_months": 60,
        "contract_date": dt.date(2027, 1, 1),
        "first_payment_date": dt.date(2027, 2, 1),
    }
    terms.update(kwargs)
    with pytest.raises(InvalidTerms) as excinfo:
        truth_in_lending(**terms)  # type: ignore[arg-type]
    assert excinfo.value.field == field
