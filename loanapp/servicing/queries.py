"""Servicing reads: a loan's position on a date, its schedule with paid marks, its payment history.

Nothing here writes. Days past due on a page are computed for the date shown (the business date),
from the stored credits and the disclosed schedule, so a page is right even before the nightly aging.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import or_, select

from loanapp.extensions import db
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.loans.states import LoanStatus
from loanapp.servicing.models import (
    Adjustment,
    BucketHistory,
    ChargeOff,
    LoanServicing,
    Payment,
    PaymentAllocation,
    Recovery,
)
from loanapp.servicing.policy import ServicingPolicy, current_policy
from risk import delinquency
from risk.money import ZERO, money
from risk.servicing import LoanState, accrue, payoff_amount

ZERO_ACCRUAL = Decimal("0E-10")


def schedule_versions(loan: Loan) -> list[tuple[dt.date, Sequence[delinquency.Installment]]]:
    """The schedule in force over time (hardship plans, ``loanapp.collections.plans``), disclosed first."""
    from loanapp.collections.plans import schedule_versions as versions

    return versions(loan)


def schedule_in_force(loan: Loan, on: dt.date) -> Sequence[delinquency.Installment]:
    """The schedule the loan is held to on ``on``: the disclosed one, or the latest plan's from its date."""
    from risk.hardship import in_force

    return in_force(schedule_versions(loan), on)


def schedule_of(loan: Loan) -> list[delinquency.Installment]:
    rows = db.session.execute(
        select(LoanInstallment.due_date, LoanInstallment.payment)
        .where(LoanInstallment.loan_id == loan.id)
        .order_by(LoanInstallment.number)
    )
    return [delinquency.Installment(due, amount) for due, amount in rows]


@dataclass(frozen=True)
class CreditPosition:
    credited: Decimal
    balance: Decimal


def position_on(credits: Sequence[delinquency.Credit], principal: Decimal, on: dt.date) -> CreditPosition:
    """Cumulative credited and principal left after the payments received by ``on``."""
    last = None
    for credit in credits:
        if credit.on > on:
            break
        last = credit
    if last is None:
        return CreditPosition(ZERO, principal)
    return CreditPosition(last.credited, last.balance)


@dataclass(frozen=True)
class Position:
    """A loan on a date: what is owed, how late it is, what pays it off."""

    as_of: dt.date
    status: str
    principal_balance: Decimal
    accrued_interest: Decimal  # to the cent, accrued to ``as_of``
    fees_due: Decimal
    payoff: Decimal
    standing: delinquency.Standing
    bucket: str
    credited: Decimal
    total_paid: Decimal
    last_payment_on: dt.date | None
    paid_off_on: dt.date | None
    #: The final installment as billed (the payoff at maturity, ``risk.delinquency.bill_final``);
    #: None once the loan is closed.
    final_billed: Decimal | None = None

    @property
    def balance(self) -> Decimal:
        return self.principal_balance + self.accrued_interest + self.fees_due

    @property
    def catch_up_amount(self) -> Decimal:
        """What brings a late loan current (the payoff, past maturity), plus any fees due."""
        if self.standing.days_past_due == 0:
            return ZERO
        if self.standing.next_due_date is None:
            return self.payoff  # past maturity: the billed final installment is the payoff, to date
        amount = self.standing.past_due_amount or self.payoff
        return min(amount + self.fees_due, self.payoff)


def servicing_row(loan: Loan) -> LoanServicing | None:
    return db.session.get(LoanServicing, loan.id)


def state_of(loan: Loan, row: LoanServicing | None) -> LoanState:
    if row is None:
        return LoanState.opened(loan.principal, loan.annual_rate, loan.contract_date)
    return LoanState(
        principal_balance=money(row.principal_balance),
        accrued_interest=Decimal(row.accrued_interest).quantize(ZERO_ACCRUAL),
        fees_due=money(row.fees_due),
        as_of=row.interest_as_of,
        annual_rate=loan.annual_rate,
    )


