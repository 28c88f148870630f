"""How amounts, rates and dates are shown on pages: one place, so every page reads the same."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_date, format_decimal

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
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def long_date(day: date | None) -> str:
    return "—" if day is None else format_date(day, "long")


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(cents, "cents")
    app.add_template_filter(share, "share")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(format_decimal, "number")
