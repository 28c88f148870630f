"""Hardship plans: the schedule in force after a deferral, a due-date change, a re-amortisation or a
re-age, and the projection the borrower is shown. Pure: no Flask, no database.

How a plan changes a loan (the program's rules, stated once):

* Interest never stops: it accrues daily on the unpaid principal (``risk.servicing``) whatever the
  schedule says. A plan changes only **when installments are due and how much**, so it changes
  days past due, buckets and the projected payments, never how a payment is split.
* Delinquency keeps its cumulative rule (``risk.delinquency``): installments are paid in order by
  the amount credited. A plan keeps the installments already paid (by the amount credited through
  its effective date) and replaces the open ones; each plan starts from the schedule in force
  before it, so plans stack in date order.
* **Deferral** (``installments`` = N): the first N open installments move to the end of the term,
  one a month after the last due date. **Re-age**: a deferral of every open installment already due
  on the effective date (the loan is brought current), allowed after a qualifying run of on-time
  months (:func:`on_time_run`).
* **Due-date change** (``due_day`` = D, 1..28): open installments due after the effective date move
  to day D, the first one to the first day D on or after its old date (a payment is never brought
  forward), the rest monthly from it. The first changed payment is charged for its actual days: it
  grows by the daily interest of the added days on the principal projected at that point.
* **Re-amortisation** (``term_months`` = T): the principal and interest owed on the effective date
  are spread over T monthly payments, the first on the loan's due day after the effective date,
  with the level payment of :func:`risk.amortization.schedule` (booking's rounding rules: odd first
  period, half-up to the cent). Past-due installments are folded in: the loan is current.
* Every revised schedule is **projected**: each open installment paid on its due date (one already
  due: on the effective date) through ``risk.servicing`` (fees, interest, principal); the last
  payment is what pays the loan off on its date (cents-exact), and installments after the loan
  would be paid off are dropped. The level payments are the loan's, so the final payment carries
  the interest that the plan's extra days cost.

Examples
--------
>>> from risk.servicing import LoanState
>>> schedule = [Installment(dt.date(2027, m, 1), Decimal("100.00")) for m in range(2, 8)]
>>> state = LoanState.opened(Decimal("580.00"), Decimal("6.00"), dt.date(2027, 1, 1))
>>> at = AtEffective(accrue(state, dt.date(2027, 3, 10)), Decimal("100.00"))
>>> plan = revise(schedule, at, PlanTerms("deferral", dt.date(2027, 3, 10), installments=1),
...               tolerance=Decimal("5.00"), level_payment=Decimal("100.00"))
>>> [(i.due_date.isoformat(), str(i.amount)) for i in plan.schedule][-3:]
[('2027-06-01', '100.00'), ('2027-07-01', '100.00'), ('2027-08-01', '100.34')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from risk import amortization
from risk.dates import add_months
from risk.delinquency import BucketScheme, Credit, Installment, Segment, bucket_timeline
from risk.errors import InvalidTerms
from risk.money import ZERO, from_cents, money, to_cents
from risk.servicing import LoanState, accrue, apply_payment, daily_interest, payoff_amount

KINDS = ("deferral", "due_day", "reamortize", "reage")
MAX_DUE_DAY = 28  # every month has the day: a due day never clamps to month end


@dataclass(frozen=True)
class PlanTerms:
    """What the officer chose: the kind, the date it takes effect and its one parameter."""

    kind: str
    effective_on: dt.date
    installments: int | None = None
    due_day: int | None = None
    term_months: int | None = None


@dataclass(frozen=True)
class AtEffective:
    """The loan at the end of the effective date: its state accrued to that day and the cumulative
    amount credited to interest and principal (``risk.delinquency``)."""

    state: LoanState
    credited: Decimal


@dataclass(frozen=True)
class Line:
    """One open installment of a projected schedule.

    ``payment`` is the installment; ``to_pay`` what is still to pay of it (less when part was paid
    before); ``interest``, ``principal`` and ``balance`` the projection of paying ``to_pay`` on the
    due date (on the effective date for one already due).
    """

    number: int
    due_date: dt.date
    payment: Decimal
    to_pay: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal


@dataclass(frozen=True)
class Projection:
    lines: tuple[Line, ...]

    @property
    def total_to_pay(self) -> Decimal:
        return sum((line.to_pay for line in self.lines), ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((line.interest for line in self.lines), ZERO)

    @property
    def maturity_date(self) -> dt.date | None:
        return self.lines[-1].due_date if self.lines else None


@dataclass(frozen=True)
class Revision:
    """A plan worked out: the whole schedule in force from the effective date (paid installments
    first, unchanged), the projection of its open part, and the first due date after the effective
    date (when the borrower pays again)."""

    schedule: tuple[Installment, ...]
    projection: Projection
    first_open: int
    resumes_on: dt.date | None
    payment: Decimal  # the level payment from now on


def paid_count(schedule: Sequence[Installment], credited: Decimal, tolerance: Decimal) -> int:
    """How many installments, from the first, the amount credited pays (within the tolerance)."""
    running, count = ZERO, 0
    for inst in schedule:
        running += inst.amount
        if running > credited + tolerance:
            break
        count += 1
    return count


def project(
    state: LoanState,
    installments: Sequence[Installment],
    already: Decimal,
    start: int = 1,
    *,
    final: bool = True,
) -> tuple[Projection, LoanState]:
    """Pay ``installments`` on their due dates from ``state`` (see the module docstring); returns
    the projection and the state after it.

    ``already`` is credit counted towards the first installment(s) before ``state``'s date (it may
    be a few dollars negative: a shortfall within the tolerance); ``start`` numbers the first line.
    With ``final`` the last installment is what pays the loan off on its date.
    """
    lines: list[Line] = []
    credit = already
    for k, inst in enumerate(installments):
        day = max(inst.due_date, state.as_of)
        used, credit = credit, ZERO
        due, to_pay = inst.amount, inst.amount - used
        owed = payoff_amount(state, day)
        last = (final and k == len(installments) - 1) or to_pay >= owed
        if last:
            to_pay = owed
            due = max(owed + used, owed) if used < 0 else owed + used
        elif to_pay <= 0:  # paid ahead: the credit covers it and carries on
            credit = -to_pay
            lines.append(Line(start + k, inst.due_date, due, ZERO, ZERO, ZERO, state.principal_balance))
            continue
        state, split = apply_payment(state, to_pay, day)
        lines.append(
            Line(
                start + k,
                inst.due_date,
                due,
                to_pay,
                split.to_interest,
                split.to_principal,
                state.principal_balance,
            )
        )
        if last:
            break
    return Projection(tuple(lines)), state


def _schedule_after(prefix: Sequence[Installment], projection: Projection) -> tuple[Installment, ...]:
    return tuple(prefix) + tuple(Installment(line.due_date, line.payment) for line in projection.lines)


def _cumulative(schedule: Sequence[Installment], count: int) -> Decimal:
    return sum((inst.amount for inst in schedule[:count]), ZERO)


def current_projection(
    schedule: Sequence[Installment], at: AtEffective, *, tolerance: Decimal
) -> tuple[Projection, int]:
    """The schedule in force, projected from ``at`` with no plan (the preview's "before")."""
    count = min(paid_count(schedule, at.credited, tolerance), len(schedule) - 1)
    already = at.credited - _cumulative(schedule, count)
    return project(at.state, schedule[count:], already, count + 1)[0], count


def revise(
    schedule: Sequence[Installment],
    at: AtEffective,
    terms: PlanTerms,
    *,
    tolerance: Decimal,
    level_payment: Decimal,
    latest_maturity: dt.date | None = None,
) -> Revision:
    """The schedule in force after ``terms`` (module docstring); :class:`InvalidTerms` names the
    field when the plan cannot apply (nothing open, a due day out of range, a term too long)."""
    if terms.kind not in KINDS:
        raise InvalidTerms("kind", f"must be one of {', '.join(KINDS)}")
    if not schedule:
        raise InvalidTerms("schedule", "the loan has no schedule")
    if at.state.principal_balance <= 0:
        raise InvalidTerms("kind", "the loan is paid off")
    if at.state.as_of != terms.effective_on:
        raise InvalidTerms("effective_on", "the loan's state must be taken on the effective date")
    count = paid_count(schedule, at.credited, tolerance)
    count = min(count, len(schedule) - 1)  # the final installment is open while principal is left
    prefix, open_ = list(schedule[:count]), list(schedule[count:])
    already = at.credited - _cumulative(schedule, count)
    day = terms.effective_on
    level = level_payment

    if terms.kind in ("deferral", "reage"):
        if terms.kind == "reage":
            n = sum(1 for inst in open_ if inst.due_date <= day)
            if n == 0:
                raise InvalidTerms("kind", "the loan is not past due: there is nothing to re-age")
        else:
            n = terms.installments or 0
            if n < 1:
                raise InvalidTerms("installments", "move at least one installment")
            if n > len(open_):
                raise InvalidTerms("installments", f"only {len(open_)} installments are left to pay")
        last = open_[-1].due_date
        dates = [inst.due_date for inst in open_[n:]] + [add_months(last, k) for k in range(1, n + 1)]
        new = [Installment(d, level) for d in dates]
    elif terms.kind == "due_day":
        due_day = terms.due_day
        if due_day is None or not 1 <= due_day <= MAX_DUE_DAY:
            raise InvalidTerms("due_day", f"must be a day from 1 to {MAX_DUE_DAY}")
        past = [inst for inst in open_ if inst.due_date <= day]
        future = [inst for inst in open_ if inst.due_date > day]
        if not future:
            raise InvalidTerms("due_day", "no installment is left to move")
        old_first = future[0].due_date
        if old_first.day == due_day:
            raise InvalidTerms("due_day", f"payments are already due on day {due_day}")
        first = old_first.replace(day=due_day)
        if first < old_first:
            first = add_months(first, 1)
        dates = [add_months(first, k) for k in range(len(future))]
        # Project the installments before the first changed one, to charge the added days' interest
        # on the principal projected then.
        _, state = project(at.state, [Installment(i.due_date, level) for i in past], already, final=False)
        added = (first - old_first).days
        extra = money(daily_interest(state.principal_balance, state.annual_rate) * added)
        new = [Installment(i.due_date, level) for i in past]
        new += [Installment(d, level + (extra if k == 0 else ZERO)) for k, d in enumerate(dates)]
    else:  # reamortize
        term = terms.term_months
        if term is None or term < 1:
            raise InvalidTerms("term_months", "enter the new number of monthly payments")
        due_day = schedule[0].due_date.day
        first = day.replace(day=1)
        first = add_months(first, 0, due_day)
        while first <= day:
            first = add_months(first, 1, due_day)
        maturity = add_months(first, term - 1, due_day)
        if latest_maturity is not None and maturity > latest_maturity:
            raise InvalidTerms(
                "term_months",
                f"the last payment would fall on {maturity.isoformat()}, after the program's longest term "
                f"allows ({latest_maturity.isoformat()})",
            )
        owed = at.state.principal_balance + money(at.state.accrued_interest) + at.state.fees_due
        level = reamortized_payment(owed, at.state.annual_rate, term, day, first)
        new = [Installment(add_months(first, k, due_day), level) for k in range(term)]
        new[0] = Installment(new[0].due_date, level + already)

    projection, _ = project(at.state, new, already, count + 1)
    revised = _schedule_after(prefix, projection)
    resumes = next((inst.due_date for inst in revised[count:] if inst.due_date > day), None)
    return Revision(revised, projection, count, resumes, level)


def reamortized_payment(
    owed: Decimal, annual_rate: Decimal, term: int, start: dt.date, first_due: dt.date
) -> Decimal:
    """The level payment that repays ``owed`` over ``term`` months from ``start``, the first due on
    ``first_due``: booking's formula (``risk.amortization``: exact rational arithmetic, an odd first
    period earning its actual days, half-up to the cent), without booking's minimum loan amount.

    >>> reamortized_payment(Decimal("10000.00"), Decimal("9.00"), 60, dt.date(2027, 1, 1), dt.date(2027, 2, 1))
    Decimal('207.58')
    """
    cents, rate_bp = to_cents(owed), amortization.basis_points(annual_rate)
    if cents <= 0:
        raise InvalidTerms("term_months", "nothing is owed to spread")
    period = amortization.first_period(start, first_due)
    if period == amortization.REGULAR_FIRST_PERIOD:
        return from_cents(amortization._exact_level_payment_cents(cents, rate_bp, term))  # noqa: SLF001
    return from_cents(amortization._odd_level_payment_cents(cents, rate_bp, term, period))  # noqa: SLF001


# --- the schedule in force over time ---------------------------------------------------------------


Version = tuple[dt.date, Sequence[Installment]]


def in_force(versions: Sequence[Version], on: dt.date) -> Sequence[Installment]:
    """The schedule in force on ``on``: the latest version effective on or before it (the first
    version, the disclosed schedule, is in force from the start)."""
    current = versions[0][1]
    for effective_on, schedule in versions[1:]:
        if effective_on <= on:
            current = schedule
    return current


def timeline(
    versions: Sequence[Version],
    principal: Decimal,
    credits: Sequence[Credit],
    start: dt.date,
    end: dt.date,
    *,
    tolerance: Decimal,
    scheme: BucketScheme,
    ended: tuple[dt.date, str] | None = None,
) -> list[Segment]:
    """:func:`risk.delinquency.bucket_timeline` with each stretch of days measured against the
    schedule in force on those days; segments of the same bucket across a plan's date are merged."""
    cuts = [v[0] for v in versions[1:] if start < v[0] <= end]
    bounds = [start, *cuts, end + dt.timedelta(days=1)]
    segments: list[Segment] = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        if hi <= lo:
            continue
        part = bucket_timeline(
            in_force(versions, lo),
            principal,
            credits,
            lo,
            hi - dt.timedelta(days=1),
            tolerance=tolerance,
            scheme=scheme,
            ended=ended,
        )
        for seg in part:
            if segments and segments[-1].bucket == seg.bucket:
                continue
            if segments:
                segments[-1] = segments[-1]._replace(closed_on=seg.opened_on)
            segments.append(seg._replace(closed_on=None))
    return segments


def on_time_run(
    payments: Sequence[tuple[dt.date, Decimal]], effective_on: dt.date, payment: Decimal, tolerance: Decimal
) -> int:
    """How many whole months back from ``effective_on`` each brought in at least one scheduled
    ``payment`` (less the tolerance), counting back until a month that did not (the re-age's run).

    >>> pays = [(dt.date(2027, m, 3), Decimal("200.00")) for m in (2, 3, 4)]
    >>> on_time_run(pays, dt.date(2027, 4, 20), Decimal("200.00"), Decimal("5.00"))
    3
    """
    run = 0
    while True:
        hi = add_months(effective_on, -run)
        lo = add_months(effective_on, -run - 1)
        got = sum((amount for on, amount in payments if lo < on <= hi), ZERO)
        if got < payment - tolerance:
            return run
        run += 1
        if run > 240:
            return run


__all__ = [
    "Installment",
    "KINDS",
    "AtEffective",
    "Line",
    "PlanTerms",
    "Projection",
    "Revision",
    "accrue",
    "current_projection",
    "in_force",
    "on_time_run",
    "paid_count",
    "project",
    "revise",
    "timeline",
]
