"""Hardship plans read from the database: the schedule versions of a loan, the loan on a plan's
effective date, and the before/after preview. Nothing here writes.

The schedule in force is **derived**, never stored: the disclosed schedule, then each plan in
(effective date, id) order worked out by ``risk.hardship.revise`` from the schedule before it and
the loan's position on its effective date (read from the payment allocations, which the servicing
replay keeps in date order). So a backdated payment or a reversal before a plan changes what the
plan works out to exactly as if the payments had arrived in date order, with nothing to rewrite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import select

from loanapp.collections.models import HardshipPlan
from loanapp.extensions import db
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.servicing.models import PaymentAllocation
from risk import delinquency, hardship
from risk.dates import add_months
from risk.errors import InvalidTerms
from risk.money import ZERO, money
from risk.servicing import LoanState, accrue

ZERO_ACCRUAL = Decimal("0E-10")


class ScheduleRow(NamedTuple):
    """A line of the schedule in force, shaped like a disclosed installment row."""

    number: int
    due_date: dt.date
    payment: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal


def standing_plans(loan_id: int) -> list[HardshipPlan]:
    return list(
        db.session.scalars(
            select(HardshipPlan)
            .where(HardshipPlan.loan_id == loan_id)
            .order_by(HardshipPlan.effective_on, HardshipPlan.id)
        )
    )


def has_plans(loan_id: int) -> bool:
    return (
        db.session.scalar(select(HardshipPlan.id).where(HardshipPlan.loan_id == loan_id).limit(1)) is not None
    )


def disclosed_rows(loan: Loan) -> list[ScheduleRow]:
    return [
        ScheduleRow(*row)
        for row in db.session.execute(
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
    ]


def at_effective(loan: Loan, on: dt.date) -> hardship.AtEffective:
    """The loan at the end of ``on``: after the standing payments received through that day."""
    last = db.session.execute(
        select(
            PaymentAllocation.principal_after,
            PaymentAllocation.accrued_after,
            PaymentAllocation.fees_after,
            PaymentAllocation.received_on,
            PaymentAllocation.credited_after,
        )
        .where(PaymentAllocation.loan_id == loan.id, PaymentAllocation.received_on <= on)
        .order_by(PaymentAllocation.sequence.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        state = LoanState.opened(loan.principal, loan.annual_rate, loan.contract_date)
        credited = ZERO
    else:
        state = LoanState(
            principal_balance=money(last.principal_after),
            accrued_interest=Decimal(last.accrued_after).quantize(ZERO_ACCRUAL),
            fees_due=money(last.fees_after),
            as_of=last.received_on,
            annual_rate=loan.annual_rate,
        )
        credited = money(last.credited_after)
    return hardship.AtEffective(accrue(state, max(on, state.as_of)), credited)


def terms_of(plan: HardshipPlan) -> hardship.PlanTerms:
    return hardship.PlanTerms(plan.kind, plan.effective_on, plan.installments, plan.due_day, plan.term_months)


def latest_maturity(loan: Loan) -> dt.date:
    """The last due date the program's longest term allows, counted from the first payment."""
    return add_months(loan.first_payment_date, int(current_app.config["LOAN_MAX_TERM_MONTHS"]) - 1)


def tolerance() -> Decimal:
    from loanapp.servicing.policy import current_policy

    return current_policy().tolerance


@dataclass(frozen=True)
class WorkedPlan:
    plan: HardshipPlan | None
    terms: hardship.PlanTerms
    before: Sequence[delinquency.Installment]
    revision: hardship.Revision
    at: hardship.AtEffective
    level_before: Decimal


def work_out(
    loan: Loan, extra: hardship.PlanTerms | None = None, plans: Sequence[HardshipPlan] | None = None
) -> tuple[list[hardship.Version], list[WorkedPlan]]:
    """The loan's schedule versions (disclosed first) and each plan worked out, plus ``extra``
    (a plan being previewed) at the end. A plan that no longer applies (a backdated payment paid
    what it deferred) leaves the schedule as it was and is reported with ``revision`` None."""
    disclosed = [delinquency.Installment(row.due_date, row.payment) for row in disclosed_rows(loan)]
    versions: list[hardship.Version] = [(loan.contract_date, disclosed)]
    worked: list[WorkedPlan] = []
    level = loan.payment_amount
    tol = tolerance()
    items: list[tuple[HardshipPlan | None, hardship.PlanTerms]] = [
        (plan, terms_of(plan)) for plan in (plans if plans is not None else standing_plans(loan.id))
    ]
    if extra is not None:
        items.append((None, extra))
    for plan, terms in items:
        before = versions[-1][1]
        at = at_effective(loan, terms.effective_on)
        try:
            revision = hardship.revise(
                before, at, terms, tolerance=tol, level_payment=level, latest_maturity=latest_maturity(loan)
            )
        except InvalidTerms:
            if plan is None:
                raise
            continue
        worked.append(WorkedPlan(plan, terms, before, revision, at, level))
        versions.append((terms.effective_on, revision.schedule))
        level = revision.payment
    return versions, worked


def schedule_versions(loan: Loan) -> list[hardship.Version]:
    """The schedule in force over time: ``[(from, installments), ...]``, the disclosed one first."""
    if not has_plans(loan.id):
        disclosed = [delinquency.Installment(row.due_date, row.payment) for row in disclosed_rows(loan)]
        return [(loan.contract_date, disclosed)]
    return work_out(loan)[0]


