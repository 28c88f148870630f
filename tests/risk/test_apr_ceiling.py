"""Issue #11, point 3: no disclosed APR above the 18% ceiling (12 CFR 701.21(c)(7)), month-end
contracts included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.dates import add_months, days_in_month
from risk.disclosure import truth_in_lending
from risk.errors import AprAboveCeiling
from risk.servicing import LoanState, apply_payment, payoff_amount


def test_a_fee_that_would_take_the_apr_above_the_ceiling_is_refused_naming_the_fee_and_the_apr() -> None:
    with pytest.raises(AprAboveCeiling) as refused:
        truth_in_lending(
            Decimal("1500.00"), Decimal("18.00"), 12, dt.date(2027, 1, 15), dt.date(2027, 2, 15), "500.00"
        )
    assert refused.value.field == "prepaid_finance_charge"
    assert refused.value.apr == Decimal("104.35")
    assert "104.35%" in refused.value.message and "18.00%" in refused.value.message
    # The same fee on a lower rate stays under the ceiling and is disclosed.
    fine = truth_in_lending(
        Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2027, 1, 15), dt.date(2027, 2, 15), "150.00"
    )
    assert Decimal("9.00") < fine.annual_percentage_rate <= Decimal("18.00")


@pytest.mark.parametrize(
    ("contract", "dates"),
    [
        (dt.date(2027, 1, 31), ["2027-02-28", "2027-03-31", "2027-04-30"]),
        (dt.date(2027, 1, 30), ["2027-02-28", "2027-03-30", "2027-04-30"]),
        (dt.date(2028, 1, 30), ["2028-02-29", "2028-03-30", "2028-04-30"]),
        (dt.date(2027, 1, 28), ["2027-02-28", "2027-03-28", "2027-04-28"]),
        (dt.date(2027, 3, 31), ["2027-04-30", "2027-05-30", "2027-06-30"]),
    ],
)
def test_a_first_payment_clamped_into_february_keeps_the_contracts_day(
    contract: dt.date, dates: list[str]
) -> None:
    tila = truth_in_lending(Decimal("10000.00"), Decimal("18.00"), 12, contract, add_months(contract, 1))
    assert [row.due_date.isoformat() for row in tila.schedule[:3] if row.due_date] == dates


@pytest.mark.parametrize("contract", [dt.date(2027, 1, 29), dt.date(2027, 1, 30), dt.date(2027, 1, 31)])
def test_month_end_contracts_at_18_percent_disclose_18_and_a_finance_charge_within_tolerance(
    contract: dt.date,
) -> None:
    """Before: 18.00-18.19% and a finance charge $22 above what servicing collects (over the $10 of
    1026.18(d)(2) for more than $1,000 financed)."""
    tila = truth_in_lending(Decimal("10000.00"), Decimal("18.00"), 12, contract, dt.date(2027, 2, 28))
    assert tila.annual_percentage_rate == Decimal("18.00")
    state = LoanState.opened(Decimal("10000.00"), Decimal("18.00"), contract)
    collected = Decimal("0.00")
    for row in tila.schedule[:-1]:
        assert row.due_date is not None
        state, split = apply_payment(state, row.payment, row.due_date)
        collected += split.to_interest
    maturity = tila.schedule[-1].due_date
    assert maturity is not None
    state, split = apply_payment(state, payoff_amount(state, maturity), maturity)
    collected += split.to_interest
    assert abs(tila.finance_charge - collected) <= Decimal("10.00")


month_ends = st.builds(
    lambda year, month, back: dt.date(year, month, days_in_month(year, month) - back),
    st.integers(2026, 2036),
    st.integers(1, 12),
    st.integers(0, 3),
)
any_day = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2036, 12, 31))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(100_000, 3_000_000).map(lambda c: Decimal(c) / 100),
    st.integers(12, 84),
    st.one_of(month_ends, any_day),
    st.one_of(st.none(), st.integers(15, 75)),
)
def test_property_an_18_percent_fee_free_loan_never_discloses_more_than_18(
    principal: Decimal, term: int, contract: dt.date, first_days: int | None
) -> None:
    first = add_months(contract, 1) if first_days is None else contract + dt.timedelta(days=first_days)
    tila = truth_in_lending(principal, Decimal("18.00"), term, contract, first)
    assert tila.annual_percentage_rate <= Decimal("18.00")
