"""Outcome writes: the only code that writes check-in schedules and check-ins. Each function works in
the caller's unit of work and never commits.

* :func:`refresh_schedule` / :func:`refresh_all` create each loan's scheduled check-ins (months after
  booking from ``OUTCOME_CHECK_IN_MONTHS``, and at payoff) and move unanswered ones through
  upcoming → due → overdue → missed as the business date passes (the daily ``check_ins`` job).
* :func:`record_check_in` records an answer: by the loan's worker (a self-report) or an officer (a
  call, an employer confirmation, a pay stub, or a self-report taken down). A check-in is answered
  once; a correction is a new record naming the answer it replaces. Writes are idempotent: the same
  key with the same content returns the first record.

Concurrency: a write locks the loan row first, so two answers to one loan queue up; the partial
unique index on the first answer of a scheduled check-in refuses the second even so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from loanapp.applications.models import Application
from loanapp.audit.trail import record
from loanapp.clock import business_date
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.loans.models import Loan
from loanapp.outcomes import schedule as sched
from loanapp.outcomes.errors import (
    AlreadyAnswered,
    AlreadyCorrected,
    BadKey,
    CheckInClosed,
    CheckInNotFound,
    IdempotencyConflict,
    InvalidInput,
    LoanNotFound,
    NotAllowed,
    NothingDue,
    NotYetDue,
)
from loanapp.outcomes.models import CheckIn, CheckInDue
from loanapp.outcomes.vocabulary import COMMUTES, OPEN_STATES, PAYOFF, SOURCES
from loanapp.programs.models import Employer
from loanapp.servicing.models import LoanServicing
from risk.money import CENT

MAX_KEY_LENGTH = 150
MAX_WAGE = Decimal("200.00")
MAX_HOURS = Decimal("80")
#: Applicants who had not started the job when they applied: check-ins ask whether (and when) they did.
NOT_YET_STARTED = ("job_offer", "in_training")


def current_outcome_policy() -> sched.OutcomePolicy:
    return sched.OutcomePolicy.from_config(current_app.config)


# --- the schedule ------------------------------------------------------------------------------------


def _apply(
    loan_id: int,
    contract_date: dt.date,
    paid_off_on: dt.date | None,
    rows: list[CheckInDue],
    today: dt.date,
    policy: sched.OutcomePolicy,
) -> dict[str, int]:
    """Bring one loan's rows in line with its milestones and ``today``; returns what changed."""
    changed = {"created": 0, "changed": 0, "removed": 0}
    by_code = {row.milestone: row for row in rows}
    wanted = sched.milestones(contract_date, paid_off_on, policy.months)
    for milestone in wanted:
        row = by_code.get(milestone.code)
        answered = row is not None and row.state == "answered"
        state = sched.state_on(
            milestone.due_on,
            today,
            answered=answered,
            overdue_days=policy.overdue_days,
            window_days=policy.window_days,
        )
        if row is None:
            since = (
                today
                if state == "upcoming"
                else sched.state_began(
                    milestone.due_on, state, overdue_days=policy.overdue_days, window_days=policy.window_days
                )
            )
            db.session.add(
                CheckInDue(
                    loan_id=loan_id,
                    milestone=milestone.code,
                    months=milestone.months,
                    due_on=milestone.due_on,
                    state=state,
                    state_since=since,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            changed["created"] += 1
        elif not answered and (row.state != state or row.due_on != milestone.due_on):
            row.due_on = milestone.due_on  # a payoff that moved (reversed and paid again)
            row.state = state
            row.state_since = today
            row.updated_at = utcnow()
            changed["changed"] += 1
    # A payoff that was reversed (the last payment came back) takes its unanswered check-in with it.
    payoff = by_code.get(PAYOFF)
    if paid_off_on is None and payoff is not None and payoff.state != "answered":
        db.session.delete(payoff)
        changed["removed"] += 1
    return changed


def _paid_off_on(loan: Loan) -> dt.date | None:
    if loan.status != "paid_off":
        return None
    row = db.session.get(LoanServicing, loan.id)
    return row.paid_off_on if row is not None and row.paid_off_on is not None else None


def refresh_schedule(
    loan: Loan, today: dt.date | None = None, policy: sched.OutcomePolicy | None = None
) -> None:
    """Create the loan's missing check-ins and update the states of unanswered ones as of ``today``."""
    policy = policy or current_outcome_policy()
    today = today or business_date()
    rows = list(db.session.scalars(select(CheckInDue).where(CheckInDue.loan_id == loan.id)))
    _apply(loan.id, loan.contract_date, _paid_off_on(loan), rows, today, policy)
    db.session.flush()


def refresh_all(today: dt.date, policy: sched.OutcomePolicy | None = None) -> dict[str, int]:
    """Every booked loan's schedule as of ``today`` (the daily job); a few queries whatever the book."""
    policy = policy or current_outcome_policy()
    loans = db.session.execute(
        select(Loan.id, Loan.contract_date, Loan.status, LoanServicing.paid_off_on)
        .outerjoin(LoanServicing, LoanServicing.loan_id == Loan.id)
        .where(Loan.contract_date <= today)
        .order_by(Loan.id)
    ).all()
    rows: dict[int, list[CheckInDue]] = {}
    for row in db.session.scalars(select(CheckInDue)):
        rows.setdefault(row.loan_id, []).append(row)
    totals = {"loans": len(loans), "created": 0, "changed": 0, "removed": 0}
    for loan_id, contract_date, status, paid_off_on in loans:
        paid = paid_off_on if status == "paid_off" else None
        for name, count in _apply(loan_id, contract_date, paid, rows.get(loan_id, []), today, policy).items():
            totals[name] += count
    db.session.flush()
    for state, count in db.session.execute(select(CheckInDue.state, func.count()).group_by(CheckInDue.state)):
        if state in ("due", "overdue", "missed"):
            totals[state] = int(count)
    return totals


# --- answers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInInput:
    """An answer as given. ``milestone`` picks the scheduled check-in (default: the oldest open one);
    ``corrects_id`` makes it a correction of that answer (officers)."""

    employed: Any
    car_running: Any
    source: str | None = None
    employer_id: Any = None
    employer_other: str = ""
    hourly_wage: Any = None
    hours_per_week: Any = None
    commute: str | None = None
    started_job: Any = None
    started_on: Any = None
    comment: str = ""
    checked_on: Any = None
    milestone: str | None = None
    corrects_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        return {
            name: str(value) if value is not None else None
            for name, value in (
                ("employed", self.employed),
                ("car_running", self.car_running),
                ("source", self.source),
                ("employer_id", self.employer_id),
                ("employer_other", (self.employer_other or "").strip()),
                ("hourly_wage", self.hourly_wage),
                ("hours_per_week", self.hours_per_week),
                ("commute", self.commute),
                ("started_job", self.started_job),
                ("started_on", self.started_on),
                ("comment", (self.comment or "").strip()),
                ("checked_on", self.checked_on),
                ("milestone", self.milestone),
                ("corrects_id", self.corrects_id),
            )
        }


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    created: bool  # False: the key was seen before with the same content; nothing was written


def scoped_key(actor: Any, key: str | None) -> str:
    """The client's idempotency key, scoped to its user so two clients' keys never collide."""
    key = (key or "").strip()
    if not key:
        raise BadKey("Send an Idempotency-Key header: a unique string per request, reused on retries.")
    if len(key) > MAX_KEY_LENGTH:
        raise BadKey(f"The Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.")
    return f"user-{actor.id}:{key}"


def _hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _existing(key: str, content_hash: str) -> CheckIn | None:
    found = db.session.scalar(select(CheckIn).where(CheckIn.idempotency_key == key))
    if found is not None and found.request_hash != content_hash:
        raise IdempotencyConflict(key.split(":", 1)[-1])
    return found


def _locked_loan(loan_id: int) -> Loan:
    loan = db.session.scalar(
        select(Loan).where(Loan.id == loan_id).with_for_update().execution_options(populate_existing=True)
    )
    if loan is None:
        raise LoanNotFound()
    return loan


def current_answers(loan_id: int) -> list[CheckIn]:
    """The loan's answers that no correction replaced, oldest first."""
    corrected = select(CheckIn.corrects_id).where(
        CheckIn.loan_id == loan_id, CheckIn.corrects_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.loan_id == loan_id, CheckIn.id.not_in(corrected))
            .order_by(CheckIn.checked_on, CheckIn.id)
        )
    )


