"""Daily simple-interest servicing: accrual, allocation order, payoff."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.errors import BackdatedPayment, InvalidTerms
from risk.servicing import LoanState, accrue, apply_payment, assess_fee, payoff_amount

OPENED = dt.date(2027, 1, 1)


def new_loan(principal: str = "10000.00", rate: str = "9.00", on: dt.date = OPENED) -> LoanState:
    return LoanState.opened(Decimal(principal), Decimal(rate), on)


def test_interest_accrues_daily_on_principal_at_rate_over_365() -> None:
    # One day: 10,000 x 9% / 365 = 2.46575342465..., kept as 2.4657534247; 31 days of it.
    state = accrue(new_loan(), dt.date(2027, 2, 1))
    assert state.accrued_interest == Decimal("2.4657534247") * 31 == Decimal("76.4383561657")
    assert payoff_amount(new_loan(), dt.date(2027, 2, 1)) == Decimal("10076.44")


def test_february_29_accrues_as_an_ordinary_day_over_365() -> None:
    start = new_loan("3650.00", "10.00", dt.date(2028, 2, 28))  # one day's interest is exactly $1.00
    assert accrue(start, dt.date(2028, 3, 1)).accrued_interest == Decimal("2.0000000000")


def test_a_leap_year_earns_366_days_of_interest() -> None:
    start = new_loan("3650.00", "10.00", dt.date(2028, 1, 1))
    assert accrue(start, dt.date(2029, 1, 1)).accrued_interest == Decimal("366.0000000000")


def test_accruing_in_pieces_equals_accruing_at_once() -> None:
    state = new_loan("12345.67", "7.77")
    stepwise = state
    for day in range(1, 41):
        stepwise = accrue(stepwise, OPENED + dt.timedelta(days=day))
    assert stepwise == accrue(state, OPENED + dt.timedelta(days=40))


def test_payment_goes_to_fees_then_interest_then_principal() -> None:
    state = assess_fee(new_loan(), Decimal("25.00"))
    after, split = apply_payment(state, Decimal("300.00"), dt.date(2027, 2, 1))
    assert split.to_fees == Decimal("25.00")
    assert split.to_interest == Decimal("76.44")
    assert split.to_principal == Decimal("198.56")
    assert split.excess == 0
    assert after.principal_balance == Decimal("9801.44")
    assert after.fees_due == 0
    assert after.accrued_interest == 0
    assert after.as_of == dt.date(2027, 2, 1)


def test_partial_payment_leaves_the_rest_of_the_interest_accrued() -> None:
    after, split = apply_payment(new_loan(), Decimal("50.00"), dt.date(2027, 2, 1))
    assert (split.to_interest, split.to_principal) == (Decimal("50.00"), Decimal("0"))
    assert after.principal_balance == Decimal("10000.00")
    assert after.accrued_interest == Decimal("76.4383561657") - Decimal("50.00")


def test_paying_the_payoff_closes_the_loan() -> None:
    state = assess_fee(new_loan(), Decimal("15.00"))
    day = dt.date(2027, 3, 17)
    after, split = apply_payment(state, payoff_amount(state, day), day)
    assert (after.principal_balance, after.accrued_interest, after.fees_due) == (0, 0, 0)
    assert split.excess == 0


def test_overpayment_is_reported_as_excess_not_applied() -> None:
    day = dt.date(2027, 2, 1)
    after, split = apply_payment(new_loan(), Decimal("10100.00"), day)
    assert after.principal_balance == 0
    assert split.excess == Decimal("10100.00") - Decimal("10076.44")
    assert split.applied == Decimal("10076.44")


def test_payment_before_the_state_date_is_refused() -> None:
    with pytest.raises(BackdatedPayment) as excinfo:
        apply_payment(new_loan(), Decimal("100.00"), OPENED - dt.timedelta(days=1))
    assert excinfo.value.field == "on_date"
    assert isinstance(excinfo.value, ValueError)


def test_accruing_backwards_is_refused() -> None:
    with pytest.raises(BackdatedPayment):
        accrue(new_loan(), OPENED - dt.timedelta(days=1))


def test_state_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        new_loan().principal_balance = Decimal("1.00")  # type: ignore[misc]


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00"), Decimal("10.001"), "ten", 10.0])
def test_unusable_payment_amounts_are_refused(amount: object) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        apply_payment(new_loan(), amount, dt.date(2027, 2, 1))  # type: ignore[arg-type]
    assert excinfo.value.field == "amount"


def test_state_with_sub_cent_principal_is_refused() -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        LoanState(Decimal("10.001"), Decimal("0"), Decimal("0"), OPENED, Decimal("9.00"))
    assert excinfo.value.field == "principal_balance"


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=45), st.integers(min_value=1, max_value=150_000)),
        min_size=1,
        max_size=20,
    )
)
def test_allocations_add_up_and_nothing_goes_negative(payments: list[tuple[int, int]]) -> None:
    state = new_loan("8000.00", "12.50")
    day = OPENED
    principal_paid = Decimal(0)
    for gap, cents in payments:
        day += dt.timedelta(days=gap)
        amount = Decimal(cents) / 100
        payoff = payoff_amount(state, day)
        state, split = apply_payment(state, amount, day)
        assert split.to_fees + split.to_interest + split.to_principal + split.excess == amount
        assert min(split.to_fees, split.to_interest, split.to_principal, split.excess) >= 0
        assert split.excess == max(Decimal(0), amount - payoff)
        assert state.principal_balance >= 0 and state.accrued_interest >= 0
        principal_paid += split.to_principal
    assert principal_paid + state.principal_balance == Decimal("8000.00")
