"""Reads of the outcome feature: a loan's check-ins, the staff list, and the report's facts (a few
queries whatever the size of the book; no name or SSN digit reaches the report)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import reserve
from loanapp.applications.models import Application, EmploymentVerification
from loanapp.applications.vocabulary import EMPLOYMENT_STATUS_NAMES
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes import report as rpt
from loanapp.outcomes.models import CheckIn, CheckInDue
from loanapp.outcomes.vocabulary import PAYOFF
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram
from loanapp.servicing.models import LoanServicing

NONE = "(none)"
DELINQUENT_DAYS = 30


@dataclass(frozen=True)
class ScheduledCheckIn:
    due: CheckInDue
    answer: CheckIn | None  # the standing answer (latest correction), if answered
    history: tuple[CheckIn, ...]  # every record of it, oldest first (first answer, corrections)


def loan_check_ins(loan_id: int) -> list[ScheduledCheckIn]:
    """The loan's scheduled check-ins in date order, each with its standing answer and history."""
    rows = list(
        db.session.scalars(
            select(CheckInDue).where(CheckInDue.loan_id == loan_id).order_by(CheckInDue.due_on, CheckInDue.id)
        )
    )
    records: dict[int, list[CheckIn]] = defaultdict(list)
    for check_in in db.session.scalars(
        select(CheckIn).where(CheckIn.loan_id == loan_id).order_by(CheckIn.id)
    ):
        records[check_in.schedule_id].append(check_in)
    result = []
    for row in rows:
        history = records.get(row.id, [])
        corrected = {c.corrects_id for c in history if c.corrects_id is not None}
        standing = [c for c in history if c.id not in corrected]
        result.append(ScheduledCheckIn(row, standing[-1] if standing else None, tuple(history)))
    return result


def open_check_in(loan_id: int, today: dt.date) -> CheckInDue | None:
    """The loan's oldest check-in open for the worker's answer on ``today``: due, unanswered, and
    within its window (read from the dates, so the page is right even before the nightly job runs)."""
    from flask import current_app

    window = int(current_app.config["OUTCOME_CHECK_IN_WINDOW_DAYS"])
    rows = db.session.scalars(
        select(CheckInDue)
        .where(
            CheckInDue.loan_id == loan_id,
            CheckInDue.state.in_(("upcoming", "due", "overdue")),
            CheckInDue.due_on <= today,
        )
        .order_by(CheckInDue.due_on, CheckInDue.id)
    )
    return next((row for row in rows if (today - row.due_on).days < window), None)


@dataclass(frozen=True)
class DueLine:
    due: CheckInDue
    loan: Loan
    borrower: str
    phone: str
    employer: str
    days_late: int


def due_list(today: dt.date, states: tuple[str, ...] = ("overdue", "due")) -> list[DueLine]:
    """Check-ins waiting for an answer, most overdue first (the officers' call list)."""
    query = (
        select(CheckInDue, Loan, Application)
        .join(Loan, Loan.id == CheckInDue.loan_id)
        .join(Application, Application.id == Loan.application_id)
        .where(CheckInDue.state.in_(states))
        .order_by(CheckInDue.due_on, CheckInDue.id)
    )
    return [
        DueLine(
            row,
            loan,
            application.full_name,
            application.phone,
            application.employer_name or NONE,
            max((today - row.due_on).days, 0),
        )
        for row, loan, application in db.session.execute(query)
    ]


def state_counts() -> dict[str, int]:
    return {
        state: count
        for state, count in db.session.execute(
            select(CheckInDue.state, func.count()).group_by(CheckInDue.state)
        )
    }


# --- the report's facts -------------------------------------------------------------------------------


def _quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _standing(records: list[CheckIn]) -> list[CheckIn]:
    corrected = {c.corrects_id for c in records if c.corrects_id is not None}
    return [c for c in records if c.id not in corrected]