def rows_in_force(loan: Loan) -> list[ScheduleRow] | None:
    """The schedule in force now as display rows (paid installments as disclosed, then the latest
    plan's projection); None when the loan has no plan."""
    if not has_plans(loan.id):
        return None
    _, worked = work_out(loan)
    if not worked:
        return None
    last = worked[-1].revision
    rows = disclosed_rows(loan)
    kept: list[ScheduleRow] = []
    for number, inst in enumerate(last.schedule[: last.first_open], start=1):
        match = next((r for r in rows if r.due_date == inst.due_date and r.payment == inst.amount), None)
        kept.append(
            ScheduleRow(number, inst.due_date, inst.amount, *(match[3:] if match else (ZERO, ZERO, ZERO)))
        )
    earlier = worked[:-1]
    if earlier:  # rows kept from an earlier plan: its projection has their split
        lines = {line.due_date: line for w in earlier for line in w.revision.projection.lines}
        kept = [
            r._replace(
                interest=lines[r.due_date].interest,
                principal=lines[r.due_date].principal,
                balance=lines[r.due_date].balance,
            )
            if r.due_date in lines and r.interest == ZERO
            else r
            for r in kept
        ]
    return kept + [
        ScheduleRow(line.number, line.due_date, line.payment, line.interest, line.principal, line.balance)
        for line in last.projection.lines
    ]


# --- the preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    payment: Decimal
    next_due_date: dt.date | None
    maturity_date: dt.date | None
    payments_left: int
    total_of_payments: Decimal
    interest: Decimal
    days_past_due: int


@dataclass(frozen=True)
class Preview:
    kind: str
    effective_on: dt.date
    installments: int | None
    due_day: int | None
    term_months: int | None
    before: Figures
    after: Figures
    lines: list[hardship.Line]

    def as_json(self) -> dict[str, Any]:
        """The confirmed figures, kept with the plan (money as strings: exact)."""

        def figures(f: Figures) -> dict[str, Any]:
            return {
                "payment": str(f.payment),
                "next_due_date": f.next_due_date.isoformat() if f.next_due_date else None,
                "maturity_date": f.maturity_date.isoformat() if f.maturity_date else None,
                "payments_left": f.payments_left,
                "total_of_payments": str(f.total_of_payments),
                "interest": str(f.interest),
                "days_past_due": f.days_past_due,
            }

        return {
            "before": figures(self.before),
            "after": figures(self.after),
            "lines": [
                {
                    "number": line.number,
                    "due_date": line.due_date.isoformat(),
                    "payment": str(line.payment),
                    "to_pay": str(line.to_pay),
                    "interest": str(line.interest),
                    "principal": str(line.principal),
                    "balance": str(line.balance),
                }
                for line in self.lines
            ],
        }


def _figures(
    schedule: Sequence[delinquency.Installment],
    projection: hardship.Projection,
    at: hardship.AtEffective,
    level: Decimal,
    tol: Decimal,
) -> Figures:
    day = at.state.as_of
    open_lines = [line for line in projection.lines if line.to_pay > 0]
    upcoming = [line for line in open_lines if line.due_date > day]
    return Figures(
        payment=level,
        next_due_date=upcoming[0].due_date if upcoming else None,
        maturity_date=projection.maturity_date,
        payments_left=len(open_lines),
        total_of_payments=projection.total_to_pay,
        interest=projection.interest,
        days_past_due=delinquency.days_past_due(
            day, schedule, at.credited, tolerance=tol, balance=at.state.principal_balance
        ),
    )


def preview(loan: Loan, terms: hardship.PlanTerms) -> Preview:
    """The loan on the plan's effective date before and after it (raises InvalidTerms)."""
    _, worked = work_out(loan, extra=terms)
    item = worked[-1]
    tol = tolerance()
    before_projection, _ = hardship.current_projection(item.before, item.at, tolerance=tol)
    return Preview(
        kind=terms.kind,
        effective_on=terms.effective_on,
        installments=terms.installments,
        due_day=terms.due_day,
        term_months=terms.term_months,
        before=_figures(item.before, before_projection, item.at, item.level_before, tol),
        after=_figures(item.revision.schedule, item.revision.projection, item.at, item.revision.payment, tol),
        lines=list(item.revision.projection.lines),
    )


def confirmed(plan: HardshipPlan) -> dict[str, Any]:
    """The figures confirmed with the plan (stored as JSON strings) as dates and Decimals again."""

    def parse(values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            if value is None or isinstance(value, int):
                out[key] = value
            elif key.endswith("date"):
                out[key] = dt.date.fromisoformat(value)
            else:
                out[key] = Decimal(value)
        return out

    return {
        "before": parse(plan.preview["before"]),
        "after": parse(plan.preview["after"]),
        "lines": [parse(line) for line in plan.preview["lines"]],
    }


@dataclass(frozen=True)
class PlanView:
    plan: HardshipPlan
    preview: dict[str, Any]  # as confirmed
    applies: bool  # False: a later backdated payment left nothing for it to change


def plans_of(loan: Loan) -> list[PlanView]:
    plans = standing_plans(loan.id)
    if not plans:
        return []
    _, worked = work_out(loan, plans=plans)
    applied = {w.plan.id for w in worked if w.plan is not None}
    return [PlanView(plan, confirmed(plan), plan.id in applied) for plan in reversed(plans)]