def loan_position(
    loan: Loan,
    as_of: dt.date,
    *,
    policy: ServicingPolicy | None = None,
    row: LoanServicing | None = None,
    schedule: Sequence[delinquency.Installment] | None = None,
) -> Position:
    """The loan on ``as_of`` (today or later: a payoff quote; the stored state is the latest)."""
    policy = policy or current_policy()
    row = row if row is not None else servicing_row(loan)
    schedule = schedule if schedule is not None else schedule_in_force(loan, as_of)
    state = state_of(loan, row)
    on = max(as_of, state.as_of)
    accrued = accrue(state, on)
    credited = row.credited if row is not None else ZERO
    final_billed = None
    if loan.status == LoanStatus.PAID_OFF:
        standing = delinquency.Standing(0, ZERO, None, None)
        bucket = delinquency.PAID_OFF
    else:
        billed = billed_schedule(loan, state, schedule, money(credited))
        if billed and loan.status == LoanStatus.ACTIVE:
            final_billed = billed[-1].amount
        standing = delinquency.standing(
            as_of, billed, money(credited), tolerance=policy.tolerance, balance=state.principal_balance
        )
        if standing.next_due_date is not None and standing.next_due_date == loan.maturity_date:
            # The final installment is billed as the payoff: fees due are part of it.
            standing = replace(standing, next_amount=(standing.next_amount or ZERO) + state.fees_due)
        bucket = (
            delinquency.CHARGED_OFF
            if loan.status == LoanStatus.CHARGED_OFF
            else policy.buckets.labels[max(policy.buckets.index_for(standing.days_past_due), 0)]
        )
    return Position(
        as_of=as_of,
        status=loan.status,
        principal_balance=state.principal_balance,
        accrued_interest=money(accrued.accrued_interest),
        fees_due=state.fees_due,
        payoff=payoff_amount(state, on),
        standing=standing,
        bucket=bucket,
        credited=money(credited),
        total_paid=money(row.total_paid) if row is not None else ZERO,
        last_payment_on=row.last_payment_on if row is not None else None,
        paid_off_on=row.paid_off_on if row is not None else None,
        final_billed=final_billed,
    )


def billed_schedule(
    loan: Loan, state: LoanState, schedule: Sequence[delinquency.Installment], credited: Decimal
) -> list[delinquency.Installment]:
    """The schedule as billed: the final installment is the payoff on the maturity date (interest
    and principal; ``risk.delinquency.bill_final``), from the stored state with nothing more paid."""
    if not schedule or state.principal_balance <= 0:
        return list(schedule)
    at_maturity = accrue(state, max(loan.maturity_date, state.as_of))
    payoff = at_maturity.principal_balance + money(at_maturity.accrued_interest)
    return delinquency.bill_final(schedule, credited, payoff)


def payoff_quote(loan: Loan, on: dt.date, row: LoanServicing | None = None) -> Decimal:
    """What pays the loan off on ``on``: principal, interest accrued to that day, fees."""
    return payoff_amount(state_of(loan, row if row is not None else servicing_row(loan)), on)


@dataclass(frozen=True)
class ScheduleLine:
    number: int
    due_date: dt.date
    payment: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal
    status: str  # "paid", "partly_paid", "unpaid"
    paid_toward: Decimal
    due: bool  # due on or before the date


def installments_of(loan: Loan) -> list[Any]:
    """The installments in force as plain rows (number, due_date, payment, interest, principal,
    balance): the disclosed ones, or after a hardship plan the plan's (``loanapp.collections``).
    Read on every visit of the worker's page, so no ORM objects."""
    from loanapp.collections.plans import rows_in_force

    revised = rows_in_force(loan)
    if revised is not None:
        return revised
    return list(
        db.session.execute(
            select(
                LoanInstallment.number,
                LoanInstallment.due_date,
                LoanInstallment.payment,
                LoanInstallment.interest,
                LoanInstallment.principal,
                LoanInstallment.balance,
            )
            .where(LoanInstallment.loan_id == loan.id)
            .order_by(LoanInstallment.number)
        )
    )


