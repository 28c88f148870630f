"""How people type amounts and numbers into forms, parsed one way on every page.

Amounts are written the way the pages show them ("$9,500.00": a comma between thousands, a point before
the cents, on English and on Spanish pages alike). What people also type is read where it cannot be
mistaken, and refused with the right form where it could:

- "$9,500", "9 500", "9500.00": 9500.00.
- "18,50" (a decimal comma): 18.50 on a Spanish page, where it is the usual way to write cents; on an
  English page it is refused with "write it like 18.50" (an English reader may have meant 1850).
- "1.250,50": 1250.50 on a Spanish page; refused on an English page.
- "3.200" (a point followed by three digits ending in 0): refused on every page with both readings shown
  (3200 or 3.20); "12.345" is refused for its three decimals; as whole numbers ("78.500 miles") it can only
  mean 78500 and is read so.
- More than two decimals is refused, never rounded (the project's money rule).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField
from wtforms.widgets import TextInput

from risk.money import CENT

_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,250 or 1,250.50
_DOT_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.250 or 1.250,50
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")  # 18,50
_AMBIGUOUS_POINT = re.compile(r"^\d{1,3}\.\d{3}$")  # 3.200


class AmountError(ValueError):
    """The text is not an amount; the message says how to write it."""


def _spanish() -> bool:
    return has_request_context() and str(get_locale()).startswith("es")


def parse_number(text: str, *, spanish: bool | None = None, places: int = 2) -> Decimal:
    """The number in ``text`` (a "$" and spaces are ignored), at most ``places`` decimals."""
    spanish = _spanish() if spanish is None else spanish
    raw = text.replace("$", "").replace(" ", "").replace("\u00a0", "").strip()
    if raw.startswith("-"):
        raise AmountError(_l("Enter an amount of zero or more."))
    if _AMBIGUOUS_POINT.match(raw) and raw.endswith("0"):
        # "3.200": three thousand two hundred (a Spanish-style group) or 3.20 with a trailing zero.
        whole, cents = raw.replace(".", ""), raw[:-1]
        raise AmountError(
            _l("Write %(whole)s for whole dollars, or %(cents)s with cents.", whole=whole, cents=cents)
        )
    if "," in raw and "." in raw and _DOT_GROUPED.match(raw):
        if not spanish:
            raise AmountError(_l("Write it like %(example)s.", example=_english_form(raw)))
        raw = raw.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.match(raw):
        if not spanish:
            raise AmountError(_l("Write it like %(example)s.", example=raw.replace(",", ".")))
        raw = raw.replace(",", ".")
    elif "," in raw:
        if not _GROUPED.match(raw):
            raise AmountError(_l("Enter an amount in dollars, like 1250.00."))
        raw = raw.replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise AmountError(_l("Enter an amount in dollars, like 1250.00.")) from None
    if not number.is_finite():
        raise AmountError(_l("Enter an amount in dollars, like 1250.00."))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise AmountError(_l("Use dollars and cents, at most two decimals."))
    return number


def _english_form(dot_grouped: str) -> str:
    whole, _comma, cents = dot_grouped.partition(",")
    return whole.replace(".", ",") + ("." + cents if cents else "")


def parse_whole_number(text: str) -> int:
    """A count ("3", "78,500", "78.500", "78 500"): a whole number cannot have decimals, so a point or
    comma between groups of three digits can only separate thousands."""
    raw = text.replace(" ", "").replace("\u00a0", "").strip()
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", raw):
        raw = raw.replace(",", "").replace(".", "")
    if not raw.isdigit() or len(raw) > 9:
        raise AmountError(_l("Enter a whole number, like 3."))
    return int(raw)


class MoneyField(DecimalField):
    """Dollars and cents as typed on a phone. A text box with a decimal keypad rather than
    ``type=number``, so "$9,500" can be typed as people write it and the server says what is wrong."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            number = parse_number(str(valuelist[0]))
        except AmountError:
            self.data = None
            raise
        self.data = number.quantize(CENT) if number == number.quantize(CENT) else number


class NumberField(DecimalField):
    """A plain decimal number (hours a week, a rate)."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_number(str(valuelist[0]))
        except AmountError:
            self.data = None
            raise ValueError(_l("Enter a number, like 40 or 37.5.")) from None


class WholeNumberField(IntegerField):
    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_whole_number(str(valuelist[0]))
        except AmountError:
            self.data = None
            raise
