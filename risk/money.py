"""Money as exact ``Decimal`` cents, built one way.

Rounding rule for the whole program: amounts are quantized to the cent with ROUND_HALF_UP
(0.005 -> 0.01), the rule consumers expect on a printed disclosure. Floats are refused at this
boundary so that binary fractions never reach a stored or shown amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MoneyError(ValueError):
    """A value cannot be read as an amount of money."""


def D(value: Decimal | int | str) -> Decimal:
    """Build a ``Decimal`` from an int, a string or a Decimal; never from a float."""
    if isinstance(value, bool | float):
        raise MoneyError(f"refusing {type(value).__name__} {value!r}: use a string or Decimal")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise MoneyError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise MoneyError(f"not a finite number: {value!r}")
    return result


def money(value: Decimal | int | str) -> Decimal:
    """Round to the cent, half-up: the one rounding rule for stored and shown amounts."""
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal | int | str) -> int:
    """Whole cents of an amount, rounding half-up first."""
    return int(money(amount) * 100)


def from_cents(cents: int) -> Decimal:
    """The Decimal amount of a whole number of cents."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def has_at_most_cents(value: Decimal) -> bool:
    """True when the amount has no digits past the cent (input validation: 10.005 is refused, not rounded)."""
    return D(value) == D(value).quantize(CENT)