def schedule_from(installments: Sequence[Any]) -> list[delinquency.Installment]:
    # Numeric(12, 2) columns come back as Decimals of two places: exact cents already.
    return [delinquency.Installment(inst.due_date, inst.payment) for inst in installments]


def schedule_with_marks(
    loan: Loan,
    as_of: dt.date,
    credited: Decimal,
    policy: ServicingPolicy,
    *,
    paid_off: bool = False,
    installments: Sequence[Any] | None = None,
    final_payment: Decimal | None = None,
) -> list[ScheduleLine]:
    """The disclosed schedule, each installment marked paid, partly paid or unpaid from the credits.

    An installment counts paid under the same tolerance as days past due. ``final_payment``: the
    final installment as billed (``Position.final_billed``), shown instead of the disclosed figure.
    """
    lines = []
    before = ZERO
    rows = list(installments if installments is not None else installments_of(loan))
    for index, inst in enumerate(rows):
        payment = inst.payment
        if final_payment is not None and index == len(rows) - 1:
            payment = final_payment
        through = before + payment
        toward = min(max(credited - before, ZERO), payment)
        if paid_off or credited >= through - policy.tolerance:
            status = "paid"
        elif toward > 0:
            status = "partly_paid"
        else:
            status = "unpaid"
        lines.append(
            ScheduleLine(
                number=inst.number,
                due_date=inst.due_date,
                payment=payment,
                interest=inst.interest,
                principal=inst.principal,
                balance=inst.balance,
                status=status,
                paid_toward=payment if paid_off else toward,
                due=inst.due_date <= as_of,
            )
        )
        before = through
    return lines


@dataclass(frozen=True)
class HistoryLine:
    payment: Payment
    allocation: PaymentAllocation | None
    reversal: Payment | None

    @property
    def standing(self) -> bool:
        return self.reversal is None


