"""Marshmallow fields for the program's values: money in, money out, exactly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

from risk.money import CENT


class Money(fields.Decimal):
    """An amount of money: a JSON string or number with at most two decimals; dumped as "1234.50".

    Amounts with more digits are refused, not rounded: the client meant something we cannot book.
    """

    def __init__(self, *, minimum: Decimal | None = None, allow_zero: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("example", "12500.00")
        super().__init__(places=None, as_string=True, allow_nan=False, **kwargs)
        self.minimum = minimum
        self.allow_zero = allow_zero

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool | float):
            raise ValidationError("Send the amount as a string or an exact number, e.g. '12500.00'.")
        number = super()._deserialize(value, attr, data, **kwargs)
        try:
            exact = number == number.quantize(CENT)
        except InvalidOperation as exc:
            raise ValidationError("Not a valid amount.") from exc
        if not exact:
            raise ValidationError("Use at most two decimals (cents).")
        if number < 0 or (number == 0 and not self.allow_zero):
            raise ValidationError(
                "Must be more than zero." if not self.allow_zero else "Must not be negative."
            )
        return number.quantize(CENT)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return f"{Decimal(value).quantize(CENT):f}"


class Percent(fields.Decimal):
    """A rate in percent with at most two decimals ("9.25" is 9.25%), dumped as a string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(places=None, as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool | float):
            raise ValidationError("Send the rate as a string or an exact number, e.g. '9.25'.")
        number = super()._deserialize(value, attr, data, **kwargs)
        if number != number.quantize(CENT):
            raise ValidationError("Use at most two decimals.")
        return number.quantize(CENT)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return f"{Decimal(value).quantize(CENT):f}"
