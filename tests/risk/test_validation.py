"""Bad input is refused with an InvalidTerms that names the field, before any arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from risk.amortization import level_payment, schedule
from risk.dates import add_months, monthly_due_dates
from risk.errors import APRError, BackdatedPayment, InvalidTerms


@pytest.mark.parametrize(
    "principal",
    [Decimal("-1000.00"), Decimal("0"), "abc", 1000.0, True, Decimal("1000.005"), Decimal("NaN"), None],
)
def test_unusable_principal_is_refused(principal: object) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        level_payment(principal, Decimal("9.00"), 60)  # type: ignore[arg-type]
    assert excinfo.value.field == "principal"


@pytest.mark.parametrize("term", [0, -12, 10_000, 121, 12.0, "60"])
def test_absurd_terms_are_refused(term: object) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        schedule(Decimal("10000.00"), Decimal("9.00"), term)  # type: ignore[arg-type]
    assert excinfo.value.field == "term_months"


@pytest.mark.parametrize(
    "rate", [Decimal("-0.01"), Decimal("18.01"), Decimal("100"), Decimal("9.001"), 9.0, "nine"]
)
def test_rates_out_of_range_are_refused(rate: object) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        level_payment(Decimal("10000.00"), rate, 60)  # type: ignore[arg-type]
    assert excinfo.value.field == "annual_rate"


def test_datetime_first_payment_date_is_refused() -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        schedule(Decimal("10000.00"), Decimal("9.00"), 12, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))  # type: ignore[arg-type]
    assert excinfo.value.field == "first_payment_date"


def test_every_refusal_is_a_value_error_with_field_and_message() -> None:
    for cls in (InvalidTerms, APRError, BackdatedPayment):
        error = cls("principal", "must be more than zero")
        assert isinstance(error, ValueError)
        assert (error.field, error.message) == ("principal", "must be more than zero")
        assert str(error) == "principal: must be more than zero"


def test_integer_and_string_amounts_are_accepted() -> None:
    assert level_payment(10000, "9", 60) == level_payment(Decimal("10000.00"), Decimal("9.00"), 60)


def test_monthly_dates_from_the_31st_clamp_and_come_back() -> None:
    assert monthly_due_dates(dt.date(2027, 1, 31), 3) == [
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
    ]
    assert add_months(dt.date(2027, 3, 31), -1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 12, 15), 1) == dt.date(2028, 1, 15)