def payment_history(loan: Loan) -> list[HistoryLine]:
    """Every payment (newest first) with its allocation and, if it came back, its reversal (one query)."""
    rows = db.session.execute(
        select(Payment, PaymentAllocation)
        .outerjoin(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(Payment.loan_id == loan.id)
        .order_by(Payment.received_on.desc(), Payment.id.desc())
    ).all()
    reversals = {p.reverses_id: p for p, _a in rows if p.kind == "reversal"}
    return [HistoryLine(p, a, reversals.get(p.id)) for p, a in rows if p.kind == "payment"]


def borrower_history(loan: Loan) -> list[HistoryLine]:
    """The history the borrower sees: a payment reversed as entered in error was never theirs, so it
    is left out rather than shown as money returned to them."""
    return [
        line for line in payment_history(loan) if line.reversal is None or not line.reversal.entered_in_error
    ]


def adjustments_of(loan: Loan) -> list[Adjustment]:
    """The loan's closing adjustments (small-balance write-off, refunds due), oldest first."""
    return list(
        db.session.scalars(
            select(Adjustment)
            .where(Adjustment.loan_id == loan.id)
            .order_by(Adjustment.effective_on, Adjustment.id)
        )
    )


class PaymentLine(NamedTuple):
    """A payment as the worker's page lists it (plain values: read on every visit, no ORM objects)."""

    received_on: dt.date
    amount: Decimal
    returned: bool
    to_interest: Decimal | None  # None: no allocation (it came back)
    to_principal: Decimal | None


def payment_lines(loan_id: int) -> list[PaymentLine]:
    """Every payment of the loan, newest first, with its split and whether it came back (one query)."""
    rows = db.session.execute(
        select(
            Payment.id,
            Payment.kind,
            Payment.reverses_id,
            Payment.received_on,
            Payment.amount,
            Payment.entered_in_error,
            PaymentAllocation.to_interest,
            PaymentAllocation.to_principal,
        )
        .outerjoin(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(Payment.loan_id == loan_id)
        .order_by(Payment.received_on.desc(), Payment.id.desc())
    ).all()
    returned = {row.reverses_id for row in rows if row.kind == "reversal"}
    # A payment reversed as entered in error was never the borrower's: left out, not "returned".
    in_error = {row.reverses_id for row in rows if row.kind == "reversal" and row.entered_in_error}
    return [
        PaymentLine(row.received_on, row.amount, row.id in returned, row.to_interest, row.to_principal)
        for row in rows
        if row.kind == "payment" and row.id not in in_error
    ]


def borrower_loan(loan_id: int, borrower_id: int) -> tuple[Loan, LoanServicing | None] | None:
    """The borrower's loan and its servicing row in one query; None when it is not theirs."""
    found = db.session.execute(
        select(Loan, LoanServicing)
        .outerjoin(LoanServicing, LoanServicing.loan_id == Loan.id)
        .where(Loan.id == loan_id, Loan.borrower_id == borrower_id)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def bucket_history(loan: Loan) -> list[BucketHistory]:
    return list(
        db.session.scalars(
            select(BucketHistory).where(BucketHistory.loan_id == loan.id).order_by(BucketHistory.opened_on)
        )
    )


def charge_off_of(loan: Loan) -> ChargeOff | None:
    return db.session.scalar(select(ChargeOff).where(ChargeOff.loan_id == loan.id))


def recoveries_of(loan: Loan) -> list[Recovery]:
    return list(
        db.session.scalars(select(Recovery).where(Recovery.loan_id == loan.id).order_by(Recovery.received_on))
    )


def loans_of(user_id: int) -> list[Loan]:
    return list(db.session.scalars(select(Loan).where(Loan.borrower_id == user_id).order_by(Loan.id.desc())))


def summary_for_api(loan: Loan, as_of: dt.date) -> dict[str, Any]:
    """Servicing figures for ``GET /api/v1/loans/{id}`` (see ``ServicingSummarySchema``)."""
    position = loan_position(loan, as_of)
    return {
        "as_of": as_of,
        "principal_balance": position.principal_balance,
        "accrued_interest": position.accrued_interest,
        "fees_due": position.fees_due,
        "payoff_amount": position.payoff,
        "days_past_due": position.standing.days_past_due,
        "bucket": position.bucket,
        "past_due_amount": position.catch_up_amount,
        "next_due_date": position.standing.next_due_date,
        "next_payment_amount": position.standing.next_amount,
        "total_paid": position.total_paid,
        "last_payment_on": position.last_payment_on,
        "paid_off_on": position.paid_off_on,
    }


@dataclass(frozen=True)
class LoanListFilters:
    status: str | None = None
    bucket: str | None = None
    search: str = ""
    min_days: int | None = None


def loan_list(filters: LoanListFilters, page: int = 1, per_page: int = 50) -> tuple[list[Any], int]:
    """Loans with their servicing row, for the officers' list (newest first)."""
    from loanapp.applications.models import Application

    query = (
        select(Loan, LoanServicing, Application)
        .join(Application, Application.id == Loan.application_id)
        .outerjoin(LoanServicing, LoanServicing.loan_id == Loan.id)
    )
    if filters.status:
        query = query.where(Loan.status == filters.status)
    if filters.bucket:
        query = query.where(LoanServicing.bucket == filters.bucket)
    if filters.min_days is not None:
        query = query.where(LoanServicing.days_past_due >= filters.min_days)
    if filters.search.strip():
        text = filters.search.strip()
        if text.isdigit():
            query = query.where(Loan.id == int(text))
        else:
            like = f"%{text.lower()}%"
            query = query.where(
                or_(
                    Application.first_name.ilike(like),
                    Application.last_name.ilike(like),
                )
            )
    from sqlalchemy import func

    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(LoanServicing.days_past_due.desc().nulls_last(), Loan.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), int(total)
