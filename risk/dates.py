"""Calendar arithmetic for monthly schedules: months of unequal length, clamped to month end."""

from __future__ import annotations

import calendar
import datetime as dt


def days_in_month(year: int, month: int) -> int:
    """Number of days in the month (28..31)."""
    return calendar.monthrange(year, month)[1]


def add_months(start: dt.date, months: int, day: int | None = None) -> dt.date:
    """The date ``months`` calendar months after ``start`` (before, if negative).

    The day of month is ``day`` (default ``start.day``) clamped to the month's last day, so a
    schedule anchored on the 31st falls on Feb 28/29, then Mar 31: each date is computed from the
    anchor, never from the previous (clamped) date, so it does not drift.

    >>> add_months(dt.date(2024, 1, 31), 1), add_months(dt.date(2024, 1, 31), 2)
    (datetime.date(2024, 2, 29), datetime.date(2024, 3, 31))
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    wanted = start.day if day is None else day
    return dt.date(year, month0 + 1, min(wanted, days_in_month(year, month0 + 1)))


def monthly_due_dates(first: dt.date, count: int) -> list[dt.date]:
    """``count`` monthly due dates on the day of month of ``first``, clamped to month end."""
    return [add_months(first, k) for k in range(count)]