def facts(
    session: Session, booked_from: dt.date | None = None, booked_to: dt.date | None = None
) -> list[rpt.LoanFact]:
    """One fact per loan booked from ``booked_from`` to ``booked_to`` (inclusive)."""
    query = (
        select(
            Loan.id,
            Loan.contract_date,
            Loan.status,
            Loan.employer_id,
            LoanServicing.days_past_due,
            Application.id,
            Application.employment_status,
            Application.employer_other,
            Application.hourly_wage,
            Application.hours_per_week,
            Employer.name,
            TrainingProgram.name,
            ReferralPartner.name,
        )
        .join(Application, Application.id == Loan.application_id)
        .outerjoin(LoanServicing, LoanServicing.loan_id == Loan.id)
        .outerjoin(Employer, Employer.id == Application.employer_id)
        .outerjoin(TrainingProgram, TrainingProgram.id == Application.training_program_id)
        .outerjoin(ReferralPartner, ReferralPartner.id == Application.referral_partner_id)
        .order_by(Loan.id)
    )
    if booked_from is not None:
        query = query.where(Loan.contract_date >= booked_from)
    if booked_to is not None:
        query = query.where(Loan.contract_date <= booked_to)
    loans = session.execute(query).all()
    if not loans:
        return []
    verified: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    for verification in session.scalars(select(EmploymentVerification).order_by(EmploymentVerification.id)):
        if verification.has_facts:
            verified[verification.application_id] = (verification.hourly_wage, verification.hours_per_week)
    schedule: dict[int, list[CheckInDue]] = defaultdict(list)
    for row in session.scalars(select(CheckInDue)):
        schedule[row.loan_id].append(row)
    records: dict[int, list[CheckIn]] = defaultdict(list)
    for check_in in session.scalars(select(CheckIn).order_by(CheckIn.id)):
        records[check_in.schedule_id].append(check_in)
    result = []
    for (
        loan_id, contract_date, status, loan_employer_id, days_past_due, application_id, employment_status,
        employer_other, stated_wage, stated_hours, employer, program, partner,
    ) in loans:  # fmt: skip
        wage, hours = verified.get(application_id, (stated_wage, stated_hours))
        checks: dict[int, tuple[str, rpt.Answer | None]] = {}
        answered: list[tuple[dt.date, int, CheckIn]] = []
        started: bool | None = None
        for row in schedule.get(loan_id, []):
            standing = _standing(records.get(row.id, []))
            check_in = standing[-1] if standing else None
            answer = None
            if check_in is not None:
                answered.append((check_in.checked_on, check_in.id, check_in))
                answer = _answer(check_in, loan_employer_id)
                if check_in.started_job is not None:
                    started = bool(check_in.started_job or started)
            if row.milestone != PAYOFF and row.months is not None:
                checks[row.months] = (row.state, answer)
        latest = _answer(max(answered)[2], loan_employer_id) if answered else None
        if status == "paid_off" or status == "charged_off":
            performance = status
        else:
            performance = "delinquent" if (days_past_due or 0) >= DELINQUENT_DAYS else "current"
        result.append(
            rpt.LoanFact(
                cohort=_quarter(contract_date),
                employer=employer or (f"{employer_other} (not in the list)" if employer_other else NONE),
                training_program=program or NONE,
                referral_partner=partner or NONE,
                employment_status=EMPLOYMENT_STATUS_NAMES.get(employment_status, employment_status),
                asks_start=employment_status in ("job_offer", "in_training"),
                started=started,
                wage_at_application=wage,
                hours_at_application=hours,
                performance=performance,
                checks=checks,
                latest=latest,
            )
        )
    return result


def _answer(check_in: CheckIn, loan_employer_id: int | None) -> rpt.Answer:
    return rpt.Answer(
        employed=check_in.employed,
        hourly_wage=check_in.hourly_wage,
        hours_per_week=check_in.hours_per_week,
        same_employer=check_in.employed
        and check_in.employer_id is not None
        and check_in.employer_id == loan_employer_id,
    )


def reserve_used(session: Session, as_of: dt.date) -> Decimal:
    """Claims paid from the reserve less recoveries returned to it, through ``as_of``."""
    position = reserve.reserve_position(session, as_of)
    return position.claims_paid - position.recoveries


def build_report(
    session: Session,
    as_of: dt.date,
    months: tuple[int, ...],
    min_group: int,
    booked_from: dt.date | None = None,
    booked_to: dt.date | None = None,
) -> rpt.OutcomeReport:
    return rpt.build(facts(session, booked_from, booked_to), months, reserve_used(session, as_of), min_group)


def answered_between(session: Session, start: dt.date, end: dt.date) -> int:
    """Check-ins answered (first answers, not corrections) with a check-in date in [start, end]."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(CheckIn)
            .where(CheckIn.corrects_id.is_(None), CheckIn.checked_on >= start, CheckIn.checked_on <= end)
        )
        or 0
    )


def present(check_in: CheckIn) -> dict[str, Any]:
    """A check-in record as the API shows it."""
    return {
        "id": check_in.id,
        "loan_id": check_in.loan_id,
        "milestone": check_in.due.milestone,
        "corrects_id": check_in.corrects_id,
        "checked_on": check_in.checked_on,
        "employed": check_in.employed,
        "employer_id": check_in.employer_id,
        "employer_other": check_in.employer_other,
        "employer_name": check_in.employer_name,
        "hourly_wage": check_in.hourly_wage,
        "hours_per_week": check_in.hours_per_week,
        "started_job": check_in.started_job,
        "started_on": check_in.started_on,
        "commute": check_in.commute,
        "car_running": check_in.car_running,
        "comment": check_in.comment,
        "source": check_in.source,
        "recorded_by": check_in.recorder.full_name if check_in.recorder else None,
        "recorded_at": check_in.recorded_at,
    }
