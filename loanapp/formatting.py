"""How amounts, rates and dates are shown on pages: one place, so every page reads the same.

One style per page: amounts are "$9,800.00" on English and Spanish pages alike (the credit union's
statements and the worker's contract are in dollars written the US way), so counts use the same
separators on a Spanish page ("78,500 millas": Babel's ``es_US``, the Spanish of the United States), and
dates are written in words in the page's language ("7 de diciembre de 2026"), never as ISO dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Flask, current_app
from flask_babel import format_date, format_time, get_locale

from risk.money import from_cents
from risk.money import money as to_money


def money(amount: Decimal | int | str | None) -> str:
    """$1,234.56 — exact cents, never through a float."""
    if amount is None:
        return "—"
    value = to_money(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def percent(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):.{places}f}%"


def cents(amount: int | None) -> str:
    """$1,234.56 from whole cents (the projections' figures)."""
    return "—" if amount is None else money(from_cents(int(amount)))


def share(value: float | None, places: int = 1) -> str:
    """A probability or share (0..1) as a percent, for display only."""
    return "—" if value is None else f"{Decimal(str(value)) * 100:.{places}f}%"


def local_datetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    return f"{format_date(local.date(), 'medium')} {format_time(local.time(), 'short')}"


def long_date(day: date | None) -> str:
    return "—" if day is None else format_date(day, "long")


def short_date(day: date | None) -> str:
    """ "Dec 7, 2026" / "7 dic 2026": for tables where a long date would crowd the row."""
    return "—" if day is None else format_date(day, "medium")


def number_locale() -> str:
    return "es_US" if str(get_locale()).startswith("es") else "en_US"


def number(value: Decimal | int | None) -> str:
    """A count or measure with the page's separators, which match its amounts ("78,500")."""
    return "—" if value is None else format_decimal(value, locale=number_locale())


def file_size(size: int | None) -> str:
    """408 bytes, 12.5 KB, 1.2 MB: never "0 KB" for a small file."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{Decimal(size) / 1024:.1f} KB"
    return f"{Decimal(size) / (1024 * 1024):.1f} MB"


def words(code: str | None) -> str:
    """A stored code read as words ("claim_payment" -> "claim payment"): pages never show a raw code."""
    return "" if code is None else str(code).replace("_", " ")


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(cents, "cents")
    app.add_template_filter(share, "share")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(short_date, "short_date")
    app.add_template_filter(number, "number")
    app.add_template_filter(file_size, "file_size")
    app.add_template_filter(words, "words")