def start_recorded(loan_id: int, excluding: int | None = None) -> bool:
    """Whether a standing answer already says the worker started the job."""
    return any(c.started_job for c in current_answers(loan_id) if c.id != excluding)


def asks_start(application: Application) -> bool:
    return application.employment_status in NOT_YET_STARTED


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _day(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _date_errors(value: Any, booked: dt.date, today: dt.date, what: str) -> list[str]:
    day = _day(value)
    if day is None:
        return [f"Enter the date {what} as YYYY-MM-DD."]
    if day < booked:
        return [f"The date {what} cannot be before the loan was booked ({booked.isoformat()})."]
    if day > today:
        return [f"The date {what} cannot be in the future."]
    return []


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, float):
        return None  # never through a float: the client sends a string or an exact number
    try:
        number = Decimal(str(value).strip().lstrip("$").replace(",", ""))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def check_answer(
    loan: Loan, data: CheckInInput, *, worker: bool, asks_started: bool, today: dt.date
) -> dict[str, Any]:
    """The answer's fields, cleaned; every bad field named at once (``InvalidInput``), nothing written."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    booked = loan.contract_date
    if data.checked_on in (None, ""):
        clean["checked_on"] = today
    elif messages := _date_errors(data.checked_on, booked, today, "of the check-in"):
        errors["checked_on"] = messages
    else:
        clean["checked_on"] = _day(data.checked_on)
    source = data.source or ("self_report" if worker else None)
    if worker and source != "self_report":
        errors["source"] = ["A worker's own answer is a self-report ('self_report')."]
    elif source not in SOURCES:
        errors["source"] = ["Choose one of: " + ", ".join(SOURCES) + "."]
    clean["source"] = source
    if not _is_bool(data.employed):
        errors["employed"] = ["Answer yes (true) or no (false)."]
    if not _is_bool(data.car_running):
        errors["car_running"] = ["Answer yes (true) or no (false)."]
    employed = data.employed is True
    clean["employed"], clean["car_running"] = employed, data.car_running is True
    other = (data.employer_other or "").strip()
    job_fields = {
        "employer_id": data.employer_id not in (None, ""),
        "employer_other": bool(other),
        "hourly_wage": data.hourly_wage not in (None, ""),
        "hours_per_week": data.hours_per_week not in (None, ""),
    }
    clean.update(employer_id=None, employer_other="", hourly_wage=None, hours_per_week=None)
    if employed:
        if job_fields["employer_id"] and job_fields["employer_other"]:
            errors["employer_other"] = ["Give the employer from the list or its name, not both."]
        elif job_fields["employer_id"]:
            employer_id = data.employer_id
            if isinstance(employer_id, bool) or not str(employer_id).isdigit():
                errors["employer_id"] = ["Choose an employer from the list."]
            elif db.session.get(Employer, int(employer_id)) is None:
                errors["employer_id"] = ["No such employer; give its name in employer_other."]
            else:
                clean["employer_id"] = int(employer_id)
        elif job_fields["employer_other"]:
            if len(other) > 200:
                errors["employer_other"] = ["At most 200 characters."]
            clean["employer_other"] = other
        else:
            errors["employer_id"] = ["Say where the worker works: an employer from the list or its name."]
        wage = _decimal(data.hourly_wage)
        if wage is None:
            errors["hourly_wage"] = ["Enter the hourly wage in dollars and cents, like 15.25."]
        elif wage != wage.quantize(CENT):
            errors["hourly_wage"] = ["Use dollars and cents: at most two decimals."]
        elif not Decimal(0) <= wage <= MAX_WAGE:
            errors["hourly_wage"] = ["The hourly wage must be from $0 to $200."]
        else:
            clean["hourly_wage"] = wage.quantize(CENT)
        hours = _decimal(data.hours_per_week)
        if hours is None:
            errors["hours_per_week"] = ["Enter the hours worked in a usual week, like 40."]
        elif hours != hours.quantize(CENT):
            errors["hours_per_week"] = ["Use at most two decimals."]
        elif not Decimal(0) <= hours <= MAX_HOURS:
            errors["hours_per_week"] = ["Hours per week must be from 0 to 80."]
        else:
            clean["hours_per_week"] = hours.quantize(CENT)
        if data.commute in (None, ""):
            errors["commute"] = ["Say how the worker gets to work now."]
    else:
        for name, given in job_fields.items():
            if given:
                errors[name] = ["Leave this empty when the worker is not employed."]
    if data.commute not in (None, "") and data.commute not in COMMUTES:
        errors["commute"] = ["Choose one of: " + ", ".join(COMMUTES) + "."]
    clean["commute"] = data.commute or None
    clean["started_job"], clean["started_on"] = None, None
    if asks_started:
        if data.started_job is None or data.started_job == "":
            errors["started_job"] = ["Say whether the worker has started the job (true or false)."]
        elif not _is_bool(data.started_job):
            errors["started_job"] = ["Answer yes (true) or no (false)."]
        elif data.started_job:
            clean["started_job"] = True
            if messages := _date_errors(data.started_on, booked, today, "the job started"):
                errors["started_on"] = messages
            else:
                clean["started_on"] = _day(data.started_on)
        else:
            clean["started_job"] = False
            if data.started_on not in (None, ""):
                errors["started_on"] = ["Leave this empty when the worker has not started."]
    elif data.started_job not in (None, "") or data.started_on not in (None, ""):
        message = "Asked only of workers who had a job offer or were in training when they applied, until they start."
        errors["started_job" if data.started_job not in (None, "") else "started_on"] = [message]
    comment = (data.comment or "").strip()
    if len(comment) > 1000:
        errors["comment"] = ["At most 1,000 characters."]
    clean["comment"] = comment
    if errors:
        raise InvalidInput(errors)
    return clean


def _target(
    loan: Loan, data: CheckInInput, *, worker: bool, today: dt.date
) -> tuple[CheckInDue, CheckIn | None]:
    """The scheduled check-in the answer is for, and the answer it corrects (if a correction)."""
    rows = list(
        db.session.scalars(
            select(CheckInDue).where(CheckInDue.loan_id == loan.id).order_by(CheckInDue.due_on, CheckInDue.id)
        )
    )
    if data.corrects_id is not None:
        if worker:
            raise NotAllowed("Ask your loan officer to correct an answer.")
        original = db.session.get(CheckIn, data.corrects_id)
        if original is None or original.loan_id != loan.id:
            raise CheckInNotFound()
        later = db.session.scalar(select(CheckIn.id).where(CheckIn.corrects_id == original.id))
        if later is not None:
            raise AlreadyCorrected(original.id, later)
        return original.due, original
    if data.milestone not in (None, ""):
        row = next((r for r in rows if r.milestone == str(data.milestone)), None)
        if row is None:
            raise InvalidInput({"milestone": ["This loan has no such check-in."]})
    else:
        open_rows = [r for r in rows if r.state in OPEN_STATES]
        if not open_rows:
            answered = [r for r in rows if r.state == "answered" and r.due_on <= today]
            upcoming = [r.due_on for r in rows if r.state == "upcoming"]
            last = _first_answer(answered[-1]) if answered else None
            raise NothingDue(min(upcoming) if upcoming else None, last.checked_on if last else None)
        row = open_rows[0]
    if row.state == "answered":
        first = _first_answer(row)
        raise AlreadyAnswered(first.checked_on if first else row.state_since)
    if row.state == "upcoming":
        raise NotYetDue(row.due_on)
    if row.state == "missed" and worker:
        raise CheckInClosed()
    return row, None


def _first_answer(row: CheckInDue) -> CheckIn | None:
    return db.session.scalar(
        select(CheckIn).where(CheckIn.schedule_id == row.id, CheckIn.corrects_id.is_(None))
    )


def record_check_in(loan_id: int, data: CheckInInput, *, actor: Any, key: str) -> CheckInResult:
    """Record an answer (or a correction) to one of the loan's check-ins.

    ``actor`` is the loan's worker or an officer (views enforce who may call); ``key`` is already scoped.
    """
    content = {"loan_id": loan_id, **data.content()}
    content_hash = _hash(content)
    existing = _existing(key, content_hash)
    if existing is not None:
        return CheckInResult(existing, created=False)
    worker = actor.role == "worker"
    loan = _locked_loan(loan_id)
    if worker and loan.borrower_id != actor.id:
        raise LoanNotFound()
    today = business_date()
    refresh_schedule(loan, today)
    row, corrected = _target(loan, data, worker=worker, today=today)
    asks_started = asks_start(loan.application) and not start_recorded(
        loan.id, excluding=corrected.id if corrected else None
    )
    if corrected is not None and corrected.started_job is not None:
        asks_started = True  # a correction restates the start it corrects
    clean = check_answer(loan, data, worker=worker, asks_started=asks_started, today=today)
    try:
        with db.session.begin_nested():
            check_in = CheckIn(
                schedule_id=row.id,
                loan_id=loan.id,
                corrects_id=corrected.id if corrected else None,
                recorded_by=actor.id,
                recorded_at=utcnow(),
                idempotency_key=key,
                request_hash=content_hash,
                **clean,
            )
            db.session.add(check_in)
            db.session.flush()
    except IntegrityError:
        twin = _existing(key, content_hash)
        if twin is not None:
            return CheckInResult(twin, created=False)
        first = _first_answer(row)
        if corrected is None and first is not None:
            raise AlreadyAnswered(first.checked_on) from None
        raise
    if row.state != "answered":
        row.state, row.state_since, row.updated_at = "answered", today, utcnow()
    record(
        "check_in.corrected" if corrected else "check_in.recorded",
        "check_in",
        check_in.id,
        actor=actor,
        details={
            "loan_id": loan.id,
            "milestone": row.milestone,
            "corrects_id": corrected.id if corrected else None,
            "source": clean["source"],
            "checked_on": clean["checked_on"],
            "employed": clean["employed"],
        },
    )
    return CheckInResult(check_in, created=True)


# --- reminders -----------------------------------------------------------------------------------------


def queue_reminders(today: dt.date) -> int:
    """Queue a message to the worker for each check-in that became due ``today`` (the notices feature
    sends it; one per check-in and channel, whatever the reruns). Returns the notices queued."""
    from loanapp.notices import messages
    from loanapp.notices import operations as notices

    queued = 0
    rows = db.session.execute(
        select(CheckInDue, Loan)
        .join(Loan, Loan.id == CheckInDue.loan_id)
        .where(CheckInDue.state == "due", CheckInDue.state_since == today)
        .order_by(CheckInDue.id)
    ).all()
    for row, loan in rows:
        queued += len(
            notices.queue(
                loan.borrower,
                "check_in_due",
                f"check-in:{row.id}",
                {"link": messages.link(f"/my/loans/{loan.id}/check-in")},
                loan_id=loan.id,
            )
        )
    return queued
