"""Checks on raw inputs, turning anything unusable into :class:`risk.errors.InvalidTerms`.

The limits are program facts, not arithmetic ones: they keep every figure this package computes
inside the range where its exactness arguments hold (see ``risk.amortization``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from risk.errors import InvalidTerms
from risk.money import CENT, D, MoneyError, money

#: Smallest note amount. Below roughly this, the cent rounding of a 120-month payment could make
#: the final payment of a schedule negative; no car loan is this small anyway.
MIN_PRINCIPAL = Decimal("500.00")
#: Largest note amount: far above any car loan, and keeps cents x basis points inside int64.
MAX_PRINCIPAL = Decimal("1000000.00")
#: Longest term in months. Car loans run to 84, rarely 96 months; 120 is a generous ceiling.
MAX_TERM_MONTHS = 120
#: Highest note rate in percent: the NCUA loan-rate ceiling for federal credit unions (18% APR).
MAX_ANNUAL_RATE = Decimal("18.00")
#: Highest disclosed APR in percent: the same ceiling, which 12 CFR 701.21(c)(7)(ii) states
#: "inclusive of all finance charges", so a prepaid finance charge cannot take the APR above it.
MAX_APR = Decimal("18.00")


def amount(field: str, value: object, *, allow_zero: bool = False) -> Decimal:
    """An amount of money: a Decimal, int or numeric string with at most two decimals, positive.

    Floats are refused (binary fractions are not cents); ``10.005`` is refused, not rounded.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidTerms(field, f"must be an amount of money, not {type(value).__name__}")
    try:
        number = D(value)
    except MoneyError as exc:
        raise InvalidTerms(field, f"not an amount of money: {value!r}") from exc
    if number != number.quantize(CENT):
        raise InvalidTerms(field, f"has more than two decimals: {value}")
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidTerms(field, f"must be {'zero or more' if allow_zero else 'more than zero'}: {value}")
    return money(number)


def principal(field: str, value: object) -> Decimal:
    """A note amount within :data:`MIN_PRINCIPAL` .. :data:`MAX_PRINCIPAL`."""
    result = amount(field, value)
    if not MIN_PRINCIPAL <= result <= MAX_PRINCIPAL:
        raise InvalidTerms(field, f"must be between {MIN_PRINCIPAL} and {MAX_PRINCIPAL}: {value}")
    return result


def annual_rate(field: str, value: object) -> Decimal:
    """A note rate in percent (``Decimal("9.00")`` is 9%), 0 .. :data:`MAX_ANNUAL_RATE`, two decimals."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidTerms(field, f"must be a percentage, not {type(value).__name__}")
    try:
        number = D(value)
    except MoneyError as exc:
        raise InvalidTerms(field, f"not a percentage: {value!r}") from exc
    if number != number.quantize(CENT):
        raise InvalidTerms(field, f"has more than two decimals: {value}")
    if not 0 <= number <= MAX_ANNUAL_RATE:
        raise InvalidTerms(field, f"must be between 0 and {MAX_ANNUAL_RATE} percent: {value}")
    return number.quantize(CENT)


def term_months(field: str, value: object) -> int:
    """A number of monthly payments, 1 .. :data:`MAX_TERM_MONTHS`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTerms(field, f"must be a whole number of months, not {type(value).__name__}")
    if not 1 <= value <= MAX_TERM_MONTHS:
        raise InvalidTerms(field, f"must be between 1 and {MAX_TERM_MONTHS} months: {value}")
    return value


def date(field: str, value: object) -> dt.date:
    """A calendar date; a ``datetime`` is refused because its time of day would be silently dropped."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidTerms(field, f"must be a date, not {type(value).__name__}")
    return value
