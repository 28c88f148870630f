"""Delinquency: days past due against the disclosed schedule, buckets, and a loan's bucket timeline.

Definitions (the credit union's call report, NCUA 5300, and the program's servicing rules):

* What pays installments is the amount **credited** to the loan: the parts of payments applied to
  fees, interest and principal. Excess (a refund due) pays no installment. Fees count so that late
  fees never pyramid (16 CFR 444.4 / 12 CFR 706.4(a)): a payment that pays an earlier fee first
  still pays its installment in full for delinquency.
* Installment ``k`` is **fully paid** on a date when the cumulative credited amount received by
  that date reaches the cumulative scheduled amount through ``k`` less the **tolerance** (default
  $5.00 in the program's configuration): a shortfall of a few dollars does not make a loan late.
* The **final** installment is not paid while principal of more than the tolerance is left: a loan
  still owing after its maturity date is past due from that date, whatever its payments added up to
  (late payments accrue more daily interest than the disclosed schedule assumed). It is **billed**
  as the payoff on the maturity date, not the disclosed figure (:func:`bill_final`): what is left
  to pay of it is the payoff, whatever the disclosed schedule said.
* **Days past due** on a date = that date - the due date of the oldest installment not fully paid,
  and 0 when nothing unpaid is due before that date (a loan is not late on the due date itself).
  A payment received on a date counts on that date.
* A **bucket** is a range of days past due, named by its label; a scheme is the list of lower
  bounds (``current`` 0, ``1-29`` 1, ``30-59`` 30, ...). The call-report scheme starts at 30: a loan
  under its first bound is in no call-report bucket.

Money is exact: Decimal in the scalar functions, integer cents in the vectorised ones. Dates in the
vectorised functions are day numbers (``date.toordinal()``).

Examples
--------
>>> import datetime as dt
>>> schedule = [Installment(dt.date(2027, m, 1), Decimal("200.00")) for m in (2, 3, 4)]
>>> days_past_due(dt.date(2027, 3, 13), schedule, Decimal("200.00"), tolerance=Decimal("5.00"))
12
>>> days_past_due(dt.date(2027, 3, 13), schedule, Decimal("396.00"), tolerance=Decimal("5.00"))
0
>>> PROGRAM_BUCKETS.label_for(12), CALL_REPORT_BUCKETS.label_for(12)
('1-29', None)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from risk.errors import InvalidTerms
from risk.money import ZERO, from_cents, to_cents

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Terminal labels in a bucket timeline: a loan that ended is in no delinquency bucket any more.
PAID_OFF = "paid_off"
CHARGED_OFF = "charged_off"


class Installment(NamedTuple):
    """One payment of the disclosed schedule: its due date and amount."""

    due_date: dt.date
    amount: Decimal


class Credit(NamedTuple):
    """A loan's position after the payments received on a date.

    Attributes
    ----------
    on
        The received date.
    credited
        Cumulative amount credited (applied to fees, interest and principal) through this date.
    balance
        Principal left after this date's payments.
    """

    on: dt.date
    credited: Decimal
    balance: Decimal


class Segment(NamedTuple):
    """A stretch of days in one bucket: from ``opened_on`` up to (not including) ``closed_on``."""

    bucket: str
    opened_on: dt.date
    closed_on: dt.date | None


@dataclass(frozen=True)
class BucketScheme:
    """Named ranges of days past due, by lower bound (the upper bound is the next one's, minus 1).

    >>> scheme = BucketScheme.from_pairs([("30-59", 30), ("60+", 60)])
    >>> [scheme.label_for(d) for d in (0, 30, 59, 60, 400)]
    [None, '30-59', '30-59', '60+', '60+']
    """

    labels: tuple[str, ...]
    lower_bounds: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.labels or len(self.labels) != len(self.lower_bounds):
            raise InvalidTerms("buckets", "need one label per lower bound, at least one")
        if len(set(self.labels)) != len(self.labels) or any(not label for label in self.labels):
            raise InvalidTerms("buckets", "labels must be distinct and not empty")
        if self.lower_bounds[0] < 0 or any(
            b <= a for a, b in zip(self.lower_bounds, self.lower_bounds[1:], strict=False)
        ):
            raise InvalidTerms("buckets", f"lower bounds must increase from 0 or more: {self.lower_bounds}")
        if {PAID_OFF, CHARGED_OFF} & set(self.labels):
            raise InvalidTerms("buckets", "paid_off and charged_off are terminal states, not buckets")

    @classmethod
    def from_pairs(cls, pairs: Sequence[Sequence[object]]) -> BucketScheme:
        """From configuration: ``[["current", 0], ["1-29", 1], ...]``."""
        try:
            labels = tuple(str(label) for label, _ in pairs)
            bounds = tuple(int(str(bound)) for _, bound in pairs)
        except (TypeError, ValueError) as exc:
            raise InvalidTerms("buckets", f"write buckets as [label, lower bound] pairs: {pairs!r}") from exc
        return cls(labels, bounds)

    def index_for(self, days: int) -> int:
        """Position of the bucket holding ``days`` (-1 below the first lower bound)."""
        return int(np.searchsorted(np.asarray(self.lower_bounds), days, side="right")) - 1

    def label_for(self, days: int) -> str | None:
        index = self.index_for(days)
        return None if index < 0 else self.labels[index]

    def indexes_for(self, days: IntArray) -> IntArray:
        """Vectorised :meth:`index_for`."""
        bounds = np.asarray(self.lower_bounds, dtype=np.int64)
        return np.searchsorted(bounds, days, side="right").astype(np.int64) - 1


#: The program's default buckets and the call report's (configuration can replace both).
PROGRAM_BUCKETS = BucketScheme.from_pairs(
    [("current", 0), ("1-29", 1), ("30-59", 30), ("60-89", 60), ("90-119", 90), ("120+", 120)]
)
CALL_REPORT_BUCKETS = BucketScheme.from_pairs(
    [("30-59", 30), ("60-89", 60), ("90-179", 90), ("180-359", 180), ("360+", 360)]
)


@dataclass(frozen=True)
class Standing:
    """Where a borrower stands on a date.

    Attributes
    ----------
    days_past_due
        As defined in the module docstring.
    past_due_amount
        Scheduled amounts due on or before the date not yet credited (what catches the loan up).
    next_due_date, next_amount
        The next installment not fully paid that falls due after the date (on it, when the borrower
        is current and it is due that day), and what is left to pay of it; None when none is left.
    """

    days_past_due: int
    past_due_amount: Decimal
    next_due_date: dt.date | None
    next_amount: Decimal | None


def bill_final(
    schedule: Sequence[Installment], credited: Decimal, payoff_at_maturity: Decimal
) -> list[Installment]:
    """The schedule with its final installment billed as the payoff on the maturity date.

    ``payoff_at_maturity`` is what pays the loan off on the final due date if nothing more is paid
    before it (interest and principal: what credits count against). The final amount is set so
    that everything billed and not yet credited adds up to it: ``credited + payoff - (the disclosed
    installments before the final)``, at least a cent. So a borrower who has paid every regular
    installment is billed exactly the payoff at maturity, and one who is behind owes the missed
    installments plus the rest of the payoff.

    >>> schedule = [Installment(dt.date(2027, m, 1), Decimal("200.00")) for m in (2, 3, 4)]
    >>> bill_final(schedule, Decimal("400.00"), Decimal("196.71"))[-1].amount
    Decimal('196.71')
    >>> bill_final(schedule, Decimal("200.00"), Decimal("398.10"))[-1].amount
    Decimal('198.10')
    """
    if not schedule:
        return []
    regular = sum((row.amount for row in schedule[:-1]), ZERO)
    final = max(credited + payoff_at_maturity - regular, Decimal("0.01"))
    return [*schedule[:-1], schedule[-1]._replace(amount=final)]


def _cents(amounts: Sequence[Decimal]) -> IntArray:
    return np.fromiter((to_cents(a) for a in amounts), dtype=np.int64, count=len(amounts))


def _paid_count(cumulative_due: IntArray, credited: int, tolerance: int, balance: int) -> int:
    """How many installments (from the first) are fully paid; the final one needs the balance gone."""
    count = int(np.searchsorted(cumulative_due, credited + tolerance, side="right"))
    if count == len(cumulative_due) and balance > tolerance:
        count -= 1
    return count


def _check(tolerance: Decimal, schedule: Sequence[Installment]) -> None:
    if tolerance < 0:
        raise InvalidTerms("tolerance", f"must not be negative: {tolerance}")
    if any(b.due_date <= a.due_date for a, b in zip(schedule, schedule[1:], strict=False)):
        raise InvalidTerms("schedule", "due dates must increase")
    if any(row.amount <= 0 for row in schedule):
        raise InvalidTerms("schedule", "installment amounts must be more than zero")


def standing(
    as_of: dt.date,
    schedule: Sequence[Installment],
    credited: Decimal,
    *,
    tolerance: Decimal,
    balance: Decimal | None = None,
) -> Standing:
    """Days past due, the amount to catch up and the next payment, on ``as_of``.

    ``credited`` is the cumulative amount credited by ``as_of``; ``balance`` the principal left
    (None: unknown, taken as still owing). A loan with no balance left is never past due.

    >>> schedule = [Installment(dt.date(2027, m, 1), Decimal("215.40")) for m in (2, 3, 4)]
    >>> standing(dt.date(2027, 3, 13), schedule, Decimal("215.40"), tolerance=Decimal("5.00"))
    Standing(days_past_due=12, past_due_amount=Decimal('215.40'), next_due_date=datetime.date(2027, 4, 1), next_amount=Decimal('215.40'))
    """
    _check(tolerance, schedule)
    if balance is not None and balance <= 0:
        return Standing(0, ZERO, None, None)
    tol = to_cents(tolerance)
    bal = 1 + tol if balance is None else to_cents(balance)
    paid = to_cents(credited)
    cumulative = np.cumsum(_cents([row.amount for row in schedule]))
    count = _paid_count(cumulative, paid, tol, bal)
    due_by = sum(1 for row in schedule if row.due_date <= as_of)
    past_due = max(0, int(cumulative[due_by - 1]) - paid) if due_by else 0
    if count == len(schedule):
        return Standing(0, from_cents(past_due), None, None)
    oldest = schedule[count]
    days = max(0, (as_of - oldest.due_date).days)
    if days == 0:
        next_index = count
        next_cents = int(cumulative[count]) - paid
    else:
        next_index = due_by
        next_cents = to_cents(schedule[due_by].amount) if due_by < len(schedule) else 0
    if next_index >= len(schedule):
        return Standing(days, from_cents(past_due), None, None)
    return Standing(days, from_cents(past_due), schedule[next_index].due_date, from_cents(max(next_cents, 0)))


def days_past_due(
    as_of: dt.date,
    schedule: Sequence[Installment],
    credited: Decimal,
    *,
    tolerance: Decimal,
    balance: Decimal | None = None,
) -> int:
    """Days past due on ``as_of`` (see the module docstring); the scalar twin of :func:`days_past_due_many`."""
    return standing(as_of, schedule, credited, tolerance=tolerance, balance=balance).days_past_due


def days_past_due_many(
    as_of: int,
    loan_of: IntArray,
    due_day: IntArray,
    amount_cents: IntArray,
    is_final: BoolArray,
    credited_cents: IntArray,
    balance_cents: IntArray,
    tolerance_cents: int,
) -> IntArray:
    """Days past due of many loans at once, for the nightly aging of the whole portfolio.

    Parameters
    ----------
    as_of
        The date, as a day number (``date.toordinal()``).
    loan_of, due_day, amount_cents, is_final
        The installments of every loan, one entry each, sorted by loan position then due date:
        ``loan_of`` is the loan's position (0 .. number of loans - 1) in ``credited_cents``. Each
        loan's installments must start with its first; later ones may be left out (those due after
        ``as_of`` cannot make it late, so the caller need not load them).
    credited_cents, balance_cents
        Per loan: cumulative cents credited by ``as_of`` and principal cents left.
    tolerance_cents
        The shortfall that does not count.

    Returns
    -------
    Days past due per loan (0 for a loan with no installment listed or no balance).

    Examples
    --------
    >>> day = dt.date(2027, 3, 13).toordinal()
    >>> dues = np.array([dt.date(2027, 2, 1).toordinal(), dt.date(2027, 3, 1).toordinal()] * 2)
    >>> days_past_due_many(day, np.array([0, 0, 1, 1]), dues, np.array([20000] * 4),
    ...                    np.array([False, False, False, False]), np.array([20000, 40000]),
    ...                    np.array([100000, 100000]), 500).tolist()
    [12, 0]
    """
    n_loans = len(credited_cents)
    result = np.zeros(n_loans, dtype=np.int64)
    if len(loan_of) == 0 or n_loans == 0:
        return result
    loan_of = np.asarray(loan_of, dtype=np.int64)
    unpaid = unpaid_installments(
        loan_of, amount_cents, is_final, credited_cents, balance_cents, tolerance_cents
    )
    positions = np.flatnonzero(unpaid)
    # Sorted by loan then due date, so a loan's first unpaid installment is its oldest.
    loans, first = np.unique(loan_of[positions], return_index=True)
    oldest_due = np.asarray(due_day, dtype=np.int64)[positions[first]]
    result[loans] = np.maximum(0, as_of - oldest_due)
    return result


def unpaid_installments(
    loan_of: IntArray,
    amount_cents: IntArray,
    is_final: BoolArray,
    credited_cents: IntArray,
    balance_cents: IntArray,
    tolerance_cents: int,
) -> BoolArray:
    """Per installment (laid out as in :func:`days_past_due_many`): not fully paid by the credits.

    >>> unpaid_installments(np.array([0, 0, 0]), np.array([100, 100, 100]), np.array([False, False, True]),
    ...                     np.array([150]), np.array([120]), 0).tolist()
    [False, True, True]
    """
    loan_of = np.asarray(loan_of, dtype=np.int64)
    amounts = np.asarray(amount_cents, dtype=np.int64)
    if len(loan_of) == 0:
        return np.zeros(0, dtype=bool)
    if np.any(np.diff(loan_of) < 0):
        raise InvalidTerms("loan_of", "installments must be sorted by loan")
    # Cumulative due per loan: a running sum minus the running sum at each loan's first installment.
    running = np.cumsum(amounts)
    starts = np.flatnonzero(np.r_[True, loan_of[1:] != loan_of[:-1]])
    lengths = np.diff(np.r_[starts, len(loan_of)])
    cumulative = running - np.repeat(running[starts] - amounts[starts], lengths)
    credited = np.asarray(credited_cents, dtype=np.int64)[loan_of]
    balance = np.asarray(balance_cents, dtype=np.int64)[loan_of]
    unpaid = cumulative - credited > tolerance_cents
    unpaid |= np.asarray(is_final, dtype=bool) & (balance > tolerance_cents)
    unpaid &= balance > 0
    result: BoolArray = unpaid
    return result


def bucket_timeline(
    schedule: Sequence[Installment],
    principal: Decimal,
    credits: Sequence[Credit],
    start: dt.date,
    end: dt.date,
    *,
    tolerance: Decimal,
    scheme: BucketScheme,
    ended: tuple[dt.date, str] | None = None,
) -> list[Segment]:
    """The loan's buckets, day by day from ``start`` through ``end``, as segments (the last open).

    ``credits`` are the loan's positions after each received date, in date order (all of them, or
    at least the last one before ``start`` and every later one). ``ended`` is the day the loan was
    paid off or charged off and that terminal label, which holds from then on. Days below the
    scheme's first lower bound are labelled with the first bucket.

    >>> schedule = [Installment(dt.date(2027, m, 1), Decimal("200.00")) for m in (2, 3, 4)]
    >>> bucket_timeline(schedule, Decimal("580.00"), [], dt.date(2027, 1, 1), dt.date(2027, 3, 5),
    ...                 tolerance=Decimal("5.00"), scheme=PROGRAM_BUCKETS)  # doctest: +NORMALIZE_WHITESPACE
    [Segment(bucket='current', opened_on=datetime.date(2027, 1, 1), closed_on=datetime.date(2027, 2, 2)),
     Segment(bucket='1-29', opened_on=datetime.date(2027, 2, 2), closed_on=datetime.date(2027, 3, 3)),
     Segment(bucket='30-59', opened_on=datetime.date(2027, 3, 3), closed_on=None)]
    """
    _check(tolerance, schedule)
    if end < start:
        raise InvalidTerms("end", f"{end} is before {start}")
    days = np.arange(start.toordinal(), end.toordinal() + 1, dtype=np.int64)
    tol = to_cents(tolerance)
    credit_days = np.fromiter((c.on.toordinal() for c in credits), dtype=np.int64, count=len(credits))
    credited_after = _cents([c.credited for c in credits])
    balance_after = _cents([c.balance for c in credits])
    last = np.searchsorted(credit_days, days, side="right") - 1
    credited = np.where(last >= 0, credited_after[np.maximum(last, 0)] if len(credits) else 0, 0)
    balance = np.where(
        last >= 0, balance_after[np.maximum(last, 0)] if len(credits) else 0, to_cents(principal)
    )

    cumulative = np.cumsum(_cents([row.amount for row in schedule]))
    due_days = np.fromiter((row.due_date.toordinal() for row in schedule), dtype=np.int64)
    n = len(schedule)
    count = np.searchsorted(cumulative, credited + tol, side="right")
    count = np.where((count == n) & (balance > tol), n - 1, count)
    oldest_due = due_days[np.minimum(count, n - 1)] if n else np.zeros_like(days)
    dpd = np.where((count < n) & (balance > 0), np.maximum(0, days - oldest_due), 0)
    index = np.maximum(scheme.indexes_for(dpd), 0)
    names = list(scheme.labels)
    if ended is not None:
        on, label = ended
        names.append(label)
        index = np.where(days >= on.toordinal(), len(names) - 1, index)

    # Only the days where the bucket changes make segments: no Python work per day.
    changes = np.flatnonzero(np.r_[True, index[1:] != index[:-1]]).tolist()
    segments: list[Segment] = []
    for at in changes:
        day = start + dt.timedelta(days=at)
        if segments:
            segments[-1] = segments[-1]._replace(closed_on=day)
        segments.append(Segment(names[int(index[at])], day, None))
    return segments
