"""The month a funder document is for, as a person types it (``YYYY-MM``)."""

from __future__ import annotations

import datetime as dt


class BadMonth(ValueError):
    """A month no statement or register can be shown for; the message is for the person who asked."""


#: No statement is for a month before this (the program's reserve began in 2016; year 1 once broke it).
EARLIEST_MONTH = dt.date(2000, 1, 1)


def parse_month(raw: str, today: dt.date) -> tuple[int, int]:
    """``YYYY-MM`` up to the current month (empty: the last full month); ``BadMonth`` otherwise.

    >>> parse_month("2026-10", dt.date(2026, 12, 7)), parse_month("", dt.date(2026, 12, 7))
    ((2026, 10), (2026, 11))
    """
    raw = raw.strip()
    if not raw:
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.year, last.month
    try:
        year_text, month_text = raw.split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError(raw)
        first = dt.date(int(year_text), int(month_text), 1)
    except ValueError:
        raise BadMonth(f"“{raw}” is not a month: enter it like {today:%Y-%m}.") from None
    if first > today:
        raise BadMonth(f"{first:%B %Y} has not begun yet: there is no statement for it.")
    if first < EARLIEST_MONTH:
        raise BadMonth(f"The reserve has no months before {EARLIEST_MONTH:%B %Y}.")
    return first.year, first.month
