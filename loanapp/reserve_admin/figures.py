"""The figures staff watch, gathered for the dashboard and the API (no Flask request needed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import reserve
from loanapp.extensions import db
from risk.dates import add_months
from risk.money import from_cents


@dataclass(frozen=True)
class ReserveFigures:
    position: reserve.ReservePosition
    outstanding_principal: Decimal
    live_loans: int

    @property
    def coverage(self) -> Decimal | None:
        """Available reserve per dollar of outstanding principal (4 places; None with no loans out)."""
        if self.outstanding_principal <= 0:
            return None
        return (self.position.available / self.outstanding_principal).quantize(Decimal("0.0001"))


def outstanding_principal(as_of: dt.date) -> tuple[Decimal, int]:
    """Unpaid principal of the loans live on ``as_of`` (booked, not yet paid off or charged off),
    after the payments received by then (``loanapp.servicing``)."""
    from loanapp.servicing.aging import outstanding_principal as unpaid_principal

    cents, count = unpaid_principal(as_of)
    return from_cents(cents), count


def figures(as_of: dt.date) -> ReserveFigures:
    outstanding, count = outstanding_principal(as_of)
    return ReserveFigures(reserve.reserve_position(db.session, as_of), outstanding, count)


def month_ends(as_of: dt.date, months: int) -> list[dt.date]:
    """The last ``months`` month-ends up to ``as_of`` (the last point is ``as_of`` itself)."""
    first_of_month = as_of.replace(day=1)
    ends = [add_months(first_of_month, -k) - dt.timedelta(days=1) for k in range(months - 1, 0, -1)]
    return [*ends, as_of]


def balance_history(as_of: dt.date, months: int = 24) -> list[reserve.ReservePosition]:
    """Month-end positions: each is a handful of aggregate rows, not a sum over the whole ledger."""
    return [reserve.reserve_position(db.session, day) for day in month_ends(as_of, months)]
